"""Behavior segmentation (SPEC section 5) on fixtures/methods/behavior_*.csv, worked out by hand."""

from __future__ import annotations

import csv
import json
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from segcli.engine.compute import ReportRequest, compute_report
from segcli.engine.db import connect
from segcli.engine.methods.behavior import PROFILE_SQL
from segcli.engine.segments import default_tables
from segcli.engine.sources import FileSource
from tests.conftest import AS_OF, FIXTURES

SALES = FIXTURES / "methods" / "behavior_sales.csv"
ITEMS = FIXTURES / "methods" / "behavior_items.csv"
VALUE = FIXTURES / "methods" / "value.csv"


def profiles(days: int) -> dict[str, tuple[str | None, str | None, str | None]]:
    """customer -> (category, channel, season) preference, None for the catch-all."""
    request = ReportRequest(business_id=1, as_of=AS_OF, method="behavior", days=days)
    source = FileSource(str(SALES), items=str(ITEMS))
    con = connect()
    try:
        source.load_window(con, request.scope)
        source.load_items(con, request.scope)
        window = {"start": request.period.start_date, "end": request.period.end_date}
        rows = con.execute(f"SELECT * FROM ({PROFILE_SQL}) ORDER BY customer_id", window).fetchall()
    finally:
        con.close()
    return {r[0]: (r[4], r[5], r[6]) for r in rows}


def test_each_facet_threshold_is_inclusive() -> None:
    # Window 2025-11-21 .. 2026-11-20 (365 days).
    # A, ten sales of 10.00, one item each:
    #   items Apparel 5 x 10 = 50 of 100 -> 50% >= 50%: Apparel
    #   channels web 7 of 10 -> 70% >= 70%: web
    #   Q1 6 x 10 = 60 of 100 -> 60% >= 60%: Q1   (its sale of 2025-08-10 is in the previous window)
    # B, thirteen sales:
    #   items Apparel 49.99, Home 30.00, Beauty 20.01 -> 49.99% < 50%: Explorers
    #     (its cancelled sale 34 with a 300.00 Home item is out of scope)
    #   channels web 9 of 13 -> 69.2% < 70%: Omnichannel
    #   Q1 7 x 8.57 = 59.99 of 100.00 -> 59.99% < 60%: Year-round
    # C: one sale of 0.00 without channel and without items: catch-alls everywhere.
    # D: a refund row -20.00 in store, item Apparel -20.00: item spend <= 0 -> Explorers; store 1/1;
    #    spend <= 0 -> Year-round.
    # E: Home 25 / Apparel 25 -> a 50% tie, the first name wins: Apparel; web 1, mobile 1 -> 50%;
    #    2025-12-01 and 2026-10-05 are both in Q4 -> 100%.
    # F: items without category 60 + Home 40 -> Home 40% < 50% (uncategorised spend counts in
    #    the total, never as a favourite): Explorers; mobile 3/3; Q2 100%.
    assert profiles(365) == {
        "A": ("Apparel", "web", "Q1"),
        "B": (None, None, None),
        "C": (None, None, None),
        "D": (None, "store", None),
        "E": ("Apparel", None, "Q4"),
        "F": (None, "mobile", "Q2"),
    }


