"""Hostile data and dates (issue 13 cases 3, 5, 14, 19): exact ids, bounded windows, serialised loads."""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import small_args

# case 14: a window (or the previous one) beyond the dates Python can hold is a parameter error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "9999-12-31"], "Invalid as_of. Must be before 9999-12-31"),
        (
            ["--as-of", "0001-01-01"],
            "Invalid as_of. The 90-day window ending 0001-01-01 would start before year 1",
        ),
        (
            ["--as-of", "0027-01-01", "--days", "9999"],
            "Invalid as_of. The 9999-day window ending 0027-01-01 would start before year 1",
        ),
        (
            ["--as-of", "0001-04-01", "--method", "value", "--days", "90"],  # value compares windows
            "Invalid as_of. The 90-day window ending 0001-04-01 and the previous one would start before year 1",
        ),
        (
            ["--as-of", "0001-02-01", "--days", "90"],
            "Invalid as_of. The 90-day window ending 0001-02-01 would start before year 1",
        ),
        (
            ["--as-of", "0001-04-01", "--days", "90", "--compare"],
            "Invalid as_of. The 90-day window ending 0001-04-01 and the previous one would start before year 1",
        ),
    ],
    ids=["last-day", "first-day", "long-window", "previous", "no-previous", "compare"],
)
def test_as_of_near_the_ends_of_the_calendar_is_one_line(cli: Any, args: list[str], message: str) -> None:
    run = cli(*small_args("--format", "json", *args))
    # the command line adds the flag to fix to the API's text
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", message + " (--as-of)\n")


@pytest.mark.parametrize(
    "args",
    [
        ["--as-of", "9999-12-30", "--method", "value"],
        ["--as-of", "0001-03-31", "--days", "90"],  # rfm needs no previous window: it starts on 0001-01-01
        [
            "--as-of",
            "0001-06-29",
            "--method",
            "value",
            "--days",
            "90",
        ],  # the previous one starts on 0001-01-01
    ],
)
def test_as_of_at_the_edges_that_fit_reports(cli: Any, args: list[str]) -> None:
    run = cli(*small_args("--format", "json", *args))
    assert run.exit_code == 0, run.stderr
    assert run.json()["data"]["total_customers"] == 0


def test_as_of_overflow_over_http_is_a_400(tmp_path: Path) -> None:
    from tests.test_api import Api

    api = Api(tmp_path, as_of=date(9999, 12, 31))
    response = api.get()
    assert (response.status_code, response.json()) == (
        400,
        {"success": False, "error": "Invalid as_of. Must be before 9999-12-31"},
    )


def test_generate_before_year_three_is_one_line(cli: Any, tmp_path: Path) -> None:
    run = cli("generate", "--customers", "5", "--end-date", "0001-01-05", "--out", tmp_path / "g.csv")
    assert (run.exit_code, run.stderr) == (
        2,
        "Invalid --end-date. Must be 0002-12-31 or later (two years of sales end there)\n",
    )
    assert not (tmp_path / "g.csv").exists()


# case 3: writers of one warehouse take turns; readers see a whole load or none of it

SEGCLI = Path(sys.executable).parent / "segcli"
SALES_HEADER = "sale_id,business_id,customer_id,sale_date,total_amount,status"


def sales_file(path: Path, first: int, rows: int) -> Path:
    """`rows` sales of business 1 with ids from `first`, written by DuckDB (fast for large files)."""
    import duckdb

    duckdb.sql(
        f"COPY (SELECT i AS sale_id, 1 AS business_id, 'c' || (i % 997) AS customer_id, "
        f"DATE '2026-11-20' - CAST(i % 300 AS INTEGER) AS sale_date, "
        f"CAST((i % 50) + 1 AS DECIMAL(18,2)) AS total_amount, 'completed' AS status "
        f"FROM range({first}, {first + rows}) t(i)) TO '{path}' (HEADER)"
    )
    return path


def segcli(*args: str | Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(SEGCLI), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path.cwd()
    )


def finish(proc: subprocess.Popen[bytes], timeout: float = 120) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, err.decode()


