"""The PostgreSQL source against a real server: same reports as files, pushdown, exact money, errors."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from segcli.engine.compute import ReportRequest, compute_report
from segcli.engine.db import connect
from segcli.engine.errors import DataError, SourceError
from segcli.engine.generate import generate
from segcli.engine.segments import default_tables
from segcli.engine.sources import FileSource, Scope
from segcli.engine.sources.pg_catalog import redact
from segcli.engine.sources.postgres import PostgresSource
from tests.conftest import AS_OF
from tests.pg import PgServer, free_port, ingest, query, with_database

SALES_DDL = (
    "sale_id bigint, business_id integer, storefront_id integer, customer_id bigint, sale_date {date}, "
    "total_amount numeric(12,2), amount_refunded numeric(12,2), status text, channel text, currency text"
)
SALES_SQL = """
SELECT sale_id, CAST(business_id AS INTEGER) AS business_id, CAST(storefront_id AS INTEGER) AS storefront_id,
       customer_id, {date} AS sale_date, CAST(total_amount AS DECIMAL(12,2)) AS total_amount,
       CAST(amount_refunded AS DECIMAL(12,2)) AS amount_refunded, status, channel, currency
FROM read_csv($path, types = {{'total_amount': 'VARCHAR', 'amount_refunded': 'VARCHAR', 'status': 'VARCHAR'}})
"""
ITEMS_DDL = "sale_id bigint, line_no integer, category text, line_total numeric(12,2)"


def arrow(sql: str, **params: Any) -> Any:
    con = connect("UTC")
    try:
        return con.sql(sql, params=params).to_arrow_table()
    finally:
        con.close()


@pytest.fixture(scope="module")
def shop(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`segcli generate --customers 2000 --seed 7` as a CSV and in Postgres (timestamp and timestamptz)."""
    folder = tmp_path_factory.mktemp("shop")
    csv, items = folder / "sales.csv", folder / "items.csv"
    generate(2000, 7, str(csv), str(items))
    url = pg_server.url
    ingest(
        url,
        "shop.sales",
        SALES_DDL.format(date="timestamp"),
        arrow(SALES_SQL.format(date="sale_date"), path=str(csv)),
    )
    # the same instants as timestamptz, and as a CSV whose dates carry an explicit UTC offset
    tz_sql = SALES_SQL.format(date="timezone('UTC', sale_date)")
    ingest(url, "shop.sales_tz", SALES_DDL.format(date="timestamptz"), arrow(tz_sql, path=str(csv)))
    csv_tz = folder / "sales_tz.csv"
    con = connect("UTC")
    con.execute(
        "COPY (SELECT * REPLACE (strftime(sale_date, '%Y-%m-%dT%H:%M:%S+00:00') AS sale_date) "
        "FROM read_csv($path, types = {'total_amount': 'VARCHAR', 'amount_refunded': 'VARCHAR'})) "
        f"TO '{csv_tz}' (HEADER)",
        {"path": str(csv)},
    )
    con.close()
    ingest(
        url,
        "shop.sale_items",
        ITEMS_DDL,
        arrow(
            "SELECT * FROM read_csv($p, types = {'line_total': 'DECIMAL(12,2)', 'line_no': 'INTEGER'})",
            p=str(items),
        ),
    )
    return {"url": url, "csv": csv, "csv_tz": csv_tz, "items": items, "folder": folder}


def report_bytes(cli: Any, source: str | Path, *args: str) -> bytes:
    run = cli("segment", "--source", source, "--as-of", AS_OF.isoformat(), "--format", "json", *args)
    assert run.exit_code == 0, run.stderr
    return bytes(run.stdout_bytes)


WINDOWS = [
    ("--days", "90"),
    ("--days", "30", "--timezone", "America/New_York"),
    ("--days", "365", "--business-id", "2", "--storefront-id", "5", "--timezone", "America/New_York"),
    ("--days", "180", "--method", "value", "--business-id", "3"),
]


