"""The small fixture's reports, worked out by hand (fixtures/small/sales.csv, as of 2026-11-20).

Window for days=30: 2026-10-22 .. 2026-11-20 (both in). R = 5 - floor(5 * days_since / 30)
= 5 - floor(days_since / 6). With n = 12 customers: q = 12 div 5 = 2, r = 12 mod 5 = 2, so a
customer with c strictly smaller values scores c div 3 + 1 when c < 6, else 2 + (c - 6) div 2 + 1:
c = 0-2 -> 1, 3-5 -> 2, 6-7 -> 3, 8-9 -> 4, 10-11 -> 5.

customer  sales in window (after refunds)             F  mon.    c(M) M  last   ds R  segment
c01  6: 100 x5 + (120 - 20 refunded)   [1, 8 out]   6  600.00   11  5  11-20  0  5  Champions (rule)
c02  5: 100, 100, 100, 150, -50 (refund row)        5  400.00   10  5  11-18  2  5  Champions (rule)
c03  4: 10, 10, 10, 14.98                            4   44.98    3  2  11-01 19  2  Need Attention
c04  3: 100, 100 (PARTIAL), 100 [pending 500 out]    3  300.00    9  4  11-05 15  3  Loyal Customers
c05  3: 50, 100, 100 ['On Hold ' 70 out]             3  250.00    8  4  10-30 21  2  At Risk
c06  2: 60, 60 [cancelled 80 out]                    2  120.00    6  3  11-19  1  5  Potential Loyalists
c07  2: 40, 40 (refunded 0.00)                       2   80.00    5  2  10-27 24  1  Hibernating
c08  2: 30, 30 (+02:00 offset, same UTC day)         2   60.00    4  2  11-08 12  3  Promising (rule)
c09  1: 30 ['refunded' 15 out]                       1   30.00    1  1  11-20  0  5  New Customers
c10  1: 30 (first day of the window)                 1   30.00    1  1  10-22 29  1  Hibernating
c11  1: 250 - 50 refunded                            1  200.00    7  3  11-05 15  3  R3F1M3: no rule
c12  1: 10                                           1   10.00    0  1  11-08 12  3  R3F1M1: no rule

F: the 4 one-sale customers have c=0 -> 1; the 3 two-sale ones c=4 -> 2; three sales c=7 -> 3;
four c=9 -> 4; five c=10 -> 5; six c=11 -> 5. M: c09 and c10 tie at 30.00 -> both c=1 -> 1.
c11 R3F1M3 is uncovered; squared distances: Potential Loyalists R4F2M3 = 1+1+0 = 2,
Promising R3F2M2 = 0+1+1 = 2, At Risk R2F2M3 = 1+1+0 = 2: a tie, the first listed wins.
c12 R3F1M1 is uncovered; nearest is Promising R3F2M2 = 0+1+1 = 2 (New R5F1M1 = 4).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import small_args

D = Decimal


def segments_by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["segment_name"]: s for s in body["data"]["segments"]}


def figures(segment: dict[str, Any]) -> tuple[Any, ...]:
    ch = segment["characteristics"]
    return (
        segment["customer_count"],
        D(str(segment["total_revenue"])),
        D(str(segment["average_order_value"])),
        D(str(ch["avg_days_since_last_purchase"])),
        D(str(ch["avg_purchase_frequency"])),
        D(str(ch["avg_total_spend"])),
    )


def test_thirty_day_report(cli: Any) -> None:
    run = cli(*small_args("--days", "30", "--format", "json"))
    assert run.exit_code == 0, run.stderr
    body = run.json()
    assert body["success"] is True
    data = body["data"]
    assert data["method"] == "rfm"
    assert data["period"] == {
        "start_date": "2026-10-22",
        "end_date": "2026-11-20",
        "days": 30,
        "timezone": "UTC",
    }
    seg = segments_by_name(body)
    assert list(seg) == [
        "Champions",
        "Loyal Customers",
        "Potential Loyalists",
        "Promising",
        "At Risk",
        "Need Attention",
        "New Customers",
        "Hibernating",
    ]
    # (customers, revenue, AOV = revenue / sales, avg days since, sales / customers, revenue / customers)
    assert figures(seg["Champions"]) == (
        2,
        D("1000.00"),
        D("90.91"),
        D("1.0"),
        D("5.5"),
        D("500.00"),
    )  # 1000/11
    assert figures(seg["Loyal Customers"]) == (1, D("300.00"), D("100.00"), D("15.0"), D("3.0"), D("300.00"))
    # c06 + c11: 320 over 3 sales = 106.666.. ; days (1 + 15) / 2
    assert figures(seg["Potential Loyalists"]) == (
        2,
        D("320.00"),
        D("106.67"),
        D("8.0"),
        D("1.5"),
        D("160.00"),
    )
    # c08 + c12: 70 over 3 sales = 23.333..
    assert figures(seg["Promising"]) == (2, D("70.00"), D("23.33"), D("12.0"), D("1.5"), D("35.00"))
    assert figures(seg["At Risk"]) == (1, D("250.00"), D("83.33"), D("21.0"), D("3.0"), D("250.00"))
    # 44.98 / 4 = 11.245 exactly: half away from zero gives 11.25 (float or half-even would give 11.24)
    assert figures(seg["Need Attention"]) == (1, D("44.98"), D("11.25"), D("19.0"), D("4.0"), D("44.98"))
    assert figures(seg["New Customers"]) == (1, D("30.00"), D("30.00"), D("0.0"), D("1.0"), D("30.00"))
    # c07 + c10: 110 over 3 sales = 36.666.. ; days (24 + 29) / 2 = 26.5
    assert figures(seg["Hibernating"]) == (2, D("110.00"), D("36.67"), D("26.5"), D("1.5"), D("55.00"))
    assert seg["Champions"]["recency_score"] == 5
    assert seg["Need Attention"]["frequency_score"] == 3
    assert seg["Hibernating"]["monetary_score"] == 2
    assert seg["At Risk"]["recommended_actions"] == [
        "Send win-back offers",
        "Trigger churn prevention drip",
        "Survey to understand drop-off",
    ]
    assert seg["Promising"]["description"] == "Moderate engagement, can be developed"
    # the largest count (2) is shared by four segments: the first listed wins
    assert data["insights"] == {
        "highest_revenue_segment": "Champions",
        "largest_segment": "Champions",
        "fastest_growing_segment": "Potential Loyalists",
        "needs_attention": "At Risk",
    }
    assert data["total_customers"] == 12
    assert D(str(data["total_revenue"])) == D("2124.98")
    # rows of business 1 dated in the window: 31 in scope + pending + cancelled + 2 unknown + 2 anonymous
    assert data["data_quality"] == {
        "rows_read": 37,
        "rows_in_scope": 31,
        "excluded_by_status": {"cancelled": 1, "pending": 1},
        "unknown_status": {"on hold": 1, "refunded": 1},
        "anonymous_sales": 2,
    }


def test_exact_decimal_literals_in_json(cli: Any) -> None:
    run = cli(*small_args("--days", "30", "--format", "json", "--segment-name", "Champions"))
    assert '"total_revenue": 1000.00' in run.stdout
    assert '"average_order_value": 90.91' in run.stdout
    assert '"avg_days_since_last_purchase": 1.0' in run.stdout


def test_storefront_filter(cli: Any) -> None:
    """Storefront 20 holds sales 7 (c01, 100), 33 (c09, 30), 34 (refunded), 35 (c10, 30), 37 (c12, 10).

    n = 4: q = 0, r = 4, so score = c + 1. F: all one sale -> 1. M: c12 10 -> 1; c09, c10 tie at
    30 -> c = 1 -> 2; c01 100 -> c = 3 -> 4. R: c01, c09 ds 0 -> 5; c12 ds 12 -> 3; c10 ds 29 -> 1.
    c01 R5F1M4 and c09 R5F1M2: New Customers; c10 R1F1M2: Hibernating; c12 R3F1M1: nearest Promising.
    """
    run = cli(*small_args("--days", "30", "--storefront-id", "20", "--format", "json"))
    assert run.exit_code == 0, run.stderr
    data = run.json()["data"]
    counts = {s["segment_name"]: (s["customer_count"], s["total_revenue"]) for s in data["segments"]}
    assert counts["New Customers"] == (2, 130.0)
    assert counts["Promising"] == (1, 10.0)
    assert counts["Hibernating"] == (1, 30.0)
    assert sum(c for c, _ in counts.values()) == 4
    assert data["storefront_id"] == 20
    assert data["insights"]["fastest_growing_segment"] == "Promising"
    assert data["insights"]["needs_attention"] == "Hibernating"
    assert data["data_quality"]["rows_read"] == 5
    assert data["data_quality"]["unknown_status"] == {"refunded": 1}


def test_one_day_window(cli: Any) -> None:
    """days=1: only 2026-11-20. Sale 7 (c01, 100), 33 (c09, 30), 28 (cancelled); 8 is the day after.

    n = 2: R = 5 - floor(5 * 0 / 1) = 5 for both; F = 1 for both (one sale each, a tie);
    M: c09 c = 0 -> 1, c01 c = 1 -> 2. R5F1M1 and R5F1M2 are both New Customers.
    """
    run = cli(*small_args("--days", "1", "--format", "json"))
    data = run.json()["data"]
    new = segments_by_name(run.json())["New Customers"]
    assert (new["customer_count"], new["total_revenue"], new["average_order_value"]) == (2, 130.0, 65.0)
    assert data["total_customers"] == 2
    assert data["period"]["start_date"] == data["period"]["end_date"] == "2026-11-20"
    assert data["data_quality"]["excluded_by_status"] == {"cancelled": 1}
    assert data["data_quality"]["rows_read"] == 3


def test_second_business(cli: Any) -> None:
    """Business 2: c01 (1000.00, ds 0) and b2x (20.00, ds 5): R5 both, F1 both; M 2 and 1: New Customers."""
    run = cli(*small_args("--days", "30", "--business-id", "2", "--format", "json"))
    data = run.json()["data"]
    assert data["business_id"] == 2
    new = segments_by_name(run.json())["New Customers"]
    assert (new["customer_count"], new["total_revenue"]) == (2, 1020.0)
    assert data["total_customers"] == 2


def test_report_time_zone(cli: Any) -> None:
    """Sale 33 at 2026-11-20T03:00Z is 2026-11-19 22:00 in New York: out of a one-day window there.

    Naive timestamps are already local, so sale 7 (2026-11-20) stays in: one customer, c01.
    """
    run = cli(*small_args("--days", "1", "--timezone", "America/New_York", "--format", "json"))
    data = run.json()["data"]
    assert data["total_customers"] == 1
    assert data["period"]["timezone"] == "America/New_York"
    assert segments_by_name(run.json())["New Customers"]["total_revenue"] == 100.0


def test_empty_window_lists_every_segment_with_zeros(cli: Any) -> None:
    run = cli("segment", "--source", small_args()[2], "--as-of", "2020-01-01", "--format", "json")
    data = run.json()["data"]
    assert len(data["segments"]) == 8
    assert all(s["customer_count"] == 0 and s["total_revenue"] == 0 for s in data["segments"])
    assert data["insights"] == dict.fromkeys(
        ["highest_revenue_segment", "largest_segment", "fastest_growing_segment", "needs_attention"]
    )


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [("--segment-name", "At Risk", "R2F2M3"), ("--segment-code", "R1F1M2", "R1F1M2")],
)
def test_segment_filters_keep_insights(cli: Any, option: str, value: str, expected: str) -> None:
    data = cli(*small_args("--days", "30", option, value, "--format", "json")).json()["data"]
    assert [s["segment_code"] for s in data["segments"]] == [expected]
    assert data["insights"]["highest_revenue_segment"] == "Champions"  # computed before the filter
    assert data["total_customers"] == 12


def test_table_output(cli: Any) -> None:
    run = cli(*small_args("--days", "30", "--format", "table"))
    assert run.exit_code == 0
    out = run.stdout
    assert "Window 2026-10-22 → 2026-11-20 (30 days" in out
    assert "12 customers · 31 sales · revenue 2,124.98" in out
    assert "Need Attention" in out
    assert "44.98" in out
    assert "11.25" in out
    assert "Data quality: 37 rows in the window, 31 in scope, 2 anonymous" in out
    assert "excluded cancelled 1, pending 1 · unknown status 'on hold' 1, 'refunded' 1" in out


def test_json_is_default_in_a_pipe(cli: Any) -> None:
    run = cli(*small_args("--days", "30"))
    assert run.json()["data"]["total_customers"] == 12