def behavior_report(cli: Any, *extra: str) -> dict[str, Any]:
    run = cli(
        "segment", "--source", SALES, "--items", ITEMS, "--method", "behavior",
        "--as-of", AS_OF.isoformat(), "--format", "json", *extra,
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    data: dict[str, Any] = json.loads(run.stdout, parse_float=Decimal)["data"]
    return data


def test_behavior_segments_by_hand(cli: Any) -> None:
    # Spend per customer (sales in scope): A 100.00 (10 sales), B 100.00 (13), C 0.00 (1),
    # D -20.00 (1), E 50.00 (2), F 100.00 (3): 6 customers, 30 sales, 330.00.
    # Days since last sale (as of 2026-11-20): A 06-20 -> 153, B 05-25 -> 179, C 07-15 -> 128,
    # D 08-01 -> 111, E 10-05 -> 46, F 05-03 -> 201.
    data = behavior_report(cli, "--days", "365")
    rows = [
        (s["facet"], s["segment_code"], s["segment_name"], s["customer_count"], s["total_revenue"],
         s["average_order_value"], s["characteristics"]["avg_days_since_last_purchase"])
        for s in data["segments"]
    ]  # fmt: skip
    d = Decimal
    assert rows == [
        # named segments by customers (most first) then name; every category met in the window listed
        ("category", "CATEGORY:Apparel", "Apparel Enthusiasts", 2, d("150.00"), d("12.50"), d("99.5")),
        # A + E: 150 / 12 sales = 12.50; days (153 + 46) / 2 = 99.5
        ("category", "CATEGORY:Beauty", "Beauty Enthusiasts", 0, d("0.00"), d("0.00"), d("0.0")),
        ("category", "CATEGORY:Home", "Home Enthusiasts", 0, d("0.00"), d("0.00"), d("0.0")),
        ("category", "CATEGORY_MIXED", "Explorers", 4, d("180.00"), d("10.00"), d("154.8")),
        # B + C + D + F: 100 + 0 - 20 + 100 = 180 / 18 sales = 10.00; (179+128+111+201)/4 = 154.75
        ("channel", "CHANNEL:mobile", "mobile Shoppers", 1, d("100.00"), d("33.33"), d("201.0")),
        # F: 100 / 3 = 33.33
        ("channel", "CHANNEL:store", "store Shoppers", 1, d("-20.00"), d("-20.00"), d("111.0")),
        ("channel", "CHANNEL:web", "web Shoppers", 1, d("100.00"), d("10.00"), d("153.0")),
        ("channel", "CHANNEL_OMNI", "Omnichannel", 3, d("150.00"), d("9.38"), d("117.7")),
        # B + C + E: 100 + 0 + 50 = 150 / 16 sales = 9.375 -> 9.38; (179 + 128 + 46) / 3 = 117.67
        ("season", "SEASON:Q1", "Q1 Seasonal Buyers", 1, d("100.00"), d("10.00"), d("153.0")),
        ("season", "SEASON:Q2", "Q2 Seasonal Buyers", 1, d("100.00"), d("33.33"), d("201.0")),
        ("season", "SEASON:Q3", "Q3 Seasonal Buyers", 0, d("0.00"), d("0.00"), d("0.0")),
        ("season", "SEASON:Q4", "Q4 Seasonal Buyers", 1, d("50.00"), d("25.00"), d("46.0")),
        ("season", "SEASON_STEADY", "Year-round", 3, d("80.00"), d("5.33"), d("139.3")),
        # B + C + D: 100 + 0 - 20 = 80 / 15 sales = 5.33; (179 + 128 + 111) / 3 = 139.33
    ]
    assert (data["total_customers"], data["total_revenue"]) == (6, Decimal("330.00"))
    for s in data["segments"]:
        assert (s["recency_score"], s["frequency_score"], s["monetary_score"]) == (None, None, None)
        assert len(s["recommended_actions"]) == 3
    web = next(s for s in data["segments"] if s["segment_code"] == "CHANNEL:web")
    assert web["description"] == "At least 70% of their orders come through web"
    assert web["recommended_actions"][0] == "Reach them in web first: campaigns, placements, timing"
    q4 = next(s for s in data["segments"] if s["segment_code"] == "SEASON:Q4")
    assert q4["description"] == "At least 60% of their spend falls in Q4 (Oct-Dec)"


def test_behavior_insights(cli: Any) -> None:
    # Over every facet's segments, ties to the earlier one:
    #   highest revenue: Explorers 180.00; largest: Explorers 4 customers.
    # Previous window (2024-11-21 .. 2025-11-20): A 10.00 web Apparel Q3, P 50.00 store Beauty Q2.
    #   customer growth among segments with customers then and now: Apparel Enthusiasts 1 -> 2 (+100%),
    #   web 1 -> 1, store 1 -> 1, Q2 1 -> 1 (0%): fastest growing Apparel Enthusiasts.
    #   revenue falls: store Shoppers 50.00 -> -20.00 (-140%); the others rose: needs attention store.
    data = behavior_report(cli, "--days", "365")
    assert data["insights"] == {
        "highest_revenue_segment": "Explorers",
        "largest_segment": "Explorers",
        "fastest_growing_segment": "Apparel Enthusiasts",
        "needs_attention": "store Shoppers",
    }


def test_short_window_has_no_seasonality(cli: Any) -> None:
    # 179 days: 2026-05-26 .. 2026-11-20: A (06-20), C, D, E (10-05); no season facet under 180 days
    data = behavior_report(cli, "--days", "179")
    assert {s["facet"] for s in data["segments"]} == {"category", "channel"}
    assert data["total_customers"] == 4
    data = behavior_report(cli, "--days", "180")
    assert {s["facet"] for s in data["segments"]} == {"category", "channel", "season"}


def test_segment_filters_use_the_data_codes(cli: Any) -> None:
    data = behavior_report(cli, "--days", "365", "--segment-code", "CHANNEL:web")
    assert [s["segment_name"] for s in data["segments"]] == ["web Shoppers"]
    assert data["total_customers"] == 6  # totals stay the report's
    data = behavior_report(cli, "--days", "365", "--segment-name", "Year-round")
    assert [s["segment_code"] for s in data["segments"]] == ["SEASON_STEADY"]


def test_unknown_segment_filter_lists_the_actual_segments(cli: Any) -> None:
    run = cli(
        "segment", "--source", SALES, "--items", ITEMS, "--method", "behavior", "--days", "90",
        "--as-of", AS_OF.isoformat(), "--format", "json", "--segment-code", "CHANNEL:fax",
    )  # fmt: skip
    assert run.exit_code == 2
    # 90 days (2026-08-23 ..): only E's sale of 2026-10-05 (mobile, one Apparel item)
    assert run.stderr.strip() == (
        "Invalid segment_code. Must be one of: CATEGORY:Apparel, CATEGORY_MIXED, CHANNEL:mobile, CHANNEL_OMNI"
        " (--segment-code)"
    )
    assert run.stdout == ""


def test_behavior_without_items_is_a_usage_error(cli: Any) -> None:
    run = cli("segment", "--source", SALES, "--method", "behavior", "--as-of", AS_OF.isoformat())
    assert run.exit_code == 2
    assert run.stderr.strip() == "Invalid segmentation_method. behavior needs sale items (--items)"


def test_behavior_without_channel_or_items_names_both(cli: Any) -> None:
    run = cli("segment", "--source", VALUE, "--method", "behavior", "--as-of", AS_OF.isoformat())
    assert run.exit_code == 2
    assert run.stderr.strip() == (
        f"Invalid segmentation_method. behavior needs a channel column (none in {VALUE}) "
        "and sale items (map one with --map SOURCE=channel; --items)"
    )
    run = cli(
        "segment", "--source", VALUE, "--items", ITEMS, "--method", "behavior",
        "--as-of", AS_OF.isoformat(), "--format", "json",
    )  # fmt: skip
    assert run.exit_code == 2
    assert "behavior needs a channel column" in run.stderr
    assert "sale items" not in run.stderr


# --- invariants over random data -------------------------------------------------------------

CUSTOMERS = ("a", "b", "c")
AMOUNTS = ("-5.00", "0.00", "1.00", "2.50", "3.00", "7.00")
sale_strategy = st.tuples(
    st.sampled_from(CUSTOMERS),
    st.one_of(  # days before as-of: mostly in the 200-day window, some before it
        st.integers(min_value=0, max_value=199), st.integers(min_value=0, max_value=420)
    ),
    st.sampled_from(AMOUNTS),
    st.sampled_from(("web", "store", "")),
    st.sampled_from(("completed", "completed", "cancelled")),
    st.lists(st.tuples(st.sampled_from(("Toys", "Books", "")), st.sampled_from(AMOUNTS)), max_size=3),
)


def write_dataset(folder: Path, sales: list[Any]) -> tuple[Path, Path]:
    sales_path, items_path = folder / "sales.csv", folder / "items.csv"
    with sales_path.open("w", newline="") as s, items_path.open("w", newline="") as i:
        sw, iw = csv.writer(s), csv.writer(i)
        sw.writerow(["sale_id", "customer_id", "sale_date", "total_amount", "status", "channel"])
        iw.writerow(["sale_id", "category", "line_total"])
        for n, (customer, back, amount, channel, status, items) in enumerate(sales, start=1):
            sw.writerow([n, customer, (AS_OF - timedelta(days=back)).isoformat(), amount, status, channel])
            for category, total in items:
                iw.writerow([n, category, total])
    return sales_path, items_path


def expected_preferences(sales: list[Any], start: date) -> dict[str, tuple[str | None, ...]]:
    """The rules of SPEC section 5 in plain Python, for the customers in scope."""
    mine = [s for s in sales if s[4] == "completed" and AS_OF - timedelta(days=s[1]) >= start]
    out: dict[str, tuple[str | None, ...]] = {}
    for customer in sorted({s[0] for s in mine}):
        own = [s for s in mine if s[0] == customer]
        by_category: dict[str, Decimal] = defaultdict(Decimal)
        item_total = Decimal(0)
        for *_, items in own:
            for category, total in items:
                item_total += Decimal(total)
                if category:
                    by_category[category] += Decimal(total)
        by_channel: dict[str, int] = defaultdict(int)
        by_quarter: dict[str, Decimal] = defaultdict(Decimal)
        for _, back, amount, channel, _, _ in own:
            if channel:
                by_channel[channel] += 1
            month = (AS_OF - timedelta(days=back)).month
            by_quarter[f"Q{(month - 1) // 3 + 1}"] += Decimal(amount)
        spend = sum(by_quarter.values(), Decimal(0))
        category = min(by_category.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
        channel = min(by_channel.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
        quarter = min(by_quarter.items(), key=lambda kv: (-kv[1], kv[0]))
        out[customer] = (
            category[0] if category and item_total > 0 and category[1] * 2 >= item_total else None,
            channel[0] if channel and channel[1] * 10 >= 7 * len(own) else None,
            quarter[0] if spend > 0 and quarter[1] * 10 >= 6 * spend else None,
        )
    return out


# each example runs DuckDB: no shrinking, so a failure is reported in seconds, not minutes
QUICK = settings(max_examples=60, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate))


@QUICK
@given(sales=st.lists(sale_strategy, min_size=1, max_size=25))
def test_each_facet_partitions_the_customers(sales: list[Any]) -> None:
    request = ReportRequest(business_id=1, as_of=AS_OF, method="behavior", days=200)
    start = request.period.start_date
    with tempfile.TemporaryDirectory() as folder:
        sales_path, items_path = write_dataset(Path(folder), sales)
        report = compute_report(FileSource(str(sales_path), items=str(items_path)), request, default_tables())
    in_scope = [s for s in sales if s[4] == "completed" and AS_OF - timedelta(days=s[1]) >= start]
    customers = {s[0] for s in in_scope}
    revenue = sum((Decimal(s[2]) for s in in_scope), Decimal(0))
    preferences = expected_preferences(sales, start)
    for position, facet in enumerate(("category", "channel", "season")):
        segments = [s for s in report.segments if s.facet == facet]
        assert sum(s.customer_count for s in segments) == len(customers)
        assert sum((s.revenue for s in segments), Decimal(0)) == revenue
        assert sum(s.sales for s in segments) == len(in_scope)
        expected: dict[str, int] = defaultdict(int)
        for preference in preferences.values():
            expected[preference[position] or "*"] += 1
        catch_all = segments[-1]
        got = {s.code.split(":", 1)[1] if ":" in s.code else "*": s.customer_count for s in segments}
        assert {k: v for k, v in got.items() if v} == dict(expected), (facet, catch_all.code)
