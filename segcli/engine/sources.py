"""Sources of sales: each turns its rows into DuckDB tables of canonical columns.

Every source loads the same two temporary tables for a scope (business,
storefront, a date range):

- `window_sales(sale_id, customer_id, sale_date, amount, status[, channel, currency])`:
  the business's rows dated in the range, with `sale_date` the local date in the
  session time zone, `amount` = total_amount - amount_refunded as an exact DECIMAL,
  and `status` trimmed and lower-cased. It holds at least every row in scope
  (included status, with a customer); file sources keep every status, a database
  source may leave the other rows on the server;
- `window_quality(sale_date, status, anonymous, rows)`: every row of the business
  dated in the range counted per day, status and anonymity (the data-quality summary);
- `window_items(sale_id, category, line_total)`: the items of those sales (on request).

Bad data (SPEC 1.4) raises DataError naming the source, the column and a value.
"""

from __future__ import annotations

import glob
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segcli.engine.db import duckdb_errors, first_line, quote_ident
from segcli.engine.errors import DataError, InvalidParameter, SourceError
from segcli.engine.report import EMPTY_STATUS, INCLUDED_STATUSES
from segcli.engine.schema import ITEM_COLUMNS, SALES_COLUMNS, Column

if TYPE_CHECKING:
    import duckdb

