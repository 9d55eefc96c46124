"""`--engine spark`: byte-identical output to the DuckDB engine, the same errors, no single-partition gathers.

One local Spark session (local[2]) serves the whole run; every comparison runs the same command
on both engines and compares the bytes, so the DuckDB engine's hand-checked tests pin both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import AS_OF, FIXTURES, SMALL_SALES

pyspark = pytest.importorskip("pyspark")

pytestmark = pytest.mark.spark

BEHAVIOR_SALES = FIXTURES / "methods" / "behavior_sales.csv"
BEHAVIOR_ITEMS = FIXTURES / "methods" / "behavior_items.csv"
VALUE = FIXTURES / "methods" / "value.csv"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The run's one local Spark session: 2 cores, no UI, 2 shuffle partitions, errors-only logs."""
    from segcli.engine.settings import Settings
    from segcli.engine.spark.session import spark_session

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    conf = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"}
    session = spark_session(Settings(spark_master="local[2]", spark_conf=conf))
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def both(cli: Any, *args: Any) -> tuple[Any, Any]:
    """The same command on DuckDB and on Spark."""
    return cli(*args, "--engine", "duckdb"), cli(*args, "--engine", "spark")


def assert_same(cli: Any, *args: Any) -> Any:
    duck, spark_run = both(cli, *args)
    assert duck.exit_code == 0, duck.stderr
    assert (spark_run.exit_code, spark_run.stderr) == (0, duck.stderr)
    assert spark_run.stdout_bytes == duck.stdout_bytes
    return duck


def report(source: Path | str, *extra: str) -> list[str | Path]:
    return [
        "segment",
        "--source",
        source,
        "--as-of",
        AS_OF.isoformat(),
        "--format",
        "json",
        "--no-cache",
        *extra,
    ]


@pytest.mark.parametrize(
    "extra",
    [
        ["--days", "30"],
        ["--days", "90", "--storefront-id", "20"],
        ["--days", "30", "--compare"],
        ["--days", "30", "--method", "value", "--timezone", "Europe/Berlin"],
    ],
    ids=["rfm-30", "storefront", "compare", "value-berlin"],
)
def test_small_fixture_reports(spark: Any, cli: Any, extra: list[str]) -> None:
    body = assert_same(cli, *report(SMALL_SALES, *extra)).json()
    assert body["data"]["total_customers"] > 0  # a report with customers, not two empty ones


def test_value_fixture_with_ties_and_comparison(spark: Any, cli: Any) -> None:
    body = assert_same(cli, *report(VALUE, "--days", "30", "--method", "value", "--compare")).json()
    assert body["data"]["comparison"]["migration"]


def test_behavior_fixture(spark: Any, cli: Any) -> None:
    args = report(BEHAVIOR_SALES, "--items", str(BEHAVIOR_ITEMS), "--method", "behavior", "--days", "365")
    body = assert_same(cli, *args, "--compare").json()
    assert {s["facet"] for s in body["data"]["segments"]} == {"category", "channel", "season"}


@pytest.mark.parametrize(
    "args",
    [
        ["--source", str(SMALL_SALES), "--days", "30", "--format", "csv"],
        ["--source", str(SMALL_SALES), "--days", "30", "--format", "jsonl", "--segment-name", "Promising"],
        ["--source", str(BEHAVIOR_SALES), "--items", str(BEHAVIOR_ITEMS), "--method", "behavior",
         "--days", "365", "--format", "csv"],
    ],
    ids=["rfm-csv", "rfm-filtered-jsonl", "behavior-csv"],
)  # fmt: skip
def test_customer_lists(spark: Any, cli: Any, args: list[str]) -> None:
    duck = assert_same(cli, "customers", "--as-of", AS_OF.isoformat(), *args)
    assert duck.stdout.count("\n") > 1


