"""Insights that don't mislead: rfm's priority lists are labelled as such; the measured movers come from the engine."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from segcli.engine.compare import movers
from segcli.engine.comparison import Mover, SegmentChange
from tests.conftest import AS_OF, FIXTURES, small_args


def test_rfm_views_label_the_priority_lists(cli: Any) -> None:
    table = cli(*small_args("--days", "30", "--format", "table")).stdout
    assert "│ Nurture next     Potential Loyalists │" in table
    assert "│ Win back first   At Risk             │" in table
    assert "Fastest growing" not in table
    assert "Needs attention" not in table
    # the API keeps SPEC's names and values
    insights = cli(*small_args("--days", "30", "--format", "json")).json()["data"]["insights"]
    assert insights["fastest_growing_segment"] == "Potential Loyalists"
    assert insights["needs_attention"] == "At Risk"
    assert cli(*small_args("--days", "30", "--format", "pdf", "--output", "r.pdf")).exit_code == 0
    text = PdfReader(io.BytesIO(Path("r.pdf").read_bytes())).pages[0].extract_text()
    assert "NURTURE NEXT" in text
    assert "WIN BACK FIRST" in text
    assert "FASTEST GROWING" not in text


def test_value_insights_are_measured_and_keep_their_labels(cli: Any) -> None:
    args = ["segment", "--source", FIXTURES / "methods" / "value.csv", "--method", "value"]
    table = cli(*args, "--as-of", AS_OF.isoformat(), "--format", "table").stdout
    assert "Fastest growing" in table
    assert "Needs attention" in table
    assert "Nurture next" not in table


def test_measured_movers_of_the_small_fixture(cli: Any) -> None:
    # previous window 2026-09-22..10-21: one customer (New Customers, 999.00); now 12 customers.
    # Champions, Potential Loyalists, Promising and Hibernating each gain 2: the first listed wins.
    run = cli(*small_args("--days", "30", "--compare", "--format", "json"))
    body = run.json()["data"]["comparison"]["movers"]
    assert body == {
        "grew_most_customers": {"segment_name": "Champions", "segment_code": "R5F5M5", "change": 2},
        "fell_most_customers": None,  # New Customers 1 -> 1
        "grew_most_revenue": {"segment_name": "Champions", "segment_code": "R5F5M5", "change": 1000.00},
        "fell_most_revenue": {"segment_name": "New Customers", "segment_code": "R5F1M1", "change": -969.00},
    }
    table = cli(*small_args("--days", "30", "--compare", "--format", "table")).stdout
    assert "Grew most  Champions +2  Champions +1,000.00" in table
    assert "Fell most  —             New Customers \N{MINUS SIGN}969.00" in table


def _row(name: str, before: int, now: int, old: str, new: str) -> SegmentChange:
    return SegmentChange(name, name.upper(), None, before, now, None, Decimal(old), Decimal(new), None)


def test_movers_by_hand() -> None:
    rows = [
        _row("A", 10, 4, "100.00", "150.00"),  # -6 customers, +50.00
        _row("B", 2, 9, "80.00", "10.00"),  # +7, -70.00
        _row("C", 5, 12, "0.00", "50.00"),  # +7 (tie: B listed first), +50.00 (tie: A first)
        _row("D", 6, 0, "70.00", "0.00"),  # -6 (tie: A first), -70.00 (tie: B first)
    ]
    found = movers(rows)
    assert found.grew_most_customers == Mover("B", "B", None, 7)
    assert found.fell_most_customers == Mover("A", "A", None, -6)
    assert found.grew_most_revenue == Mover("A", "A", None, Decimal("50.00"))
    assert found.fell_most_revenue == Mover("B", "B", None, Decimal("-70.00"))
    flat = movers([_row("A", 3, 3, "1.00", "1.00")])
    assert flat.to_dict() == dict.fromkeys(
        ("grew_most_customers", "fell_most_customers", "grew_most_revenue", "fell_most_revenue")
    )
