"""`segcli load` and the DuckDB warehouse source: same reports as the files, validated, all or nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from segcli.engine.db import connect
from segcli.engine.errors import SourceError
from segcli.engine.generate import generate
from segcli.engine.sources import FileSource, Scope
from segcli.engine.sources.warehouse import WarehouseSource
from tests.conftest import AS_OF

HEADER = "sale_id,business_id,customer_id,sale_date,total_amount,status\n"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`segcli generate --customers 2000 --seed 7`, whole and split in two halves by sale_id parity."""
    folder = tmp_path_factory.mktemp("shop")
    files = {
        name: folder / f"{name}.csv" for name in ("sales", "items", "odd", "even", "odd_items", "even_items")
    }
    generate(2000, 7, str(files["sales"]), str(files["items"]))
    con = connect()
    for part, remainder in (("odd", 1), ("even", 0)):
        for table, suffix in (("sales", ""), ("items", "_items")):
            con.execute(
                f"COPY (SELECT * FROM read_csv($src, all_varchar = true) WHERE CAST(sale_id AS BIGINT) % 2 = {remainder}) "
                f"TO '{files[part + suffix]}' (HEADER)",
                {"src": str(files[table])},
            )
    con.close()
    return files


def load(cli: Any, source: str | Path, db: Path, *args: str | Path) -> Any:
    return cli("load", source, "--db", db, *args)


def report(cli: Any, source: str | Path, *args: str) -> bytes:
    run = cli("segment", "--source", source, "--as-of", AS_OF.isoformat(), "--format", "json", *args)
    assert run.exit_code == 0, run.stderr
    return bytes(run.stdout_bytes)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def warehouse(shop: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from segcli.cli import app

    db = tmp_path_factory.mktemp("wh") / "shop.duckdb"
    result = CliRunner().invoke(
        app, ["load", str(shop["sales"]), "--items", str(shop["items"]), "--db", str(db)]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("loaded 10,077 sales and 16,114 items into")
    return db


@pytest.mark.parametrize(
    "args",
    [
        ("--days", "90"),
        ("--days", "45", "--timezone", "America/New_York"),
        ("--days", "400", "--business-id", "2", "--storefront-id", "4", "--timezone", "Asia/Kolkata"),
        ("--days", "120", "--method", "value", "--business-id", "3"),
    ],
)
def test_warehouse_reports_match_the_csv(
    cli: Any, shop: dict[str, Path], warehouse: Path, args: tuple[str, ...]
) -> None:
    from_csv = report(cli, shop["sales"], *args)
    assert report(cli, warehouse, *args) == from_csv
    assert json.loads(from_csv)["data"]["total_customers"] > 20


def test_warehouse_is_sorted_and_typed(warehouse: Path) -> None:
    con = connect()
    con.execute("ATTACH $p AS wh (READ_ONLY)", {"p": str(warehouse)})
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'wh' AND table_name = 'sales'"
        ).fetchall()
    )
    unsorted = con.execute(
        "SELECT count(*) FROM (SELECT business_id, sale_date, lag(business_id) OVER w AS pb, lag(sale_date) OVER w AS pd "
        "FROM wh.sales WINDOW w AS (ORDER BY rowid)) WHERE pb IS NOT NULL AND (business_id, sale_date) < (pb, pd)"
    ).fetchall()[0][0]
    meta = con.execute("SELECT mode, total_sales, total_items FROM wh.segcli_meta").fetchall()
    con.close()
    assert types["sale_date"] == "TIMESTAMP"  # the CSV's local times stay local times
    assert types["total_amount"] == "DECIMAL(18,4)"
    assert unsorted == 0
    assert meta == [("replace", 10077, 16114)]


def test_warehouse_items_match_the_files(shop: dict[str, Path], warehouse: Path) -> None:
    scope = Scope(1, AS_OF - timedelta(days=89), AS_OF)
    found = []
    for source in (FileSource(str(shop["sales"]), items=str(shop["items"])), WarehouseSource(str(warehouse))):
        con = connect()
        source.load_window(con, scope)
        source.load_items(con, scope)
        found.append(
            con.execute(
                "SELECT count(*), sum(line_total), count(DISTINCT category) FROM window_items"
            ).fetchall()
        )
        con.close()
    assert found[0] == found[1]
    assert found[0][0][0] > 500


