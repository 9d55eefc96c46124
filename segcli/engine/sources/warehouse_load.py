"""`segcli load`: every sale (and item) of a source, checked, copied into a warehouse file.

A load builds a new file next to the target and renames it into place: a failed load
leaves the previous warehouse untouched, and readers never see half a load. Writers take
turns: a load holds an exclusive lock on `<db>.lock` from its first look at the target to
the rename, so two appends never start from the same old file (and lose one). Memory is
bounded: DuckDB spills to a folder beside the target. The layout is in `warehouse.py`.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segcli.engine.db import connect, duckdb_errors
from segcli.engine.engines.duckdb import DuckDBExecutor
from segcli.engine.errors import DataError, InvalidParameter
from segcli.engine.filelock import exclusive_lock
from segcli.engine.sources.base import MONEY_TYPE, Source, quote_value
from segcli.engine.sources.checks import check_business_rows, check_items, check_values
from segcli.engine.sources.plan import (
    INT_TYPES,
    TS_NAIVE,
    ColumnPlan,
    ScopeFilter,
    items_select,
    money_columns,
)
from segcli.engine.sources.warehouse import ITEMS, META, SALES, WarehouseSource, table_columns
from segcli.engine.sql import quote_ident

if TYPE_CHECKING:
    import duckdb

LOAD_MEMORY_LIMIT = "500MB"  # DuckDB's share; the process peaks a few hundred MB above it
# Date strings of one kind can be stored typed; a mix stays text (parsed per report, like a file)
_NAIVE_RE = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
_OFFSET_RE = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)"
_META_SQL = f"""
CREATE TABLE out.{META} (
    load_id VARCHAR, loaded_at TIMESTAMPTZ, mode VARCHAR, source VARCHAR,
    sales_rows BIGINT, items_rows BIGINT, total_sales BIGINT, total_items BIGINT
)
"""


LOCK_WAIT = 600.0  # seconds a load waits for another writer of the same warehouse


def _remove_stale_temp_files(target: Path) -> None:
    """Temp files (and spill folders) of loads that died (kill -9): with the lock held, no other load owns one."""
    for path in target.parent.glob(f".{glob.escape(target.name)}.*.tmp*"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


@dataclass(frozen=True)
class LoadResult:
    """What a load wrote: the rows it added and the warehouse's totals after it."""

    sales_rows: int
    items_rows: int | None
    total_sales: int
    total_items: int | None


def _stored_id(plan: ColumnPlan, name: str) -> str:
    kind = plan.kind(name)
    target = "VARCHAR" if kind in ("VARCHAR", "UUID") else "BIGINT"  # numbers were checked to be exact
    return f"CAST({plan.id_expr(name)} AS {target}) AS {name}"


def _stored_date(con: duckdb.DuckDBPyConnection, plan: ColumnPlan, relation: str) -> str:
    """sale_date as it is kept: typed as the source typed it; text typed when all of one kind."""
    raw, kind = plan.raw("sale_date"), plan.kind("sale_date")
    if plan.date_format is not None or kind in INT_TYPES:  # --date-format text, YYYYMMDD: kept as dates
        return plan.date_expr()
    if kind in TS_NAIVE:
        return f"CAST({raw} AS TIMESTAMP)"
    if kind != "VARCHAR":
        return raw
    text = f"trim({raw})"
    naive, offset = con.execute(
        f"SELECT bool_and(regexp_full_match({text}, $naive)), bool_and(regexp_full_match({text}, $offset)) "
        f"FROM {relation}",
        {"naive": _NAIVE_RE, "offset": _OFFSET_RE},
    ).fetchall()[0]
    if naive:
        return f"CAST({text} AS TIMESTAMP)"
    if offset:
        return f"CAST({text} AS TIMESTAMPTZ)"
    return text


def _check_fits(con: duckdb.DuckDBPyConnection, plan: ColumnPlan, table: str, column: str, name: str) -> None:
    """Money is stored as DECIMAL(18,4): a value that would be rounded or overflow is an error."""
    bad = con.execute(
        f"SELECT sale_id, CAST({column} AS VARCHAR) FROM {table} "
        f"WHERE TRY_CAST({column} AS {MONEY_TYPE}) IS DISTINCT FROM {column} LIMIT 1"
    ).fetchall()
    if bad:
        raise DataError(
            f"{plan.label}: {plan.describe(name)} has a value that does not fit {MONEY_TYPE} "
            f"(at most 4 decimal places): {quote_value(bad[0][1])} (sale_id {bad[0][0]})"
        )


