"""The method registry: a custom rfm table's tagged roles, and a toy method registered from outside."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from segcli.engine.engines.base import Query
from segcli.engine.errors import InvalidParameter
from segcli.engine.methods import get_method, method_names, register, unregister
from segcli.engine.methods.base import SegmentLabels
from segcli.engine.report import Insights, Period, SegmentResult, first_largest
from segcli.engine.segments import SegmentTable
from tests.conftest import small_args
from tests.test_api import Api, body

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.engines.base import Executor
    from segcli.engine.methods.base import Window
    from segcli.engine.params import ReportParams
    from segcli.engine.sources import Source

# Other names than segments.toml, roles tagged; "Maybes" outranks "Up-and-comers" by priority and
# the empty "Ghosts" (priority -1) is skipped. Scores of the small fixture, 30 days (customers.csv golden):
# r >= 4: c01 c02 (5,5,5 / 5,5,5) VIPs; c06 (5,2,3), c09 (5,1,1) Up-and-comers;
# r = 3: c04 (3,3,4) Regulars; c11 (3,1,3), c08 (3,2,2), c12 (3,1,1) Maybes;
# r = 2: c05, c03 Slipping; r = 1: c07, c10 Gone.
CUSTOM_ROLES = """
[[segments.rfm]]
name = "VIPs"
code = "R5F5M5"
r = [4, 5]
f = [4, 5]
m = [4, 5]

[[segments.rfm]]
name = "Regulars"
code = "R3F3M4"
r = [3, 5]
f = [3, 5]
m = [3, 5]

[[segments.rfm]]
name = "Up-and-comers"
code = "R5F2M3"
role = "fastest_growing"
priority = 2
r = [4, 5]

[[segments.rfm]]
name = "Maybes"
code = "R3F1M2"
role = "fastest_growing"
priority = 1
r = [3, 3]

[[segments.rfm]]
name = "Slipping"
code = "R2F3M3"
role = "needs_attention"
r = [2, 2]

[[segments.rfm]]
name = "Ghosts"
code = "R1F5M5"
role = "needs_attention"
priority = -1
r = [1, 1]
f = [5, 5]
m = [5, 5]

[[segments.rfm]]
name = "Gone"
code = "R1F1M1"
role = "needs_attention"
r = [1, 1]
"""


def test_custom_rfm_table_gets_all_four_insights(tmp_path: Path, cli: Any) -> None:
    config = tmp_path / "segcli.toml"
    config.write_text(CUSTOM_ROLES)
    run = cli(*small_args("--days", "30", "--config", str(config), "--format", "json"))
    assert run.exit_code == 0, run.stderr
    data = run.json()["data"]
    counts = {s["segment_name"]: s["customer_count"] for s in data["segments"]}
    assert counts == {
        "VIPs": 2,
        "Regulars": 1,
        "Up-and-comers": 2,
        "Maybes": 3,
        "Slipping": 2,
        "Ghosts": 0,
        "Gone": 2,
    }
    # revenue: VIPs 600 + 400; Maybes 200 + 60 + 10 = 270 (3 customers, the largest)
    assert data["insights"] == {
        "highest_revenue_segment": "VIPs",
        "largest_segment": "Maybes",
        "fastest_growing_segment": "Maybes",
        "needs_attention": "Slipping",
    }


def test_a_bad_role_is_named(tmp_path: Path, cli: Any) -> None:
    config = tmp_path / "segcli.toml"
    config.write_text('[[segments.rfm]]\nname = "A"\ncode = "R1F1M1"\nrole = "vip"\n')
    run = cli(*small_args("--config", str(config)))
    assert run.exit_code == 2
    assert run.stderr.strip().endswith(
        "segments.rfm[1]: 'role' must be one of: fastest_growing, needs_attention"
    )


# A fourth method defined only here: customers who spent 100 or more in the window, and the rest.
_SPEND = """
SELECT customer_id, count(*) AS frequency, sum(amount) AS monetary,
       CAST($end AS DATE) - max(sale_date) AS days_since