def test_load_never_overwrites_silently(cli: Any, shop: dict[str, Path], warehouse: Path) -> None:
    run = load(cli, shop["odd"], warehouse)
    assert run.exit_code == 2
    assert run.stderr.strip() == f"{warehouse} exists: use --replace to overwrite it or --append to add to it"


def test_replace_then_append_equals_one_load(cli: Any, shop: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    assert load(cli, shop["sales"], db, "--items", shop["items"]).exit_code == 0
    replaced = load(cli, shop["odd"], db, "--replace", "--items", shop["odd_items"])
    assert replaced.exit_code == 0, replaced.stderr
    first = WarehouseSource(str(db)).identity()
    appended = load(cli, shop["even"], db, "--append", "--items", shop["even_items"])
    assert appended.exit_code == 0, appended.stderr
    assert appended.stderr.strip().endswith("(10,077 sales, 16,114 items in total)")
    assert WarehouseSource(str(db)).identity() != first
    for args in (("--days", "90"), ("--days", "30", "--timezone", "America/New_York", "--business-id", "2")):
        assert report(cli, db, *args) == report(cli, shop["sales"], *args)
    con = connect()
    con.execute("ATTACH $p AS wh (READ_ONLY)", {"p": str(db)})
    assert con.execute("SELECT mode FROM wh.segcli_meta ORDER BY loaded_at").fetchall() == [
        ("replace",),
        ("append",),
    ]
    con.close()


def test_append_of_a_known_sale_fails_and_keeps_the_warehouse(cli: Any, shop: dict[str, Path]) -> None:
    work = Path.cwd()  # an empty folder of this test's own
    db = work / "wh.duckdb"
    assert load(cli, shop["odd"], db).exit_code == 0
    before = digest(db)
    run = load(cli, shop["odd"], db, "--append")
    assert run.exit_code == 1
    # the smallest duplicate (business_id, sale_id): sale 1 belongs to business 1
    assert (
        run.stderr.strip()
        == f"{shop['odd']}: sale_id '1' of business 1 is already in {db} (append only new sales)"
    )
    assert digest(db) == before
    assert sorted(p.name for p in work.iterdir()) == [
        "wh.duckdb",
        "wh.duckdb.lock",
    ]  # no temporary file left behind


def write(path: Path, rows: str, header: str = HEADER) -> Path:
    path.write_text(header + rows)
    return path


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "1,1,10,2026-11-20,12.50,completed\n2,1,11,2026-11-19,abc,cancelled\n",
            "column 'total_amount' has a value that is not a number: 'abc' (sale_id 2)",
        ),
        (
            "1,1,10,2026-11-20,12.50,completed\n2,2,11,someday,3.00,completed\n",
            "column 'sale_date' has a value that is not a date: 'someday' (sale_id 2)",
        ),
        (
            "1,1,10,2026-11-20,12.50,completed\n1,2,11,2026-11-20,3.00,completed\n1,2,12,2020-01-01,3.00,pending\n",
            "column 'sale_id' has a duplicate value '1' (2 rows in business 2)",
        ),
        (
            "1,1,10,2026-11-20,12.50,completed\n2,x,11,2026-11-20,3.00,completed\n",
            "column 'business_id' has a value that is not an integer: 'x' (sale_id 2)",
        ),
    ],
)
def test_a_bad_row_anywhere_fails_the_load_and_keeps_the_warehouse(
    cli: Any, shop: dict[str, Path], rows: str, message: str
) -> None:
    work = Path.cwd()
    db = work / "wh.duckdb"
    assert load(cli, shop["odd"], db).exit_code == 0
    before = digest(db)
    bad = write(work / "bad.csv", rows)
    run = load(cli, bad, db, "--replace")
    assert run.exit_code == 1
    assert run.stderr.strip() == f"{bad}: {message}"
    assert digest(db) == before
    assert sorted(p.name for p in work.iterdir()) == ["bad.csv", "wh.duckdb", "wh.duckdb.lock"]


def test_same_sale_id_in_two_businesses_is_fine(cli: Any, tmp_path: Path) -> None:
    good = write(
        tmp_path / "good.csv", "1,1,10,2026-11-20,12.50,completed\n1,2,11,2026-11-20,3.00,completed\n"
    )
    run = load(cli, good, tmp_path / "wh.duckdb")
    assert run.exit_code == 0, run.stderr
    assert run.stderr.startswith("loaded 2 sales into")


