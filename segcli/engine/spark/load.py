"""Sources on Spark: CSV/Parquet paths, globs or URLs and catalog tables, read into the canonical window.

The window DataFrame has the columns of DuckDB's `window_sales` (sale_id, customer_id,
sale_date, status, amount, channel/currency when present) for a scope: the business's rows
dated in the range, every status. The scope's filters are written on the raw columns so a
Parquet scan prunes. Bad data (SPEC 1.4) raises the DuckDB path's messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from segcli.engine.errors import DataError, SourceError
from segcli.engine.report import INCLUDED_STATUSES
from segcli.engine.schema import ITEM_COLUMNS, SALES_COLUMNS, Column
from segcli.engine.sources import Scope
from segcli.engine.sources.files import expand_files, file_kind
from segcli.engine.sources.plan import ColumnPlan
from segcli.engine.spark.exprs import EXACT_TYPES, INT_TYPES, SparkColumns, duck_type, normal_status

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TABLE_PREFIX = "table:"  # --source table:db.sales reads a catalog table
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_CSV_SNIFF_ROWS = 20480  # DuckDB's CSV sniffer sample: ids it reads as integers there are integers
_INT_TEXT = r"^\s*[+-]?[0-9]{1,18}\s*$"


def local_path(location: str) -> str | None:
    """The local path a location names (a plain path or file://), else None (another file system)."""
    if location.startswith("file://"):
        return location.removeprefix("file://")
    return None if _SCHEME_RE.match(location) else location


def quote_value(value: Any) -> str:
    text = str(value)
    return f"'{text[:60]}…'" if len(text) > 60 else f"'{text}'"


@dataclass
class SparkScan:
    """A raw DataFrame of one source with its canonical columns planned."""

    label: str
    df: DataFrame
    plan: ColumnPlan
    kind: str  # csv, parquet, table

    @property
    def cols(self) -> SparkColumns:
        return SparkColumns(self.plan)


def _not_a_database(location: str) -> None:
    if re.match(r"^postgres(ql)?://", location, re.IGNORECASE) or location.lower().endswith(".duckdb"):
        raise SourceError(
            f"{location}: --engine spark reads CSV/Parquet files and catalog tables (table:NAME); "
            "use --engine duckdb for this source"
        )


def check_location(location: str) -> None:
    """Raise the DuckDB path's error for a file location of unknown type or naming no file."""
    if location.startswith(TABLE_PREFIX):
        return
    file_kind(location)
    local = local_path(location)
    if local is not None:
        expand_files(local)


def read_scan(
    spark: SparkSession, location: str, mapping: Mapping[str, str], columns: Sequence[Column]
) -> SparkScan:
    """Read a location: `table:NAME`, or CSV/Parquet files (a path, glob or file system URL)."""
    if location.startswith(TABLE_PREFIX):
        df, kind = spark.table(location.removeprefix(TABLE_PREFIX)), "table"
    else:
        _not_a_database(location)
        kind = file_kind(location)
        local = local_path(location)
        paths = expand_files(local) if local is not None else [location]
        if kind == "csv":
            df = _read_csv(spark, paths, local is not None)
        else:
            df = spark.read.option("mergeSchema", "true").parquet(*paths)
    types = {f.name: duck_type(f.dataType) for f in df.schema.fields}
    plan = ColumnPlan(location, types, mapping, columns)
    if kind == "csv":
        df, plan = _sniff_integer_ids(df, plan, location, mapping, columns)
    return SparkScan(location, df, plan, kind)


def _read_csv(spark: SparkSession, paths: list[str], local: bool) -> DataFrame:
    """CSV files as text columns, united by column name (as DuckDB's union_by_name) when local headers differ."""

    def read(files: list[str]) -> DataFrame:
        return spark.read.csv(files, header=True, inferSchema=False, escape='"', enforceSchema=False)

    if not local or len(paths) == 1:
        return read(paths)
    by_header: dict[str, list[str]] = {}
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            by_header.setdefault(handle.readline().strip(), []).append(path)
    frames = [read(files) for files in by_header.values()]
    united = frames[0]
    for frame in frames[1:]:
        united = united.unionByName(frame, allowMissingColumns=True)
    return united


def _sniff_integer_ids(
    df: DataFrame, plan: ColumnPlan, label: str, mapping: Mapping[str, str], columns: Sequence[Column]
) -> tuple[DataFrame, ColumnPlan]:
    """CSV ids typed as DuckDB's sniffer types them: integers when every value is one, else text.

    An id column that looks integral in the sniffer's sample but holds text later makes DuckDB
    re-read the whole file as text, so then every id stays text here too.
    """
    from pyspark.sql import functions as F

    ids = [c.name for c in columns if c.kind == "id" and plan.has(c.name)]
    if not ids:
        return df, plan
    checks = [
        F.coalesce(
            F.bool_and(F.col(plan.source_of[c]).isNull() | F.col(plan.source_of[c]).rlike(_INT_TEXT)),
            F.lit(True),
        )
        for c in ids
    ]
    whole = df.agg(*checks).collect()[0]
    sample = df.limit(_CSV_SNIFF_ROWS).agg(*checks).collect()[0]
    if any(sample[i] and not whole[i] for i in range(len(ids))):
        return df, plan
    integral = [plan.source_of[c] for i, c in enumerate(ids) if whole[i]]
    if not integral:
        return df, plan
    df = df.select(
        *[
            F.trim(F.col(f"`{n}`")).cast("bigint").alias(n) if n in integral else F.col(f"`{n}`")
            for n in df.columns
        ]
    )
    types = {f.name: duck_type(f.dataType) for f in df.schema.fields}
    return df, ColumnPlan(label, types, mapping, columns)


def open_sales(spark: SparkSession, location: str, mapping: Mapping[str, str]) -> SparkScan:
    return read_scan(spark, location, mapping, SALES_COLUMNS)


def open_items(spark: SparkSession, location: str, mapping: Mapping[str, str]) -> SparkScan:
    return read_scan(spark, location, mapping, ITEM_COLUMNS)


def business_predicate(scan: SparkScan, scope: Scope, default_business_id: int) -> str:
    if scan.plan.has("business_id"):
        return f"{scan.cols.int_expr('business_id')} = {int(scope.business_id)}"
    return "TRUE" if scope.business_id == default_business_id else "FALSE"


def storefront_predicate(scan: SparkScan, scope: Scope) -> str | None:
    if scope.storefront_id is None:
        return None
    scan.plan.require_storefront()
    return f"{scan.cols.int_expr('storefront_id')} = {int(scope.storefront_id)}"


def check_business_rows(scan: SparkScan, business: str, storefront: str | None) -> None:
    """Checks over all the business's rows: business and storefront ids and every date (one pass)."""
    from pyspark.sql import functions as F

    plan, cols, label = scan.plan, scan.cols, scan.label
    conditions: dict[str, str] = {}
    if plan.has("business_id"):
        conditions["business"] = f"{cols.int_expr('business_id')} IS NULL"
    if storefront is not None and plan.kind("storefront_id") not in INT_TYPES:
        conditions["storefront"] = (
            f"{business} AND nullif(trim({cols.raw_text('storefront_id')}), '') IS NOT NULL "
            f"AND {cols.int_expr('storefront_id')} IS NULL"
        )
    conditions["date"] = f"{business} AND ({cols.date_expr()}) IS NULL"
    found = scan.df.agg(
        *[F.coalesce(F.bool_or(F.expr(c)), F.lit(False)) for c in conditions.values()]
    ).collect()[0]
    failing = {name for name, bad in zip(conditions, found, strict=True) if bad}

    def example(condition: str, *columns: str) -> Any:
        rows = scan.df.where(condition).selectExpr(*columns).limit(1).collect()
        return rows[0] if rows else None

    if "business" in failing:
        bad = example(conditions["business"], cols.raw_text("business_id"))
        if bad is not None:
            value = bad[0]
            if value is None or not value.strip():
                raise DataError(f"{label}: {plan.describe('business_id')} has an empty value")
            raise DataError(
                f"{label}: {plan.describe('business_id')} has a value that is not an integer: {quote_value(value)}"
            )
    if "storefront" in failing:
        bad = example(conditions["storefront"], cols.raw_text("storefront_id"))
        if bad is not None:
            raise DataError(
                f"{label}: {plan.describe('storefront_id')} has a value that is not an integer: "
                f"{quote_value(bad[0])}"
            )
    if "date" in failing:
        bad = example(conditions["date"], cols.raw_text("sale_date"), cols.id_expr("sale_id"))
        if bad is not None:
            value, sale_id = bad
            if value is None or not value.strip():
                raise DataError(f"{label}: {plan.describe('sale_date')} is empty (sale_id {sale_id})")
            raise DataError(
                f"{label}: {plan.describe('sale_date')} has a value that is not a date: "
                f"{quote_value(value)} (sale_id {sale_id})"
            )


def window_frame(scan: SparkScan, scope: Scope, default_business_id: int) -> DataFrame:
    """The scope's rows (every status) with canonical columns; filters on raw columns first."""
    from pyspark.sql import functions as F

    plan, cols = scan.plan, scan.cols
    business = business_predicate(scan, scope, default_business_id)
    storefront = storefront_predicate(scan, scope)
    check_business_rows(scan, business, storefront)
    where = " AND ".join(
        p for p in (business, cols.date_predicate(scope.start_date, scope.end_exclusive), storefront) if p
    )
    raw_status = f"CAST({cols.raw('status')} AS STRING)"
    select = [
        f"{cols.id_expr('sale_id')} AS sale_id",
        f"{cols.id_expr('customer_id')} AS customer_id",
        f"{cols.date_expr()} AS sale_date",
        f"{normal_status(raw_status)} AS status",
    ]
    select += [f"{cols.text_expr(n)} AS {n}" for n in ("channel", "currency") if plan.has(n)]
    for name in ("total_amount", "amount_refunded"):
        if plan.has(name):
            select.append(f"{cols.money_expr(name)} AS _{name}")
            if plan.kind(name) not in EXACT_TYPES:
                select.append(f"{cols.raw_text(name)} AS _raw_{name}")
    window = scan.df.where(where).selectExpr(*select)
    refunded = F.coalesce(F.col("_amount_refunded"), F.lit(0)) if plan.has("amount_refunded") else F.lit(0)
    return window.withColumn("amount", F.col("_total_amount") - refunded)


def _money_checks(plan: ColumnPlan) -> list[tuple[str, str, str]]:
    """(what is wrong, condition, money column) per check, in the DuckDB path's order."""
    checks = []
    for name in ("total_amount", "amount_refunded"):
        if not plan.has(name):
            continue
        exact = plan.kind(name) in EXACT_TYPES
        if name == "total_amount":
            bad = f"_{name} IS NULL"
        else:  # amount_refunded may be empty (= 0) but never unreadable
            bad = "FALSE" if exact else f"_{name} IS NULL AND nullif(trim(_raw_{name}), '') IS NOT NULL"
        checks.append(("has a value that is not a number", bad, name))
        if plan.kind(name) == "VARCHAR":
            checks.append(("has more than 4 decimal places", f"_raw_{name} rlike '[.][0-9]{{5,}}'", name))
    return checks


def check_window(scan: SparkScan, window: DataFrame) -> None:
    """Raise DataError for the first empty sale_id, unreadable amount or duplicate sale_id (SPEC 1.4)."""
    from pyspark.sql import functions as F

    plan, label = scan.plan, scan.label
    checks = _money_checks(plan)
    counts = window.agg(
        F.count_if(F.col("sale_id").isNull()), *[F.count_if(F.expr(c)) for _, c, _ in checks]
    ).collect()[0]
    if counts[0]:
        raise DataError(f"{label}: {plan.describe('sale_id')} has an empty value")
    for (what, condition, name), count in zip(checks, counts[1:], strict=True):
        if count:
            raw = f"_raw_{name}" if plan.kind(name) not in EXACT_TYPES else "CAST(NULL AS STRING)"
            example = window.where(condition).selectExpr("sale_id", raw).orderBy("sale_id").first()
            assert example is not None  # counted above
            sale_id, value = example
            if value is None or not str(value).strip():
                raise DataError(f"{label}: {plan.describe(name)} is empty (sale_id {sale_id})")
            raise DataError(
                f"{label}: {plan.describe(name)} {what}: {quote_value(value)} (sale_id {sale_id})"
            )
    duplicate = window.groupBy("sale_id").count().where("count > 1").orderBy("sale_id").first()
    if duplicate is not None:
        raise DataError(
            f"{label}: {plan.describe('sale_id')} has a duplicate value "
            f"{quote_value(duplicate[0])} ({duplicate[1]} rows in the business)"
        )


@dataclass(frozen=True)
class Groups:
    """The window's rows counted per day, status, anonymity and currency (a small result)."""

    rows: list[tuple[Any, str, bool, str | None, int]]

    def quality_rows(self, start: Any, end: Any) -> list[tuple[str, bool, int]]:
        """(status, anonymous, rows) of the rows dated in [start, end], as DuckDB's quality query gives them."""
        totals: dict[tuple[str, bool], int] = {}
        for day, status, anonymous, _, rows in self.rows:
            if start <= day <= end:
                totals[(status, anonymous)] = totals.get((status, anonymous), 0) + rows
        return [(s, a, n) for (s, a), n in sorted(totals.items())]


def window_groups(scan: SparkScan, window: DataFrame) -> Groups:
    """Count the window into groups and check it holds one currency in scope."""
    currency = "currency" if scan.plan.has("currency") else "CAST(NULL AS STRING)"
    rows = (
        window.selectExpr(
            "sale_date", "status", "customer_id IS NULL AS anonymous", f"{currency} AS currency"
        )
        .groupBy("sale_date", "status", "anonymous", "currency")
        .count()
        .collect()
    )
    groups = Groups([(r[0], r[1], bool(r[2]), r[3], int(r[4])) for r in rows])
    if scan.plan.has("currency"):
        currencies = sorted(
            {
                c
                for _, s, anonymous, c, _ in groups.rows
                if s in INCLUDED_STATUSES and not anonymous and c is not None
            }
        )[:5]
        if len(currencies) > 1:
            raise DataError(
                f"{scan.label}: {scan.plan.describe('currency')} holds more than one currency in scope "
                f"({', '.join(currencies)}); report on one currency at a time"
            )
    return groups


def window_items(items: SparkScan, window: DataFrame) -> DataFrame:
    """The items of the window's sales (sale_id, category, line_total), checked: every line_total a number."""
    cols = items.cols
    frame = items.df.selectExpr(
        f"{cols.id_expr('sale_id')} AS sale_id",
        f"{cols.text_expr('category')} AS category",
        f"{cols.money_expr('line_total')} AS line_total",
        f"{cols.raw_text('line_total')} AS _raw_line_total",
    ).join(window.select("sale_id"), "sale_id", "left_semi")
    bad = frame.where("line_total IS NULL").select("sale_id", "_raw_line_total").limit(1).collect()
    if bad:
        raise DataError(
            f"{items.label}: {items.plan.describe('line_total')} has a value that is not a number: "
            f"{quote_value(bad[0][1])} (sale_id {bad[0][0]})"
        )
    return frame.drop("_raw_line_total")


def source_identity(location: str, items: str | None) -> str | None:
    """Local files' resolved paths, sizes and mtimes (for the cache), or None when not all are local files."""
    parts: list[Any] = []
    for pattern in (location, items):
        if pattern is None:
            continue
        local = local_path(pattern)
        if local is None or pattern.startswith(TABLE_PREFIX):
            return None
        try:
            files = expand_files(local)
        except SourceError:
            return None
        parts.append([(os.path.realpath(p), os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in files])
    return repr(parts)