def test_customer_list_written_by_the_executors(spark: Any, cli: Any, tmp_path: Path) -> None:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    args = ["customers", "--source", str(SMALL_SALES), "--as-of", AS_OF.isoformat(), "--days", "30"]
    assert cli(*args, "--output", tmp_path / "duck.parquet").exit_code == 0
    out = tmp_path / "list.parquet"
    out.write_text("an older list")  # replaced whole
    run = cli(*args, "--engine", "spark", "--format", "parquet", "--output", out)
    assert run.exit_code == 0, run.stderr
    assert out.is_dir()
    assert (out / "_SUCCESS").exists()
    assert [p.name for p in tmp_path.iterdir() if "segcli-" in p.name] == []  # no staging left
    duck = pq.read_table(tmp_path / "duck.parquet").to_pylist()
    written = ds.dataset(out, format="parquet").to_table().to_pylist()
    key = lambda row: str(row["customer_id"])  # noqa: E731
    assert sorted(written, key=key) == sorted(duck, key=key)
    assert len(duck) == 12


BAD_HEADER = "sale_id,business_id,customer_id,sale_date,total_amount,status,storefront_id,amount_refunded"
BAD_CASES = {
    "missing-column": ("sale_id,sale_date,total_amount,status", ["1,2026-11-20,10.00,completed"]),
    "bad-date": (BAD_HEADER, ["1,1,a,2026-11-20,10.00,completed,3,", "2,1,b,2026-13-45,5.00,completed,3,"]),
    "empty-date": (BAD_HEADER, ["1,1,a,2026-11-20,10.00,completed,3,", "2,1,b,,5.00,completed,3,"]),
    "bad-amount": (BAD_HEADER, ["1,1,a,2026-11-20,12;50,completed,3,", "2,1,b,2026-11-20,5,completed,3,"]),
    "empty-amount": (BAD_HEADER, ["1,1,a,2026-11-20,10.00,completed,3,", "2,1,b,2026-11-20,,completed,3,"]),
    "decimals": (BAD_HEADER, ["1,1,a,2026-11-20,1.23456,completed,3,"]),
    "bad-refund": (BAD_HEADER, ["1,1,a,2026-11-20,10.00,completed,3,n/a"]),
    "duplicate": (BAD_HEADER, ["7,1,a,2026-11-20,10.00,completed,3,", "7,1,b,2026-11-19,5.00,pending,3,"]),
    "business": (BAD_HEADER, ["1,1,a,2026-11-20,10.00,completed,3,", "2,x1,b,2000-01-01,1.00,completed,3,"]),
    "empty-business": (BAD_HEADER, ["1,1,a,2026-11-20,10.00,completed,3,", "2,,b,2026-11-20,1,completed,3,"]),
    "storefront": (BAD_HEADER, ["1,1,a,2026-11-20,10.00,completed,main,"]),
    "currencies": (
        "sale_id,customer_id,sale_date,total_amount,status,currency",
        ["1,a,2026-11-20,10.00,completed,USD", "2,b,2026-11-19,20.00,completed,EUR"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_data_gives_the_same_error(spark: Any, cli: Any, tmp_path: Path, case: str) -> None:
    header, rows = BAD_CASES[case]
    path = tmp_path / "sales.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    duck, spark_run = both(cli, *report(path, "--storefront-id", "3"))
    assert duck.exit_code == 1, duck.stdout
    assert (spark_run.exit_code, spark_run.stdout, spark_run.stderr) == (1, "", duck.stderr)
    assert duck.stderr.startswith(f"{path}: ")
    assert duck.stderr.count("\n") == 1


def test_bad_source_paths(spark: Any, cli: Any, tmp_path: Path) -> None:
    for source in ("nowhere.csv", "nothing-*.parquet", "sales.xlsx"):
        duck, spark_run = both(cli, *report(Path(source)))
        assert (spark_run.exit_code, spark_run.stderr) == (1, duck.stderr)


def generate(cli: Any, folder: Path, customers: int, seed: int) -> tuple[Path, Path]:
    sales, items = folder / "sales.parquet", folder / "items.parquet"
    run = cli(
        "generate", "--customers", str(customers), "--seed", str(seed), "--out", sales, "--items", items
    )
    assert run.exit_code == 0, run.stderr
    return sales, items


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    customers=st.integers(min_value=1, max_value=400),
    seed=st.integers(min_value=0, max_value=10_000),
    days=st.integers(min_value=1, max_value=400),
    method=st.sampled_from(["rfm", "value"]),
)
def test_generated_data(
    spark: Any, cli: Any, tmp_path_factory: Any, customers: int, seed: int, days: int, method: str
) -> None:
    folder = tmp_path_factory.mktemp("generated")
    sales, _ = generate(cli, folder, customers, seed)
    assert_same(cli, *report(sales, "--days", str(days), "--method", method, "--compare"))
    listed: list[str | Path] = [
        "customers",
        "--source",
        sales,
        "--as-of",
        AS_OF.isoformat(),
        "--days",
        str(days),
        "--format",
        "csv",
    ]
    assert_same(cli, *listed, "--method", method)


def test_generated_behavior_and_storefront(spark: Any, cli: Any, tmp_path: Path) -> None:
    sales, items = generate(cli, tmp_path, 300, 7)
    assert_same(cli, *report(sales, "--items", str(items), "--method", "behavior", "--days", "200"))
    assert_same(cli, *report(sales, "--days", "120", "--storefront-id", "2"))


def closed_form(c: int, n: int) -> int:
    """SPEC section 3's tie-aware quintile score of a value with c smaller values among n."""
    q, r = divmod(n, 5)
    return c // (q + 1) + 1 if c < r * (q + 1) else r + (c - r * (q + 1)) // q + 1


@given(st.lists(st.integers(min_value=-3, max_value=12), min_size=1, max_size=60))
def test_cuts_match_the_closed_form(values: list[int]) -> None:
    from segcli.engine.spark.score import bucket_starts, cuts_from_histogram

    histogram = [(v, values.count(v)) for v in set(values)]
    cuts = cuts_from_histogram(histogram, bucket_starts(len(values)))
    for v in values:
        smaller = sum(1 for w in values if w < v)
        assert 1 + sum(v > t for t in cuts) == closed_form(smaller, len(values))


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.decimals(min_value=-50, max_value=500, places=2), min_size=1, max_size=300))
def test_order_statistics_with_small_brackets(spark: Any, monkeypatch: Any, values: list[Decimal]) -> None:
    """Forced through the approximate-bracket rounds (histograms only of 3 values), still exact."""
    from pyspark.sql.types import DecimalType, StructField, StructType

    from segcli.engine.spark import score

    monkeypatch.setattr(score, "HISTOGRAM_LIMIT", 3)
    monkeypatch.setattr(score, "ACCURACY", 20)
    schema = StructType([StructField("v", DecimalType(18, 2))])
    df = spark.createDataFrame([(v,) for v in values], schema)
    ranks = sorted({0, len(values) // 3, len(values) - 1})
    assert score.order_statistics(df, "v", ranks, len(values)) == {i: sorted(values)[i] for i in ranks}


def test_no_stage_gathers_customers_into_one_partition(spark: Any, cli: Any, tmp_path: Path) -> None:
    from segcli.engine.spark.plans import executed_plans, single_partition_gathers

    sales, items = generate(cli, tmp_path, 2000, 3)
    before = max(executed_plans(spark) or {-1: ""})
    assert_same(cli, *report(sales, "--days", "365", "--compare"))
    assert_same(cli, *report(sales, "--items", str(items), "--method", "behavior", "--days", "365"))
    plans = executed_plans(spark, after=before)
    assert any("HashAggregate" in p and "customer_id" in p for p in plans.values())  # the plans were seen
    assert {i: single_partition_gathers(p) for i, p in plans.items() if single_partition_gathers(p)} == {}
    # the check itself finds the gather a window without PARTITION BY makes
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    last = max(plans)
    spark.range(100).withColumn("n", F.ntile(5).over(Window.orderBy("id"))).collect()
    gathered = executed_plans(spark, after=last)
    assert any(single_partition_gathers(p) for p in gathered.values())


def test_missing_java_is_one_line(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from segcli.engine.spark import session

    monkeypatch.setattr(session, "_java_found", lambda: False)
    run = cli(*report(SMALL_SALES, "--engine", "spark"))
    assert run.exit_code == 1
    assert run.stderr.startswith("--engine spark needs Java 17 or later")
    assert run.stderr.count("\n") == 1


def test_missing_pyspark_is_one_line(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    run = cli(*report(SMALL_SALES, "--engine", "spark"))
    assert (run.exit_code, run.stderr) == (1, "--engine spark needs PySpark 4: pip install 'segcli[spark]'\n")


def test_unknown_engine_is_a_usage_error(cli: Any) -> None:
    run = cli(*report(SMALL_SALES, "--engine", "flink"))
    assert (run.exit_code, run.stderr) == (2, "Invalid engine 'flink'. Must be one of: duckdb, spark\n")


def test_serve_answers_the_same(spark: Any, cli: Any) -> None:
    target = "/api/reports/customers/segmentation/?days=30&segmentation_method=value&compare=true"
    body = assert_same(
        cli, "serve", "--source", SMALL_SALES, "--as-of", AS_OF.isoformat(), "--no-cache", "--get", target
    )
    assert body.json()["success"] is True


def test_cached_spark_report_is_served_again(spark: Any, cli: Any, tmp_path: Path) -> None:
    """Local files have an identity, so a Spark report is cached; a change to the file makes it stale."""
    import shutil

    sales = tmp_path / "sales.csv"
    shutil.copy(SMALL_SALES, sales)
    args = [
        "segment",
        "--source",
        sales,
        "--as-of",
        AS_OF.isoformat(),
        "--format",
        "json",
        "--engine",
        "spark",
    ]
    first = cli(*args)
    assert first.stdout == cli(*args).stdout
    with sales.open("a") as out:
        out.write("900,1,10,c99,2026-11-20,5.00,,completed,web\n")
    assert cli(*args).json()["data"]["total_customers"] == first.json()["data"]["total_customers"] + 1


def test_spark_settings_from_config_and_environment(cli: Any, tmp_path: Path) -> None:
    from segcli.engine.errors import InvalidParameter
    from segcli.engine.settings import load_settings

    config = tmp_path / "segcli.toml"
    config.write_text(
        'engine = "spark"\n[spark]\nmaster = "local[3]"\n"spark.sql.shuffle.partitions" = 8\n'
        '"spark.sql.ansi.enabled" = true\n'
    )
    settings = load_settings(str(config))
    assert (settings.engine, settings.spark_master, settings.spark_remote) == ("spark", "local[3]", None)
    assert settings.spark_conf == {"spark.sql.shuffle.partitions": "8", "spark.sql.ansi.enabled": "true"}
    assert load_settings(str(config), engine="duckdb").engine == "duckdb"  # the command line wins
    config.write_text('[spark]\nexecutor = { memory = "8g" }\n')
    with pytest.raises(InvalidParameter, match=r"'spark\.executor' must be a string, number or boolean"):
        load_settings(str(config))
    run = cli(*report(SMALL_SALES), env={"SEGCLI_ENGINE": "flink"})
    assert (run.exit_code, run.stderr) == (2, "Invalid engine 'flink'. Must be one of: duckdb, spark\n")


@pytest.mark.slow
def test_a_real_process_prints_one_line_on_a_bad_date(tmp_path: Path) -> None:
    """In a real process the JVM's own start-up notices go to its log file, not to stderr."""
    import subprocess
    import sys

    path = tmp_path / "sales.csv"
    path.write_text("\n".join([BAD_HEADER, *BAD_CASES["bad-date"][1]]) + "\n")
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SEGCLI_CONFIG": ""}
    runs = [
        subprocess.run(
            [
                sys.executable,
                "-m",
                "segcli",
                *map(str, report(path, "--engine", engine, "--spark-master", "local[1]")),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        for engine in ("duckdb", "spark")
    ]
    assert [r.returncode for r in runs] == [1, 1]
    assert (
        runs[1].stderr
        == runs[0].stderr
        == f"{path}: column 'sale_date' has a value that is not a date: '2026-13-45' (sale_id 2)\n"
    )


def test_a_method_spark_does_not_run_is_a_usage_error(cli: Any) -> None:
    """A method registered elsewhere (the seam's toy) runs on DuckDB; Spark says it cannot, before starting."""
    from segcli.engine.methods import register, unregister
    from tests.test_methods_registry import BigSpenders

    register(BigSpenders())
    try:
        run = cli(*report(SMALL_SALES, "--days", "30", "--method", "toy", "--engine", "spark"))
    finally:
        unregister("toy")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "Invalid segmentation_method. toy does not run on --engine spark (--method)\n"


def test_database_sources_stay_on_duckdb(spark: Any, cli: Any) -> None:
    for source in ("shop.duckdb", "postgresql://user@127.0.0.1:5432/shop"):
        run = cli(*report(source, "--engine", "spark"))
        assert (run.exit_code, run.stdout) == (1, "")
        assert run.stderr == (
            f"{source}: --engine spark reads CSV/Parquet files and catalog tables (table:NAME); "
            "use --engine duckdb for this source\n"
        )


def test_a_glob_of_csv_files_with_different_columns(spark: Any, cli: Any, tmp_path: Path) -> None:
    """Files are united by column name on both engines: another order, a column only in one file."""
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text(
        "sale_id,customer_id,sale_date,total_amount,status\n1,a,2026-11-20,10.00,completed\n"
        "2,b,2026-11-02,20.00,completed\n"
    )
    (folder / "b.csv").write_text(
        "status,total_amount,sale_date,customer_id,sale_id,channel\ncompleted,5.50,2026-11-19,a,3,web\n"
        "Completed,7.25,2026-10-01,c,4,\n"
    )
    body = assert_same(cli, *report(str(folder / "*.csv"), "--days", "90")).json()
    assert body["data"]["total_customers"] == 3


def test_a_catalog_table_source(spark: Any, cli: Any, tmp_path: Path) -> None:
    """`--source table:NAME` reads what the session's catalog names (here a view over the same Parquet)."""
    sales, _ = generate(cli, tmp_path, 200, 11)
    spark.read.parquet(str(sales)).createOrReplaceTempView("segcli_test_sales")
    args = ["--as-of", AS_OF.isoformat(), "--format", "json", "--no-cache", "--days", "180"]
    duck = cli("segment", "--source", sales, *args)
    on_spark = cli("segment", "--source", "table:segcli_test_sales", *args, "--engine", "spark")
    assert duck.exit_code == 0, duck.stderr
    assert (on_spark.exit_code, on_spark.stdout) == (0, duck.stdout)
    assert duck.json()["data"]["total_customers"] > 0


EXPORTS = FIXTURES / "exports"
EU_ARGS = [
    "--delimiter",
    ";",
    "--decimal-separator",
    ",",
    "--encoding",
    "cp1252",
    "--date-format",
    "%d.%m.%Y",
]
EU_ARGS += ["--map", "Bestellnummer=sale_id", "--map", "Kunde=customer_id", "--map", "Datum=sale_date"]
EU_ARGS += ["--map", "Betrag=total_amount"]


@pytest.mark.parametrize(
    "args",
    [
        [EXPORTS / "european_cp1252.csv", "--days", "30", *EU_ARGS],
        [EXPORTS / "integer_dates.csv", "--days", "30"],
        [
            EXPORTS / "ambiguous_dates.csv",
            "--map",
            "date=sale_date",
            "--date-format",
            "%d/%m/%Y",
            "--days",
            "365",
        ],
        [EXPORTS / "historical.csv", "--days", "90", "--currency", "EUR"],  # as-of after the last sale
    ],
    ids=["cp1252-semicolon-comma", "yyyymmdd", "date-format", "historical-warnings"],
)
def test_real_exports(spark: Any, cli: Any, args: list[Any]) -> None:
    duck = assert_same(cli, *report(*args))
    body = duck.json()
    assert body["data"]["total_customers"] > 0 or "historical" in str(args[0])
    if "historical" in str(args[0]):
        assert duck.stderr.splitlines() == [
            "warning: no sales in scope: 0 customers for business 1 from 2026-08-23 to 2026-11-20",
            "warning: as-of 2026-11-20 is after the last sale in the data (2024-12-30, business 1); "
            "use --as-of 2024-12-30 for a report up to it",
        ]
        assert body["data"]["currency"] == "EUR"


def test_cp1252_customer_list(spark: Any, cli: Any) -> None:
    args = ["--source", EXPORTS / "european_cp1252.csv", "--days", "30", *EU_ARGS, "--format", "csv"]
    duck = assert_same(cli, "customers", "--as-of", AS_OF.isoformat(), *args)
    assert "Zoë Müller" in duck.stdout


def test_historical_as_of_last_sale(spark: Any, cli: Any) -> None:
    """As of its last sale the historical export gives 5 customers, 257.38 EUR and no warning."""
    args = ["segment", "--source", EXPORTS / "historical.csv", "--as-of", "2024-12-30", "--format", "json"]
    duck = assert_same(cli, *args, "--no-cache", "--compare")
    body = duck.json()["data"]
    assert (body["total_customers"], body["currency"], body["warnings"]) == (5, "EUR", [])
    assert sum(Decimal(str(s["total_revenue"])) for s in body["segments"]) == Decimal("257.38")


@pytest.mark.parametrize(
    ("source", "extra"),
    [
        (EXPORTS / "ambiguous_dates.csv", ["--map", "date=sale_date"]),
        (EXPORTS / "shopify_orders.csv", []),  # every missing column at once, with --map suggestions
        (EXPORTS / "european_cp1252.csv", [*EU_ARGS[:6], "--encoding", "utf-8", *EU_ARGS[8:]]),
    ],
    ids=["ambiguous-day-month", "missing-columns", "wrong-encoding"],
)
def test_export_errors(spark: Any, cli: Any, source: Path, extra: list[str]) -> None:
    duck, spark_run = both(cli, *report(source, *extra))
    assert duck.exit_code == 1, duck.stdout
    assert (spark_run.exit_code, spark_run.stdout, spark_run.stderr) == (1, "", duck.stderr)


ID_CASES = {
    "fraction-customer": ["1,a,2026-11-20,1.00,completed", "2,1.5,2026-11-19,1.00,completed"],
    "fraction-sale": ["1,a,2026-11-20,1.00,completed", "2.5,b,2026-11-19,1.00,completed"],
    "integer-dates-no-date": ["1,a,20261120,1.00,completed", "2,b,20261399,1.00,completed"],
}


@pytest.mark.parametrize("case", list(ID_CASES))
def test_exact_ids_and_dates(spark: Any, cli: Any, tmp_path: Path, case: str) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("\n".join(["sale_id,customer_id,sale_date,total_amount,status", *ID_CASES[case]]) + "\n")
    duck, spark_run = both(cli, *report(path))
    assert duck.exit_code == 1, duck.stdout
    assert (spark_run.exit_code, spark_run.stdout, spark_run.stderr) == (1, "", duck.stderr)


def test_parquet_fractional_business_id(spark: Any, cli: Any, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "sales.parquet"
    table = pa.table(
        {
            "sale_id": [1, 2],
            "business_id": [1.0, 1.5],
            "customer_id": [10.0, 11.0],
            "sale_date": ["2026-11-20", "2026-11-19"],
            "total_amount": ["1.00", "2.00"],
            "status": ["completed", "completed"],
        }
    )
    pq.write_table(table, path)
    duck, spark_run = both(cli, *report(path))
    assert duck.exit_code == 1, duck.stdout
    assert "'1.5'" in duck.stderr
    assert (spark_run.exit_code, spark_run.stderr) == (1, duck.stderr)


@pytest.mark.parametrize(
    "extra",
    [
        ["--compare"],
        ["--moved-from", "new", "--format", "jsonl"],
        ["--moved-to", "lapsed"],
        ["--method", "value", "--moved-from", "VALUE_LOW"],
    ],
    ids=["compare", "new", "lapsed", "value-moved-from"],
)
def test_who_moved_lists(spark: Any, cli: Any, extra: list[str]) -> None:
    args = ["customers", "--source", VALUE, "--as-of", AS_OF.isoformat(), "--days", "30", "--format", "csv"]
    duck = assert_same(cli, *args, *extra)
    assert duck.stdout.count("\n") > 1


def test_behavior_who_moved(spark: Any, cli: Any) -> None:
    args = ["customers", "--source", BEHAVIOR_SALES, "--items", BEHAVIOR_ITEMS, "--method", "behavior"]
    assert_same(cli, *args, "--as-of", AS_OF.isoformat(), "--days", "180", "--compare", "--format", "csv")


def test_python_api_engine_spark(spark: Any) -> None:
    import segcli

    kwargs: dict[str, Any] = {"as_of": AS_OF, "days": 30, "cache": False}
    duck = segcli.segment(str(SMALL_SALES), **kwargs)
    on_spark = segcli.segment(str(SMALL_SALES), engine="spark", **kwargs)
    assert on_spark.to_json() == duck.to_json()
    listed = segcli.customers(str(VALUE), as_of=AS_OF, days=30, compare=True, engine="spark")
    assert listed.equals(segcli.customers(str(VALUE), as_of=AS_OF, days=30, compare=True))


def test_glob_with_a_file_missing_a_column(spark: Any, cli: Any, tmp_path: Path) -> None:
    """Every file a glob matches must have the required columns: the file is named, as on DuckDB."""
    (tmp_path / "a.csv").write_text(
        "sale_id,customer_id,sale_date,total_amount,status\n1,a,2026-11-20,1.00,completed\n"
    )
    (tmp_path / "b.csv").write_text("sale_id,customer_id,sale_date,status\n2,b,2026-11-19,completed\n")
    duck, spark_run = both(cli, *report(tmp_path / "*.csv"))
    assert duck.exit_code == 1, duck.stdout
    assert str(tmp_path / "b.csv") in duck.stderr
    assert (spark_run.exit_code, spark_run.stdout, spark_run.stderr) == (1, "", duck.stderr)


@pytest.mark.parametrize(
    ("source", "extra", "what"),
    [
        ("s3a://lake/sales/*.csv", ["--delimiter", ";"], "--delimiter on files that are not local"),
        (
            str(EXPORTS / "ambiguous_dates.csv"),
            ["--map", "date=sale_date", "--date-format", "%d %b %Y"],
            "--date-format %d %b %Y (only %d, %m, %Y, %H, %M, %S)",
        ),
    ],
    ids=["remote-dialect", "date-format-codes"],
)
def test_what_spark_refuses(spark: Any, cli: Any, source: str, extra: list[str], what: str) -> None:
    """What the Spark engine does not do yet is a usage error, never a different answer."""
    run = cli(*report(source, *extra), "--engine", "spark")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"not supported with --engine spark yet: {what}\n"
