"""Warnings (SPEC 1.5): empty or stale reports never pass silently; --strict makes them fail."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from segcli.engine.caveats import data_warnings, future_warning
from segcli.engine.report import DataQuality, Insights, Period, Report
from tests.conftest import FIXTURES, SMALL_SALES, small_args
from tests.pg import PgServer, ingest

HISTORICAL = FIXTURES / "exports" / "historical.csv"
LAST_SALE = "2024-12-30"
STALE = (
    f"as-of {{as_of}} is after the last sale in the data ({LAST_SALE}, business 1); "
    f"use --as-of {LAST_SALE} for a report up to it"
)


def warnings_of(run: Any) -> list[str]:
    return [
        line.removeprefix("warning: ") for line in run.stderr.splitlines() if line.startswith("warning: ")
    ]


def test_historical_file_without_as_of_names_its_last_sale(cli: Any) -> None:
    run = cli("segment", "--source", HISTORICAL, "--format", "json")
    assert run.exit_code == 0, run.stderr
    data = run.json()["data"]
    as_of = data["period"]["end_date"]  # today: far after 2024
    assert data["total_customers"] == 0
    expected = [
        f"no sales in scope: 0 customers for business 1 from {data['period']['start_date']} to {as_of}",
        STALE.format(as_of=as_of),
    ]
    assert data["warnings"] == expected
    assert warnings_of(run) == expected  # one line each on stderr


def test_as_of_the_last_sale_has_no_warning(cli: Any) -> None:
    run = cli("segment", "--source", HISTORICAL, "--as-of", LAST_SALE, "--format", "json", "--strict")
    assert run.exit_code == 0, run.stderr
    assert run.json()["data"]["warnings"] == []
    assert run.json()["data"]["total_customers"] == 5
    assert run.stderr == ""


def test_as_of_a_day_after_the_last_sale_warns_once(cli: Any) -> None:
    run = cli("segment", "--source", HISTORICAL, "--as-of", "2024-12-31", "--format", "json")
    assert run.exit_code == 0, run.stderr
    data = run.json()["data"]
    assert data["total_customers"] == 5  # the window still holds sales: only the staleness warning
    assert data["warnings"] == [STALE.format(as_of="2024-12-31")]


def test_as_of_in_the_future(cli: Any) -> None:
    run = cli(*small_args("--format", "json"))  # as of 2026-11-20: sale 8 lies the day after
    assert run.json()["data"]["warnings"] == []
    run = cli("segment", "--source", SMALL_SALES, "--as-of", "2999-01-01", "--format", "json", "--days", "30")
    warnings = run.json()["data"]["warnings"]
    assert warnings[0].startswith("as-of 2999-01-01 is in the future (today is ")
    assert warnings[0].endswith(" in UTC)")
    assert warnings[1:] == [
        "no sales in scope: 0 customers for business 1 from 2998-12-03 to 2999-01-01",
        "as-of 2999-01-01 is after the last sale in the data (2026-11-21, business 1); "
        "use --as-of 2026-11-21 for a report up to it",
    ]


def test_storefront_and_business_without_sales(cli: Any) -> None:
    run = cli(*small_args("--storefront-id", "99", "--format", "json"))
    assert run.exit_code == 0, run.stderr
    assert run.json()["data"]["warnings"] == ["storefront 99 has no sales (business 1)"]
    run = cli(*small_args("--business-id", "7", "--format", "json"))
    assert run.json()["data"]["warnings"] == ["business 7 has no sales in the data"]
    # storefront 20's last sale is on 2026-11-20 (the business's on 2026-11-21)
    run = cli(*small_args("--storefront-id", "20", "--format", "json"))
    assert run.json()["data"]["warnings"] == []
    run = cli(
        "segment", "--source", SMALL_SALES, "--as-of", "2026-11-25", "--storefront-id", "20", "-f", "json"
    )
    assert run.json()["data"]["warnings"] == [
        "as-of 2026-11-25 is after the last sale in the data (2026-11-20, business 1, storefront 20); "
        "use --as-of 2026-11-20 for a report up to it"
    ]


def test_strict_exits_1_and_writes_nothing(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    run = cli("segment", "--source", HISTORICAL, "--strict", "--output", out)
    assert run.exit_code == 1
    assert not out.exists()
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("warning: no sales in scope")
    assert lines[-1] == "--strict: the report has 2 warnings; nothing written"


def test_strict_from_environment_and_config(cli: Any, tmp_path: Path) -> None:
    run = cli("segment", "--source", HISTORICAL, "--format", "json", env={"SEGCLI_STRICT": "1"})
    assert run.exit_code == 1
    assert run.stdout == ""
    config = tmp_path / "segcli.toml"
    config.write_text("strict = true\n")
    run = cli("segment", "--source", HISTORICAL, "--format", "json", "--config", config)
    assert run.exit_code == 1
    assert run.stdout == ""
    run = cli("segment", "--source", HISTORICAL, "--as-of", LAST_SALE, "--format", "json", "--config", config)
    assert run.exit_code == 0, run.stderr
    config.write_text('strict = "yes"\n')
    run = cli("segment", "--source", HISTORICAL, "--config", config)
    assert run.exit_code == 2
    assert "'strict' must be true or false" in run.stderr


def test_warnings_in_the_terminal_view_and_the_pdf(cli: Any) -> None:
    run = cli("segment", "--source", HISTORICAL, "--as-of", "2025-06-01", "--format", "table")
    lines = run.stdout.splitlines()
    assert lines[3] == "Warning: no sales in scope: 0 customers for business 1 from 2025-03-04 to 2025-06-01"
    assert lines[4].startswith("Warning: as-of 2025-06-01 is after the last sale in the data (2024-12-30")
    run = cli(
        "segment", "--source", HISTORICAL, "--as-of", "2025-06-01", "--format", "pdf", "--output", "r.pdf"
    )
    assert run.exit_code == 0, run.stderr
    text = " ".join(PdfReader(io.BytesIO(Path("r.pdf").read_bytes())).pages[0].extract_text().split())
    assert "WARNINGS" in text
    assert "use --as-of 2024-12-30 for a report up to it" in text


def test_a_cached_report_keeps_its_warnings(cli: Any, tmp_path: Path) -> None:
    args = ["segment", "--source", HISTORICAL, "--format", "json", "--cache-dir", tmp_path / "cache"]
    first = cli(*args, "--as-of", "2025-06-01")
    second = cli(*args, "--as-of", "2025-06-01")
    assert first.json()["data"]["warnings"] == second.json()["data"]["warnings"]
    assert len(second.json()["data"]["warnings"]) == 2
    # "in the future" depends on today: added as the report leaves the cache, never stored
    future = [cli(*args, "--as-of", "2999-01-01").json()["data"]["warnings"] for _ in range(2)]
    assert future[0] == future[1]
    assert future[0][0].startswith("as-of 2999-01-01 is in the future")


@pytest.mark.parametrize("kind", ["parquet", "warehouse"])
def test_other_sources_report_the_same_last_sale(cli: Any, tmp_path: Path, kind: str) -> None:
    from segcli.engine.db import connect

    source = tmp_path / "sales.parquet"
    con = connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{HISTORICAL}')) TO '{source}' (FORMAT parquet)")
    con.close()
    if kind == "warehouse":
        db = tmp_path / "sales.duckdb"
        assert cli("load", source, "--db", db).exit_code == 0
        source = db
    run = cli("segment", "--source", source, "--as-of", "2025-06-01", "--format", "json")
    assert run.json()["data"]["warnings"][1] == STALE.format(as_of="2025-06-01")
    assert run.json()["data"]["currency"] is None  # no sale in scope: unknown
    run = cli("segment", "--source", source, "--as-of", LAST_SALE, "--format", "json")
    assert run.json()["data"]["warnings"] == []
    assert run.json()["data"]["currency"] == "EUR"


def test_postgres_pushes_the_last_sale_down(cli: Any, pg_server: PgServer) -> None:
    from segcli.engine.db import connect

    con = connect()
    data = con.sql(
        f"SELECT sale_id, customer_id, CAST(sale_date AS TIMESTAMPTZ) + INTERVAL 20 HOUR AS sale_date, "
        f"CAST(total_amount AS DECIMAL(12,2)) AS total_amount, status, currency FROM read_csv('{HISTORICAL}')"
    ).to_arrow_table()
    con.close()
    ddl = "sale_id bigint, customer_id text, sale_date timestamptz, total_amount numeric(12,2), status text, currency text"
    ingest(pg_server.url, "historical_sales", ddl, data)
    args = ["segment", "--source", pg_server.url, "--sales-table", "historical_sales", "--format", "json"]
    run = cli(*args, "--as-of", "2025-06-01")
    assert run.exit_code == 0, run.stderr
    assert run.json()["data"]["warnings"][1] == STALE.format(as_of="2025-06-01")
    # 2024-12-30 20:00 UTC is already 2024-12-31 in Tokyo: the last sale's local date
    run = cli(*args, "--as-of", "2025-06-01", "--timezone", "Asia/Tokyo")
    assert "after the last sale in the data (2024-12-31, business 1)" in run.json()["data"]["warnings"][1]


def _report(customers: int, storefront: int | None = None) -> Report:
    from segcli.engine.report import SegmentResult

    segment = SegmentResult("Champions", "R5F5M5", "", (), customer_count=customers)
    period = Period(date(2025, 1, 1), date(2025, 1, 30), 30)
    return Report("rfm", 1, storefront, "UTC", period, (segment,), Insights(), DataQuality())


def test_data_warnings_by_hand() -> None:
    assert data_warnings(_report(3), date(2025, 1, 30)) == ()
    assert data_warnings(_report(3), "unknown") == ()  # a source that cannot tell: no staleness warning
    assert data_warnings(_report(0), "unknown") == (
        "no sales in scope: 0 customers for business 1 from 2025-01-01 to 2025-01-30",
    )
    assert data_warnings(_report(0, 4), None) == ("storefront 4 has no sales (business 1)",)
    assert future_warning(date(2025, 1, 2), date(2025, 1, 1), "Europe/Berlin") == (
        "as-of 2025-01-02 is in the future (today is 2025-01-01 in Europe/Berlin)"
    )
    assert future_warning(date(2025, 1, 1), date(2025, 1, 1), "UTC") is None


def test_http_body_carries_the_warnings(tmp_path: Path) -> None:
    from tests.test_api import Api

    api = Api(tmp_path, source=HISTORICAL, as_of=date(2024, 12, 31))
    try:
        data = api.get().json()["data"]
        assert data["currency"] == "EUR"
        assert data["warnings"] == [STALE.format(as_of="2024-12-31")]
    finally:
        api.shut_down()
