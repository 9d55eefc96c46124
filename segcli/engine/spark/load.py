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
from datetime import date
from typing import TYPE_CHECKING, Any

from segcli.engine.errors import DataError, SourceError
from segcli.engine.report import INCLUDED_STATUSES
from segcli.engine.schema import ITEM_COLUMNS, SALES_COLUMNS, Column
from segcli.engine.sources import Scope
from segcli.engine.sources.checks import FRACTION_TEXT_RE, NOT_INTEGER, id_problem
from segcli.engine.sources.dialect import CsvDialect, date_hint
from segcli.engine.sources.files import expand_files, file_kind
from segcli.engine.sources.plan import BIGINT_TYPES, ColumnPlan
from segcli.engine.spark.exprs import (
    EXACT_TYPES,
    SparkColumns,
    SparkUnsupported,
    check_date_format,
    duck_type,
    normal_status,
)

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
    read: FileRead | None = None

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


@dataclass(frozen=True)
class FileRead:
    """How Spark reads a file set: the paths (UTF-8 copies of other encodings), the dialect's options."""

    paths: list[str]
    delimiter: str
    decimal: str = "."
    date_format: str | None = None
    keep: Any = None  # the DuckDB file scan whose UTF-8 copies Spark reads: alive while the scan is


def _precheck_local(
    pattern: str, kind: str, mapping: Mapping[str, str], columns: Sequence[Column], dialect: CsvDialect
) -> FileRead:
    """Check local files as the DuckDB engine does (each file's header and columns, encoding, day/month dates).

    The DuckDB path's file check reads headers and sniffs, no rows: its messages, its UTF-8 copies of
    files in another encoding and the date format it decides are then Spark's.
    """
    from segcli.engine.db import connect
    from segcli.engine.sources.files import FileScan

    scan = FileScan(pattern, mapping, columns, dialect)
    con = connect()
    try:
        snap = scan.snapshot()
        with scan.errors():
            scan.plan(con, snap)
        paths = list(snap.read_paths or snap.files)
        delimiter = dialect.delimiter
        if kind == "csv" and delimiter is None:
            options = dialect.read_options(transcoded=paths[0] != snap.files[0])
            args = "".join(f", {name} = $csv_{name}" for name in options)
            params = {"file": paths[0], **{f"csv_{name}": value for name, value in options.items()}}
            with scan.errors():
                delimiter = con.execute(f"SELECT Delimiter FROM sniff_csv($file{args})", params).fetchall()[
                    0
                ][0]
        return FileRead(paths, delimiter or ",", dialect.decimal, snap.date_format, scan)
    finally:
        con.close()


def _refuse_dialect(dialect: CsvDialect) -> None:
    """Files Spark reads itself (not local): only the default dialect, or a clear refusal."""
    given = [
        flag
        for flag, value in (
            ("--delimiter", dialect.delimiter),
            ("--decimal-separator", None if dialect.decimal == "." else dialect.decimal),
            ("--encoding", None if dialect.encoding == "utf-8" else dialect.encoding),
            ("--date-format", dialect.date_format),
        )
        if value is not None
    ]
    if given:
        raise SparkUnsupported(f"{', '.join(given)} on files that are not local")


def read_scan(
    spark: SparkSession,
    location: str,
    mapping: Mapping[str, str],
    columns: Sequence[Column],
    dialect: CsvDialect | None = None,
) -> SparkScan:
    """Read a location: `table:NAME`, or CSV/Parquet files (a path, glob or file system URL)."""
    dialect = dialect or CsvDialect()
    read = FileRead([location], ",")
    if location.startswith(TABLE_PREFIX):
        df, kind = spark.table(location.removeprefix(TABLE_PREFIX)), "table"
    else:
        _not_a_database(location)
        kind = file_kind(location)
        local = local_path(location)
        if local is not None:
            read = _precheck_local(local, kind, mapping, columns, dialect)
        elif kind == "csv":
            _refuse_dialect(dialect)
        if kind == "csv":
            df = _read_csv(spark, read, local is not None)
        else:
            df = spark.read.option("mergeSchema", "true").parquet(*read.paths)
    types = {f.name: duck_type(f.dataType) for f in df.schema.fields}
    plan = ColumnPlan(location, types, mapping, columns, decimal=read.decimal, date_format=read.date_format)
    if kind == "csv":
        df, plan = _sniff_integer_ids(df, plan, location, mapping, columns)
    check_date_format(plan)
    return SparkScan(location, df, plan, kind, read)


def _read_csv(spark: SparkSession, files: FileRead, local: bool) -> DataFrame:
    """CSV files as text columns, united by column name (as DuckDB's union_by_name) when local headers differ."""
    paths = files.paths

    def read(files_: list[str]) -> DataFrame:
        return spark.read.csv(
            files_, header=True, inferSchema=False, escape='"', enforceSchema=False, sep=files.delimiter
        )

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
    return df, ColumnPlan(label, types, mapping, columns, decimal=plan.decimal, date_format=plan.date_format)


def open_sales(
    spark: SparkSession, location: str, mapping: Mapping[str, str], dialect: CsvDialect | None = None
) -> SparkScan:
    return read_scan(spark, location, mapping, SALES_COLUMNS, dialect)


def open_items(
    spark: SparkSession, location: str, mapping: Mapping[str, str], dialect: CsvDialect | None = None
) -> SparkScan:
    return read_scan(spark, location, mapping, ITEM_COLUMNS, dialect)


def business_predicate(scan: SparkScan, scope: Scope, default_business_id: int) -> str:
    if scan.plan.has("business_id"):
        return f"{scan.cols.int_expr('business_id')} = {int(scope.business_id)}"
    return "TRUE" if scope.business_id == default_business_id else "FALSE"