def stage_sales(
    con: duckdb.DuckDBPyConnection, plan: ColumnPlan, relation: str, params: dict[str, Any], business_id: int
) -> None:
    """Every row of a relation into `load_sales` with the warehouse's columns, checked as SPEC 1.4."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE load_raw AS SELECT * FROM {relation}", params)
    every = ScopeFilter("TRUE", "TRUE", "TRUE" if plan.has("storefront_id") else None, {})
    check_business_rows(DuckDBExecutor(con, plan.label), plan, "load_raw", {}, every, bigint=True)
    business = plan.int_expr("business_id") if plan.has("business_id") else "$business_id"
    cols = [
        _stored_id(plan, "sale_id"),
        f"CAST({business} AS BIGINT) AS business_id",
        _stored_id(plan, "customer_id"),
        f"{_stored_date(con, plan, 'load_raw')} AS sale_date",
        f"CAST({plan.raw('status')} AS VARCHAR) AS status",
    ]
    if plan.has("storefront_id"):
        cols.append(f"CAST({plan.int_expr('storefront_id')} AS BIGINT) AS storefront_id")
    cols += [f"{plan.text_expr(name)} AS {name}" for name in ("channel", "currency") if plan.has(name)]
    cols += money_columns(plan)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE load_sales AS SELECT {', '.join(cols)} FROM load_raw",
        {"business_id": business_id} if not plan.has("business_id") else {},
    )
    con.execute("DROP TABLE load_raw")
    check_values(DuckDBExecutor(con, plan.label), plan, "load_sales", key=("business_id", "sale_id"))
    for name in ("total_amount", "amount_refunded"):
        if plan.has(name):
            _check_fits(con, plan, "load_sales", f"_{name}", name)


def stage_items(
    con: duckdb.DuckDBPyConnection, plan: ColumnPlan, relation: str, params: dict[str, Any]
) -> None:
    """Every item of a relation into `load_items`, checked."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE load_items AS {items_select(plan, relation)}", params)
    check_items(DuckDBExecutor(con, plan.label), plan, "load_items")
    _check_fits(con, plan, "load_items", "line_total", "line_total")


def _aligned(con: duckdb.DuckDBPyConnection, label: str, db: str, new: str, old: str) -> str:
    """`new` with the warehouse's column types: a column typed otherwise is cast when every value converts
    (a date kept as a timestamp, text dates or ids kept as text); time zones and lossy casts are an error."""
    new_types, old_types = table_columns(con, new), table_columns(con, old)
    cols = []
    for name, new_type in new_types.items():
        old_type = old_types.get(name, new_type)
        column = quote_ident(name)
        if old_type == new_type:
            cols.append(column)
            continue
        zoned = "TIME ZONE" in f"{old_type} {new_type}"
        cast = (
            f"CAST({column} AS {old_type})" if old_type == "VARCHAR" else f"TRY_CAST({column} AS {old_type})"
        )
        bad = (
            None
            if old_type == "VARCHAR" and not zoned
            else con.execute(
                f"SELECT CAST({column} AS VARCHAR) FROM {new} WHERE {column} IS NOT NULL AND {cast} IS NULL LIMIT 1"
            ).fetchall()
        )
        if zoned or bad:
            example = f" (e.g. {quote_value(bad[0][0])})" if bad else ""
            raise DataError(
                f"{label}: cannot append to {db}: column '{name}' is {new_type} here "
                f"but {old_type} in the warehouse{example}"
            )
        cols.append(f"{cast} AS {column}")
    return f"(SELECT {', '.join(cols)} FROM {new})"


def _sales_out(con: duckdb.DuckDBPyConnection) -> str:
    present = set(table_columns(con, "load_sales"))
    order = ["sale_id", "business_id", "storefront_id", "customer_id", "sale_date"]
    cols = [c for c in order if c in present]
    cols += [
        f"CAST(_{m} AS {MONEY_TYPE}) AS {m}"
        for m in ("total_amount", "amount_refunded")
        if f"_{m}" in present
    ]
    cols += [c for c in ("status", "channel", "currency") if c in present]
    return f"SELECT {', '.join(cols)} FROM load_sales"


def load_warehouse(
    source: Source,
    db: str,
    *,
    replace: bool = False,
    append: bool = False,
    items: bool = False,
    wait: float = LOCK_WAIT,
    step: Callable[[str], None] = lambda message: None,
) -> LoadResult:
    """Copy every sale (and item) of a source into the warehouse file `db`, all or nothing, one writer at a time.

    `step` hears which step the load has reached (1/3 reading and checking, 2/3 sorting and writing, ...).
    """
    target = Path(db)
    if not target.parent.is_dir():
        raise InvalidParameter(f"Invalid --db: folder {target.parent} does not exist")
    if replace and append:
        raise InvalidParameter("Use either --replace or --append, not both")
    if not (math.isfinite(wait) and 0 <= wait <= 86_400):
        raise InvalidParameter("Invalid --wait. Must be a number of seconds between 0 and 86400")
    busy = f"{target}: another load is writing this warehouse (waited {wait:g} s); try again when it is done"
    with exclusive_lock(target.with_name(target.name + ".lock"), wait, busy):
        _remove_stale_temp_files(target)
        return _load_locked(source, db, target, replace=replace, append=append, items=items, step=step)


