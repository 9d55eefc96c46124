"""The column plan: how each canonical column is computed from a source's raw columns, and the SELECTs built on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from segcli.engine.errors import DataError
from segcli.engine.schema import Column
from segcli.engine.sources.base import MONEY_TYPE, WINDOW_TABLE, Scope
from segcli.engine.sources.suggest import missing_message
from segcli.engine.sql import normal_status, quote_ident, sql_literal

INT_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
BIGINT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
# an integer text: digits, optionally with a zero fraction ("1.0"); never "1.5", "1e3" or "0x10"
INTEGER_TEXT_RE = r"[+-]?[0-9]+([.]0*)?"
# a CSV column DuckDB sniffed as an integer, read as text: past the sniffer's sample its CSV
# scanner parses integers leniently and turns '1.5' into 2 without an error (duckdb#25824)
INTEGER_TEXT = "INTEGER TEXT"
TS_NAIVE = {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME"}
TS_TZ = {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}
EXACT_TYPES = INT_TYPES | {"DECIMAL"}


def base_type(duck_type: str) -> str:
    return duck_type.upper().split("(")[0].strip()


def resolve_columns(
    label: str, types: Mapping[str, str], mapping: Mapping[str, str], columns: Sequence[Column]
) -> tuple[dict[str, str], list[str]]:
    """canonical -> raw column (mapped, else same name in any case), and the required ones missing."""
    known = {c.name for c in columns}
    source_of: dict[str, str] = {}
    lower = {name.lower(): name for name in types}
    for src, canonical in mapping.items():
        if canonical not in known:
            continue
        actual = src if src in types else lower.get(src.lower())
        if actual is None:
            raise DataError(
                f"{label}: mapped column '{src}' (for {canonical}) not found; "
                f"columns found: {', '.join(types)}"
            )
        source_of[canonical] = actual
    mapped_sources = set(source_of.values())
    for column in columns:
        if column.name in source_of:
            continue
        actual = column.name if column.name in types else lower.get(column.name)
        if actual is not None and actual not in mapped_sources:
            source_of[column.name] = actual
    return source_of, [c.name for c in columns if c.required and c.name not in source_of]


class ColumnPlan:
    """How each canonical column is computed from a relation whose column types are known."""

    def __init__(
        self,
        label: str,
        types: Mapping[str, str],
        mapping: Mapping[str, str],
        columns: Sequence[Column],
        *,
        decimal: str = ".",
        date_format: str | None = None,
    ) -> None:
        self.label = label
        self.types = dict(types)
        self.columns = {c.name: c for c in columns}
        self.decimal = decimal
        self.date_format = date_format  # text dates are parsed with it (strptime)
        self.source_of, missing = resolve_columns(label, types, mapping, columns)
        if missing:
            raise DataError(missing_message(label, missing, list(types), self.source_of.values()))
        for canonical in self.source_of:
            self._check_type(canonical)

    def has(self, canonical: str) -> bool:
        return canonical in self.source_of

    def raw(self, canonical: str) -> str:
        return quote_ident(self.source_of[canonical])

    def kind(self, canonical: str) -> str:
        return base_type(self.types[self.source_of[canonical]])

    def is_text(self, canonical: str) -> bool:
        return self.kind(canonical) == "VARCHAR"

    def describe(self, canonical: str) -> str:
        src = self.source_of[canonical]
        return f"column '{src}'" + ("" if src == canonical else f" (mapped to {canonical})")

    def _check_type(self, canonical: str) -> None:
        kind = self.kind(canonical)
        expected = {
            "id": INT_TYPES | FLOAT_TYPES | {"DECIMAL", "VARCHAR", "UUID", INTEGER_TEXT},
            "int": INT_TYPES | FLOAT_TYPES | {"DECIMAL", "VARCHAR", INTEGER_TEXT},
            "date": TS_NAIVE | TS_TZ | INT_TYPES | {"DATE", "VARCHAR"},  # integers: YYYYMMDD
            "money": INT_TYPES | FLOAT_TYPES | {"DECIMAL", "VARCHAR"},
            "text": {"VARCHAR"} | INT_TYPES,
        }[self.columns[canonical].kind]
        if kind not in expected:
            what = {"id": "an id", "int": "an integer", "date": "a date", "money": "a number"}
            noun = what.get(self.columns[canonical].kind, "text")
            raise DataError(
                f"{self.label}: {self.describe(canonical)} has type {self.types[self.source_of[canonical]]}; "
                f"expected {noun}"
            )

    # canonical expressions -------------------------------------------------

    def exact_int(self, canonical: str) -> str:
        """A numeric column as an integer, NULL when a float or decimal value is not one (never rounded)."""
        raw, kind = self.raw(canonical), self.kind(canonical)
        if kind in INT_TYPES:
            return raw
        if kind == INTEGER_TEXT:  # DuckDB's cast rounds '1.5' and '15e-1': those take the strict path
            text = f"trim({raw})"
            return (
                f"CASE WHEN NOT (contains({raw}, '.') OR contains({raw}, 'e') OR contains({raw}, 'E')) "
                f"THEN TRY_CAST({raw} AS BIGINT) "
                f"WHEN regexp_full_match({text}, '{INTEGER_TEXT_RE}') THEN TRY_CAST({text} AS BIGINT) END"
            )
        return f"CASE WHEN {raw} = trunc({raw}) THEN TRY_CAST({raw} AS BIGINT) END"  # NaN, inf, 1e20: NULL

    def id_expr(self, canonical: str) -> str:
        """A sale or customer id: text stays text, numbers stay exact integers (checks name any NULL made)."""
        raw, kind = self.raw(canonical), self.kind(canonical)
        if kind == "VARCHAR":
            return f"NULLIF(trim({raw}), '')"
        if kind == "UUID":
            return raw
        return self.exact_int(canonical)

    def int_expr(self, canonical: str) -> str:
        """A business or storefront id as an integer; NULL when empty or not an integer (1.5 is not rounded)."""
        raw, kind = self.raw(canonical), self.kind(canonical)
        if kind == "VARCHAR":
            text = f"trim({raw})"
            return f"CASE WHEN regexp_full_match({text}, '{INTEGER_TEXT_RE}') THEN TRY_CAST({text} AS BIGINT) END"
        return self.exact_int(canonical)

    def date_expr(self) -> str:
        raw, kind = self.raw("sale_date"), self.kind("sale_date")
        if kind == "DATE":
            return raw
        if kind in INT_TYPES:  # YYYYMMDD, years 1900-2999 only: anything else is not a date
            text = f"CAST(CASE WHEN {raw} BETWEEN 19000101 AND 29991231 THEN {raw} END AS VARCHAR)"
            return f"CAST(try_strptime({text}, '%Y%m%d') AS DATE)"
        if kind == "VARCHAR":
            text = f"trim({raw})"
            if self.date_format is not None:
                return f"CAST(try_strptime({text}, {sql_literal(self.date_format)}) AS DATE)"
            return (
                f"CASE WHEN regexp_full_match({text}, '(19|2[0-9])[0-9]{{6}}') "
                f"THEN CAST(try_strptime({text}, '%Y%m%d') AS DATE) "
                f"ELSE CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS DATE) END"
            )
        return f"CAST({raw} AS DATE)"

    def date_predicate(self) -> str:
        """Rows dated in [$start, $end_excl), written on the raw column so scans can prune."""
        raw, kind = self.raw("sale_date"), self.kind("sale_date")
        if kind == "DATE":
            return f"{raw} >= $start AND {raw} < $end_excl"
        if kind in TS_NAIVE:
            return f"{raw} >= CAST($start AS TIMESTAMP) AND {raw} < CAST($end_excl AS TIMESTAMP)"
        if kind in TS_TZ:
            return f"{raw} >= CAST($start AS TIMESTAMPTZ) AND {raw} < CAST($end_excl AS TIMESTAMPTZ)"
        if kind in INT_TYPES:  # YYYYMMDD integers sort as their dates (any other value fails the date check)
            return (
                f"{raw} >= CAST(strftime($start, '%Y%m%d') AS INTEGER) "
                f"AND {raw} < CAST(strftime($end_excl, '%Y%m%d') AS INTEGER)"
            )
        expr = self.date_expr()
        return f"{expr} >= $start AND {expr} < $end_excl"

    def money_expr(self, canonical: str) -> str:
        raw, kind = self.raw(canonical), self.kind(canonical)
        if kind == "VARCHAR":
            return f"TRY_CAST({self.money_text(raw)} AS {MONEY_TYPE})"
        if kind in FLOAT_TYPES:
            return f"TRY_CAST(CASE WHEN isfinite({raw}) THEN {raw} END AS {MONEY_TYPE})"
        if kind in INT_TYPES:
            return f"CAST({raw} AS DECIMAL(38,0))"
        return raw

    def money_text(self, raw: str) -> str:
        """A money column's text with '.' for decimals; with a decimal comma, '.' groups thousands."""
        text = f"NULLIF(trim({raw}), '')"
        if self.decimal == ".":
            return text
        grouped = r"[+-]?([0-9]+|[0-9]{1,3}([.][0-9]{3})+)(,[0-9]*)?"
        return f"CASE WHEN regexp_full_match({text}, '{grouped}') THEN replace(replace({text}, '.', ''), ',', '.') END"

    @property
    def too_many_decimals(self) -> str:
        """A regular expression that finds more than 4 decimal places in a money text."""
        return "[.][0-9]{5,}" if self.decimal == "." else ",[0-9]{5,}"

    def text_expr(self, canonical: str) -> str:
        return f"NULLIF(trim(CAST({self.raw(canonical)} AS VARCHAR)), '')"

    def require_storefront(self) -> None:
        if not self.has("storefront_id"):
            raise DataError(f"{self.label}: no storefront_id column to filter on (map one with --map)")

    def storefront_predicate(self) -> str:
        self.require_storefront()
        return f"{self.int_expr('storefront_id')} = $storefront_id"


def money_columns(plan: ColumnPlan) -> list[str]:
    """Per money column, `_name` as an exact DECIMAL and, for inexact source types, `_raw_name` as text."""
    cols = []
    for name in ("total_amount", "amount_refunded"):
        if plan.has(name):
            cols.append(f"{plan.money_expr(name)} AS _{name}")
            if plan.kind(name) not in EXACT_TYPES:  # keep the text, so an error can quote it
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