@pytest.mark.postgres
@pytest.mark.parametrize("args", WINDOWS)
def test_postgres_csv_and_warehouse_give_byte_identical_reports(
    cli: Any, shop: dict[str, Any], tmp_path: Path, args: tuple[str, ...]
) -> None:
    warehouse = tmp_path / "wh.duckdb"
    loaded = cli("load", shop["url"], "--sales-table", "shop.sales", "--db", warehouse)
    assert loaded.exit_code == 0, loaded.stderr
    from_csv = report_bytes(cli, shop["csv"], *args)
    from_pg = report_bytes(cli, shop["url"], "--sales-table", "shop.sales", *args)
    from_wh = report_bytes(cli, warehouse, *args)
    assert from_pg == from_csv
    assert from_wh == from_csv
    data = json.loads(from_csv)["data"]
    assert data["total_customers"] > 20  # a real report, not two empty ones
    assert data["data_quality"]["excluded_by_status"]  # excluded rows were counted, not fetched


@pytest.mark.postgres
@pytest.mark.parametrize("days", ["30", "365"])
def test_timestamptz_column_uses_report_time_zone_boundaries(
    cli: Any, shop: dict[str, Any], days: str
) -> None:
    # instants near midnight UTC fall on the previous local day in New York: both sources must agree,
    # including across the 2026-11-01 DST change inside the window
    args = ("--days", days, "--timezone", "America/New_York")
    from_csv = report_bytes(cli, shop["csv_tz"], *args)
    from_pg = report_bytes(cli, shop["url"], "--sales-table", "shop.sales_tz", *args)
    assert from_pg == from_csv
    naive = report_bytes(cli, shop["url"], "--sales-table", "shop.sales", *args)
    assert naive != from_pg  # the same wall times read as UTC instants do shift days


@pytest.mark.postgres
def test_pushdown_fetches_only_rows_in_scope(shop: dict[str, Any]) -> None:
    source = PostgresSource(shop["url"], sales_table="shop.sales_tz")
    request = ReportRequest(
        business_id=2, as_of=AS_OF, days=120, storefront_id=5, timezone="America/New_York"
    )
    report = compute_report(source, request, default_tables())
    start, end = request.period.start_date, request.period.end_date
    # independent count on the server: business 2, storefront 5, local dates in the window,
    # status completed/partial after trim+lower, with a customer
    expected = query(
        shop["url"],
        "SELECT count(*) FROM shop.sales_tz WHERE business_id = 2 AND storefront_id = 5 "
        "AND (sale_date AT TIME ZONE 'America/New_York')::date BETWEEN $1 AND $2 "
        "AND lower(trim(status)) IN ('completed', 'partial') AND customer_id IS NOT NULL",
        (start, end),
    )[0][0]
    assert source.rows_fetched == expected == report.data_quality.rows_in_scope
    assert report.data_quality.rows_read > expected  # excluded and anonymous rows stayed on the server


@pytest.mark.postgres
def test_items_of_sales_in_scope(shop: dict[str, Any]) -> None:
    scope = Scope(1, AS_OF - timedelta(days=59), AS_OF)
    pg = PostgresSource(shop["url"], sales_table="shop.sales", items_table="shop.sale_items")
    files = FileSource(str(shop["csv"]), items=str(shop["items"]))
    assert pg.has_items()
    found = []
    for source in (pg, files):
        con = connect("UTC")
        source.load_window(con, scope)
        source.load_items(con, scope)
        found.append(
            con.execute(
                "SELECT count(*), sum(line_total) FROM window_items WHERE sale_id IN (SELECT sale_id "
                "FROM window_sales WHERE status IN ('completed', 'partial') AND customer_id IS NOT NULL)"
            ).fetchall()
        )
        con.close()
    assert found[0] == found[1]
    assert found[0][0][0] > 100