def sales_rows(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        count: int = con.execute("SELECT count(*) FROM sales").fetchall()[0][0]
        return count
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_concurrent_appends_are_all_kept(cli: Any, tmp_path: Path) -> None:
    """Two appends started together: the second waits for the first; no acknowledged load is lost."""
    db = tmp_path / "shop.duckdb"
    assert cli("load", sales_file(tmp_path / "base.csv", 1, 1000), "--db", db).exit_code == 0
    parts = [sales_file(tmp_path / f"part{n}.csv", 100_000 * n, 60_000) for n in (1, 2, 3)]
    procs = [segcli("load", part, "--db", db, "--append") for part in parts]
    results = [finish(proc) for proc in procs]
    assert [code for code, _ in results] == [0, 0, 0], results
    assert sales_rows(db) == 1000 + 3 * 60_000
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".wal"))]


def test_a_load_that_cannot_get_the_lock_fails_clearly(cli: Any, tmp_path: Path) -> None:
    """While another writer holds the warehouse, a load waits at most --wait seconds, then exit 1."""
    db = tmp_path / "shop.duckdb"
    assert cli("load", sales_file(tmp_path / "base.csv", 1, 10), "--db", db).exit_code == 0
    before = digest(db)
    part = sales_file(tmp_path / "part.csv", 100, 10)
    with open(tmp_path / "shop.duckdb.lock", "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        run = cli("load", part, "--db", db, "--append", "--wait", "0.2")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"{db}: another load is writing this warehouse (waited 0.2 s); try again when it is done\n"
    )
    assert digest(db) == before
    assert cli("load", part, "--db", db, "--append").exit_code == 0
    assert sales_rows(db) == 20


def test_a_second_first_load_does_not_overwrite_the_first(cli: Any, tmp_path: Path) -> None:
    """Two loads into a new file without --replace: the one that comes second is refused."""
    db = tmp_path / "shop.duckdb"
    procs = [segcli("load", sales_file(tmp_path / f"p{n}.csv", 1000 * n, 20_000), "--db", db) for n in (1, 2)]
    results = sorted(finish(proc) for proc in procs)
    assert results[0][0] == 0
    assert results[1] == (2, f"{db} exists: use --replace to overwrite it or --append to add to it\n")
    assert sales_rows(db) == 20_000


def test_reports_during_a_load_see_all_or_nothing(cli: Any, tmp_path: Path) -> None:
    """A report that reads the warehouse while an append runs sees the old or the new data, never an error."""
    db = tmp_path / "shop.duckdb"
    assert cli("load", sales_file(tmp_path / "base.csv", 1, 1000), "--db", db).exit_code == 0
    load = segcli("load", sales_file(tmp_path / "part.csv", 100_000, 200_000), "--db", db, "--append")
    seen = set()
    while load.poll() is None:
        run = cli("segment", "--source", db, "--as-of", "2026-11-20", "--days", "300", "--format", "json")
        assert run.exit_code == 0, run.stderr
        seen.add(run.json()["data"]["data_quality"]["rows_read"])
    assert finish(load)[0] == 0
    assert seen <= {1000, 201_000}
    assert sales_rows(db) == 201_000


def test_kill_during_a_load_leaves_the_warehouse_as_it_was(cli: Any, tmp_path: Path) -> None:
    """kill -9 in the middle of an append: the warehouse is unchanged, the lock is free, the temp file goes."""
    db = tmp_path / "shop.duckdb"
    assert cli("load", sales_file(tmp_path / "base.csv", 1, 1000), "--db", db).exit_code == 0
    before = digest(db)
    part = sales_file(tmp_path / "part.csv", 100_000, 400_000)
    load = segcli("load", part, "--db", db, "--append")
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".shop.duckdb.*.tmp")) and load.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(load.pid, signal.SIGKILL)
    assert finish(load)[0] == -signal.SIGKILL
    assert digest(db) == before
    assert sales_rows(db) == 1000
    run = cli("load", sales_file(tmp_path / "small.csv", 5000, 10), "--db", db, "--append")
    assert run.exit_code == 0, run.stderr
    assert sales_rows(db) == 1010
    assert not list(tmp_path.glob(".shop.duckdb.*"))  # the killed load's temp file is removed


