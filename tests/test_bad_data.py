"""Bad data and bad parameters: one clear line on stderr, the right exit status, no output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SMALL_SALES, small_args

HEADER = "sale_id,business_id,customer_id,sale_date,total_amount,status"
GOOD = ["1,1,a,2026-11-20,10.00,completed", "2,1,b,2026-11-19,20.00,completed"]


def write(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "sales.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def run_on(cli: Any, path: Path | str, *extra: str) -> Any:
    return cli("segment", "--source", str(path), "--as-of", "2026-11-20", "--format", "json", *extra)


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (
            "sale_id,business_id,sale_date,total_amount,status",
            ["1,1,2026-11-20,10.00,completed"],
            "sales.csv: missing required column 'customer_id' (columns found: sale_id, business_id, "
            "sale_date, total_amount, status; map one with --map SOURCE=customer_id)",
        ),
        (
            HEADER,
            [*GOOD, "3,1,c,2026-13-45,5.00,completed"],
            "sales.csv: column 'sale_date' has a value that is not a date: '2026-13-45' (sale_id 3)",
        ),
        (
            HEADER,
            [*GOOD, "3,1,c,,5.00,completed"],
            "sales.csv: column 'sale_date' is empty (sale_id 3)",
        ),
        (
            HEADER,
            [*GOOD, "3,1,c,2026-11-18,12;50,completed"],
            "sales.csv: column 'total_amount' has a value that is not a number: '12;50' (sale_id 3)",
        ),
        (
            HEADER,
            [*GOOD, "3,1,c,2026-11-18,,completed"],
            "sales.csv: column 'total_amount' is empty (sale_id 3)",
        ),
        (
            HEADER,
            [*GOOD, "3,1,c,2026-11-18,1.23456,completed"],
            "sales.csv: column 'total_amount' has more than 4 decimal places: '1.23456' (sale_id 3)",
        ),
        (
            HEADER,
            [*GOOD, "2,1,c,2026-11-18,5.00,completed"],
            "sales.csv: column 'sale_id' has a duplicate value '2' (2 rows in the business)",
        ),
        (
            HEADER,
            [*GOOD, "3,x1,c,2026-11-18,5.00,completed"],
            "sales.csv: column 'business_id' has a value that is not an integer: 'x1' (sale_id 3)",
        ),
        (
            HEADER + ",currency",
            ["1,1,a,2026-11-20,10.00,completed,USD", "2,1,b,2026-11-19,20.00,completed,EUR"],
            "sales.csv: column 'currency' holds more than one currency in scope (EUR, USD); "
            "report on one currency at a time",
        ),
    ],
    ids=[
        "missing-column",
        "bad-date",
        "empty-date",
        "bad-amount",
        "empty-amount",
        "too-many-decimals",
        "duplicate-sale-id",
        "bad-business-id",
        "two-currencies",
    ],
)
def test_bad_data_fails_with_one_line(
    cli: Any, tmp_path: Path, header: str, rows: list[str], message: str
) -> None:
    path = write(tmp_path, *rows, header=header)
    run = run_on(cli, path)
    assert run.exit_code == 1
    assert run.stdout == ""
    assert run.stderr == f"{path.parent}/{message}\n"


def test_bad_refund_is_an_error_but_empty_refund_is_zero(cli: Any, tmp_path: Path) -> None:
    header = HEADER + ",amount_refunded"
    ok = write(
        tmp_path, "1,1,a,2026-11-20,10.00,completed,", "2,1,a,2026-11-19,20.00,completed,5", header=header
    )
    assert run_on(cli, ok).json()["data"]["total_revenue"] == 25.0
    bad = write(tmp_path, "1,1,a,2026-11-20,10.00,completed,n/a", header=header, name="bad.csv")
    run = run_on(cli, bad)
    assert run.exit_code == 1
    assert "column 'amount_refunded' has a value that is not a number: 'n/a' (sale_id 1)" in run.stderr


def test_a_duplicate_in_another_business_is_fine(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, *GOOD, "2,2,z,2026-11-18,5.00,completed")
    assert run_on(cli, path).exit_code == 0


def test_late_bad_value_after_the_csv_sniffer_sample(cli: Any, tmp_path: Path) -> None:
    """A value the sniffer never saw (row 30,000) still gets a precise message, not a DuckDB dump."""
    rows = [f"{i},1,c{i % 500},2026-11-{1 + i % 20:02d},1.00,completed" for i in range(1, 30_000)]
    path = write(
        tmp_path, *rows, "30000,1,cx,2026-11-05,1.00,completed", "abc,1,cy,2026-11-05,1.00,completed"
    )
    run = run_on(cli, path)
    assert run.exit_code == 0, run.stderr  # sale_id may be text: 'abc' is a valid id
    path = write(tmp_path, *rows, "30000,1,cx,2026-11-05T10:00:00+02:00,1.00,completed", name="late.csv")
    run = run_on(cli, path)
    assert run.exit_code == 0, run.stderr
    assert run.json()["data"]["total_customers"] == 501


def test_mapped_column_not_found(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, *GOOD)
    run = run_on(cli, path, "--map", "created_at=sale_date")
    assert run.exit_code == 1
    assert run.stderr == (
        f"{path}: mapped column 'created_at' (for sale_date) not found; "
        "columns found: sale_id, business_id, customer_id, sale_date, total_amount, status\n"
    )


def test_column_mapping_renames(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, *GOOD, header="order_no,shop,client,created_at,gross,state")
    run = run_on(
        cli,
        path,
        *("--map", "order_no=sale_id", "--map", "shop=business_id", "--map", "client=customer_id"),
        *("--map", "created_at=sale_date", "--map", "gross=total_amount", "--map", "state=status"),
    )
    assert run.exit_code == 0, run.stderr
    assert run.json()["data"]["total_revenue"] == 30.0


def test_column_mapping_from_config(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, *GOOD, header="sale_id,business_id,customer_id,created_at,total_amount,status")
    (tmp_path / "segcli.toml").write_text('[columns]\ncreated_at = "sale_date"\n')
    run = run_on(cli, path, "--config", str(tmp_path / "segcli.toml"))
    assert run.exit_code == 0, run.stderr
    assert run.json()["data"]["total_customers"] == 2


def test_no_business_column_means_the_default_business(cli: Any, tmp_path: Path) -> None:
    path = write(
        tmp_path, "1,a,2026-11-20,10.00,completed", header="sale_id,customer_id,sale_date,total_amount,status"
    )
    default = run_on(cli, path).json()["data"]
    assert (default["business_id"], default["total_customers"]) == (1, 1)
    # --business-id names the business every row then belongs to
    seven = run_on(cli, path, "--business-id", "7").json()["data"]
    assert (seven["business_id"], seven["total_customers"]) == (7, 1)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("nowhere.csv", "nowhere.csv: file not found"),
        ("nothing-*.parquet", "nothing-*.parquet: no file matches"),
        ("sales.xlsx", "sales.xlsx: unknown file type (expected .csv or .parquet)"),
    ],
)
def test_bad_sources(cli: Any, source: str, message: str) -> None:
    run = run_on(cli, source)
    assert (run.exit_code, run.stderr) == (1, message + "\n")


def test_no_source(cli: Any) -> None:
    run = cli("segment", "--as-of", "2026-11-20")
    assert run.exit_code == 1
    assert run.stderr.startswith("No source given.")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "kmeans"], "Invalid segmentation_method. Must be one of: rfm, value, behavior"),
        (["--days", "0"], "Invalid days. Must be an integer between 1 and 9999"),
        (["--days", "10000"], "Invalid days. Must be an integer between 1 and 9999"),
        (["--days", "ninety"], "Invalid days. Must be an integer between 1 and 9999"),
        (["--storefront-id", "main"], "Invalid storefront_id. Must be an integer"),
        (
            ["--segment-name", "VIP"],
            "Invalid segment_name. Must be one of: Champions, Loyal Customers, Potential Loyalists, "
            "Promising, At Risk, Need Attention, New Customers, Hibernating",
        ),
        (
            ["--segment-code", "R9F9M9"],
            "Invalid segment_code. Must be one of: R5F5M5, R4F4M4, R4F2M3, R3F2M2, R2F2M3, R2F3M3, R5F1M1, R1F1M2",
        ),
        (
            ["--method", "value", "--segment-name", "Champions"],
            "Invalid segment_name. Must be one of: High Value, Medium Value, Low Value",
        ),
        (["--format", "xml"], "Invalid format. Must be one of: "),
        (["--as-of", "20/11/2026"], "Invalid as_of. Must be a date YYYY-MM-DD"),
        (["--timezone", "Mars/Base"], "Invalid timezone 'Mars/Base'. Must be an IANA time zone name"),
        (["--map", "nonsense"], "Invalid --map 'nonsense'. Must be SOURCE=CANONICAL"),
        (["--map", "a=client"], "Invalid column in --map 'a=client': 'client'. Must be one of: sale_id"),
    ],
)
def test_invalid_parameters_exit_2(cli: Any, args: list[str], message: str) -> None:
    run = cli(*small_args(*args))
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.startswith(message)
    assert run.stderr.count("\n") == 1


def test_invalid_parameters_are_checked_before_the_source(cli: Any) -> None:
    run = cli("segment", "--source", "missing.csv", "--days", "0")
    assert (run.exit_code, run.stderr) == (
        2,
        "Invalid days. Must be an integer between 1 and 9999 (--days)\n",
    )


def test_storefront_filter_without_the_column(cli: Any, tmp_path: Path) -> None:
    run = run_on(cli, write(tmp_path, *GOOD), "--storefront-id", "3")
    assert run.exit_code == 1
    assert run.stderr.endswith("sales.csv: no storefront_id column to filter on (map one with --map)\n")


def test_small_fixture_is_clean(cli: Any) -> None:
    assert cli(*small_args("--format", "json")).exit_code == 0
    assert SMALL_SALES.exists()


def as_parquet(csv: Path) -> Path:
    """The same rows as a Parquet file of text columns (so bad values survive the copy)."""
    import duckdb

    out = csv.with_suffix(".parquet")
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}', all_varchar = true)) TO '{out}' (FORMAT parquet)")
    return out


STOREFRONT_HEADER = HEADER + ",storefront_id"


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        # the business_id check reads every row: a bad value in another business's row counts
        (["1,1,a,2026-11-20,10.00,completed,3", "2,x1,b,2000-01-01,1.00,completed,3"], [],
         "column 'business_id' has a value that is not an integer: 'x1' (sale_id 2)"),
        (["1,1,a,2026-11-20,10.00,completed,3", "2,,b,2026-11-20,1.00,completed,3"], [],
         "column 'business_id' has an empty value (sale_id 2)"),
        # dates are checked for every row of the business, in the window or not
        (["1,1,a,2026-11-20,10.00,completed,3", "2,1,b,someday,1.00,completed,3"], [],
         "column 'sale_date' has a value that is not a date: 'someday' (sale_id 2)"),
        (["1,1,a,2026-11-20,10.00,completed,3", "2,2,b,someday,1.00,completed,3"], [], None),
        (["1,1,a,2026-11-20,10.00,completed,3", "2,1,b,2026-11-20,1.00,completed,main"],
         ["--storefront-id", "3"], "column 'storefront_id' has a value that is not an integer: 'main' (sale_id 2)"),
        # a bad business_id is reported before a bad date in another row
        (["1,1,a,2026-11-20,10.00,completed,3", "2,1,b,someday,1.00,completed,3",
          "3,one,c,2026-11-20,1.00,completed,3"], [],
         "column 'business_id' has a value that is not an integer: 'one' (sale_id 3)"),
    ],
    ids=["business-id", "empty-business-id", "date", "other-business-date", "storefront", "business-first"],
)  # fmt: skip
def test_business_row_checks_on_csv_and_parquet(
    cli: Any, tmp_path: Path, kind: str, rows: list[str], args: list[str], message: str | None
) -> None:
    """CSV is checked in one pass over the file, Parquet by per-check queries: same findings."""
    path = write(tmp_path, *rows, header=STOREFRONT_HEADER)
    if kind == "parquet":
        path = as_parquet(path)
    run = run_on(cli, path, *args)
    if message is None:
        assert run.exit_code == 0, run.stderr
        assert run.json()["data"]["total_customers"] == 1
    else:
        assert (run.exit_code, run.stdout) == (1, "")
        assert run.stderr == f"{path}: {message}\n"


@pytest.mark.parametrize(
    "rows",
    [
        [*GOOD, "2,1,c,2026-11-18,5.00,completed"],
        [*GOOD, "7,1,c,2026-11-18,5.00,completed", "7,1,d,2026-11-17,5.00,pending"],  # any status counts
    ],
    ids=["dense", "sparse"],
)
def test_duplicates_in_typed_parquet(cli: Any, tmp_path: Path, rows: list[str]) -> None:
    """Integer ids in Parquet are checked with a bitmap bounded by the file's statistics."""
    import duckdb

    csv = write(tmp_path, *rows)
    path = tmp_path / "typed.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}')) TO '{path}' (FORMAT parquet)")
    run = run_on(cli, path)
    assert run.exit_code == 1
    duplicate = rows[-1].split(",")[0]
    assert (
        run.stderr
        == f"{path}: column 'sale_id' has a duplicate value '{duplicate}' (2 rows in the business)\n"
    )