@pytest.mark.parametrize(
    ("dates", "stored"),
    [
        (["2026-11-20 01:30:00", "2026-11-19", "2026-10-02T23:59:59"], "TIMESTAMP"),
        (
            ["2026-11-20T01:30:00+00:00", "2026-11-19 03:00:00Z", "2026-10-02T23:59:59-07:00"],
            "TIMESTAMP WITH TIME ZONE",
        ),
        (["2026-11-20T01:30:00+00:00", "2026-11-19", "2026-10-02T23:59:59"], "VARCHAR"),
    ],
)
def test_date_strings_keep_their_meaning_in_every_time_zone(
    cli: Any, tmp_path: Path, dates: list[str], stored: str
) -> None:
    # a Parquet file with dates as strings: local times, instants, or a mix of both
    parquet, db = tmp_path / "sales.parquet", tmp_path / "wh.duckdb"
    con = connect()
    con.execute(
        "CREATE TABLE t AS SELECT i + 1 AS sale_id, i % 2 AS customer_id, CAST($dates AS VARCHAR[])[i + 1] AS sale_date, "
        "CAST('10.00' AS DECIMAL(12,2)) * (i + 1) AS total_amount, 'completed' AS status FROM range(3) r(i)",
        {"dates": dates},
    )
    con.execute(f"COPY t TO '{parquet}' (FORMAT parquet)")
    con.close()
    assert load(cli, parquet, db).exit_code == 0
    con = connect()
    con.execute("ATTACH $p AS wh (READ_ONLY)", {"p": str(db)})
    found = con.execute(
        "SELECT data_type FROM duckdb_columns() WHERE database_name = 'wh' AND table_name = 'sales' AND column_name = 'sale_date'"
    ).fetchall()
    con.close()
    assert found == [(stored,)]
    for tz in ("UTC", "America/Los_Angeles", "Pacific/Kiritimati"):
        args = ("--days", "60", "--timezone", tz)
        assert report(cli, db, *args) == report(cli, parquet, *args)


def test_money_that_does_not_fit_the_warehouse_is_an_error(cli: Any, tmp_path: Path) -> None:
    parquet = tmp_path / "sales.parquet"
    con = connect()
    con.execute(
        "COPY (SELECT 1 AS sale_id, 1 AS customer_id, DATE '2026-11-20' AS sale_date, "
        f"CAST('1.234567' AS DECIMAL(20,6)) AS total_amount, 'completed' AS status) TO '{parquet}' (FORMAT parquet)"
    )
    con.close()
    run = load(cli, parquet, tmp_path / "wh.duckdb")
    assert run.exit_code == 1
    assert run.stderr.strip() == (
        f"{parquet}: column 'total_amount' has a value that does not fit DECIMAL(18,4) "
        "(at most 4 decimal places): '1.234567' (sale_id 1)"
    )


def test_not_a_warehouse(cli: Any, tmp_path: Path) -> None:
    plain = tmp_path / "plain.duckdb"
    con = connect(database=str(plain))
    con.execute("CREATE TABLE sales AS SELECT 1 AS sale_id")
    con.close()
    run = cli("segment", "--source", plain, "--as-of", AS_OF.isoformat())
    assert run.exit_code == 1
    assert run.stderr.strip() == f"{plain}: not a segcli warehouse (make one with segcli load)"
    with pytest.raises(SourceError, match="file not found"):
        WarehouseSource(str(tmp_path / "missing.duckdb"))


