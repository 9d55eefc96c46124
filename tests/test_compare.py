"""Period comparison: change per segment and the migration matrix (`--compare`, `data.comparison`)."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segcli.engine.compute import ReportRequest, compute_report
from segcli.engine.segments import default_tables
from segcli.engine.sources import FileSource
from tests.conftest import AS_OF, FIXTURES, small_args
from tests.test_behavior import ITEMS, QUICK, SALES, sale_strategy, write_dataset

VALUE = FIXTURES / "methods" / "value.csv"
d = Decimal


def report_json(cli: Any, *args: str | Path) -> dict[str, Any]:
    run = cli(*args, "--format", "json")
    assert run.exit_code == 0, run.stderr
    data: dict[str, Any] = json.loads(run.stdout, parse_float=Decimal)["data"]
    return data


def value_args(*extra: str) -> list[str | Path]:
    return [
        "segment",
        "--source",
        VALUE,
        "--method",
        "value",
        "--days",
        "30",
        "--as-of",
        AS_OF.isoformat(),
        *extra,
    ]


def test_value_comparison_by_hand(cli: Any) -> None:
    # Now (2026-10-22 .. 2026-11-20): High {c10}, Medium {c04..c09}, Low {c01, c02, c03}
    # (see test_value). Before (2026-09-22 .. 2026-10-21): High {c01 140}, Medium {c04 100,
    # c05 110, c11 120}, Low {c10 5}; c12's sale of 2026-09-21 is a day too early for either window.
    comparison = report_json(cli, *value_args("--compare"))["comparison"]
    assert comparison["previous_period"] == {"start_date": "2026-09-22", "end_date": "2026-10-21", "days": 30}
    assert comparison["previous_total_customers"] == 5
    assert comparison["previous_total_revenue"] == d("475.00")  # 5 + 100 + 110 + 120 + 140
    assert comparison["segments"] == [
        {
            "segment_name": "High Value", "segment_code": "VALUE_HIGH",
            "previous_customer_count": 1, "customer_count": 1, "customer_change_pct": d("0.0"),
            "previous_revenue": d("140.00"), "revenue": d("70.00"), "revenue_change_pct": d("-50.0"),
        },
        {
            # customers (6 - 3) / 3 = +100%; revenue (260 - 330) / 330 = -21.21% -> -21.2
            "segment_name": "Medium Value", "segment_code": "VALUE_MEDIUM",
            "previous_customer_count": 3, "customer_count": 6, "customer_change_pct": d("100.0"),
            "previous_revenue": d("330.00"), "revenue": d("260.00"), "revenue_change_pct": d("-21.2"),
        },
        {
            "segment_name": "Low Value", "segment_code": "VALUE_LOW",
            "previous_customer_count": 1, "customer_count": 3, "customer_change_pct": d("200.0"),
            "previous_revenue": d("5.00"), "revenue": d("30.00"), "revenue_change_pct": d("500.0"),
        },
    ]  # fmt: skip
    # c01 moves High -> Low, c10 Low -> High, c04 and c05 stay Medium, c11 lapses (its last sale
    # is 2026-10-21, the previous window's last day); c02, c03 (Low) and c06..c09 (Medium) are new.
    assert comparison["migration"] == [
        {
            "facet": None,
            "columns": ["High Value", "Medium Value", "Low Value", "lapsed"],
            "rows": [
                {"from_segment": "High Value", "customers": [0, 0, 1, 0], "total": 1},
                {"from_segment": "Medium Value", "customers": [0, 2, 0, 1], "total": 3},
                {"from_segment": "Low Value", "customers": [1, 0, 0, 0], "total": 1},
                {"from_segment": "new", "customers": [0, 4, 2, 0], "total": 6},
            ],
        }
    ]


def csv_cells(cli: Any, *args: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    run = cli(*args, "--format", "csv")
    assert run.exit_code == 0, run.stderr
    assert "\r" not in run.stdout  # LF line ends, as the segment CSV
    reader = csv.DictReader(io.StringIO(run.stdout))
    return list(reader.fieldnames or []), list(reader)


def as_cells(comparison: dict[str, Any]) -> list[tuple[str | None, str, str, int]]:
    """Every cell of the JSON matrices as (facet, from, to, customers), row by row."""
    return [
        (m["facet"], row["from_segment"], to, n)
        for m in comparison["migration"]
        for row in m["rows"]
        for to, n in zip(m["columns"], row["customers"], strict=True)
    ]


def test_compare_csv_is_the_migration_as_a_long_table(cli: Any) -> None:
    header, rows = csv_cells(cli, *value_args("--compare"))
    assert header == ["from_segment", "to_segment", "customers"]
    # every cell of the 4 x 4 matrix of test_value_comparison_by_hand, row by row
    assert [(r["from_segment"], r["to_segment"], int(r["customers"])) for r in rows] == [
        ("High Value", "High Value", 0), ("High Value", "Medium Value", 0),
        ("High Value", "Low Value", 1), ("High Value", "lapsed", 0),
        ("Medium Value", "High Value", 0), ("Medium Value", "Medium Value", 2),
        ("Medium Value", "Low Value", 0), ("Medium Value", "lapsed", 1),
        ("Low Value", "High Value", 1), ("Low Value", "Medium Value", 0),
        ("Low Value", "Low Value", 0), ("Low Value", "lapsed", 0),
        ("new", "High Value", 0), ("new", "Medium Value", 4), ("new", "Low Value", 2), ("new", "lapsed", 0),
    ]  # fmt: skip
    # summed back: the previous window's 5 customers plus 6 new = 10 now plus 1 lapsed
    assert sum(int(r["customers"]) for r in rows if r["from_segment"] != "new") == 5
    assert sum(int(r["customers"]) for r in rows if r["to_segment"] != "lapsed") == 10
    # a segment filter keeps the matrix whole, as in the JSON
    assert csv_cells(cli, *value_args("--compare", "--segment-name", "Low Value"))[1] == rows


def test_behavior_compare_csv_equals_the_json_matrices(cli: Any) -> None:
    args: list[str | Path] = [
        "segment", "--source", SALES, "--items", ITEMS, "--method", "behavior", "--days", "365",
        "--as-of", AS_OF.isoformat(), "--compare",
    ]  # fmt: skip
    header, rows = csv_cells(cli, *args)
    assert header == ["from_segment", "to_segment", "customers", "facet"]
    data = report_json(cli, *args)
    comparison = data["comparison"]
    assert [(r["facet"], r["from_segment"], r["to_segment"], int(r["customers"])) for r in rows] == as_cells(
        comparison
    )
    # each facet's rows sum to the customers of both windows: 2 before (A, P) + 5 new = 6 now + 1 lapsed
    for facet in ("category", "channel", "season"):
        cells = [r for r in rows if r["facet"] == facet]
        assert sum(int(r["customers"]) for r in cells if r["from_segment"] != "new") == 2
        assert (
            sum(int(r["customers"]) for r in cells if r["to_segment"] != "lapsed")
            == data["total_customers"]
            == 6
        )
        for segment in (s for s in data["segments"] if s["facet"] == facet):  # columns sum to the segment
            into = sum(int(r["customers"]) for r in cells if r["to_segment"] == segment["segment_name"])
            assert into == segment["customer_count"]


def test_plain_csv_is_unchanged_without_compare(cli: Any) -> None:
    header, rows = csv_cells(cli, *value_args())
    assert header[:2] == ["segment_name", "segment_code"]
    assert [r["segment_name"] for r in rows] == ["High Value", "Medium Value", "Low Value"]


def test_behavior_migration_per_facet(cli: Any) -> None:
    # Before (2024-11-21 .. 2025-11-20): A (10.00, web, Apparel, 2025-08-10 in Q3) and P (50.00,
    # store, Beauty, 2025-06-01 in Q2). Now: A Apparel / web / Q1, and B..F new (see test_behavior).
    data = report_json(
        cli, "segment", "--source", SALES, "--items", ITEMS, "--method", "behavior", "--days", "365",
        "--as-of", AS_OF.isoformat(), "--compare",
    )  # fmt: skip
    matrices = {m["facet"]: m for m in data["comparison"]["migration"]}
    assert list(matrices) == ["category", "channel", "season"]
    season = matrices["season"]
    assert season["columns"] == [
        "Q1 Seasonal Buyers", "Q2 Seasonal Buyers", "Q3 Seasonal Buyers", "Q4 Seasonal Buyers",
        "Year-round", "lapsed",
    ]  # fmt: skip
    assert season["rows"] == [
        {"from_segment": "Q1 Seasonal Buyers", "customers": [0, 0, 0, 0, 0, 0], "total": 0},
        {"from_segment": "Q2 Seasonal Buyers", "customers": [0, 0, 0, 0, 0, 1], "total": 1},  # P lapses
        {"from_segment": "Q3 Seasonal Buyers", "customers": [1, 0, 0, 0, 0, 0], "total": 1},  # A: Q3 -> Q1
        {"from_segment": "Q4 Seasonal Buyers", "customers": [0, 0, 0, 0, 0, 0], "total": 0},
        {"from_segment": "Year-round", "customers": [0, 0, 0, 0, 0, 0], "total": 0},
        # new: F -> Q2, E -> Q4, B, C, D -> Year-round
        {"from_segment": "new", "customers": [0, 1, 0, 1, 3, 0], "total": 5},
    ]
    category = matrices["category"]
    # categories met before: Apparel, Beauty; rows in the columns' order
    assert category["columns"] == [
        "Apparel Enthusiasts", "Beauty Enthusiasts", "Home Enthusiasts", "Explorers", "lapsed"
    ]  # fmt: skip
    assert category["rows"] == [
        {"from_segment": "Apparel Enthusiasts", "customers": [1, 0, 0, 0, 0], "total": 1},  # A stays
        {"from_segment": "Beauty Enthusiasts", "customers": [0, 0, 0, 0, 1], "total": 1},  # P lapses
        {"from_segment": "Explorers", "customers": [0, 0, 0, 0, 0], "total": 0},
        {"from_segment": "new", "customers": [1, 0, 0, 4, 0], "total": 5},  # E Apparel; B, C, D, F
    ]
    # a channel met only now has no row; segment rows carry their facet
    assert [r["from_segment"] for r in matrices["channel"]["rows"]] == [
        "store Shoppers", "web Shoppers", "Omnichannel", "new"
    ]  # fmt: skip
    rows = {r["segment_code"]: r for r in data["comparison"]["segments"]}
    assert rows["CHANNEL:store"] == {
        "segment_name": "store Shoppers", "segment_code": "CHANNEL:store", "facet": "channel",
        "previous_customer_count": 1, "customer_count": 1, "customer_change_pct": d("0.0"),
        # P 50.00 before; D -20.00 now: (-20 - 50) / 50 = -140%
        "previous_revenue": d("50.00"), "revenue": d("-20.00"), "revenue_change_pct": d("-140.0"),
    }  # fmt: skip
    assert rows["CATEGORY_MIXED"]["customer_change_pct"] is None  # nobody before: no relative change


def test_rfm_insights_keep_the_priority_rule(cli: Any) -> None:
    plain = report_json(cli, *small_args("--days", "30"))
    compared = report_json(cli, *small_args("--days", "30", "--compare"))
    assert "comparison" not in plain
    assert compared["insights"] == plain["insights"]
    assert compared["segments"] == plain["segments"]
    comparison = compared["comparison"]
    assert set(comparison) == {
        "previous_period", "previous_total_customers", "previous_total_revenue", "segments", "migration",
        "movers",
    }  # fmt: skip
    assert [r["segment_name"] for r in comparison["segments"]] == [
        s["segment_name"] for s in plain["segments"]
    ]
    assert set(comparison["segments"][0]) == {
        "segment_name", "segment_code", "previous_customer_count", "customer_count",
        "customer_change_pct", "previous_revenue", "revenue", "revenue_change_pct",
    }  # fmt: skip
    (matrix,) = comparison["migration"]
    assert matrix["columns"] == [s["segment_name"] for s in plain["segments"]] + ["lapsed"]
    assert matrix["rows"][-1]["from_segment"] == "new"


def test_segment_filter_applies_to_the_comparison_rows(cli: Any) -> None:
    data = report_json(cli, *value_args("--compare", "--segment-name", "Low Value"))
    assert [s["segment_name"] for s in data["segments"]] == ["Low Value"]
    assert [r["segment_name"] for r in data["comparison"]["segments"]] == ["Low Value"]
    assert len(data["comparison"]["migration"][0]["rows"]) == 4  # the matrix stays whole


def test_terminal_shows_arrows_and_the_matrix(cli: Any) -> None:
    run = cli(*value_args("--compare", "--format", "table"))
    assert run.exit_code == 0, run.stderr
    text = run.stdout
    assert "Compared with the previous window 2026-09-22 → 2026-10-21 (30 days)" in text
    assert "Customers 5 → 10 ▲ 100.0% · revenue 475.00 → 360.00 ▼ 24.2%" in text
    lines = [line.split() for line in text.splitlines()]
    assert ["Medium", "Value", "3", "6", "▲", "100.0%", "330.00", "260.00", "▼", "21.2%"] in lines
    assert "stayed 2 · moved 2 · new 6 · lapsed 1" in text  # customers 2 + 2 + 1 = 5 before
    assert ["2", "Medium", "Value", "0", "2", "0", "1", "3"] in lines
    assert ["new", "0", "4", "2", "0"] in lines


def test_no_comparison_section_without_compare(cli: Any) -> None:
    run = cli(*value_args("--format", "table"))
    assert run.exit_code == 0
    assert "Migration" not in run.stdout


# --- invariants over random data -------------------------------------------------------------


@QUICK
@given(
    sales=st.lists(sale_strategy, min_size=1, max_size=25),
    method=st.sampled_from(("rfm", "value", "behavior")),
    days=st.sampled_from((30, 200)),
)
def test_migration_rows_and_columns_add_up(sales: list[Any], method: str, days: int) -> None:
    request = ReportRequest(business_id=1, as_of=AS_OF, method=method, days=days, compare=True)
    with tempfile.TemporaryDirectory() as folder:
        sales_path, items_path = write_dataset(Path(folder), sales)
        source = FileSource(str(sales_path), items=str(items_path))
        report = compute_report(source, request, default_tables())
        plain = compute_report(source, replace(request, compare=False), default_tables())
    assert report.segments == plain.segments
    assert report.insights == plain.insights
    assert report.comparison is not None
    comparison = report.comparison.to_dict()
    rows = comparison["segments"]
    for matrix in comparison["migration"]:
        facet = matrix["facet"]
        before = {r["segment_name"]: r["previous_customer_count"] for r in rows if r.get("facet") == facet}
        now = {s.name: s.customer_count for s in report.segments if s.facet == facet}
        # each previous segment's row adds up to its previous count
        for row in matrix["rows"][:-1]:
            assert sum(row["customers"]) == row["total"] == before[row["from_segment"]]
        # each current segment's column adds up to its current count
        for i, name in enumerate(matrix["columns"][:-1]):
            assert sum(r["customers"][i] for r in matrix["rows"]) == now[name]
        new_row = matrix["rows"][-1]
        assert new_row["from_segment"] == "new"
        assert new_row["customers"][-1] == 0
        # new + stayers/movers = customers now; stayers/movers + lapsed = customers before
        lapsed = sum(r["customers"][-1] for r in matrix["rows"])
        assert sum(before.values()) == comparison["previous_total_customers"]
        assert report.total_customers - new_row["total"] == sum(before.values()) - lapsed


@pytest.mark.parametrize("method", ["rfm", "value"])
def test_migration_without_previous_data_is_all_new(method: str) -> None:
    request = ReportRequest(business_id=1, as_of=AS_OF, method=method, days=70, compare=True)
    report = compute_report(FileSource(str(VALUE)), request, default_tables())
    assert report.comparison is not None
    (matrix,) = report.comparison.to_dict()["migration"]
    assert all(r["total"] == 0 for r in matrix["rows"][:-1])
    assert matrix["rows"][-1]["total"] == report.total_customers == 12  # c01..c12, c13 cancelled