def _load_locked(
    source: Source,
    db: str,
    target: Path,
    *,
    replace: bool,
    append: bool,
    items: bool,
    step: Callable[[str], None],
) -> LoadResult:
    exists = target.exists()
    if exists and not (replace or append):
        raise InvalidParameter(f"{db} exists: use --replace to overwrite it or --append to add to it")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    spill = tmp.with_name(tmp.name + ".spill")
    old = append and exists
    try:
        con = connect()
        try:
            with duckdb_errors(db):
                _bound_memory(con, spill)
                con.execute("ATTACH $path AS out", {"path": str(tmp)})
            if old:
                WarehouseSource(db).attach(con, alias="old")
            with duckdb_errors(source.label):
                step(f"1/3 reading and checking {source.label}…")
                source.read_all(
                    con,
                    lambda plan, rel, params: stage_sales(con, plan, rel, params, source.default_business_id),
                )
                if items:
                    source.read_all_items(con, lambda plan, rel, params: stage_items(con, plan, rel, params))
            with duckdb_errors(db):
                step(f"2/3 sorting and writing {db}…")
                result = _write(con, source, db, old, items)
                step(f"3/3 finishing {db}…")
                con.execute("DETACH out")
        finally:
            con.close()
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        return result
    finally:
        for path in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        shutil.rmtree(spill, ignore_errors=True)


def _bound_memory(con: duckdb.DuckDBPyConnection, spill: Path) -> None:
    """Keep a load's memory bounded whatever the data's size: DuckDB spills tables and sorts to disk."""
    con.execute("SET memory_limit = $limit", {"limit": LOAD_MEMORY_LIMIT})
    con.execute("SET temp_directory = $dir", {"dir": str(spill)})


def _write(con: duckdb.DuckDBPyConnection, source: Source, db: str, old: bool, items: bool) -> LoadResult:
    con.execute(f"CREATE OR REPLACE TEMP VIEW load_canonical AS {_sales_out(con)}")  # not a copy
    new_sales = "load_canonical"
    if old:
        new_sales = _aligned(con, source.label, db, new_sales, f"old.{SALES}")
        dup = con.execute(
            f"SELECT n.business_id, n.sale_id FROM {new_sales} n JOIN old.{SALES} o "
            "ON n.business_id = o.business_id AND n.sale_id = o.sale_id ORDER BY ALL LIMIT 1"
        ).fetchall()
        if dup:
            raise DataError(
                f"{source.label}: sale_id {quote_value(dup[0][1])} of business {dup[0][0]} "
                f"is already in {db} (append only new sales)"
            )
        new_sales = f"(SELECT * FROM old.{SALES} UNION ALL BY NAME SELECT * FROM {new_sales})"
    con.execute(
        f"CREATE TABLE out.{SALES} AS SELECT * FROM {new_sales} ORDER BY business_id, sale_date, sale_id"
    )

    old_items = old and bool(
        con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = 'old' AND table_name = $t", {"t": ITEMS}
        ).fetchall()
    )
    if items:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE load_items_out AS "
            f"SELECT sale_id, category, CAST(line_total AS {MONEY_TYPE}) AS line_total FROM load_items"
        )
    new_items = "load_items_out"
    if items and old_items:
        new_items = _aligned(con, source.label, db, "load_items_out", f"old.{ITEMS}")
        dup = con.execute(
            f"SELECT sale_id FROM {new_items} SEMI JOIN old.{ITEMS} USING (sale_id) ORDER BY 1 LIMIT 1"
        ).fetchall()
        if dup:
            raise DataError(f"{source.label}: items of sale_id {quote_value(dup[0][0])} are already in {db}")
    item_parts = ([f"SELECT * FROM old.{ITEMS}"] if old_items else []) + (
        [f"SELECT * FROM {new_items}"] if items else []
    )
    if item_parts:
        con.execute(
            f"CREATE TABLE out.{ITEMS} AS SELECT * FROM ({' UNION ALL BY NAME '.join(item_parts)}) ORDER BY sale_id"
        )

    sales_rows = con.execute("SELECT count(*) FROM load_canonical").fetchall()[0][0]
    items_rows = con.execute("SELECT count(*) FROM load_items_out").fetchall()[0][0] if items else None
    total_sales = con.execute(f"SELECT count(*) FROM out.{SALES}").fetchall()[0][0]
    total_items = con.execute(f"SELECT count(*) FROM out.{ITEMS}").fetchall()[0][0] if item_parts else None
    con.execute(_META_SQL)
    if old:
        con.execute(f"INSERT INTO out.{META} SELECT * FROM old.{META}")
    con.execute(
        f"INSERT INTO out.{META} VALUES ($id, $at, $mode, $source, $rows, $items, $total, $total_items)",
        {
            "id": uuid.uuid4().hex,
            "at": datetime.now(UTC),
            "mode": "append" if old else "replace",
            "source": source.label,
            "rows": sales_rows,
            "items": items_rows,
            "total": total_sales,
            "total_items": total_items,
        },
    )
    return LoadResult(sales_rows, items_rows, total_sales, total_items)
