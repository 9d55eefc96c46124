"""The customer list on Spark: written by the executors as Parquet, or a capped Arrow table for small lists."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from segcli.engine.comparison import LAPSED, NEW
from segcli.engine.errors import DataError
from segcli.engine.methods.behavior import BehaviorMethod
from segcli.engine.methods.scored import require_table
from segcli.engine.moved import check_move, check_table_moves, segment_columns
from segcli.engine.params import ReportParams, check_segment_filter
from segcli.engine.spark import behavior as spark_behavior
from segcli.engine.spark.exprs import date_literal, quote, text
from segcli.engine.spark.load import local_path
from segcli.engine.spark.report import Loaded, loaded, spark_method
from segcli.engine.spark.score import scored_customers, segment_lookup
from segcli.engine.spark.session import spark_errors

if TYPE_CHECKING:
    import pyarrow
    from pyspark.sql import DataFrame

    from segcli.engine.compute import ReportRequest
    from segcli.engine.settings import Settings

# The most customers brought to this process for a terminal, CSV or JSON lines list; beyond it
# the list is written by the executors (--format parquet --output DIR_OR_URL).
COLLECT_LIMIT = 1_000_000


def _money_type(df: DataFrame) -> str:
    """DECIMAL(38, scale): the type DuckDB's sum gives the monetary column."""
    from pyspark.sql.types import DecimalType

    data_type = df.schema["monetary"].dataType
    return f"DECIMAL(38,{data_type.scale if isinstance(data_type, DecimalType) else 4})"


def _scored_list(state: Loaded, request: ReportRequest, settings: Settings, previous: bool) -> DataFrame:
    """One window's scored list, unsorted and unfiltered, with its order column `_index`."""
    from pyspark.sql import functions as F

    table = require_table(settings.tables.get(request.method), request.method)
    window = request.window_params(previous)
    scored, figures = scored_customers(state.window, window["start"], window["end"], window["days"])
    state.keep(figures)
    index, name, code = segment_lookup(table, [F.col("r"), F.col("f"), F.col("m")])
    return scored.select(
        "customer_id",
        "last_purchase_date",
        F.col("days_since").cast("int").alias("days_since"),
        F.col("frequency").cast("int").alias("frequency"),
        F.col("monetary").cast(_money_type(scored)).alias("monetary"),
        "r",
        "f",
        "m",
        name.alias("segment_name"),
        code.alias("segment_code"),
        index.alias("_index"),
    )


def _behavior_list(
    state: Loaded, request: ReportRequest, previous: bool
) -> tuple[list[str], list[str], DataFrame]:
    """One window's segment names and codes (from the data) and its behavior list, unsorted and unfiltered."""
    assert state.items is not None
    window = request.window_params(previous)
    segments, profiles = spark_behavior.window_segments(
        state.window, state.items, window["start"], window["end"], window["days"]
    )
    state.keep(profiles)
    end = window["end"]
    listed = spark_behavior.customer_list(profiles, end, window["days"])
    listed = listed.withColumn("monetary", listed["monetary"].cast(_money_type(listed)))
    return [s.name for s in segments], [s.code for s in segments], listed


def _in(value: str, cells: list[str]) -> str:
    return f"{text(value)} IN ({', '.join(cells)})"


def _plain_list(
    state: Loaded, request: ReportRequest, settings: Settings, params: ReportParams | None
) -> DataFrame:
    from pyspark.sql import functions as F

    if isinstance(spark_method(request.method), BehaviorMethod):
        names, codes, listed = _behavior_list(state, request, False)
        if params is not None:  # the segments (from the data) check the filter
            check_segment_filter(params, names, codes)
        pairs = segment_columns(listed.columns)
        order = [F.col("customer_id")]
    else:
        listed = _scored_list(state, request, settings, False)
        pairs = segment_columns(listed.columns)
        order = [F.col("_index"), F.col("customer_id")]
    if params is not None and params.segment_name is not None:
        listed = listed.where(_in(params.segment_name, [quote(p.name) for p in pairs]))
    if params is not None and params.segment_code is not None:
        listed = listed.where(_in(params.segment_code, [quote(p.code) for p in pairs]))
    return listed.orderBy(*order).drop("_index")


