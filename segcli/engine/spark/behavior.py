"""Behavior segmentation on Spark: behavior.PROFILE_SQL ported to DataFrames (windows partitioned by customer)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from segcli.engine.methods.behavior import Facet, facet_segments, facets
from segcli.engine.report import SegmentResult
from segcli.engine.spark.exprs import text
from segcli.engine.spark.score import in_scope

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def _first_per_customer(df: DataFrame, *order: Column) -> DataFrame:
    """Each customer's first row in `order` (a window partitioned by customer: no global sort)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rank = F.row_number().over(Window.partitionBy("customer_id").orderBy(*order))
    return df.withColumn("_rank", rank).where("_rank = 1").drop("_rank")


def profile(window: DataFrame, items: DataFrame, start: date, end: date) -> DataFrame:
    """One row per customer in scope: figures and the preferred category / channel / quarter or null."""
    from pyspark.sql import functions as F

    sales = in_scope(window, start, end).select("sale_id", "customer_id", "sale_date", "amount", "channel")
    customers = sales.groupBy("customer_id").agg(
        F.count(F.lit(1)).alias("frequency"),
        F.sum("amount").alias("monetary"),
        F.datediff(F.lit(end), F.max("sale_date")).alias("days_since"),
    )
    by_category = (
        sales.join(items, "sale_id")
        .groupBy("customer_id", "category")
        .agg(F.sum("line_total").alias("spend"))
    )
    item_spend = by_category.groupBy("customer_id").agg(F.sum("spend").alias("total"))
    top_category = _first_per_customer(
        by_category.where("category IS NOT NULL"), F.col("spend").desc(), F.col("category")
    ).select("customer_id", F.col("category").alias("top_category"), F.col("spend").alias("category_spend"))
    top_channel = _first_per_customer(
        sales.where("channel IS NOT NULL")
        .groupBy("customer_id", "channel")
        .agg(F.count(F.lit(1)).alias("n")),
        F.col("n").desc(),
        F.col("channel"),
    ).select("customer_id", F.col("channel").alias("top_channel"), F.col("n").alias("channel_sales"))
    top_quarter = _first_per_customer(
        sales.groupBy("customer_id", F.quarter("sale_date").alias("q")).agg(F.sum("amount").alias("q_spend")),
        F.col("q_spend").desc(),
        F.col("q"),
    )
    joined = (
        customers.join(item_spend, "customer_id", "left")
        .join(top_category, "customer_id", "left")
        .join(top_channel, "customer_id", "left")
        .join(top_quarter, "customer_id", "left")
    )
    return joined.selectExpr(
        "customer_id",
        "frequency",
        "monetary",
        "days_since",
        "CASE WHEN total > 0 AND category_spend * 2 >= total THEN top_category END AS category",
        "CASE WHEN channel_sales * 10 >= 7 * frequency THEN top_channel END AS channel",
        "CASE WHEN monetary > 0 AND q_spend * 10 >= 6 * monetary THEN concat('Q', CAST(q AS STRING)) END AS season",
    )


def window_segments(
    window: DataFrame, items: DataFrame, start: date, end: date, days: int
) -> tuple[tuple[SegmentResult, ...], DataFrame]:
    """The behavior segments of one window, and its profile (persisted) for members and the list."""
    from pyspark.sql import functions as F

    shown = facets(days)
    profiles = profile(window, items, start, end).persist()
    summary = None
    for f in shown:
        part = profiles.groupBy(F.col(f.name).alias("key")).agg(
            F.count(F.lit(1)), F.sum("frequency"), F.sum("monetary"), F.sum("days_since")
        )
        part = part.select(F.lit(f.name).alias("facet"), "*")
        summary = part if summary is None else summary.unionByName(part)
    figures: dict[str, dict[str | None, tuple[int, int, Decimal, int]]] = {f.name: {} for f in shown}
    assert summary is not None
    for facet, key, customers, sales, revenue, days_sum in summary.collect():
        figures[facet][key] = (int(customers), int(sales), Decimal(revenue), int(days_sum))
    sales = in_scope(window, start, end)
    categories = sales.join(items, "sale_id").where("category IS NOT NULL").select("category").distinct()
    channels = sales.where("channel IS NOT NULL").select("channel").distinct()
    seen = {
        "category": {r[0] for r in categories.collect()},
        "channel": {r[0] for r in channels.collect()},
    }
    segments = tuple(s for f in shown for s in facet_segments(f, seen.get(f.name, set()), figures[f.name]))
    return segments, profiles


def _template(template: str, key: str, catch_all: str) -> str:
    before, _, after = template.partition("{name}")
    return f"coalesce(concat({text(before)}, {key}, {text(after)}), {text(catch_all)})"


def code_expr(f: Facet) -> str:
    return _template(f.code, f.name, f.catch_all_code)


def members(profiles: DataFrame, days: int) -> DataFrame:
    """(customer_id, facet, segment_code) per customer and facet."""
    result = None
    for f in facets(days):
        part = profiles.selectExpr(
            "customer_id", f"{text(f.name)} AS facet", f"{code_expr(f)} AS segment_code"
        )
        result = part if result is None else result.unionByName(part)
    assert result is not None
    return result


def customer_list(profiles: DataFrame, end: date, days: int) -> DataFrame:
    """The behavior customer list: figures and each facet's segment name and code, by customer_id."""
    columns = [
        "customer_id",
        f"date_sub(DATE '{end.isoformat()}', CAST(days_since AS INT)) AS last_purchase_date",
        "CAST(days_since AS INT) AS days_since",
        "CAST(frequency AS INT) AS frequency",
        "monetary",
    ]
    for f in facets(days):
        columns += [
            f"{_template(f.label, f.name, f.catch_all)} AS {f.name}_segment",
            f"{code_expr(f)} AS {f.name}_code",
        ]
    return profiles.selectExpr(*columns)
