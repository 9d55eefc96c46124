"""The customer list on Spark: written by the executors as Parquet, or a capped Arrow table for small lists."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from segcli.engine.errors import DataError
from segcli.engine.methods.behavior import BehaviorMethod
from segcli.engine.methods.behavior import facets as behavior_facets
from segcli.engine.methods.scored import _require
from segcli.engine.params import ReportParams, check_segment_filter
from segcli.engine.spark import behavior as spark_behavior
from segcli.engine.spark.exprs import text
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


def _scored_list(
    state: Loaded, request: ReportRequest, settings: Settings, params: ReportParams | None
) -> DataFrame:
    from pyspark.sql import functions as F

    table = _require(settings.tables.get(request.method), request.method)
    window = request.window_params()
    scored, figures = scored_customers(state.window, window["start"], window["end"], window["days"])
    state.keep(figures)
    index, name, code = segment_lookup(table, [F.col("r"), F.col("f"), F.col("m")])
    listed = scored.select(
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
    if params is not None and params.segment_name is not None:
        listed = listed.where(F.col("segment_name") == params.segment_name)
    if params is not None and params.segment_code is not None:
        listed = listed.where(F.col("segment_code") == params.segment_code)
    return listed.orderBy("_index", "customer_id").drop("_index")


def _behavior_list(state: Loaded, request: ReportRequest, params: ReportParams | None) -> DataFrame:
    assert state.items is not None
    window = request.window_params()
    segments, profiles = spark_behavior.window_segments(
        state.window, state.items, window["start"], window["end"], window["days"]
    )
    state.keep(profiles)
    if params is not None:  # the segments (from the data) check the filter
        check_segment_filter(params, [s.name for s in segments], [s.code for s in segments])
    listed = spark_behavior.customer_list(profiles, request.as_of, request.days)
    listed = listed.withColumn("monetary", listed["monetary"].cast(_money_type(listed)))
    facets = behavior_facets(request.days)
    if params is not None and params.segment_name is not None:
        listed = listed.where(
            f"{text(params.segment_name)} IN ({', '.join(f'{f.name}_segment' for f in facets)})"
        )
    if params is not None and params.segment_code is not None:
        listed = listed.where(
            f"{text(params.segment_code)} IN ({', '.join(f'{f.name}_code' for f in facets)})"
        )
    return listed.orderBy("customer_id")


def with_customer_list(
    settings: Settings,
    request: ReportRequest,
    params: ReportParams | None,
    use: Callable[[DataFrame], Any],
) -> Any:
    """Call `use(list)` with the sorted customer list DataFrame while its window is held."""
    with loaded(settings, request, request.scope) as state, spark_errors(state.scan.label):
        if isinstance(spark_method(request.method), BehaviorMethod):
            listed = _behavior_list(state, request, params)
        else:
            listed = _scored_list(state, request, settings, params)
        return use(listed)


def _two_decimals(listed: DataFrame) -> DataFrame:
    """monetary at 2 decimals when that loses nothing (as render.customers.tidy does)."""
    from pyspark.sql import functions as F

    lossy = listed.agg(F.count_if(F.col("monetary") != F.round("monetary", 2))).collect()[0][0]
    return listed if lossy else listed.withColumn("monetary", F.col("monetary").cast("DECIMAL(38,2)"))


def customer_arrow(settings: Settings, request: ReportRequest, params: ReportParams | None) -> pyarrow.Table:
    """The list as an Arrow table in this process, refused beyond COLLECT_LIMIT customers."""

    def collect(listed: DataFrame) -> pyarrow.Table:
        table = listed.limit(COLLECT_LIMIT + 1).toArrow()
        if table.num_rows > COLLECT_LIMIT:
            raise DataError(
                f"{settings.source}: more than {COLLECT_LIMIT:,} customers; with --engine spark write the list "
                "from the executors: --format parquet --output DIR_OR_URL"
            )
        return table

    result: pyarrow.Table = with_customer_list(settings, request, params, collect)
    return result


def write_customer_parquet(
    settings: Settings, request: ReportRequest, params: ReportParams | None, output: str
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

    with_customer_list(settings, request, params, write)