def _moved_list(
    state: Loaded,
    request: ReportRequest,
    settings: Settings,
    params: ReportParams | None,
    moved_from: str | None,
    moved_to: str | None,
) -> DataFrame:
    """Both windows' lists fully joined on the customer, filtered as engine/moved.py filters them."""
    from pyspark.sql import functions as F

    filtered = params is not None and (params.segment_name is not None or params.segment_code is not None)
    if isinstance(spark_method(request.method), BehaviorMethod):
        before_names, before_codes, before = _behavior_list(state, request, True)
        names, codes, now = _behavior_list(state, request, False)
        check_move("moved_from", moved_from, NEW, before_names, before_codes)
        check_move("moved_to", moved_to, LAPSED, names, codes)
        if params is not None and filtered:
            check_segment_filter(params, names, codes)
        keys = ["customer_id"]
    else:
        before = _scored_list(state, request, settings, True)
        now = _scored_list(state, request, settings, False)
        keys = ["_index", "customer_id"]
    columns = [c for c in now.columns if c != "_index"]
    pairs = segment_columns(columns)
    end = request.window_params()["end"]
    selected = []
    for column in columns:
        q = quote(column)
        if column in ("customer_id", "last_purchase_date"):
            selected.append(f"coalesce(n.{q}, p.{q}) AS {q}")
        elif column == "days_since":
            selected.append(
                f"CAST(coalesce(n.days_since, datediff({date_literal(end)}, p.last_purchase_date)) AS INT) AS days_since"
            )
        else:
            selected.append(f"n.{q}")
    for pair in pairs:
        before_name, before_code = pair.previous
        selected.append(f"p.{quote(pair.name)} AS {quote(before_name)}")
        selected.append(f"p.{quote(pair.code)} AS {quote(before_code)}")
    selected += [f"n.{k} AS _n{i}" for i, k in enumerate(keys)] + [
        f"p.{k} AS _p{i}" for i, k in enumerate(keys)
    ]
    conditions = []
    if params is not None and params.segment_name is not None:
        conditions.append(_in(params.segment_name, [f"n.{quote(p.name)}" for p in pairs]))
    if params is not None and params.segment_code is not None:
        conditions.append(_in(params.segment_code, [f"n.{quote(p.code)}" for p in pairs]))
    if moved_from == NEW:
        conditions.append("p.customer_id IS NULL")
    elif moved_from is not None:
        conditions.append(_in(moved_from, [f"p.{quote(c)}" for p in pairs for c in (p.name, p.code)]))
    if moved_to == LAPSED:
        conditions.append("n.customer_id IS NULL")
    elif moved_to is not None:
        conditions.append(_in(moved_to, [f"n.{quote(c)}" for p in pairs for c in (p.name, p.code)]))
    joined = now.alias("n").join(before.alias("p"), F.col("n.customer_id") == F.col("p.customer_id"), "full")
    joined = joined.where(" AND ".join(["TRUE", *conditions])).selectExpr(*selected)
    order = [F.col(f"_n{i}").asc_nulls_last() for i in range(len(keys))]
    order += [F.col(f"_p{i}").asc_nulls_last() for i in range(len(keys))]
    return joined.orderBy(*order).drop(
        *[f"_n{i}" for i in range(len(keys))], *[f"_p{i}" for i in range(len(keys))]
    )


def with_customer_list(
    settings: Settings,
    request: ReportRequest,
    params: ReportParams | None,
    use: Callable[[DataFrame], Any],
    moved_from: str | None = None,
    moved_to: str | None = None,
) -> Any:
    """Call `use(list)` with the sorted customer list DataFrame while its window is held."""
    moves = request.compare or moved_from is not None or moved_to is not None
    if moves:
        request = replace(request, compare=True)
        table = settings.tables.get(request.method)
        if table is not None:
            check_table_moves(table, moved_from, moved_to)
    scope = request.load_scope if moves else request.scope
    with loaded(settings, request, scope) as state, spark_errors(state.scan.label):
        if moves:
            listed = _moved_list(state, request, settings, params, moved_from, moved_to)
        else:
            listed = _plain_list(state, request, settings, params)
        return use(listed)


def _two_decimals(listed: DataFrame) -> DataFrame:
    """monetary at 2 decimals when that loses nothing (as render.customers.tidy does)."""
    from pyspark.sql import functions as F

    lossy = listed.agg(F.count_if(F.col("monetary") != F.round("monetary", 2))).collect()[0][0]
    return listed if lossy else listed.withColumn("monetary", F.col("monetary").cast("DECIMAL(38,2)"))


def customer_arrow(
    settings: Settings,
    request: ReportRequest,
    params: ReportParams | None,
    moved_from: str | None = None,
    moved_to: str | None = None,
) -> pyarrow.Table:
    """The list as an Arrow table in this process, refused beyond COLLECT_LIMIT customers."""

    def collect(listed: DataFrame) -> pyarrow.Table:
        table = listed.limit(COLLECT_LIMIT + 1).toArrow()
        if table.num_rows > COLLECT_LIMIT:
            raise DataError(
                f"{settings.source}: more than {COLLECT_LIMIT:,} customers; with --engine spark write the list "
                "from the executors: --format parquet --output DIR_OR_URL"
            )
        return table

    result: pyarrow.Table = with_customer_list(settings, request, params, collect, moved_from, moved_to)
    return result


def write_customer_parquet(
    settings: Settings,
    request: ReportRequest,
    params: ReportParams | None,
    output: str,
    moved_from: str | None = None,
    moved_to: str | None = None,
) -> None:
    """Write the list as a Parquet directory from the executors; a local one appears whole or not at all."""
    local = local_path(output)

    def write(listed: DataFrame) -> None:
        listed = _two_decimals(listed)
        if local is None:  # another file system: Spark's committer publishes on success
            listed.write.mode("overwrite").parquet(output)
            return
        target = os.path.abspath(local)
        staging = f"{target}.segcli-{uuid.uuid4().hex[:8]}"
        try:
            listed.write.parquet(staging)
            old = f"{staging}.old"
            replacing = os.path.lexists(target)
            if replacing:
                os.replace(target, old)
            os.replace(staging, target)
            if replacing and os.path.isdir(old):
                shutil.rmtree(old)
            elif replacing:
                os.unlink(old)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    with_customer_list(settings, request, params, write, moved_from, moved_to)