@pytest.mark.parametrize("wait", ["-1", "nan", "1e9"])
def test_load_wait_is_bounded(cli: Any, tmp_path: Path, wait: str) -> None:
    run = cli("load", sales_file(tmp_path / "s.csv", 1, 3), "--db", tmp_path / "w.duckdb", "--wait", wait)
    assert (run.exit_code, run.stderr) == (
        2,
        "Invalid --wait. Must be a number of seconds between 0 and 86400\n",
    )
    assert not (tmp_path / "w.duckdb").exists()


# cases 5 and 19: identifiers are exact; a non-integral one is an error, never rounded

ID_HEADER = SALES_HEADER + ",storefront_id"


def id_source(tmp_path: Path, kind: str, rows: list[str]) -> Path:
    """The rows as CSV, as Parquet with the types DuckDB sniffs (DOUBLE ids), or as Parquet text."""
    import duckdb

    csv = tmp_path / "sales.csv"
    csv.write_text("\n".join([ID_HEADER, *rows]) + "\n")
    if kind == "csv":
        return csv
    out = tmp_path / f"{kind}.parquet"
    text = ", all_varchar = true" if kind == "parquet-text" else ""
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}'{text})) TO '{out}' (FORMAT parquet)")
    return out


GOOD_ROW = "1,1,1,2026-11-20,10.00,completed,10"


@pytest.mark.parametrize("kind", ["csv", "parquet-typed", "parquet-text"])
@pytest.mark.parametrize("command", ["segment", "load"])
@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        ([GOOD_ROW, "2,1.5,2,2026-11-20,1.00,completed,10"], [],
         "column 'business_id' has a value that is not an integer: '1.5' (sale_id 2)"),
        ([GOOD_ROW, "2,1,2,2026-11-20,1.00,completed,10.5"], ["--storefront-id", "10"],
         "column 'storefront_id' has a value that is not an integer: '10.5' (sale_id 2)"),
        ([GOOD_ROW, "2,1,2,2026-11-20,1.00,completed,10", "3,1,1.5,2026-11-19,1.00,completed,10"], [],
         "column 'customer_id' has a value that is not an integer: '1.5' (sale_id 3)"),
        ([GOOD_ROW, "2.5,1,2,2026-11-20,1.00,completed,10"], [],
         "column 'sale_id' has a value that is not an integer: '2.5'"),
    ],
    ids=["business", "storefront", "customer", "sale"],
)  # fmt: skip
def test_a_non_integral_id_is_an_error(
    cli: Any, tmp_path: Path, kind: str, command: str, rows: list[str], args: list[str], message: str
) -> None:
    """Before: 1.5 was rounded to 2 (another business's report, another customer's history)."""
    path = id_source(tmp_path, kind, rows)
    db = tmp_path / "w.duckdb"
    if command == "segment":
        run = cli("segment", "--source", path, "--as-of", "2026-11-20", "--format", "json", *args)
    else:
        run = cli("load", path, "--db", db)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == f"{path}: {message}\n"
    assert not db.exists()


@pytest.mark.parametrize("kind", ["csv", "parquet-typed", "parquet-text"])
def test_integral_floats_are_integers(cli: Any, tmp_path: Path, kind: str) -> None:
    rows = ["1.0,1.0,1.0,2026-11-20,10.00,completed,10.0", "2.0,1.0,2.0,2026-11-19,5.00,completed,10.0",
            "3.0,1.0,1.0,2026-11-18,5.00,completed,10.0", "4.0,2.0,1.0,2026-11-18,5.00,completed,10.0"]  # fmt: skip
    path = id_source(tmp_path, kind, rows)
    run = cli(
        "customers", "--source", path, "--as-of", "2026-11-20", "--storefront-id", "10", "--format", "csv"
    )
    assert run.exit_code == 0, run.stderr
    ids = ["1.0", "2.0"] if kind == "parquet-text" else ["1", "2"]  # text ids stay as written
    assert [line.split(",")[0] for line in run.stdout.splitlines()[1:]] == ids
    db = tmp_path / "w.duckdb"
    assert cli("load", path, "--db", db).exit_code == 0
    assert sales_rows(db) == 4


def parquet(tmp_path: Path, select: str) -> Path:
    import duckdb

    out = tmp_path / "typed.parquet"
    duckdb.sql(f"COPY ({select}) TO '{out}' (FORMAT parquet)")
    return out