def test_identity_is_stable_until_the_next_load(cli: Any, shop: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    assert load(cli, shop["odd"], db).exit_code == 0
    first = WarehouseSource(str(db)).identity()
    report(cli, db, "--days", "30")  # reading changes nothing
    assert WarehouseSource(str(db)).identity() == first
    assert load(cli, shop["odd"], db, "--replace").exit_code == 0  # same data, a new load
    assert WarehouseSource(str(db)).identity() != first


def test_items_file_with_a_database_source_is_refused(
    cli: Any, warehouse: Path, shop: dict[str, Path]
) -> None:
    run = cli("segment", "--source", warehouse, "--items", shop["items"], "--as-of", AS_OF.isoformat())
    assert run.exit_code == 2
    assert run.stderr.strip().startswith("--items names a file of sale items, for file sources only")


@pytest.mark.parametrize(
    "args",
    [
        ("--days", "90"),
        ("--days", "120", "--method", "value", "--business-id", "3", "--segment-name", "High Value"),
        ("--days", "365", "--method", "behavior", "--business-id", "2", "--storefront-id", "4"),
    ],
)
def test_customers_from_the_warehouse_match_the_files(
    cli: Any, shop: dict[str, Path], warehouse: Path, args: tuple[str, ...]
) -> None:
    common = ("--as-of", AS_OF.isoformat(), "--format", "csv", *args)
    from_csv = cli("customers", "--source", shop["sales"], "--items", shop["items"], *common)
    from_wh = cli("customers", "--source", warehouse, *common)
    assert from_csv.exit_code == 0, from_csv.stderr
    assert from_wh.exit_code == 0, from_wh.stderr
    assert from_wh.stdout == from_csv.stdout
    assert from_csv.stdout.count("\n") > 5  # a real list


def test_serve_reads_the_warehouse(cli: Any, shop: dict[str, Path], warehouse: Path) -> None:
    query = "/api/reports/customers/segmentation/?segmentation_method=behavior&days=365&compare=true"
    served = cli("serve", "--source", warehouse, "--as-of", AS_OF.isoformat(), "--get", query)
    assert served.exit_code == 0, served.stderr
    args = ("--method", "behavior", "--days", "365", "--compare", "--items", str(shop["items"]))
    assert bytes(served.stdout_bytes) == report(cli, shop["sales"], *args)


def test_one_sale_id_in_two_businesses_loads(cli: Any) -> None:
    """Duplicates are per business (checked with one id bitmap per business at load)."""
    work = Path.cwd()
    rows = "1,1,10,2026-11-20,12.50,completed\n1,2,11,2026-11-20,3.00,completed\n5,2,12,2026-11-19,4.00,completed\n"
    source = write(work / "two.csv", rows)
    run = load(cli, source, work / "wh.duckdb")
    assert run.exit_code == 0, run.stderr
    assert run.stderr.strip().endswith("(3 sales in total)")
    again = write(work / "three.csv", rows + "5,2,13,2026-11-18,1.00,pending\n")
    failed = load(cli, again, work / "wh2.duckdb")
    assert failed.exit_code == 1
    assert failed.stderr.strip().endswith("column 'sale_id' has a duplicate value '5' (2 rows in business 2)")


def test_a_killed_loads_temp_file_and_spill_folder_are_removed_by_the_next_load(cli: Any) -> None:
    """A load killed while DuckDB spilled leaves a folder beside its temp file: the next load removes both."""
    work = Path.cwd()
    dead = ".wh.duckdb.999999.0badf00d.tmp"
    (work / dead).write_bytes(b"half a warehouse")
    spill = work / f"{dead}.spill"
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"spilled rows")
    (work / "keep.tmp.spill").mkdir()  # not a load's: left alone
    source = write(work / "one.csv", "1,1,10,2026-11-20,12.50,completed\n")
    run = load(cli, source, work / "wh.duckdb")
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in work.iterdir()) == [
        "keep.tmp.spill",
        "one.csv",
        "wh.duckdb",
        "wh.duckdb.lock",
    ]


def test_append_of_files_typed_differently_equals_one_load(cli: Any, tmp_path: Path) -> None:
    """Parts of one export whose types DuckDB infers differently append as one load would."""
    from tests.conftest import SMALL_SALES

    header, *rows = SMALL_SALES.read_text().splitlines(keepends=True)
    first = write(tmp_path / "first.csv", "".join(rows[:19]), header)
    second = write(tmp_path / "second.csv", "".join(rows[19:]), header)
    db = tmp_path / "parts.duckdb"
    assert load(cli, first, db).exit_code == 0
    run = load(cli, second, db, "--append")
    assert run.exit_code == 0, run.stderr
    assert report(cli, db, "--days", "30", "--no-cache") == report(
        cli, SMALL_SALES, "--days", "30", "--no-cache"
    )


def test_append_that_would_change_an_identifier_type_is_refused(cli: Any, tmp_path: Path) -> None:
    numbers = write(tmp_path / "numbers.csv", "1,1,7,2026-11-20,12.50,completed\n")
    names = write(tmp_path / "names.csv", "2,1,c01,2026-11-20,3.00,completed\n")
    db = tmp_path / "ids.duckdb"
    assert load(cli, numbers, db).exit_code == 0
    before = digest(db)
    run = load(cli, names, db, "--append")
    assert run.exit_code == 1
    assert run.stderr.strip() == (
        f"{names}: cannot append to {db}: column 'customer_id' is VARCHAR here but BIGINT in the warehouse "
        "(e.g. 'c01')"
    )
    assert digest(db) == before