@pytest.fixture(scope="module")
def money_url(pg_server: PgServer) -> str:
    # customer 1: two sales, 0.01 + 0.06 = 0.07 exactly; as floats 0.06999999999999999.
    # customer 2: 500 sales of 0.10 and 500 of 0.20 (the window's sum must be exact too).
    rows = [(1, 1, "0.01"), (2, 1, "0.06")] + [(3 + i, 2, "0.10" if i % 2 else "0.20") for i in range(1000)]
    values = ", ".join(f"({sid}, {cust}, {amount})" for sid, cust, amount in rows)
    url = pg_server.url
    from tests.pg import execute

    execute(
        url,
        "DROP TABLE IF EXISTS money",
        "CREATE TABLE money (sale_id bigint, customer_id bigint, created_at date, total_amount numeric(12,2), status varchar(20))",
        f"INSERT INTO money SELECT v.sid, v.cust, DATE '2026-11-20', v.amount, 'completed' FROM (VALUES {values}) v(sid, cust, amount)",
    )
    return url


@pytest.mark.postgres
def test_numeric_amounts_arrive_and_sum_exactly(money_url: str) -> None:
    source = PostgresSource(money_url, sales_table="money", mapping={"created_at": "sale_date"})
    con = connect("UTC")
    source.load_window(con, Scope(1, AS_OF, AS_OF))
    kind, total, small = con.execute(
        "SELECT any_value(typeof(amount)), sum(amount), sum(amount) FILTER (WHERE customer_id = 1) FROM window_sales"
    ).fetchall()[0]
    con.close()
    assert kind.startswith("DECIMAL")
    # 0.07 + 500 x 0.10 + 500 x 0.20 = 0.07 + 50 + 100
    assert total == Decimal("150.07")
    assert small == Decimal("0.07")
    assert sum(float(x) for x in ("0.01", "0.06")) != 0.07  # the float sum is off


@pytest.mark.postgres
def test_numeric_average_rounds_on_the_exact_value(cli: Any, money_url: str) -> None:
    # two customers, both R=5; customer 1 has F=1, M=1 (New Customers), customer 2 F=2, M=2.
    # New Customers: revenue 0.07 over 2 sales = 0.035 -> 0.04 (half away from zero);
    # with floats 0.06999999999999999 / 2 = 0.0349999... -> 0.03
    run = cli(
        "segment", "--source", money_url, "--sales-table", "money", "--map", "created_at=sale_date",
        "--as-of", AS_OF.isoformat(), "--days", "1", "--format", "json",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    body = json.loads(run.stdout, parse_float=Decimal)
    segments = {s["segment_name"]: s for s in body["data"]["segments"]}
    assert segments["New Customers"]["customer_count"] == 1
    assert segments["New Customers"]["total_revenue"] == Decimal("0.07")
    assert segments["New Customers"]["average_order_value"] == Decimal("0.04")
    # Potential Loyalists: 500 x 0.10 + 500 x 0.20 = 150.00 over 1000 sales = 0.15
    assert segments["Potential Loyalists"]["total_revenue"] == Decimal("150.00")


# errors -----------------------------------------------------------------------


def one_line_error(cli: Any, *args: str | Path) -> str:
    run = cli("segment", "--as-of", AS_OF.isoformat(), "--format", "json", *args)
    assert run.exit_code == 1, run.stdout
    assert run.stdout == ""
    lines: list[str] = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


@pytest.mark.postgres
def test_unreachable_server_error_hides_the_password(cli: Any) -> None:
    port = free_port()
    message = one_line_error(cli, "--source", f"postgresql://shop:Sup3rSecret@127.0.0.1:{port}/sales")
    assert message.startswith(
        f"postgresql://shop:***@127.0.0.1:{port}/sales: cannot connect to the PostgreSQL server"
    )
    assert "Connection refused" in message
    assert "Sup3rSecret" not in message


@pytest.mark.postgres
def test_authentication_failure_hides_the_password(cli: Any, pg_password_server: str) -> None:
    # the machine's server trusts every local connection, so this one is a throwaway scram-sha-256 cluster
    url = with_database(pg_password_server, "postgres", user="postgres", password="Wr0ngPassw0rd")
    message = one_line_error(cli, "--source", url)
    assert "authentication failed for user 'postgres'" in message
    assert "Wr0ngPassw0rd" not in message
    assert "postgres:***@" in message


@pytest.mark.postgres
def test_missing_database(cli: Any, pg_server: PgServer) -> None:
    url = pg_server.database("segcli_no_such_db", password="Hush1234")
    message = one_line_error(cli, "--source", url)
    assert message.endswith('database "segcli_no_such_db" does not exist')
    assert "Hush1234" not in message


@pytest.mark.postgres
def test_missing_table(cli: Any, shop: dict[str, Any]) -> None:
    message = one_line_error(cli, "--source", shop["url"], "--sales-table", "shop.nope")
    assert message.endswith("table 'shop.nope' not found (set it with --sales-table)")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("ddl", "expected"),
    [
        (
            "sale_id bigint, customer_id bigint, sale_date date, total_amount numeric(12,2)",
            ", table odd: missing required column 'status' (columns found: sale_id, customer_id, sale_date, "
            "total_amount; map one with --map SOURCE=status)",
        ),
        (
            "sale_id bigint, customer_id bigint, sale_date text, total_amount numeric(12,2), status text",
            ", table odd: column 'sale_date' has type text; expected date, timestamp or timestamptz",
        ),
        (
            "sale_id bigint, customer_id bigint, sale_date date, total_amount varchar(12), status text",
            ", table odd: column 'total_amount' has type character varying(12); expected numeric or an integer type",
        ),
        (
            "sale_id bigint, customer_id bigint, sale_date date, total_amount numeric, status boolean",
            ", table odd: column 'status' has type boolean; expected text",
        ),
    ],
)
def test_missing_or_mistyped_column(cli: Any, pg_server: PgServer, ddl: str, expected: str) -> None:
    from tests.pg import execute

    execute(pg_server.url, "DROP TABLE IF EXISTS odd", f"CREATE TABLE odd ({ddl})")
    message = one_line_error(cli, "--source", pg_server.url, "--sales-table", "odd")
    assert message == redact(pg_server.url) + expected


