"""Money shows its currency when known: the data's currency column, or --currency (SPEC 7)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from tests.conftest import FIXTURES, small_args

HISTORICAL = FIXTURES / "exports" / "historical.csv"


def historical(cli: Any, *args: str) -> Any:
    return cli("segment", "--source", HISTORICAL, "--as-of", "2024-12-30", *args)


def test_the_currency_column_reaches_every_output(cli: Any) -> None:
    data = historical(cli, "--format", "json").json()["data"]
    assert data["currency"] == "EUR"
    assert data["total_revenue"] == 257.38
    table = historical(cli, "--format", "table").stdout
    assert "5 customers · 9 sales · revenue 257.38 EUR" in table
    assert "Revenue EUR" in table
    rows = list(csv.reader(io.StringIO(historical(cli, "--format", "csv").stdout)))
    assert rows[0][-1] == "currency"
    assert rows[0][:-1][:2] == ["segment_name", "segment_code"]
    assert {row[-1] for row in rows[1:]} == {"EUR"}
    assert len(rows) == 9
    assert historical(cli, "--format", "pdf", "--output", "r.pdf").exit_code == 0
    text = " ".join(PdfReader(io.BytesIO(Path("r.pdf").read_bytes())).pages[0].extract_text().split())
    assert "REVENUE (EUR) 257.38" in text
    assert "Revenue per segment (EUR)" in text


def test_unknown_currency_changes_nothing(cli: Any) -> None:
    data = cli(*small_args("--format", "json")).json()["data"]
    assert data["currency"] is None
    header = cli(*small_args("--format", "csv")).stdout.splitlines()[0]
    assert header.endswith(",recommended_actions")  # SPEC's columns only


def test_currency_option_environment_and_config(cli: Any, tmp_path: Path) -> None:
    run = cli(*small_args("--currency", "usd", "--format", "json"))
    assert run.exit_code == 0, run.stderr
    assert run.json()["data"]["currency"] == "USD"
    run = cli(*small_args("--format", "json"), env={"SEGCLI_CURRENCY": "GBP"})
    assert run.json()["data"]["currency"] == "GBP"
    config = tmp_path / "segcli.toml"
    config.write_text('currency = "chf"\n')
    run = cli(*small_args("--format", "json", "--config", str(config)))
    assert run.json()["data"]["currency"] == "CHF"
    # the data's column agrees: fine; disagrees: an error, never a silent relabel
    assert historical(cli, "--currency", "EUR", "--format", "json").json()["data"]["currency"] == "EUR"
    run = historical(cli, "--currency", "USD", "--format", "json", "--output", "r.json")
    assert run.exit_code == 1
    assert run.stderr == "currency USD was given, but the sales in scope are in EUR\n"
    assert not Path("r.json").exists()


def test_invalid_currency_is_exit_2(cli: Any) -> None:
    run = cli(*small_args("--currency", "EURO"))
    assert run.exit_code == 2
    assert (
        run.stderr
        == "Invalid currency 'EURO'. Must be a three-letter ISO 4217 code such as EUR (--currency)\n"
    )


def test_comparison_shows_the_currency(cli: Any) -> None:
    run = historical(cli, "--format", "table", "--compare", "--days", "30")
    assert "revenue 61.99 → 140.99 EUR" in run.stdout