FROM window_sales
WHERE status IN ('completed', 'partial') AND customer_id IS NOT NULL AND sale_date BETWEEN $start AND $end
GROUP BY customer_id
"""
TOY_SUMMARY = Query(
    "toy.summary",
    f"SELECT monetary >= 100, count(*), sum(frequency), sum(monetary), sum(days_since) FROM ({_SPEND}) GROUP BY 1",
)
TOY_CUSTOMERS = Query(
    "toy.customers",
    f"SELECT customer_id, monetary, CASE WHEN monetary >= 100 THEN 'BIG' ELSE 'SMALL' END AS segment_code "
    f"FROM ({_SPEND}) ORDER BY customer_id",
)


@dataclass(frozen=True)
class BigSpenders:
    name: str = "toy"
    title: str = "Toy (big and small spenders)"
    needs_items: bool = False
    needs_previous: bool = False
    scored: bool = False
    faceted: bool = False

    def default_table(self) -> SegmentTable | None:
        return None

    def check_source(self, source: Source) -> None:
        return None

    def segment_labels(self, table: SegmentTable | None) -> SegmentLabels | None:
        return SegmentLabels(("Big spenders", "Small spenders"), ("BIG", "SMALL"))

    def window_segments(
        self, ex: Executor, window: Window, table: SegmentTable | None, tag: str, members: bool
    ) -> tuple[SegmentResult, ...]:
        big = SegmentResult("Big spenders", "BIG", "100 or more", ("Thank them",))
        small = SegmentResult("Small spenders", "SMALL", "Under 100", ("Nudge them",))
        for is_big, customers, sales, revenue, days in ex.rows(TOY_SUMMARY, window):
            if is_big:
                big = big.add(customers, sales, Decimal(revenue), days)
            else:
                small = small.add(customers, sales, Decimal(revenue), days)
        return (big, small)

    def insights(
        self,
        current: tuple[SegmentResult, ...],
        previous: tuple[SegmentResult, ...],
        table: SegmentTable | None,
    ) -> Insights:
        return Insights(
            highest_revenue_segment=first_largest(current, lambda s: s.revenue),
            largest_segment=first_largest(current, lambda s: s.customer_count),
        )

    def customers(
        self, ex: Executor, window: Window, table: SegmentTable | None, params: ReportParams | None
    ) -> pyarrow.Table:
        return ex.arrow(TOY_CUSTOMERS, window)

    def notes(self, period: Period) -> tuple[str, ...]:
        return ()


@pytest.fixture
def toy() -> Iterator[BigSpenders]:
    method = BigSpenders()
    register(method)
    try:
        yield method
    finally:
        unregister(method.name)
    assert "toy" not in method_names()


# Small fixture, 30 days (customers.csv golden): 100 or more: c01 600 (6 sales), c02 400 (5), c04 300 (3),
# c05 250 (3), c11 200 (1), c06 120 (2) -> 6 customers, 20 sales, 1870.00; the other six: c08 60 (2),
# c07 80 (2), c03 44.98 (4), c09 30 (1), c10 30 (1), c12 10 (1) -> 11 sales, 254.98.
def test_toy_method_reaches_segment_json(toy: BigSpenders, cli: Any) -> None:
    assert method_names() == ("rfm", "value", "behavior", "toy")
    run = cli(*small_args("--days", "30", "--method", "toy", "--format", "json"))
    assert run.exit_code == 0, run.stderr
    data = run.json()["data"]
    assert data["method"] == "toy"
    got = [(s["segment_code"], s["customer_count"], s["total_revenue"]) for s in data["segments"]]
    assert got == [("BIG", 6, 1870.0), ("SMALL", 6, 254.98)]
    assert [s["average_order_value"] for s in data["segments"]] == [93.5, 23.18]  # 1870/20, 254.98/11
    assert data["insights"]["highest_revenue_segment"] == "Big spenders"
    assert data["insights"]["largest_segment"] == "Big spenders"  # a tie goes to the earlier segment
    assert data["total_customers"] == 12


def test_toy_method_reaches_the_table_view(toy: BigSpenders, cli: Any) -> None:
    run = cli(*small_args("--days", "30", "--method", "toy"))
    assert run.exit_code == 0, run.stderr
    assert "Big spenders" in run.stdout
    assert "Small spenders" in run.stdout


def test_toy_method_reaches_http_and_openapi(toy: BigSpenders, tmp_path: Path, cli: Any) -> None:
    api = Api(tmp_path)
    response = api.get("segmentation_method=toy&days=30")
    assert response.status_code == 200, response.text
    run = cli(*small_args("--days", "30", "--method", "toy", "--format", "json"))
    assert response.content == run.stdout_bytes
    assert [s["segment_name"] for s in body(response)["data"]["segments"]] == [
        "Big spenders",
        "Small spenders",
    ]
    parameters = api.app.openapi()["paths"]["/api/reports/customers/segmentation/"]["get"]["parameters"]
    schemas = {p["name"]: p["schema"] for p in parameters}
    assert schemas["segmentation_method"]["enum"] == ["rfm", "value", "toy"]  # the small fixture has no items
    assert {"Big spenders", "Small spenders"} <= set(schemas["segment_name"]["anyOf"][0]["enum"])
    assert {"BIG", "SMALL"} <= set(schemas["segment_code"]["anyOf"][0]["enum"])
    bad = api.get("segmentation_method=nope")
    assert bad.status_code == 400
    assert body(bad)["error"] == "Invalid segmentation_method. Must be one of: rfm, value, behavior, toy"


def test_unknown_method_lists_the_registered_ones(cli: Any) -> None:
    run = cli(*small_args("--method", "toy"))
    assert run.exit_code == 2
    assert "Invalid segmentation_method. Must be one of: rfm, value, behavior" in run.stderr
    with pytest.raises(InvalidParameter, match=r"Must be one of: rfm, value, behavior$"):
        get_method("toy")


@dataclass(frozen=True)
class AnyNames(BigSpenders):
    """A method whose segment names come from anywhere: the OpenAPI cannot list them."""

    name: str = "anynames"

    def segment_labels(self, table: SegmentTable | None) -> SegmentLabels | None:
        return None


def test_segment_filters_list_every_method_s_segments_or_stay_open(toy: BigSpenders) -> None:
    from segcli.api.schema import query_parameters
    from segcli.engine.segments import default_tables

    schemas = {p["name"]: p["schema"] for p in query_parameters(default_tables())}
    listed, pattern = schemas["segment_code"]["anyOf"]
    assert listed["enum"][-1] == ""  # empty: all segments
    assert {"BIG", "SMALL", "R5F5M5", "VALUE_HIGH", "CATEGORY_MIXED"} <= set(listed["enum"])
    assert pattern["pattern"] == r"^(CATEGORY:[\s\S]*|CHANNEL:[\s\S]*|SEASON:[\s\S]*)$"
    assert schemas["segmentation_method"]["enum"] == ["rfm", "value", "behavior", "toy"]
    register(AnyNames())
    try:
        schemas = {p["name"]: p["schema"] for p in query_parameters(default_tables())}
    finally:
        unregister("anynames")
    assert schemas["segment_name"] == schemas["segment_code"] == {"type": "string"}