@pytest.mark.postgres
def test_bad_row_outside_scope_is_still_an_error(cli: Any, pg_server: PgServer) -> None:
    # sale 7 twice, both cancelled: not in scope, but a duplicate sale_id in the business's window
    from tests.pg import execute

    execute(
        pg_server.url,
        "DROP TABLE IF EXISTS dup",
        "CREATE TABLE dup (sale_id int, customer_id int, sale_date date, total_amount numeric(8,2), status text)",
        "INSERT INTO dup VALUES (6, 1, '2026-11-20', 5, 'completed'), (7, 1, '2026-11-19', 5, 'cancelled'), "
        "(7, 2, '2026-11-18', 6, 'Cancelled')",
    )
    message = one_line_error(cli, "--source", pg_server.url, "--sales-table", "dup")
    assert message.endswith(
        ", table dup: column 'sale_id' has a duplicate value '7' (2 rows in the business)"
    )


def test_redact_hides_passwords_everywhere() -> None:
    assert (
        redact("postgresql://u:p%40ss@db:5432/x?sslmode=require")
        == "postgresql://u:***@db:5432/x?sslmode=require"
    )
    assert redact("postgresql://u@db/x?password=s3cret") == "postgresql://u@db/x?password=***"
    assert redact("postgresql://db/x") == "postgresql://db/x"


# cache identity ---------------------------------------------------------------


@pytest.mark.postgres
def test_identity_changes_with_every_write_and_hides_the_password(pg_server: PgServer) -> None:
    from tests.pg import execute

    url = pg_server.url
    execute(
        url,
        "DROP TABLE IF EXISTS ident",
        "CREATE TABLE ident (sale_id int, customer_id int, sale_date date, total_amount numeric(8,2), status text)",
        "INSERT INTO ident VALUES (1, 1, '2026-11-20', 5, 'completed')",
    )
    source = PostgresSource(
        with_database(url, url.rsplit("/", 1)[1], "postgres", "NotShown99"), sales_table="ident"
    )
    seen = [source.identity()]
    assert "NotShown99" not in seen[0]
    assert (
        PostgresSource(url, sales_table="ident").identity()
        == PostgresSource(url, sales_table="ident").identity()
    )
    for change in (
        "INSERT INTO ident VALUES (2, 1, '2026-11-20', 7, 'completed')",
        "UPDATE ident SET total_amount = 8 WHERE sale_id = 2",
        "DELETE FROM ident WHERE sale_id = 1",
        "TRUNCATE ident",
    ):
        execute(url, change)
        seen.append(source.identity())
    assert len(set(seen)) == len(seen)