def storefront_predicate(scan: SparkScan, scope: Scope) -> str | None:
    if scope.storefront_id is None:
        return None
    scan.plan.require_storefront()
    return f"{scan.cols.int_expr('storefront_id')} = {int(scope.storefront_id)}"


def check_business_rows(scan: SparkScan, business: str, storefront: str | None) -> date | None:
    """Check all the business's rows as sources/checks.py does (exact ids, every date); its last sale date.

    One pass finds the failing checks (an example is fetched only for those); it also gives the last
    sale (any status, any date, of the business and storefront) for the warnings.
    """
    from pyspark.sql import functions as F

    plan, cols, label = scan.plan, scan.cols, scan.label
    conditions: dict[str, str] = {}  # column (or 'date') -> the condition a bad row meets
    if plan.has("business_id"):
        conditions["business_id"] = f"{cols.int_expr('business_id')} IS NULL"
    if storefront is not None and plan.kind("storefront_id") not in BIGINT_TYPES:
        conditions["storefront_id"] = (
            f"{business} AND nullif(trim({cols.raw_text('storefront_id')}), '') IS NOT NULL "
            f"AND {cols.int_expr('storefront_id')} IS NULL"
        )
    for name in ("sale_id", "customer_id"):  # text ids are checked in the loaded rows
        if plan.kind(name) not in BIGINT_TYPES | {"VARCHAR"}:
            conditions[name] = f"{business} AND {cols.raw(name)} IS NOT NULL AND {cols.id_expr(name)} IS NULL"
    conditions["date"] = f"{business} AND ({cols.date_expr()}) IS NULL"
    scoped = " AND ".join(p for p in (business, storefront) if p)
    last = F.max(F.expr(f"CASE WHEN {scoped} THEN {cols.date_expr()} END"))
    found = scan.df.agg(
        *[F.coalesce(F.bool_or(F.expr(c)), F.lit(False)) for c in conditions.values()], last
    ).collect()[0]
    failing = {name for name, bad in zip(conditions, found[:-1], strict=True) if bad}
    sale_id = f"coalesce(CAST({cols.id_expr('sale_id')} AS STRING), {cols.raw_text('sale_id')})"
    for name, condition in conditions.items():
        if name not in failing:
            continue
        value_text = cols.raw_text("sale_date" if name == "date" else name)
        if name != "date" and plan.kind(name) == "DECIMAL":  # as written: 1.5, not 1.5000000000
            value_text = (
                f"CASE WHEN contains({value_text}, '.') "
                f"THEN regexp_replace(regexp_replace({value_text}, '0+$', ''), '[.]$', '') ELSE {value_text} END"
            )
        rows = scan.df.where(condition).selectExpr(value_text, sale_id).limit(1).collect()
        if not rows:
            continue
        value, sale = rows[0]
        where = "" if name == "sale_id" else f" (sale_id {sale})"
        if name != "date":
            raise DataError(f"{label}: {plan.describe(name)} {id_problem(value)}{where}")
        if value is None or not value.strip():
            raise DataError(f"{label}: {plan.describe('sale_date')} is empty{where}")
        raise DataError(
            f"{label}: {plan.describe('sale_date')} has a value that is not a date: "
            f"{quote_value(value)}{where}{date_hint(value, plan.date_format)}"
        )
    last_sale = found[-1]
    return last_sale if isinstance(last_sale, date) else None


def window_frame(scan: SparkScan, scope: Scope, default_business_id: int) -> tuple[DataFrame, date | None]:
    """The scope's rows (every status) with canonical columns, and the last sale date of its business."""
    from pyspark.sql import functions as F

    plan, cols = scan.plan, scan.cols
    business = business_predicate(scan, scope, default_business_id)
    storefront = storefront_predicate(scan, scope)
    last_sale = check_business_rows(scan, business, storefront)
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
    return window.withColumn("amount", F.col("_total_amount") - refunded), last_sale


def _money_checks(plan: ColumnPlan) -> list[tuple[str, str, str]]:
    """(what is wrong, condition, column) per check of text ids and money, in the DuckDB path's order."""
    checks = []
    for name in ("sale_id", "customer_id"):  # numeric ids were checked on the source's raw values
        if plan.kind(name) == "VARCHAR":
            checks.append((NOT_INTEGER, f"{name} rlike '^{FRACTION_TEXT_RE}$'", name))
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
            checks.append(
                ("has more than 4 decimal places", f"_raw_{name} rlike '{plan.too_many_decimals}'", name)
            )
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
            if name in ("sale_id", "customer_id"):
                raw = name
            else:
                raw = f"_raw_{name}" if plan.kind(name) not in EXACT_TYPES else "CAST(NULL AS STRING)"
            example = window.where(condition).selectExpr("sale_id", raw).orderBy("sale_id").first()
            assert example is not None  # counted above
            sale_id, value = example
            where = "" if name == "sale_id" else f" (sale_id {sale_id})"
            if value is None or not str(value).strip():
                raise DataError(f"{label}: {plan.describe(name)} is empty{where}")
            raise DataError(f"{label}: {plan.describe(name)} {what}: {quote_value(value)}{where}")
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

    def currency(self, start: Any, end: Any) -> str | None:
        """The currency of the sales in scope dated in [start, end] (the load checked there is one), or None."""
        found = sorted(
            {
                c
                for day, s, anonymous, c, _ in self.rows
                if start <= day <= end and s in INCLUDED_STATUSES and not anonymous and c is not None
            }
        )
        return found[0] if found else None


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