WINDOW_TABLE = "window_sales"
QUALITY_TABLE = "window_quality"
ITEMS_TABLE = "window_items"
MONEY_TYPE = "DECIMAL(18,4)"
_INT_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
_TS_NAIVE = {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME"}
_TS_TZ = {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}
_EXACT_TYPES = _INT_TYPES | {"DECIMAL"}
INCLUDED_SQL = "(" + ", ".join(f"'{s}'" for s in INCLUDED_STATUSES) + ")"


def normal_status(text: str) -> str:
    """SQL: a status as the contract reads it (trimmed, lower-cased, '(empty)' when missing)."""
    return f"coalesce(NULLIF(lower(trim({text})), ''), '{EMPTY_STATUS}')"


GROUPS_TABLE = "window_groups"
# one grouped pass over a window that holds every status: rows per day, raw status text (few
# distinct values, normalised afterwards), anonymity and currency
GROUPS_FROM_WINDOW_SQL = f"""
CREATE OR REPLACE TEMP TABLE {GROUPS_TABLE} AS
SELECT sale_date, {normal_status("_raw_status")} AS status, anonymous, currency,
       sum(rows) AS rows
FROM (SELECT sale_date, _raw_status, customer_id IS NULL AS anonymous, {{currency}} AS currency,
             count(*) AS rows
      FROM {WINDOW_TABLE} GROUP BY ALL)
GROUP BY ALL
"""
QUALITY_FROM_GROUPS_SQL = f"""
CREATE OR REPLACE TEMP VIEW {QUALITY_TABLE} AS
SELECT sale_date, status, anonymous, sum(rows) AS rows FROM {GROUPS_TABLE} GROUP BY ALL
"""


@dataclass(frozen=True)
class Scope:
    """Which rows a report reads: one business, optionally one storefront, a date range."""

    business_id: int
    start_date: date
    end_date: date  # inclusive
    storefront_id: int | None = None

    @property
    def end_exclusive(self) -> date:
        return self.end_date + timedelta(days=1)


def _base_type(duck_type: str) -> str:
    return duck_type.upper().split("(")[0].strip()


class ColumnPlan:
    """How each canonical column is computed from a relation whose column types are known."""

    def __init__(
        self,
        label: str,
        types: Mapping[str, str],
        mapping: Mapping[str, str],
        columns: Sequence[Column],
    ) -> None:
        self.label = label
        self.types = dict(types)
        self.columns = {c.name: c for c in columns}
        self.source_of: dict[str, str] = {}
        lower = {name.lower(): name for name in types}
        for src, canonical in mapping.items():
            if canonical not in self.columns:
                continue
            actual = src if src in types else lower.get(src.lower())
            if actual is None:
                raise DataError(
                    f"{label}: mapped column '{src}' (for {canonical}) not found; "
                    f"columns found: {', '.join(types)}"
                )
            self.source_of[canonical] = actual
        mapped_sources = set(self.source_of.values())
        for column in columns:
            if column.name in self.source_of:
                continue
            actual = column.name if column.name in types else lower.get(column.name)
            if actual is not None and actual not in mapped_sources:
                self.source_of[column.name] = actual
        missing = [c.name for c in columns if c.required and c.name not in self.source_of]
        if missing:
            raise DataError(
                f"{label}: missing required column '{missing[0]}' "
                f"(columns found: {', '.join(types)}; map one with --map SOURCE={missing[0]})"
            )
        for canonical in self.source_of:
            self._check_type(canonical)

    def has(self, canonical: str) -> bool:
        return canonical in self.source_of

    def raw(self, canonical: str) -> str:
        return quote_ident(self.source_of[canonical])

    def kind(self, canonical: str) -> str:
        return _base_type(self.types[self.source_of[canonical]])

    def is_text(self, canonical: str) -> bool:
        return self.kind(canonical) == "VARCHAR"

    def describe(self, canonical: str) -> str:
        src = self.source_of[canonical]
        return f"column '{src}'" + ("" if src == canonical else f" (mapped to {canonical})")

    def _check_type(self, canonical: str) -> None:
        kind = self.kind(canonical)
        expected = {
            "id": _INT_TYPES | _FLOAT_TYPES | {"VARCHAR", "UUID"},
            "int": _INT_TYPES | _FLOAT_TYPES | {"VARCHAR"},
            "date": _TS_NAIVE | _TS_TZ | {"DATE", "VARCHAR"},
            "money": _INT_TYPES | _FLOAT_TYPES | {"DECIMAL", "VARCHAR"},
            "text": {"VARCHAR"} | _INT_TYPES,
        }[self.columns[canonical].kind]
        if kind not in expected:
            what = {"id": "an id", "int": "an integer", "date": "a date", "money": "a number"}
            noun = what.get(self.columns[canonical].kind, "text")
            raise DataError(
                f"{self.label}: {self.describe(canonical)} has type {self.types[self.source_of[canonical]]}; "
                f"expected {noun}"
            )

    # canonical expressions -------------------------------------------------

    def id_expr(self, canonical: str) -> str:
        raw, kind = self.raw(canonical), self.kind(canonical)
        if kind == "VARCHAR":
            return f"NULLIF(trim({raw}), '')"
        if kind in _FLOAT_TYPES:
            return f"CAST({raw} AS BIGINT)"
        return raw

    def int_expr(self, canonical: str) -> str:
        raw, kind = self.raw(canonical), self.kind(canonical)
        if kind == "VARCHAR":
            return f"TRY_CAST(trim({raw}) AS BIGINT)"
        if kind in _FLOAT_TYPES:
            return f"TRY_CAST({raw} AS BIGINT)"
        return raw

    def date_expr(self) -> str:
        raw, kind = self.raw("sale_date"), self.kind("sale_date")
        if kind == "DATE":
            return raw
        if kind == "VARCHAR":
            return f"CAST(TRY_CAST(trim({raw}) AS TIMESTAMPTZ) AS DATE)"
        return f"CAST({raw} AS DATE)"

    def date_predicate(self) -> str:
        """Rows dated in [$start, $end_excl), written on the raw column so scans can prune."""
        raw, kind = self.raw("sale_date"), self.kind("sale_date")
        if kind == "DATE":
            return f"{raw} >= $start AND {raw} < $end_excl"
        if kind in _TS_NAIVE:
            return f"{raw} >= CAST($start AS TIMESTAMP) AND {raw} < CAST($end_excl AS TIMESTAMP)"
        if kind in _TS_TZ:
            return f"{raw} >= CAST($start AS TIMESTAMPTZ) AND {raw} < CAST($end_excl AS TIMESTAMPTZ)"
        expr = self.date_expr()
        return f"{expr} >= $start AND {expr} < $end_excl"

    def money_expr(self, canonical: str) -> str:
        raw, kind = self.raw(canonical), self.kind(canonical)
        if kind == "VARCHAR":
            return f"TRY_CAST(NULLIF(trim({raw}), '') AS {MONEY_TYPE})"
        if kind in _FLOAT_TYPES:
            return f"TRY_CAST(CASE WHEN isfinite({raw}) THEN {raw} END AS {MONEY_TYPE})"
        if kind in _INT_TYPES:
            return f"CAST({raw} AS DECIMAL(38,0))"
        return raw

    def text_expr(self, canonical: str) -> str:
        return f"NULLIF(trim(CAST({self.raw(canonical)} AS VARCHAR)), '')"

    def require_storefront(self) -> None:
        if not self.has("storefront_id"):
            raise DataError(f"{self.label}: no storefront_id column to filter on (map one with --map)")

    def storefront_predicate(self) -> str:
        self.require_storefront()
        return f"{self.int_expr('storefront_id')} = $storefront_id"


Build = Callable[["ColumnPlan", str, dict[str, Any]], None]


class Source(ABC):
    """A place sales come from."""

    label: str
    rows_fetched: int = 0
    default_business_id: int = 1

    @abstractmethod
    def identity(self) -> str:
        """A token that changes whenever the data may have changed (for the cache)."""

    @abstractmethod
    def columns(self) -> set[str]:
        """The canonical sales columns this source provides."""

    @abstractmethod
    def load_window(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        """Create `window_sales` (a temporary table or view) for the scope, checking the data."""

    def load_items(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        """Create the `window_items` table for the sales in `window_sales`."""
        raise DataError(f"{self.label}: no sale items given (use --items)")

    def has_items(self) -> bool:
        return False

    def read_all(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        """Call `build(plan, relation, params)` over every sales row (for `segcli load`)."""
        raise SourceError(f"{self.label}: this source cannot be copied into a warehouse")

    def read_all_items(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        """Call `build(plan, relation, params)` over every sale item."""
        raise DataError(f"{self.label}: no sale items given (use --items)")


def money_columns(plan: ColumnPlan) -> list[str]:
    """Per money column, `_name` as an exact DECIMAL and, for inexact source types, `_raw_name` as text."""
    cols = []
    for name in ("total_amount", "amount_refunded"):
        if plan.has(name):
            cols.append(f"{plan.money_expr(name)} AS _{name}")
            if plan.kind(name) not in _EXACT_TYPES:  # keep the text, so an error can quote it
                cols.append(f"CAST({plan.raw(name)} AS VARCHAR) AS _raw_{name}")
    return cols


def window_select(plan: ColumnPlan, relation: str, where: str) -> str:
    """The SELECT that builds `window_sales` from a relation of raw columns."""
    raw_status = f"CAST({plan.raw('status')} AS VARCHAR)"
    cols = [
        f"{plan.id_expr('sale_id')} AS sale_id",
        f"{plan.id_expr('customer_id')} AS customer_id",
        f"{plan.date_expr()} AS sale_date",
        f"{normal_status(raw_status)} AS status",
        f"{raw_status} AS _raw_status",  # grouped before normalising: far fewer strings to touch
    ]
    for name in ("channel", "currency"):
        if plan.has(name):
            cols.append(f"{plan.text_expr(name)} AS {name}")
    cols += money_columns(plan)
    amount = (
        "_total_amount - coalesce(_amount_refunded, 0)" if plan.has("amount_refunded") else "_total_amount"
    )
    inner = f"SELECT {', '.join(cols)} FROM {relation} WHERE {where}"
    return f"SELECT *, {amount} AS amount FROM ({inner})"


@dataclass(frozen=True)
class ScopeFilter:
    """SQL predicates (with their parameters) that select a scope's rows from raw columns."""

    business: str
    dates: str
    storefront: str | None
    params: dict[str, Any]

    @property
    def where(self) -> str:
        return " AND ".join(p for p in (self.business, self.dates, self.storefront) if p)

    def business_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.params.items() if k == "business_id"}


def scope_filter(plan: ColumnPlan, scope: Scope, default_business_id: int) -> ScopeFilter:
    """The predicates for a scope; without a business_id column every row is the default business's."""
    params: dict[str, Any] = {"start": scope.start_date, "end_excl": scope.end_exclusive}
    if plan.has("business_id"):
        business = f"{plan.int_expr('business_id')} = $business_id"
        params["business_id"] = scope.business_id
    else:
        business = "TRUE" if scope.business_id == default_business_id else "FALSE"
    storefront = None
    if scope.storefront_id is not None:
        storefront = plan.storefront_predicate()
        params["storefront_id"] = scope.storefront_id
    return ScopeFilter(business, plan.date_predicate(), storefront, params)


def _quote_value(value: Any) -> str:
    text = str(value)
    return f"'{text[:60]}…'" if len(text) > 60 else f"'{text}'"


def _money_conditions(plan: ColumnPlan, name: str) -> tuple[str, str | None]:
    """(unreadable-or-missing condition, too-many-decimals condition) for a money column."""
    has_raw = plan.kind(name) not in _EXACT_TYPES
    raw = f"_raw_{name}"
    if name == "total_amount":
        bad = f"_{name} IS NULL"
    else:  # amount_refunded may be empty (= 0) but never unreadable
        bad = f"_{name} IS NULL AND NULLIF(trim({raw}), '') IS NOT NULL" if has_raw else "FALSE"
    decimals = f"regexp_matches({raw}, '[.][0-9]{{5,}}')" if plan.kind(name) == "VARCHAR" else None
    return bad, decimals


def _fail_money(
    con: duckdb.DuckDBPyConnection, plan: ColumnPlan, table: str, name: str, condition: str, what: str
) -> None:
    raw = f"_raw_{name}" if plan.kind(name) not in _EXACT_TYPES else "NULL"
    sale_id, value = con.execute(
        f"SELECT sale_id, {raw} FROM {table} WHERE {condition} ORDER BY sale_id LIMIT 1"
    ).fetchall()[0]
    if value is None or not str(value).strip():
        raise DataError(f"{plan.label}: {plan.describe(name)} is empty (sale_id {sale_id})")
    raise DataError(f"{plan.label}: {plan.describe(name)} {what}: {_quote_value(value)} (sale_id {sale_id})")


# largest sale_id range checked for duplicates with a bitmap rather than a hash table
_BITMAP_RANGE = 1 << 28


def _has_duplicates(
    con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str], rows: int, low: Any, high: Any
) -> bool:
    """Whether two rows of `table` share a key: a bitmap for compact integer sale_ids."""
    if rows < 2:
        return False
    if tuple(key) != ("sale_id",):
        sql = f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(key)} FROM {table})"
    elif isinstance(low, int) and isinstance(high, int) and high - low < _BITMAP_RANGE:
        if high - low + 1 < rows:
            return True
        sql = f"SELECT bit_count(bitstring_agg(sale_id, {int(low)}, {int(high)})) FROM {table}"
    else:
        sql = f"SELECT count(DISTINCT sale_id) FROM {table}"
    distinct: int = con.execute(sql).fetchall()[0][0]
    return distinct < rows


def _money_checks(plan: ColumnPlan) -> list[tuple[str, str, str]]:
    """(what is wrong, SQL condition, money column) for each check the money columns need."""
    checks = []
    for name in ("total_amount", "amount_refunded"):
        if plan.has(name):
            bad, decimals = _money_conditions(plan, name)
            checks.append(("has a value that is not a number", bad, name))
            if decimals:
                checks.append(("has more than 4 decimal places", decimals, name))
    return checks


def _raise_problems(
    con: duckdb.DuckDBPyConnection,
    plan: ColumnPlan,
    table: str,
    key: Sequence[str],
    checks: Sequence[tuple[str, str, str]],
    totals: Sequence[Any],
    distinct_ids: int | None = None,
) -> int:
    """Raise for the first problem the totals (rows, low id, high id, empty ids, check counts) show.

    `distinct_ids`, when already counted, settles the duplicate check without another pass.
    """
    rows, low, high, null_ids = totals[:4]
    if null_ids:
        raise DataError(f"{plan.label}: {plan.describe('sale_id')} has an empty value")
    for (what, condition, name), count in zip(checks, totals[4:], strict=True):
        if count:
            _fail_money(con, plan, table, name, condition, what)
    duplicates = (
        distinct_ids < rows if distinct_ids is not None else _has_duplicates(con, table, key, rows, low, high)
    )
    if duplicates:
        keys = ", ".join(key)
        *values, count = con.execute(
            f"SELECT {keys}, count(*) FROM {table} GROUP BY {keys} HAVING count(*) > 1 ORDER BY {keys} LIMIT 1"
        ).fetchall()[0]
        where = "the business" if len(values) == 1 else f"business {values[0]}"
        raise DataError(
            f"{plan.label}: {plan.describe('sale_id')} has a duplicate value "
            f"{_quote_value(values[-1])} ({count} rows in {where})"
        )
    return int(rows or 0)


def check_values(
    con: duckdb.DuckDBPyConnection,
    plan: ColumnPlan,
    table: str = WINDOW_TABLE,
    key: Sequence[str] = ("sale_id",),
) -> int:
    """Raise DataError for the first empty sale_id, unreadable amount or duplicate `key` in `table`.

    One aggregate pass counts every kind of problem; an example is queried only on failure.
    Returns the table's row count.
    """
    checks = _money_checks(plan)
    aggregates = ["count(*)", "min(sale_id)", "max(sale_id)", "count(*) FILTER (sale_id IS NULL)"]
    aggregates += [f"count(*) FILTER ({condition})" for _, condition, _ in checks]
    totals = con.execute(f"SELECT {', '.join(aggregates)} FROM {table}").fetchall()[0]
    return _raise_problems(con, plan, table, key, checks, totals)


def check_window(
    con: duckdb.DuckDBPyConnection,
    plan: ColumnPlan,
    id_bounds: tuple[int, int] | None = None,
    currency: bool = True,
) -> int:
    """Raise DataError for the first bad value in `window_sales` (SPEC 1.4); return its row count.

    One ungrouped pass counts every kind of problem. With `id_bounds` (integer sale_ids known to
    lie in [low, high], e.g. from Parquet statistics) the duplicate check's bitmap is built in
    that same pass; otherwise it takes a second one. `currency=False` leaves the currency check
    to the caller (`finish_window` does it from its grouped pass).
    """
    checks = _money_checks(plan)
    aggregates = ["count(*)", "min(sale_id)", "max(sale_id)", "count(*) FILTER (sale_id IS NULL)"]
    aggregates += [f"count(*) FILTER ({condition})" for _, condition, _ in checks]
    bitmap = id_bounds is not None and 0 <= id_bounds[1] - id_bounds[0] < _BITMAP_RANGE
    if id_bounds is not None and bitmap:
        aggregates.append(f"bit_count(bitstring_agg(sale_id, {int(id_bounds[0])}, {int(id_bounds[1])}))")
    row = con.execute(f"SELECT {', '.join(aggregates)} FROM {WINDOW_TABLE}").fetchall()[0]
    distinct_ids = row[-1] if bitmap else None
    rows = _raise_problems(
        con, plan, WINDOW_TABLE, ("sale_id",), checks, row[: 4 + len(checks)], distinct_ids
    )
    if currency:
        _check_currency(con, plan, WINDOW_TABLE, f"status IN {INCLUDED_SQL} AND customer_id IS NOT NULL")
    return rows


def _check_currency(con: duckdb.DuckDBPyConnection, plan: ColumnPlan, table: str, in_scope: str) -> None:
    if not plan.has("currency"):
        return
    currencies = con.execute(
        f"SELECT DISTINCT currency FROM {table} WHERE {in_scope} AND currency IS NOT NULL ORDER BY currency LIMIT 5"
    ).fetchall()
    if len(currencies) > 1:
        raise DataError(
            f"{plan.label}: {plan.describe('currency')} holds more than one currency in scope "
            f"({', '.join(str(c[0]) for c in currencies)}); report on one currency at a time"
        )


def sql_literal(value: Any) -> str:
    """A SQL literal for a value segcli itself supplies (dates, numbers, paths, lists of them)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(sql_literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{sql_literal(str(k))}: {sql_literal(v)}" for k, v in value.items()) + "}"
    return "'" + str(value).replace("'", "''") + "'"


def inline_params(sql: str, params: Mapping[str, Any]) -> str:
    """`sql` with each `$name` replaced by its value's literal (for statements DuckDB cannot prepare)."""
    return re.sub(
        r"\$(\w+)", lambda m: sql_literal(params[m.group(1)]) if m.group(1) in params else m.group(0), sql
    )


def finish_window(
    con: duckdb.DuckDBPyConnection,
    plan: ColumnPlan,
    id_bounds: tuple[int, int] | None = None,
    validated: bool = False,
) -> int:
    """Check `window_sales` (every status), count it into `window_quality`; the number of rows it holds.

    `validated`: the rows passed every value check already (a warehouse checks them when loaded),
    so only what depends on the scope (one currency) is checked here.
    """
    rows = None if validated else check_window(con, plan, id_bounds, currency=False)
    con.execute(GROUPS_FROM_WINDOW_SQL.format(currency="currency" if plan.has("currency") else "NULL"))
    _check_currency(con, plan, GROUPS_TABLE, f"status IN {INCLUDED_SQL} AND NOT anonymous")
    con.execute(QUALITY_FROM_GROUPS_SQL)
    if rows is None:
        rows = int(con.execute(f"SELECT coalesce(sum(rows), 0) FROM {GROUPS_TABLE}").fetchall()[0][0])
    return rows


def items_select(plan: ColumnPlan, relation: str) -> str:
    """The canonical items of a relation: sale_id, category, line_total (exact) and its text."""
    return (
        f"SELECT {plan.id_expr('sale_id')} AS sale_id, {plan.text_expr('category')} AS category, "
        f"{plan.money_expr('line_total')} AS line_total, "
        f"CAST({plan.raw('line_total')} AS VARCHAR) AS _raw_line_total FROM {relation}"
    )


def window_items_select(plan: ColumnPlan, relation: str) -> str:
    """The SELECT that builds `window_items`: the items of the sales in `window_sales`."""
    return f"SELECT i.* FROM ({items_select(plan, relation)}) i SEMI JOIN {WINDOW_TABLE} w ON i.sale_id = w.sale_id"


def check_items(con: duckdb.DuckDBPyConnection, plan: ColumnPlan, table: str = ITEMS_TABLE) -> None:
    """Raise DataError for the first line_total that is not a number."""
    bad = con.execute(
        f"SELECT sale_id, _raw_line_total FROM {table} WHERE line_total IS NULL LIMIT 1"
    ).fetchall()
    if bad:
        raise DataError(
            f"{plan.label}: {plan.describe('line_total')} has a value that is not a number: "
            f"{_quote_value(bad[0][1])} (sale_id {bad[0][0]})"
        )


def check_business_rows(
    con: duckdb.DuckDBPyConnection,
    plan: ColumnPlan,
    relation: str,
    params: Mapping[str, Any],
    flt: ScopeFilter,
    one_pass: bool = False,
) -> None:
    """Checks over all the business's rows: business and storefront ids, and every date.

    Each check is a LIMIT 1 query, which Parquet statistics mostly answer without reading rows.
    With `one_pass` (for relations without statistics, like CSV, where each query re-reads the
    file) one aggregate pass finds the failing checks and only those look for an example.
    """
    label = plan.label
    business_params = {**params, **flt.business_params()}
    conditions: dict[str, str] = {}  # check -> the condition a bad row meets
    if plan.has("business_id"):
        conditions["business"] = f"{plan.int_expr('business_id')} IS NULL"
    if flt.storefront is not None and plan.kind("storefront_id") not in _INT_TYPES:
        raw_storefront = f"CAST({plan.raw('storefront_id')} AS VARCHAR)"
        conditions["storefront"] = (
            f"{flt.business} AND NULLIF(trim({raw_storefront}), '') IS NOT NULL "
            f"AND {plan.int_expr('storefront_id')} IS NULL"
        )
    conditions["date"] = f"{flt.business} AND ({plan.date_expr()}) IS NULL"
    failing = set(conditions)
    if one_pass:
        found = con.execute(
            f"SELECT {', '.join(f'coalesce(bool_or({c}), FALSE)' for c in conditions.values())} FROM {relation}",
            business_params,
        ).fetchall()[0]
        failing = {name for name, bad in zip(conditions, found, strict=True) if bad}
    if "business" in failing:
        raw = f"CAST({plan.raw('business_id')} AS VARCHAR)"
        bad = con.execute(
            f"SELECT {raw} FROM {relation} WHERE {conditions['business']} LIMIT 1", dict(params)
        ).fetchall()
        if bad:
            value = bad[0][0]
            if value is None or not value.strip():
                raise DataError(f"{label}: {plan.describe('business_id')} has an empty value")
            raise DataError(
                f"{label}: {plan.describe('business_id')} has a value that is not an integer: "
                f"{_quote_value(value)}"
            )
    if "storefront" in failing:
        bad = con.execute(
            f"SELECT {raw_storefront} FROM {relation} WHERE {conditions['storefront']} LIMIT 1",
            business_params,
        ).fetchall()
        if bad:
            raise DataError(
                f"{label}: {plan.describe('storefront_id')} has a value that is not an integer: "
                f"{_quote_value(bad[0][0])}"
            )
    if "date" not in failing:
        return
    bad = con.execute(
        f"SELECT CAST({plan.raw('sale_date')} AS VARCHAR), {plan.id_expr('sale_id')} FROM {relation} "
        f"WHERE {conditions['date']} LIMIT 1",
        business_params,
    ).fetchall()
    if bad:
        value, sale_id = bad[0]
        if value is None or not value.strip():
            raise DataError(f"{label}: {plan.describe('sale_date')} is empty (sale_id {sale_id})")
        raise DataError(
            f"{label}: {plan.describe('sale_date')} has a value that is not a date: "
            f"{_quote_value(value)} (sale_id {sale_id})"
        )


def file_kind(path: str) -> str:
    """'csv' or 'parquet' from a file name or glob."""
    lower = path.lower()
    for suffix in (".gz", ".zst"):
        lower = lower.removesuffix(suffix)
    if lower.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    raise SourceError(f"{path}: unknown file type (expected .csv or .parquet)")


def expand_files(pattern: str) -> list[str]:
    """The files a path or glob names, sorted, or a SourceError."""
    if glob.has_magic(pattern):
        files = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
        if not files:
            raise SourceError(f"{pattern}: no file matches")
        return files
    if not os.path.isfile(pattern):
        raise SourceError(f"{pattern}: file not found")
    return [pattern]


class FileScan:
    """One CSV or Parquet file set, read by DuckDB with canonical columns planned on top."""

    def __init__(self, pattern: str, mapping: Mapping[str, str], columns: Sequence[Column]) -> None:
        self.pattern = pattern
        self.kind = file_kind(pattern)
        self.files = expand_files(pattern)
        self.mapping = dict(mapping)
        self.columns = columns
        self.all_varchar = False
        self._plan: ColumnPlan | None = None

    def identity(self) -> list[tuple[str, int, int]]:
        out = []
        for path in self.files:
            st = os.stat(path)
            out.append((str(Path(path).resolve()), st.st_size, st.st_mtime_ns))
        return out

    def relation(self, money_columns: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
        """A table-function call over the files, and its parameters."""
        params: dict[str, Any] = {"files": self.files}
        if self.kind == "parquet":
            return "read_parquet($files, union_by_name = true)", params
        if self.all_varchar:
            return "read_csv($files, union_by_name = true, all_varchar = true)", params
        if money_columns:
            params["csv_types"] = dict.fromkeys(money_columns, "VARCHAR")
            return "read_csv($files, union_by_name = true, types = $csv_types)", params
        return "read_csv($files, union_by_name = true)", params

    def plan(self, con: duckdb.DuckDBPyConnection) -> ColumnPlan:
        if self._plan is None:
            self._plan = self._make_plan(con)
        return self._plan

    def _make_plan(self, con: duckdb.DuckDBPyConnection) -> ColumnPlan:
        plan = self._describe(con, self.relation())
        if self.kind == "csv" and not self.all_varchar:
            # money is read as text and parsed exactly, never through a sniffed DOUBLE
            plan = self._describe(con, self.relation(self.money_columns(plan)))
        return plan

    def _describe(self, con: duckdb.DuckDBPyConnection, relation: tuple[str, dict[str, Any]]) -> ColumnPlan:
        rel, params = relation
        with duckdb_errors(self.pattern):
            rows = con.execute(f"DESCRIBE SELECT * FROM {rel}", params).fetchall()
        return ColumnPlan(self.pattern, {row[0]: row[1] for row in rows}, self.mapping, self.columns)

    def id_bounds(self, con: duckdb.DuckDBPyConnection, plan: ColumnPlan) -> tuple[int, int] | None:
        """Bounds of integer sale_ids from Parquet statistics (no data read), or None."""
        if self.kind != "parquet" or plan.kind("sale_id") not in _INT_TYPES:
            return None
        row = con.execute(
            "SELECT min(TRY_CAST(stats_min_value AS HUGEINT)), max(TRY_CAST(stats_max_value AS HUGEINT)), "
            "count(*) FILTER (TRY_CAST(stats_min_value AS HUGEINT) IS NULL "
            "OR TRY_CAST(stats_max_value AS HUGEINT) IS NULL) "
            "FROM parquet_metadata($files) WHERE path_in_schema = $column",
            {"files": self.files, "column": plan.source_of["sale_id"]},
        ).fetchall()[0]
        low, high, missing = row
        return None if missing or low is None else (int(low), int(high))

    def money_columns(self, plan: ColumnPlan) -> list[str]:
        return [plan.source_of[c.name] for c in self.columns if c.kind == "money" and plan.has(c.name)]

    def run(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        """Run `build(plan, relation, params)`; a CSV whose sniffed types fail is re-read as text."""
        import duckdb

        try:
            plan = self.plan(con)
            rel, params = self.relation(self.money_columns(plan))
            build(plan, rel, params)
        except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
            if self.kind != "csv" or self.all_varchar:
                raise SourceError(f"{self.pattern}: {first_line(exc)}") from exc
            self.all_varchar, self._plan = True, None
            plan = self.plan(con)
            rel, params = self.relation()
            build(plan, rel, params)


class FileSource(Source):
    """Sales (and optionally sale items) in CSV or Parquet files, a path or a glob each."""

    def __init__(
        self,
        pattern: str,
        mapping: Mapping[str, str] | None = None,
        default_business_id: int = 1,
        items: str | None = None,
    ) -> None:
        self.label = pattern
        self.default_business_id = default_business_id
        self.sales = FileScan(pattern, mapping or {}, SALES_COLUMNS)
        self.items = FileScan(items, mapping or {}, ITEM_COLUMNS) if items else None
        self.rows_fetched = 0
        self._columns: set[str] | None = None

    def identity(self) -> str:
        parts: list[Any] = [self.sales.identity(), self.default_business_id]
        if self.items is not None:
            parts.append(self.items.identity())
        return repr(parts)

    def columns(self) -> set[str]:
        if self._columns is None:
            from segcli.engine.db import connect

            con = connect()
            try:
                self._columns = set(self.sales.plan(con).source_of)
            finally:
                con.close()
        return self._columns

    def has_items(self) -> bool:
        return self.items is not None

    def load_window(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        def build(plan: ColumnPlan, rel: str, params: dict[str, Any]) -> None:
            flt = scope_filter(plan, scope, self.default_business_id)
            check_business_rows(con, plan, rel, params, flt, one_pass=self.sales.kind == "csv")
            select = window_select(plan, rel, flt.where)
            if self.sales.kind == "parquet":
                # a view: Parquet scans prune by row group and re-read cheaply, so nothing is copied
                sql = inline_params(
                    f"CREATE OR REPLACE TEMP VIEW {WINDOW_TABLE} AS {select}", {**params, **flt.params}
                )
                con.execute(sql)
            else:  # text is parsed once
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {WINDOW_TABLE} AS {select}", {**params, **flt.params}
                )

        with duckdb_errors(self.label):
            self.sales.run(con, build)
            plan = self.sales.plan(con)
            self._columns = set(plan.source_of)
            self.rows_fetched += finish_window(con, plan, self.sales.id_bounds(con, plan))

    def load_items(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        if self.items is None:
            super().load_items(con, scope)
            return
        scan = self.items

        def build(plan: ColumnPlan, rel: str, params: dict[str, Any]) -> None:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {ITEMS_TABLE} AS {window_items_select(plan, rel)}", params
            )

        with duckdb_errors(scan.pattern):
            scan.run(con, build)
            check_items(con, scan.plan(con))

    def read_all(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        self.sales.run(con, build)

    def read_all_items(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        if self.items is None:
            super().read_all_items(con, build)
            return
        self.items.run(con, build)


_URL_RE = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


def open_source(
    location: str | None,
    *,
    mapping: Mapping[str, str] | None = None,
    default_business_id: int = 1,
    items: str | None = None,
    sales_table: str = "sales",
    items_table: str = "sale_items",
) -> Source:
    """The source a `--source` value names: a file path or glob, a .duckdb file or a Postgres URL."""
    if not location:
        raise SourceError("No source given. Use --source FILE (or SEGCLI_SOURCE, or 'source' in segcli.toml)")
    database = _URL_RE.match(location) or location.lower().endswith(".duckdb")
    if database and items:
        raise InvalidParameter(
            "--items names a file of sale items, for file sources only: a database source reads its own "
            "(PostgreSQL: --items-table; a warehouse: what segcli load --items copied)"
        )
    if _URL_RE.match(location):
        from segcli.engine.postgres import PostgresSource

        return PostgresSource(
            location,
            mapping=mapping,
            default_business_id=default_business_id,
            sales_table=sales_table,
            items_table=items_table,
        )
    if location.lower().endswith(".duckdb"):
        from segcli.engine.warehouse import WarehouseSource

        return WarehouseSource(location)
    return FileSource(location, mapping, default_business_id, items)