TYPED = (
    "SELECT * FROM (VALUES ({a}, 1, {c}, DATE '2026-11-20', 10.0, 'completed'), "
    "({b}, 1, {d}, DATE '2026-11-19', 5.0, 'completed')) "
    "t(sale_id, business_id, customer_id, sale_date, total_amount, status)"
)


@pytest.mark.parametrize("command", ["segment", "load"])
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"a": "1", "b": "2", "c": "1.0::DOUBLE", "d": "'nan'::DOUBLE"},
         "column 'customer_id' has a value that is not an integer: 'nan' (sale_id 2)"),
        ({"a": "1", "b": "2", "c": "1.0::DOUBLE", "d": "1e20::DOUBLE"},
         "column 'customer_id' has a value beyond the 64-bit integer range: '1e+20' (sale_id 2)"),
        ({"a": "1.0::DECIMAL(9,2)", "b": "2.5::DECIMAL(9,2)", "c": "1", "d": "2"},
         "column 'sale_id' has a value that is not an integer: '2.5'"),
        ({"a": "1", "b": "2", "c": "1.00::DECIMAL(9,2)", "d": "2.50::DECIMAL(9,2)"},
         "column 'customer_id' has a value that is not an integer: '2.5' (sale_id 2)"),
    ],
    ids=["nan-customer", "huge-customer", "decimal-sale", "decimal-customer"],
)  # fmt: skip
def test_typed_parquet_ids(
    cli: Any, tmp_path: Path, command: str, values: dict[str, str], message: str
) -> None:
    path = parquet(tmp_path, TYPED.format(**values))
    db = tmp_path / "w.duckdb"
    if command == "segment":
        run = cli("segment", "--source", path, "--as-of", "2026-11-20", "--format", "json")
    else:
        run = cli("load", path, "--db", db)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == f"{path}: {message}\n"
    assert not db.exists()


def test_integral_decimal_ids_are_read(cli: Any, tmp_path: Path) -> None:
    values = {
        "a": "1.00::DECIMAL(9,2)",
        "b": "2.00::DECIMAL(9,2)",
        "c": "7.0::DECIMAL(9,1)",
        "d": "8::DECIMAL(9,1)",
    }
    path = parquet(tmp_path, TYPED.format(**values))
    run = cli("customers", "--source", path, "--as-of", "2026-11-20", "--format", "csv")
    assert run.exit_code == 0, run.stderr
    assert sorted(line.split(",")[0] for line in run.stdout.splitlines()[1:]) == ["7", "8"]


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["segment", "load"])
@pytest.mark.parametrize(
    ("types", "bad", "message"),
    [
        ("float8", "(2, 1.5)", "column 'customer_id' has a value that is not an integer: '1.5' (sale_id 2)"),
        ("numeric(9,2)", "(2, 1.5)", "column 'customer_id' has a value that is not an integer: '1.5' (sale_id 2)"),
        ("float8", "(2, 'NaN'::float8)", "column 'customer_id' has a value that is not an integer: 'nan' (sale_id 2)"),
        ("float8", "(2, 1e20)", "column 'customer_id' has a value beyond the 64-bit integer range: '1e+20' (sale_id 2)"),
        ("float8", "(2.5, 2)", "column 'sale_id' has a value that is not an integer: '2.5'"),
    ],
    ids=["float", "numeric", "nan", "huge", "sale"],
)  # fmt: skip
def test_postgres_ids_are_exact(
    cli: Any, pg_server: Any, tmp_path: Path, command: str, types: str, bad: str, message: str
) -> None:
    """Before: a float8 customer_id 1.5 was rounded into customer 2's history."""
    from tests.pg import execute

    execute(
        pg_server.url,
        "DROP TABLE IF EXISTS fid",
        f"CREATE TABLE fid (sale_id {types}, customer_id {types}, sale_date date, total_amount numeric(8,2), "
        "status text)",
        f"INSERT INTO fid SELECT s, c, DATE '2026-11-20', 5, 'completed' FROM (VALUES (1, 2), {bad}) v(s, c)",
    )
    db = tmp_path / "w.duckdb"
    if command == "segment":
        run = cli("segment", "--source", pg_server.url, "--sales-table", "fid", "--as-of", "2026-11-20")
    else:
        run = cli("load", pg_server.url, "--sales-table", "fid", "--db", db)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.endswith(f", table fid: {message}\n")
    assert not db.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("types", ["float8", "numeric(9,2)"])