@pytest.mark.postgres
def test_identity_of_a_view_hashes_its_content(pg_server: PgServer) -> None:
    from tests.pg import execute

    url = pg_server.url
    execute(
        url,
        "DROP VIEW IF EXISTS ident_view",
        "DROP TABLE IF EXISTS ident_base",
        "CREATE TABLE ident_base (sale_id int, customer_id int, sale_date date, total_amount numeric(8,2), status text)",
        "CREATE VIEW ident_view AS SELECT * FROM ident_base",
        "INSERT INTO ident_base VALUES (1, 1, '2026-11-20', 5, 'completed')",
    )
    source = PostgresSource(url, sales_table="ident_view")
    before = source.identity()
    assert source.identity() == before
    execute(url, "UPDATE ident_base SET status = 'cancelled'")
    assert source.identity() != before


@pytest.mark.postgres
def test_source_errors_are_segcli_errors(money_url: str) -> None:
    source = PostgresSource(money_url, sales_table="missing_table")
    with pytest.raises(SourceError, match="table 'missing_table' not found"):
        source.columns()
    source = PostgresSource(money_url, sales_table="money", mapping={"nope": "sale_date"})
    with pytest.raises(DataError, match="mapped column 'nope' \\(for sale_date\\) not found"):
        source.load_window(connect("UTC"), Scope(1, date(2026, 11, 1), AS_OF))


PG_TABLES = ("--sales-table", "shop.sales", "--items-table", "shop.sale_items")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "args",
    [
        ("--days", "90"),
        ("--days", "365", "--method", "behavior", "--segment-code", "CHANNEL:web"),
    ],
)
def test_customers_read_postgres_tables(cli: Any, shop: dict[str, Any], args: tuple[str, ...]) -> None:
    common = ("--as-of", AS_OF.isoformat(), "--format", "csv", *args)
    from_csv = cli("customers", "--source", shop["csv"], "--items", shop["items"], *common)
    from_pg = cli("customers", "--source", shop["url"], *PG_TABLES, *common)
    assert from_pg.exit_code == 0, from_pg.stderr
    assert from_pg.stdout == from_csv.stdout
    assert from_csv.stdout.count("\n") > 10


@pytest.mark.postgres
def test_serve_reads_postgres_tables(cli: Any, shop: dict[str, Any]) -> None:
    query = "/api/reports/customers/segmentation/?segmentation_method=behavior&days=365&compare=true"
    served = cli("serve", "--source", shop["url"], *PG_TABLES, "--as-of", AS_OF.isoformat(), "--get", query)
    assert served.exit_code == 0, served.stderr
    args = ("--method", "behavior", "--days", "365", "--compare", "--items", str(shop["items"]))
    assert bytes(served.stdout_bytes) == report_bytes(cli, shop["csv"], *args)


def test_literal_binder_writes_typed_literals_and_nothing_else() -> None:
    """The window query carries literals (so the driver streams it with COPY); only safe kinds are accepted."""
    from datetime import UTC, datetime

    from segcli.engine.sources.pg_catalog import LiteralBinder

    bind = LiteralBinder()
    assert bind(7) == "CAST(7 AS bigint)"
    assert bind(date(2026, 11, 20)) == "CAST('2026-11-20' AS date)"
    assert bind(datetime(2026, 11, 20, 5, 30)) == "CAST('2026-11-20T05:30:00' AS timestamp)"
    assert bind(datetime(2026, 11, 20, tzinfo=UTC)) == "CAST('2026-11-20T00:00:00+00:00' AS timestamptz)"
    assert bind.values == []
    for bad in ("x'; DROP TABLE sales; --", True, 1.5):
        with pytest.raises(TypeError):
            bind(bad)
