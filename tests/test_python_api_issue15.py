"""The Python API with what issue 15 added: warnings, currency, CSV dialects, who moved, insight labels.

In-memory tables must warn, carry the currency and list movers exactly as the same data read
from a file does (the JSON body is compared whole).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import segcli
from segcli.engine.generate import generate
from tests.conftest import AS_OF, FIXTURES, SMALL_SALES
from tests.test_python_api import KINDS, _pd, text_table

EXPORTS = FIXTURES / "exports"
HISTORICAL = EXPORTS / "historical.csv"  # EUR, last sale 2024-12-30 (sale 1011)
EU_MAP = {"Bestellnummer": "sale_id", "Kunde": "customer_id", "Datum": "sale_date", "Betrag": "total_amount"}
STALE = (
    "as-of 2025-03-01 is after the last sale in the data (2024-12-30, business 1); "
    "use --as-of 2024-12-30 for a report up to it"
)


@pytest.mark.parametrize("kind", list(KINDS))
def test_in_memory_tables_warn_and_carry_the_currency_like_the_file(kind: str) -> None:
    from_file = segcli.segment(HISTORICAL, as_of="2025-03-01")
    in_memory = segcli.segment(KINDS[kind](text_table(HISTORICAL)), as_of="2025-03-01")
    assert from_file.warnings == [STALE]
    assert in_memory.to_dict() == from_file.to_dict()
    assert in_memory.to_dict()["data"]["currency"] == "EUR"


def test_a_business_without_sales_in_a_dataframe_says_so() -> None:
    frame = _pd().read_csv(HISTORICAL).assign(business_id=1)
    report = segcli.segment(frame, as_of="2024-12-30", business_id=7)
    assert report.warnings == ["business 7 has no sales in the data"]
    assert report.to_dict()["data"]["total_customers"] == 0


def test_currency_argument_is_checked_and_must_agree() -> None:
    report = segcli.segment(SMALL_SALES, as_of=AS_OF, days=30, currency="usd")
    assert report.to_dict()["data"]["currency"] == "USD"
    with pytest.raises(segcli.InvalidParameter, match=r"^Invalid currency 'EURO'\. Must be a three-letter"):
        segcli.segment(SMALL_SALES, as_of=AS_OF, currency="EURO")
    with pytest.raises(
        segcli.DataError, match=r"^currency USD was given, but the sales in scope are in EUR$"
    ):
        segcli.segment(HISTORICAL, as_of="2024-12-30", currency="USD")


def test_csv_dialect_arguments_read_the_european_export_as_the_plain_one() -> None:
    plain = segcli.segment(EXPORTS / "plain_utf8.csv", as_of=AS_OF, days=30)
    european = segcli.segment(
        EXPORTS / "european_cp1252.csv",
        as_of=AS_OF,
        days=30,
        columns=EU_MAP,
        delimiter=";",
        decimal_separator=",",
        encoding="cp1252",
        date_format="%d.%m.%Y",
    )
    assert european.to_dict() == plain.to_dict()
    segments = european.segments
    champions = segments.filter(pc.equal(segments.column("segment_name"), "Champions"))
    assert champions.column("total_revenue").to_pylist() == [Decimal("1344.40")]  # 1.234,50 + 99,90 + 10,00
    with pytest.raises(segcli.InvalidParameter, match=r"^Invalid delimiter ';;'"):
        segcli.segment(EXPORTS / "plain_utf8.csv", as_of=AS_OF, delimiter=";;")


def test_csv_dialect_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "segcli.toml"
    config.write_text(
        '[csv]\ndelimiter = ";"\ndecimal_separator = ","\nencoding = "cp1252"\ndate_format = "%d.%m.%Y"\n'
    )
    european = segcli.segment(
        EXPORTS / "european_cp1252.csv", as_of=AS_OF, days=30, columns=EU_MAP, config=config
    )
    assert european.to_dict() == segcli.segment(EXPORTS / "plain_utf8.csv", as_of=AS_OF, days=30).to_dict()


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic sales of 300 customers (Parquet), some of whom lapsed by 2026-11-20."""
    path = tmp_path_factory.mktemp("generated") / "sales.parquet"
    generate(300, 5, str(path), None)
    return path


def test_customers_who_moved_equal_the_command_line(cli: Any, sales: Path) -> None:
    run = cli(
        "customers",
        "--source",
        str(sales),
        "--as-of",
        AS_OF.isoformat(),
        "--moved-to",
        "lapsed",
        "-f",
        "jsonl",
    )
    assert run.exit_code == 0, run.stderr
    expected = [json.loads(line, parse_float=Decimal) for line in run.stdout.splitlines()]
    assert expected  # the generated data has customers who lapsed
    table = segcli.customers(pq.read_table(sales), as_of=AS_OF, moved_to="lapsed")
    rows = table.to_pylist()
    assert [r["customer_id"] for r in rows] == [r["customer_id"] for r in expected]
    assert all(r["segment_name"] is None and r["previous_segment_name"] for r in rows)
    # the matrix's lapsed column counts the same customers
    comparison = segcli.segment(sales, as_of=AS_OF, compare=True).comparison
    assert comparison is not None
    assert sum(r.customers[-1] for r in comparison.migration[0].rows) == table.num_rows
    # --compare lists both windows' customers: the lapsed ones among them
    both = segcli.customers(sales, as_of=AS_OF, compare=True)
    assert both.filter(pc.is_null(both.column("segment_name"))).num_rows == table.num_rows


def test_repr_html_labels_priorities_and_shows_currency_and_movers(tmp_path: Path) -> None:
    report = segcli.segment(text_table(SMALL_SALES), as_of=AS_OF, days=30, compare=True, currency="EUR")
    html = report._repr_html_()
    assert "Nurture next" in html  # rfm: priority lists, not measurements
    assert "Win back first" in html
    assert "Fastest growing" not in html
    total = f"{report.to_dict()['data']['total_revenue']:,.2f}"
    assert f"revenue {total} EUR" in html
    movers = report.to_dict()["data"]["comparison"]["movers"]
    assert f"by customers {movers['grew_most_customers']['segment_name']} +" in html
    # value measures its last two insights: the plain labels
    value = segcli.segment(text_table(SMALL_SALES), as_of=AS_OF, days=30, method="value", compare=True)
    assert "Fastest growing" in value._repr_html_()


def test_a_stale_report_html_shows_the_warning(tmp_path: Path) -> None:
    with HISTORICAL.open() as f:
        assert list(csv.reader(f))[-1][2] == "2024-12-30"
    html = segcli.segment(HISTORICAL, as_of=date(2025, 3, 1))._repr_html_()
    assert f"Warning: {STALE}" in html