def test_postgres_integral_ids_are_read(cli: Any, pg_server: Any, types: str) -> None:
    from tests.pg import execute

    execute(
        pg_server.url,
        "DROP TABLE IF EXISTS fid",
        f"CREATE TABLE fid (sale_id {types}, customer_id {types}, sale_date date, total_amount numeric(8,2), "
        "status text)",
        "INSERT INTO fid VALUES (1, 1, '2026-11-20', 5, 'completed'), (2.0, 2.0, '2026-11-19', 5, 'completed'), "
        "(3, 1.00, '2026-11-18', 5, 'completed')",
    )
    run = cli(
        "customers",
        "--source",
        pg_server.url,
        "--sales-table",
        "fid",
        "--as-of",
        "2026-11-20",
        "--format",
        "csv",
    )
    assert run.exit_code == 0, run.stderr
    assert sorted(line.split(",")[0] for line in run.stdout.splitlines()[1:]) == ["1", "2"]


@pytest.mark.parametrize("column", ["sale_id", "customer_id", "business_id", "storefront_id"])
def test_integer_ids_wider_than_64_bits_report_but_do_not_load(cli: Any, tmp_path: Path, column: str) -> None:
    """A report keeps a uint64 or HUGEINT id exact; the warehouse stores BIGINT, so a load names the value."""
    names = ["sale_id", "business_id", "customer_id", "storefront_id"]
    first = ", ".join(f"{'18446744073709551615' if n == column else '1'}::UBIGINT AS {n}" for n in names)
    path = parquet(
        tmp_path,
        f"SELECT {first}, DATE '2026-11-20' AS sale_date, 5.0 AS total_amount, 'completed' AS status "
        "UNION ALL SELECT 2::UBIGINT, 1::UBIGINT, 2::UBIGINT, 1::UBIGINT, DATE '2026-11-19', 5.0, 'completed'",
    )
    run = cli("segment", "--source", path, "--as-of", "2026-11-20", "--format", "json")
    assert run.exit_code == 0, run.stderr
    db = tmp_path / "w.duckdb"
    run = cli("load", path, "--db", db)
    where = "" if column == "sale_id" else " (sale_id 1)"
    assert (run.exit_code, run.stderr) == (
        1,
        f"{path}: column '{column}' has a value beyond the 64-bit integer range: '18446744073709551615'{where}\n",
    )
    assert not db.exists()


@pytest.mark.parametrize("command", ["segment", "load"])
@pytest.mark.parametrize(
    ("late", "message"),
    [
        ("30000,1.5,7,2026-11-05,1.00,completed", "column 'business_id' has a value that is not an integer: '1.5' (sale_id 30000)"),
        ("30000,1,7.5,2026-11-05,1.00,completed", "column 'customer_id' has a value that is not an integer: '7.5' (sale_id 30000)"),
        ("30000.5,1,7,2026-11-05,1.00,completed", "column 'sale_id' has a value that is not an integer: '30000.5'"),
    ],
    ids=["business", "customer", "sale"],
)  # fmt: skip
def test_a_fraction_after_the_csv_sniffer_sample_is_not_rounded(
    cli: Any, tmp_path: Path, command: str, late: str, message: str
) -> None:
    """DuckDB's CSV scanner rounds '1.5' into a column it sniffed as BIGINT (duckdb#25824): ids are read exactly."""
    rows = [f"{i},1,{i % 500},2026-11-{1 + i % 20:02d},1.00,completed" for i in range(1, 30_000)]
    path = tmp_path / "late.csv"
    path.write_text("\n".join([SALES_HEADER, *rows, late]) + "\n")
    db = tmp_path / "w.duckdb"
    if command == "segment":
        run = cli("segment", "--source", path, "--as-of", "2026-11-20", "--format", "json")
    else:
        run = cli("load", path, "--db", db)
    assert (run.exit_code, run.stdout, run.stderr) == (1, "", f"{path}: {message}\n")
    assert not db.exists()
