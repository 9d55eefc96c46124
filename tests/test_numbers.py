"""The number formats the terminal table and the PDF share (segcli/render/numbers.py)."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from pypdf import PdfReader

from segcli.render.numbers import change, count, money, percent, plural, share
from tests.conftest import small_args


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2.665", "2.67"),  # half-even would give 2.66
        ("0.125", "0.13"),  # half-even would give 0.12
        ("-0.125", "-0.13"),
        ("1234567.005", "1,234,567.01"),
        ("2.675", "2.68"),
        ("2.6649", "2.66"),
        ("-0.004", "0.00"),  # never a negative zero
        ("10", "10.00"),
    ],
)
def test_money_rounds_half_away_from_zero(value: str, text: str) -> None:
    assert money(Decimal(value)) == text


@pytest.mark.parametrize(
    ("part", "whole", "pct"),
    [
        (1, 3, "33.3"),
        (1, 16, "6.3"),  # 6.25: half away from zero, not 6.2
        (3, 16, "18.8"),  # 18.75
        (181, 771, "23.5"),
        (Decimal("-1.5"), Decimal(30), "-5.0"),
        (5, 0, "0.0"),
    ],
)
def test_share_and_percent(part: Decimal | int, whole: Decimal | int, pct: str) -> None:
    assert share(part, whole) == Decimal(pct)
    assert percent(part, whole) == f"{pct}%"


def test_counts_changes_and_plurals() -> None:
    assert count(1234567) == "1,234,567"
    assert change(Decimal("-12.5")) == "12.5%"
    assert change(Decimal("1234.5")) == "1,234.5%"
    assert change(Decimal("0.0")) == "0.0%"
    assert plural(1, "customer") == "1 customer"
    assert plural(2000, "customer") == "2,000 customers"


def test_terminal_and_pdf_show_the_same_figures(cli) -> None:
    table = cli(*small_args("--days", "30", "--format", "table", "--no-cache")).stdout
    body = cli(*small_args("--days", "30", "--format", "json", "--no-cache")).stdout
    pdf = cli(*small_args("--days", "30", "--format", "pdf", "--output", "-", "--no-cache")).stdout_bytes
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    segments = json.loads(body, parse_float=Decimal)["data"]["segments"]
    assert segments
    for segment in segments:
        revenue = money(segment["total_revenue"])
        aov = money(segment["average_order_value"])
        customers = count(segment["customer_count"])
        for shown in (table, pdf_text):
            for figure in (revenue, aov, customers):
                assert figure in shown, (segment["segment_name"], figure)
