"""Value segmentation (SPEC section 4) on fixtures/methods/value.csv, worked out by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from segcli.engine.compare import growth_insights
from segcli.engine.report import SegmentResult
from tests.conftest import AS_OF, FIXTURES

VALUE = FIXTURES / "methods" / "value.csv"


def value_report(cli: Any, *extra: str) -> dict[str, Any]:
    run = cli(
        "segment", "--source", VALUE, "--method", "value", "--as-of", AS_OF.isoformat(), "--format", "json",
        *extra,
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    data: dict[str, Any] = json.loads(run.stdout, parse_float=Decimal)["data"]
    return data


def test_value_segments_with_ties_at_both_borders(cli: Any) -> None:
    # Window 2026-10-22 .. 2026-11-20 (30 days). Monetary per customer, ascending:
    #   c01 10, c02 10, c03 10 (4 + 6), c04 20, c05 30, c06 40, c07 50, c08 60, c09 60, c10 70
    # (c13's 500 is cancelled; c10's 300 on 2026-11-21 is after as-of; earlier rows are before the window).
    # n = 10, q = 10 div 5 = 2, r = 0, so M = r + (c - r(q+1)) div q + 1 = c div 2 + 1,
    # c = customers with a strictly smaller monetary:
    #   c01..c03: c = 0 -> M 1 (a plain NTILE would give c03, position 3, M 2)
    #   c04: c = 3 -> 2;  c05: 4 -> 3;  c06: 5 -> 3;  c07: 6 -> 4
    #   c08, c09: c = 7 -> 4 (a plain NTILE would give c09, position 9, M 5)
    #   c10: c = 9 -> 5
    # High (M=5) = {c10}, Medium (M 2..4) = {c04..c09}, Low (M=1) = {c01, c02, c03}.
    data = value_report(cli, "--days", "30")
    assert data["method"] == "value"
    got = {s["segment_code"]: s for s in data["segments"]}
    assert [s["segment_name"] for s in data["segments"]] == ["High Value", "Medium Value", "Low Value"]

    high, medium, low = got["VALUE_HIGH"], got["VALUE_MEDIUM"], got["VALUE_LOW"]
    assert (high["customer_count"], medium["customer_count"], low["customer_count"]) == (1, 6, 3)
    # revenue: High 70; Medium 20+30+40+50+60+60 = 260; Low 10+10+4+6 = 30
    assert (high["total_revenue"], medium["total_revenue"], low["total_revenue"]) == (70, 260, 30)
    # AOV: 70/1 = 70.00; 260/6 = 43.333 -> 43.33; Low 30/4 sales = 7.50
    assert [s["average_order_value"] for s in (high, medium, low)] == [
        Decimal("70.00"),
        Decimal("43.33"),
        Decimal("7.50"),
    ]
    # Low days since last purchase (as of 2026-11-20): c01 10-22 -> 29, c02 11-02 -> 18, c03 11-13 -> 7;
    # (29 + 18 + 7) / 3 = 18.0; frequency 4 sales / 3 = 1.33 -> 1.3; spend 30 / 3 = 10.00
    assert low["characteristics"] == {
        "avg_days_since_last_purchase": Decimal("18.0"),
        "avg_purchase_frequency": Decimal("1.3"),
        "avg_total_spend": Decimal("10.00"),
    }
    # Medium days: 16 + 15 + 14 + 13 + 12 + 11 = 81, / 6 = 13.5
    assert medium["characteristics"]["avg_days_since_last_purchase"] == Decimal("13.5")
    for s in data["segments"]:
        assert (s["recency_score"], s["frequency_score"], s["monetary_score"]) == (None, None, None)
        assert "facet" not in s
    assert high["description"] == "Top 20% of customers by spend"
    assert (data["total_customers"], data["total_revenue"]) == (10, 360)


def test_value_insights_come_from_the_previous_window(cli: Any) -> None:
    # Previous window 2026-09-22 .. 2026-10-21: c10 5, c04 100, c05 110, c11 120 (on 10-21), c01 140;
    # n = 5, q = 1, r = 0, M = c + 1: Low {c10}, Medium {c04, c05, c11}, High {c01}.
    # Customers: High 1 -> 1 (0%), Medium 3 -> 6 (+100%), Low 1 -> 3 (+200%): fastest growing Low.
    # Revenue: High 140 -> 70 (-50%), Medium 330 -> 260 (-21.2%), Low 5 -> 30 (+500%): needs attention High.
    data = value_report(cli, "--days", "30")
    assert data["insights"] == {
        "highest_revenue_segment": "Medium Value",  # 260 > 70 > 30
        "largest_segment": "Medium Value",  # 6 customers
        "fastest_growing_segment": "Low Value",
        "needs_attention": "High Value",
    }
    assert "comparison" not in data  # measured, but shown only with --compare


def test_value_insights_are_null_without_previous_data(cli: Any) -> None:
    # 70 days: window 2026-09-12 .. 2026-11-20 holds every sale but one; the previous window
    # 2026-07-04 .. 2026-09-11 holds none, so nothing can grow or fall.
    data = value_report(cli, "--days", "70")
    assert data["insights"]["fastest_growing_segment"] is None
    assert data["insights"]["needs_attention"] is None
    assert data["insights"]["largest_segment"] is not None


def seg(name: str, customers: int, revenue: str) -> SegmentResult:
    return SegmentResult(name, name, "", ()).add(customers, customers, Decimal(revenue), 0)


def test_growth_insights_rules() -> None:
    previous = (
        seg("A", 2, "100"),  # -> 3 customers (+50%), revenue 100 -> 80 (-20%)
        seg("B", 4, "100"),  # -> 6 (+50%, ties A: A is earlier), revenue 100 -> 50 (-50%)
        seg("C", 0, "0"),  # -> 5: no previous customers, so no relative growth
        seg("D", 1, "300"),  # -> 0 now: never counts, though revenue fell 100%
        seg("E", 10, "-5"),  # revenue was negative: no relative change; customers fell
    )
    current = (
        seg("A", 3, "80"),
        seg("B", 6, "50"),
        seg("C", 5, "10"),
        seg("D", 0, "0"),
        seg("E", 2, "-50"),
    )
    assert growth_insights(current, previous) == ("A", "B")


def test_growth_insights_only_rises_and_falls_count() -> None:
    # everything shrank in customers and grew in revenue: neither insight qualifies
    previous = (seg("A", 5, "10"), seg("B", 5, "10"))
    current = (seg("A", 4, "20"), seg("B", 5, "10"))
    assert growth_insights(current, previous) == (None, None)
    assert growth_insights(current, ()) == (None, None)
