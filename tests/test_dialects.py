"""Real exports (issue 15 items 2 and 3): CSV dialects, integer and day/month dates, missing columns."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES

EXPORTS = FIXTURES / "exports"
EUROPEAN = EXPORTS / "european_cp1252.csv"
EU_OPTIONS = [
    "--delimiter",
    ";",
    "--decimal-separator",
    ",",
    "--encoding",
    "cp1252",
    "--date-format",
    "%d.%m.%Y",
]
EU_MAP = ["--map", "Bestellnummer=sale_id", "--map", "Kunde=customer_id", "--map", "Datum=sale_date"]
EU_MAP += ["--map", "Betrag=total_amount"]

# fixtures/exports, as of 2026-11-20, 30 days (2026-10-22 .. 2026-11-20), worked out by hand:
#   Zoë Müller  1001-1003: 1234.50 + 99.90 + 10.00 = 1344.40, 3 sales, last 11-19 (1 day)  R5 F4 M4
#   José Pérez  1004-1005 (completed, partial): 100.00, 2 sales, last 10-30 (21 days)    R2 F2 M2
#   Renée Café  1006-1007 (a refund row): 12.34 - 2.34 = 10.00, 2 sales, last 11-18 (2)  R5 F2 M1
#   Søren Ærø   1009 only (1008 is the day before the window, 1010 pending): 300.00, 29  R1 F1 M3
#   François    1012 is the day after as-of; 1011 is anonymous
# F and M over 4 customers (n div 5 = 0): score = customers below + 1. R = 5 - floor(5 d / 30).
# Zoë: Champions. José: Hibernating (rule). Renée (R5F2M1): no rule, nearest R5F1M1 New Customers.
# Søren (R1F1M3): no rule, nearest R1F1M2 Hibernating.
EXPECTED = {
    # name: (customers, revenue, average order value, avg days since, avg frequency, avg spend)
    "Champions": (1, "1344.40", "448.13", "1.0", "3.0", "1344.40"),
    "New Customers": (1, "10.00", "5.00", "2.0", "2.0", "10.00"),
    "Hibernating": (2, "400.00", "133.33", "25.0", "1.5", "200.00"),
}


class Report:
    def __init__(self, stdout: str) -> None:
        self.stdout = stdout
        self.data = json.loads(stdout, parse_float=Decimal)["data"]


def report(cli: Any, source: Path | str, *extra: str) -> Report:
    run = cli(
        "segment", "--source", str(source), "--as-of", "2026-11-20", "--days", "30", "-f", "json", *extra
    )
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    return Report(run.stdout)


def check_expected(data: dict[str, Any]) -> None:
    got = {
        s["segment_name"]: (
            s["customer_count"],
            str(s["total_revenue"]),
            str(s["average_order_value"]),
            str(s["characteristics"]["avg_days_since_last_purchase"]),
            str(s["characteristics"]["avg_purchase_frequency"]),
            str(s["characteristics"]["avg_total_spend"]),
        )
        for s in data["segments"]
        if s["customer_count"]
    }
    assert got == EXPECTED
    assert data["total_customers"] == 4
    assert Decimal(str(data["total_revenue"])) == Decimal("1754.40")
    quality = data["data_quality"]
    assert (quality["rows_read"], quality["rows_in_scope"], quality["anonymous_sales"]) == (10, 8, 1)
    assert quality["excluded_by_status"] == {"pending": 1}


def test_plain_export_hand_computed(cli: Any) -> None:
    check_expected(report(cli, EXPORTS / "plain_utf8.csv").data)


def test_european_cp1252_semicolon_decimal_comma(cli: Any) -> None:
    run = report(cli, EUROPEAN, *EU_OPTIONS, *EU_MAP)
    check_expected(run.data)
    assert run.stdout == report(cli, EXPORTS / "plain_utf8.csv").stdout


def test_european_dialect_from_config_and_environment(cli: Any, isolated: Path) -> None:
    config = isolated / "segcli.toml"
    config.write_text(
        '[csv]\ndelimiter = ";"\ndecimal_separator = ","\nencoding = "cp1252"\n\n'
        '[columns]\nBestellnummer = "sale_id"\nKunde = "customer_id"\nDatum = "sale_date"\nBetrag = "total_amount"\n'
    )
    env = {"SEGCLI_DATE_FORMAT": "%d.%m.%Y"}
    run = cli("segment", "--config", config, "--source", EUROPEAN, "--as-of", "2026-11-20", "--days", "30",
              "-f", "json", env=env)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    check_expected(Report(run.stdout).data)
    # the command line wins over the config file
    run = cli("segment", "--config", config, "--source", EUROPEAN, "--as-of", "2026-11-20", "--encoding", "utf-8",
              env=env)  # fmt: skip
    assert run.exit_code == 1
    assert run.stderr == (
        f"{EUROPEAN}: line 2 is not valid utf-8 text (give the file's encoding, e.g. --encoding cp1252 or utf-16)\n"
    )


def test_integer_yyyymmdd_dates(cli: Any) -> None:
    check_expected(report(cli, EXPORTS / "integer_dates.csv").data)


def test_yyyymmdd_as_text_and_in_parquet(cli: Any, tmp_path: Path) -> None:
    import duckdb

    lines = (EXPORTS / "integer_dates.csv").read_text("utf-8").splitlines()
    text = tmp_path / "text.csv"  # quoted, and with an id column that is text: dates read as text
    text.write_text("\n".join([lines[0]] + [f"x{f[0]},{f[1]},'{f[2]}',{f[3]},{f[4]}" for f in
                                             (line.split(",") for line in lines[1:])]).replace("'", '"') + "\n")  # fmt: skip
    check_expected(report(cli, text).data)
    parquet = tmp_path / "dates.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{EXPORTS / 'integer_dates.csv'}')) TO '{parquet}' (FORMAT parquet)"
    )
    check_expected(report(cli, parquet).data)


def test_integer_date_that_is_no_date(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "sales.csv"
    bad.write_text("sale_id,customer_id,sale_date,total_amount,status\n1,a,20261120,1.00,completed\n"
                   "2,b,20261399,1.00,completed\n")  # fmt: skip
    run = cli("segment", "--source", bad, "--as-of", "2026-11-20")
    assert run.exit_code == 1
    assert run.stderr == f"{bad}: column 'sale_date' has a value that is not a date: '20261399' (sale_id 2)\n"


def test_ambiguous_day_month_dates_are_an_error(cli: Any) -> None:
    source = EXPORTS / "ambiguous_dates.csv"
    run = cli("segment", "--source", source, "--map", "date=sale_date", "--as-of", "2026-12-31")
    assert run.exit_code == 1
    assert run.stderr == (
        f"{source}: column 'date' has dates like '01/02/2026' that could be day/month or month/day: "
        "give --date-format %d/%m/%Y or %m/%d/%Y\n"
    )


@pytest.mark.parametrize(
    ("date_format", "first_sale"),
    [("%d/%m/%Y", "2026-04-03"), ("%m/%d/%Y", "2026-03-04")],
)
def test_date_format_settles_the_order(cli: Any, date_format: str, first_sale: str) -> None:
    source = EXPORTS / "ambiguous_dates.csv"
    run = cli("customers", "--source", source, "--map", "date=sale_date", "--date-format", date_format,
              "--as-of", first_sale, "--days", "1", "-f", "csv")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    rows = run.stdout.splitlines()
    assert len(rows) == 2
    assert rows[1].startswith(f"c1,{first_sale},")


@pytest.mark.parametrize(
    ("dates", "as_of", "expected"),
    [
        (["03/04/2026", "25/06/2026"], "2026-06-25", "day first: 25 June"),
        (["03/04/2026", "06/25/2026"], "2026-06-25", "month first: June 25"),
    ],
)
def test_day_month_order_inferred_when_a_value_settles_it(
    cli: Any, tmp_path: Path, dates: list[str], as_of: str, expected: str
) -> None:
    source = tmp_path / "sales.csv"
    source.write_text("sale_id,customer_id,sale_date,total_amount,status\n"
                      + "".join(f"{i},c{i},{d},1.00,completed\n" for i, d in enumerate(dates)))  # fmt: skip
    run = cli("customers", "--source", source, "--as-of", as_of, "--days", "1", "-f", "csv")
    assert run.exit_code == 0, (expected, run.stderr)
    assert [row.split(",")[:2] for row in run.stdout.splitlines()[1:]] == [["c1", as_of]]


def test_mixed_day_month_orders_are_an_error(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "sales.csv"
    source.write_text("sale_id,customer_id,sale_date,total_amount,status\n"
                      "1,a,25/06/2026,1.00,completed\n2,b,06/25/2026,1.00,completed\n")  # fmt: skip
    run = cli("segment", "--source", source, "--as-of", "2026-06-30")
    assert run.exit_code == 1
    assert run.stderr == (
        f"{source}: column 'sale_date' mixes day/month and month/day dates; give --date-format %d/%m/%Y or %m/%d/%Y\n"
    )
    run = cli("segment", "--source", source, "--as-of", "2026-06-30", "--date-format", "%m/%d/%Y")
    assert run.exit_code == 1
    assert run.stderr == (
        f"{source}: column 'sale_date' has a value that is not a date: '25/06/2026' (sale_id 1) "
        "(read as %m/%d/%Y)\n"
    )


def test_mixed_orders_beyond_the_sniffed_sample(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "sales.csv"
    rows = [f"{i},c{i % 40},{1 + i % 28:02d}/0{1 + i % 9}/2026,1.00,completed\n" for i in range(25_000)]
    source.write_text("sale_id,customer_id,sale_date,total_amount,status\n" + "".join(rows)
                      + "25000,c1,06/25/2026,1.00,completed\n")  # fmt: skip
    run = cli("segment", "--source", source, "--as-of", "2026-06-30")
    assert run.exit_code == 1  # DuckDB's sniffer, seeing day-first dates only, would fail or misread
    assert run.stderr == (
        f"{source}: column 'sale_date' mixes day/month and month/day dates; give --date-format %d/%m/%Y or %m/%d/%Y\n"
    )


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (
            ["2026-11-20T10:00:00+01:00", "03/04/2026"],
            "'03/04/2026' (sale_id 2); give --date-format, e.g. %d/%m/%Y or %m/%d/%Y",
        ),
        (["2026-11-20", "25/06/2026"], "'2026-11-20' (sale_id 1) (read as %d/%m/%Y)"),
    ],
)
def test_day_month_text_among_iso_dates(cli: Any, tmp_path: Path, dates: list[str], message: str) -> None:
    source = tmp_path / "sales.csv"
    source.write_text("sale_id,customer_id,sale_date,total_amount,status\n"
                      + "".join(f"{i},c{i},{d},1.00,completed\n" for i, d in enumerate(dates, 1)))  # fmt: skip
    run = cli("segment", "--source", source, "--as-of", "2026-11-20")
    assert run.exit_code == 1
    assert run.stderr == f"{source}: column 'sale_date' has a value that is not a date: {message}\n"


def test_missing_columns_named_at_once_with_likely_maps(cli: Any) -> None:
    source = EXPORTS / "shopify_orders.csv"
    run = cli("segment", "--source", source, "--as-of", "2026-11-20")
    assert run.exit_code == 1
    assert run.stderr == (
        f"{source}: missing required columns 'sale_id', 'customer_id', 'sale_date', 'total_amount', 'status' "
        "(columns found: Name, Created at, Email, Total, Financial Status, Currency); "
        "Name could be sale_id: --map Name=sale_id; Email could be customer_id: --map Email=customer_id; "
        "Created at could be sale_date: --map 'Created at=sale_date'; "
        "Total could be total_amount: --map Total=total_amount; "
        "Financial Status could be status: --map 'Financial Status=status'\n"
    )
    maps = ["Name=sale_id", "Email=customer_id", "Created at=sale_date", "Total=total_amount"]
    run = cli(
        "segment", "--source", source, "--as-of", "2026-11-20", *[a for m in maps for a in ("--map", m)]
    )
    assert run.exit_code == 1  # one left; a column already mapped is not suggested again
    assert run.stderr.endswith(
        "missing required column 'status' (columns found: Name, Created at, Email, Total, Financial Status, "
        "Currency); Financial Status could be status: --map 'Financial Status=status'\n"
    )


def test_suggestions_by_spelling_and_each_column_once() -> None:
    from segcli.engine.sources.suggest import suggest

    found = ["OrderID", "Custmer ID", "Date", "Amount", "State"]  # a typo: by spelling
    assert suggest(["sale_id", "customer_id", "sale_date", "total_amount", "status"], found) == {
        "sale_id": "OrderID",
        "customer_id": "Custmer ID",
        "sale_date": "Date",
        "total_amount": "Amount",
        "status": "State",
    }
    assert suggest(["sale_date", "total_amount"], ["date"], used=["date"]) == {}
    assert suggest(["total_amount", "amount_refunded"], ["amount"]) == {"total_amount": "amount"}


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (b"\n\n", "the file is empty (no header line)")],
)
def test_empty_file_says_so(cli: Any, tmp_path: Path, content: bytes, message: str) -> None:
    source = tmp_path / "sales.csv"
    source.write_bytes(content)
    run = cli("segment", "--source", source, "--as-of", "2026-11-20")
    assert (run.exit_code, run.stderr) == (1, f"{source}: {message}\n")


def test_header_only_file_is_an_empty_report(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "sales.csv"
    source.write_text("sale_id,customer_id,sale_date,total_amount,status\n")
    run = cli("segment", "--source", source, "--as-of", "2026-11-20", "-f", "json")
    assert run.exit_code == 0, run.stderr  # no sales is a (warned) empty report, not a broken file
    assert run.json()["data"]["total_customers"] == 0


def test_decimal_comma_amounts(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "sales.csv"
    header = "sale_id;customer_id;sale_date;total_amount;status\n"
    source.write_text(header + "1;a;2026-11-20;1.234.567,5;completed\n2;b;2026-11-19;-0,25;completed\n")
    run = report(cli, source, "--delimiter", ";", "--decimal-separator", ",")
    assert Decimal(str(run.data["total_revenue"])) == Decimal("1234567.25")
    for value, what in [("12.5", "is not a number: '12.5'"), ("1,23456", "has more than 4 decimal places")]:
        source.write_text(header + f"1;a;2026-11-20;{value};completed\n")
        run = cli("segment", "--source", source, "--as-of", "2026-11-20", "--delimiter", ";",
                  "--decimal-separator", ",")  # fmt: skip
        assert run.exit_code == 1
        assert what in run.stderr
        assert run.stderr.startswith(f"{source}: column 'total_amount'")


def test_utf16_and_latin1(cli: Any, tmp_path: Path) -> None:
    plain = (EXPORTS / "plain_utf8.csv").read_text("utf-8")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text(plain, encoding="utf-16")
    check_expected(report(cli, utf16, "--encoding", "utf-16").data)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_text(plain.replace("€", "EUR"), encoding="latin-1")
    check_expected(report(cli, latin1, "--encoding", "latin-1").data)
    run = cli("segment", "--source", EUROPEAN, "--encoding", "latin-1", "--as-of", "2026-11-20")
    assert run.exit_code == 1  # 0x80 (cp1252's €) is no latin-1 character: DuckDB refuses the file
    assert (
        run.stderr
        == f"{EUROPEAN}: is not valid latin-1 text (give the file's encoding, e.g. --encoding cp1252)\n"
    )


def test_transcoding_streams_and_names_the_bad_line(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    rows = [f"{i},Zoë{i % 7},2026-11-{1 + i % 20:02d},1.00,completed\n" for i in range(60_000)]
    rows[49_998] = "49998,Zo\x81,2026-11-01,1.00,completed\n"  # 0x81: no character in cp1252
    with source.open("wb") as out:
        out.write(b"sale_id,customer_id,sale_date,total_amount,status\n")
        for row in rows:
            out.write(row.encode("latin-1"))
    assert source.stat().st_size > 2 * (1 << 20)  # crosses chunk boundaries
    run = cli("segment", "--source", source, "--encoding", "cp1252", "--as-of", "2026-11-20")
    assert run.exit_code == 1
    assert (
        run.stderr
        == f"{source}: line 50000 is not valid cp1252 text (give the file's encoding, check --encoding)\n"
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--encoding", "klingon", "Invalid encoding 'klingon'. Must be an encoding Python knows, e.g. utf-8, "
         "utf-16, latin-1, cp1252"),
        ("--decimal-separator", ";", "Invalid decimal separator ';'. Must be '.' or ','"),
        ("--delimiter", ";;", "Invalid delimiter ';;'. Must be one character (e.g. ';')"),
        ("--date-format", "%d.%m", "Invalid date format '%d.%m'. Must be strftime codes with a year, month and day, "
         "e.g. %d.%m.%Y or %m/%d/%Y"),
    ],
)  # fmt: skip
def test_invalid_dialect_options(cli: Any, option: str, value: str, message: str) -> None:
    run = cli("segment", "--source", EXPORTS / "plain_utf8.csv", option, value, "--as-of", "2026-11-20")
    # the command line adds the flag that fixes it (issue 15 item 12)
    assert (run.exit_code, run.stderr) == (2, f"{message} ({option})\n")


@pytest.mark.parametrize(
    ("source", "options"),
    [(EUROPEAN, [*EU_OPTIONS, *EU_MAP]), (EXPORTS / "integer_dates.csv", [])],
)
def test_loaded_into_a_warehouse_gives_the_same_report(
    cli: Any, tmp_path: Path, source: Path, options: list[str]
) -> None:
    db = tmp_path / "shop.duckdb"
    run = cli("load", source, "--db", db, *options)
    assert run.exit_code == 0, run.stderr
    assert report(cli, db).stdout == report(cli, EXPORTS / "plain_utf8.csv").stdout


def test_dialect_is_part_of_the_cache_identity() -> None:
    from segcli.engine.sources import CsvDialect, open_source

    plain = open_source(str(EUROPEAN)).identity()
    semicolon = open_source(str(EUROPEAN), dialect=CsvDialect(delimiter=";")).identity()
    day_first = open_source(
        str(EUROPEAN), dialect=CsvDialect(delimiter=";", date_format="%d.%m.%Y")
    ).identity()
    assert len({plain, semicolon, day_first}) == 3
    assert open_source(str(EUROPEAN), dialect=CsvDialect()).identity() == plain
