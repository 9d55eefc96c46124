"""Checks of loaded rows (SPEC 1.4) and the data-quality counts; one aggregate pass each where possible."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from segcli.engine.engines.base import Query
from segcli.engine.errors import DataError
from segcli.engine.sources.base import ITEMS_TABLE, QUALITY_TABLE, WINDOW_TABLE, quote_value
from segcli.engine.sources.dialect import date_hint
from segcli.engine.sources.plan import (
    BIGINT_TYPES,
    EXACT_TYPES,
    INT_TYPES,
    INTEGER_TEXT,
    ColumnPlan,
    ScopeFilter,
)
from segcli.engine.sql import INCLUDED_SQL, normal_status

if TYPE_CHECKING:
    from segcli.engine.engines.base import Executor

GROUPS_TABLE = "window_groups"
# one grouped pass over a window that holds every status: rows per day, raw status text (few
# distinct values, normalised afterwards), anonymity and currency
GROUPS_FROM_WINDOW_SQL = f"""
SELECT sale_date, {normal_status("_raw_status")} AS status, anonymous, currency,
       sum(rows) AS rows
FROM (SELECT sale_date, _raw_status, customer_id IS NULL AS anonymous, {{currency}} AS currency,
             count(*) AS rows
      FROM {WINDOW_TABLE} GROUP BY ALL)
GROUP BY ALL
"""
# a text id that is a number with a fraction ("1.5", "-.25"): an error, never a distinct id
FRACTION_TEXT_RE = r"[+-]?[0-9]*[.][0-9]*[1-9][0-9]*"
NOT_INTEGER = "has a value that is not an integer"
QUALITY_FROM_GROUPS = Query(
    "checks.quality",
    f"SELECT sale_date, status, anonymous, sum(rows) AS rows FROM {GROUPS_TABLE} GROUP BY ALL",
)


def _money_conditions(plan: ColumnPlan, name: str) -> tuple[str, str | None]:
    """(unreadable-or-missing condition, too-many-decimals condition) for a money column."""
    has_raw = plan.kind(name) not in EXACT_TYPES
    raw = f"_raw_{name}"
    if name == "total_amount":
        bad = f"_{name} IS NULL"
    else:  # amount_refunded may be empty (= 0) but never unreadable
        bad = f"_{name} IS NULL AND NULLIF(trim({raw}), '') IS NOT NULL" if has_raw else "FALSE"
    decimals = f"regexp_matches({raw}, '{plan.too_many_decimals}')" if plan.kind(name) == "VARCHAR" else None
    return bad, decimals


def _fail_value(ex: Executor, plan: ColumnPlan, table: str, name: str, condition: str, what: str) -> None:
    """Raise for the first row (by sale_id) of a loaded table that meets a money or id check's condition."""
    if name in ("sale_id", "customer_id"):
        raw = name
    else:
        raw = f"_raw_{name}" if plan.kind(name) not in EXACT_TYPES else "NULL"
    sale_id, value = ex.rows(
        Query(
            "checks.value_example",
            f"SELECT sale_id, {raw} FROM {table} WHERE {condition} ORDER BY sale_id LIMIT 1",
        )
    )[0]
    where = "" if name == "sale_id" else f" (sale_id {sale_id})"
    if value is None or not str(value).strip():
        raise DataError(f"{plan.label}: {plan.describe(name)} is empty{where}")
    raise DataError(f"{plan.label}: {plan.describe(name)} {what}: {quote_value(value)}{where}")


# largest sale_id range checked for duplicates with a bitmap rather than a hash table
_BITMAP_RANGE = 1 << 28


def _has_duplicates(ex: Executor, table: str, key: Sequence[str], rows: int, low: Any, high: Any) -> bool:
    """Whether two rows of `table` share a key: a bitmap for compact integer sale_ids."""
    if rows < 2:
        return False
    compact = isinstance(low, int) and isinstance(high, int) and high - low < _BITMAP_RANGE
    if tuple(key) == ("business_id", "sale_id") and compact:
        # a bitmap per business (few of them): no hash table of every id, which cannot spill
        count = Query("checks.businesses", f"SELECT count(DISTINCT business_id) FROM {table}")
        businesses = ex.rows(count)[0][0]
        if businesses * (high - low + 1) < _BITMAP_RANGE:
            sql = (
                f"SELECT sum(ids) FROM (SELECT bit_count(bitstring_agg(sale_id, {int(low)}, {int(high)})) AS ids "
                f"FROM {table} GROUP BY business_id)"
            )
            return bool(ex.rows(Query("checks.distinct_ids", sql))[0][0] < rows)
    if tuple(key) != ("sale_id",):
        sql = f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(key)} FROM {table})"
    elif isinstance(low, int) and isinstance(high, int) and high - low < _BITMAP_RANGE:
        if high - low + 1 < rows:
            return True
        sql = f"SELECT bit_count(bitstring_agg(sale_id, {int(low)}, {int(high)})) FROM {table}"
    else:
        sql = f"SELECT count(DISTINCT sale_id) FROM {table}"
    distinct: int = ex.rows(Query("checks.distinct_ids", sql))[0][0]
    return distinct < rows


def _value_checks(plan: ColumnPlan) -> list[tuple[str, str, str]]:
    """(what is wrong, SQL condition, column) for each check the text ids and the money columns need."""
    checks = []
    for name in ("sale_id", "customer_id"):  # numeric ids were checked on the source's raw values
        if plan.kind(name) == "VARCHAR":
            fraction = f"contains({name}, '.') AND regexp_full_match({name}, '{FRACTION_TEXT_RE}')"
            checks.append((NOT_INTEGER, fraction, name))
    for name in ("total_amount", "amount_refunded"):
        if plan.has(name):
            bad, decimals = _money_conditions(plan, name)
            checks.append(("has a value that is not a number", bad, name))
            if decimals:
                checks.append(("has more than 4 decimal places", decimals, name))
    return checks


def _raise_problems(
    ex: Executor,
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
            _fail_value(ex, plan, table, name, condition, what)
    duplicates = (
        distinct_ids < rows if distinct_ids is not None else _has_duplicates(ex, table, key, rows, low, high)
    )
    if duplicates:
        keys = ", ".join(key)
        *values, count = ex.rows(
            Query(
                "checks.duplicate_example",
                f"SELECT {keys}, count(*) FROM {table} GROUP BY {keys} HAVING count(*) > 1 ORDER BY {keys} LIMIT 1",
            )
        )[0]
        where = "the business" if len(values) == 1 else f"business {values[0]}"
        raise DataError(
            f"{plan.label}: {plan.describe('sale_id')} has a duplicate value "
            f"{quote_value(values[-1])} ({count} rows in {where})"
        )
    return int(rows or 0)


def check_values(
    ex: Executor,
    plan: ColumnPlan,
    table: str = WINDOW_TABLE,
    key: Sequence[str] = ("sale_id",),
) -> int:
    """Raise DataError for the first empty sale_id, unreadable amount or duplicate `key` in `table`.

    One aggregate pass counts every kind of problem; an example is queried only on failure.
    Returns the table's row count.
    """
    checks = _value_checks(plan)
    aggregates = ["count(*)", "min(sale_id)", "max(sale_id)", "count(*) FILTER (sale_id IS NULL)"]
    aggregates += [f"count(*) FILTER ({condition})" for _, condition, _ in checks]
    totals = ex.rows(Query("checks.value_totals", f"SELECT {', '.join(aggregates)} FROM {table}"))[0]
    return _raise_problems(ex, plan, table, key, checks, totals)


def check_window(
    ex: Executor,
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
    checks = _value_checks(plan)
    aggregates = ["count(*)", "min(sale_id)", "max(sale_id)", "count(*) FILTER (sale_id IS NULL)"]
    aggregates += [f"count(*) FILTER ({condition})" for _, condition, _ in checks]
    bitmap = id_bounds is not None and 0 <= id_bounds[1] - id_bounds[0] < _BITMAP_RANGE
    if id_bounds is not None and bitmap:
        aggregates.append(f"bit_count(bitstring_agg(sale_id, {int(id_bounds[0])}, {int(id_bounds[1])}))")
    row = ex.rows(Query("checks.window_totals", f"SELECT {', '.join(aggregates)} FROM {WINDOW_TABLE}"))[0]
    distinct_ids = row[-1] if bitmap else None
    rows = _raise_problems(ex, plan, WINDOW_TABLE, ("sale_id",), checks, row[: 4 + len(checks)], distinct_ids)
    if currency:
        _check_currency(ex, plan, WINDOW_TABLE, f"status IN {INCLUDED_SQL} AND customer_id IS NOT NULL")
    return rows


def _check_currency(ex: Executor, plan: ColumnPlan, table: str, in_scope: str) -> None:
    if not plan.has("currency"):
        return
    currencies = ex.rows(
        Query(
            "checks.currencies",
            f"SELECT DISTINCT currency FROM {table} WHERE {in_scope} AND currency IS NOT NULL ORDER BY currency LIMIT 5",
        )
    )
    if len(currencies) > 1:
        raise DataError(
            f"{plan.label}: {plan.describe('currency')} holds more than one currency in scope "
            f"({', '.join(str(c[0]) for c in currencies)}); report on one currency at a time"
        )


def finish_window(
    ex: Executor,
    plan: ColumnPlan,
    id_bounds: tuple[int, int] | None = None,
    validated: bool = False,
) -> int:
    """Check `window_sales` (every status), count it into `window_quality`; the number of rows it holds.

    `validated`: the rows passed every value check already (a warehouse checks them when loaded),
    so only what depends on the scope (one currency) is checked here.
    """
    rows = None if validated else check_window(ex, plan, id_bounds, currency=False)
    groups = GROUPS_FROM_WINDOW_SQL.format(currency="currency" if plan.has("currency") else "NULL")
    ex.create_table(GROUPS_TABLE, Query("checks.groups", groups))
    _check_currency(ex, plan, GROUPS_TABLE, f"status IN {INCLUDED_SQL} AND NOT anonymous")
    ex.create_table(QUALITY_TABLE, QUALITY_FROM_GROUPS)
    if rows is None:
        rows = int(
            ex.rows(Query("checks.group_rows", f"SELECT coalesce(sum(rows), 0) FROM {GROUPS_TABLE}"))[0][0]
        )
    return rows


def check_items(ex: Executor, plan: ColumnPlan, table: str = ITEMS_TABLE) -> None:
    """Raise DataError for the first line_total that is not a number."""
    bad = ex.rows(
        Query(
            "checks.bad_line_total",
            f"SELECT sale_id, _raw_line_total FROM {table} WHERE line_total IS NULL LIMIT 1",
        )
    )
    if bad:
        raise DataError(
            f"{plan.label}: {plan.describe('line_total')} has a value that is not a number: "
            f"{quote_value(bad[0][1])} (sale_id {bad[0][0]})"
        )


class TextIds(DataError):
    """A CSV sale or customer id column read as integers holds text ('abc'): read it as text ids."""


def _numeric(value: Any) -> bool:
    try:
        Decimal(str(value).strip())
    except InvalidOperation:
        return False
    return True


def id_problem(value: Any) -> str:
    """What is wrong with an id value a check found (as text): empty, fractional or too large."""
    text = "" if value is None else str(value).strip()
    if not text:
        return "has an empty value"
    try:
        number = Decimal(text)
    except InvalidOperation:
        return f"{NOT_INTEGER}: {quote_value(value)}"
    if number.is_finite() and number == number.to_integral_value() and not -(2**63) <= number < 2**63:
        return f"has a value beyond the 64-bit integer range: {quote_value(value)}"
    return f"{NOT_INTEGER}: {quote_value(value)}"


def check_business_rows(
    ex: Executor,
    plan: ColumnPlan,
    relation: str,
    params: Mapping[str, Any],
    flt: ScopeFilter,
    one_pass: bool = False,
    bigint: bool = False,
) -> Any:
    """Checks over all the business's rows: ids (exact integers, never rounded) and every date.

    Business ids are checked in every row; storefront ids (when filtered on), float or decimal
    sale and customer ids (1.5, NaN, 1e20) and dates in the business's rows. With `bigint` (a
    warehouse stores BIGINT) integer ids wider than 64 bits are errors too. Each check is a
    LIMIT 1 query, which Parquet statistics mostly answer without reading rows. With `one_pass`
    (for relations without statistics, like CSV, where each query re-reads the file) one
    aggregate pass finds the failing checks and only those look for an example; that pass also
    returns the scope's last sale date (any date; None without one), else None.
    """
    label = plan.label
    business_params = {**params, **flt.business_params()}
    conditions: dict[str, str] = {}  # column (or 'date') -> the condition a bad row meets

    def not_int(name: str, expr: str) -> str:
        wide = bigint and plan.kind(name) in INT_TYPES - BIGINT_TYPES
        return (
            f"({expr} IS NULL OR TRY_CAST({plan.raw(name)} AS BIGINT) IS NULL)" if wide else f"{expr} IS NULL"
        )

    if plan.has("business_id"):
        conditions["business_id"] = not_int("business_id", plan.int_expr("business_id"))
    if flt.storefront is not None and plan.kind("storefront_id") not in BIGINT_TYPES:
        raw_storefront = f"CAST({plan.raw('storefront_id')} AS VARCHAR)"
        conditions["storefront_id"] = (
            f"{flt.business} AND NULLIF(trim({raw_storefront}), '') IS NOT NULL "
            f"AND {not_int('storefront_id', plan.int_expr('storefront_id'))}"
        )
    for name in ("sale_id", "customer_id"):  # text ids are checked in the loaded rows
        if plan.kind(name) not in BIGINT_TYPES | {"VARCHAR", "UUID"}:
            bad = not_int(name, plan.id_expr(name))
            conditions[name] = f"{flt.business} AND {plan.raw(name)} IS NOT NULL AND {bad}"
    conditions["date"] = f"{flt.business} AND ({plan.date_expr()}) IS NULL"
    failing = set(conditions)
    last_sale = None
    if one_pass:
        in_scope = " AND ".join(p for p in (flt.business, flt.storefront) if p)
        last = f"max({plan.date_expr()}) FILTER ({in_scope})"  # for the staleness warning
        *found, last_sale = ex.rows(
            Query(
                "checks.business_checks",
                f"SELECT {', '.join(f'coalesce(bool_or({c}), FALSE)' for c in conditions.values())}, {last} "
                f"FROM {relation}",
            ),
            {**params, **flt.params},
        )[0]
        failing = {name for name, bad in zip(conditions, found, strict=True) if bad}
    sale_id = f"coalesce(CAST({plan.id_expr('sale_id')} AS VARCHAR), CAST({plan.raw('sale_id')} AS VARCHAR))"
    for name, condition in conditions.items():
        if name not in failing:
            continue
        column = plan.raw("sale_date" if name == "date" else name)
        text = f"CAST({column} AS VARCHAR)"
        if name != "date" and plan.kind(name) == "DECIMAL":  # as written: 1.5, not 1.5000000000
            text = f"CASE WHEN contains({text}, '.') THEN rtrim(rtrim({text}, '0'), '.') ELSE {text} END"
        found_rows = ex.rows(
            Query(
                f"checks.{name}_example",
                f"SELECT {text}, {sale_id} FROM {relation} WHERE {condition} LIMIT 1",
            ),
            business_params,
        )
        if not found_rows:
            continue
        value, sale = found_rows[0]
        where = "" if name == "sale_id" else f" (sale_id {sale})"
        if name != "date":
            problem = id_problem(value)
            if plan.kind(name) == INTEGER_TEXT and name in ("sale_id", "customer_id") and not _numeric(value):
                raise TextIds(f"{label}: {plan.describe(name)} {problem}{where}")  # ids may be text
            raise DataError(f"{label}: {plan.describe(name)} {problem}{where}")
        if value is None or not value.strip():
            raise DataError(f"{label}: {plan.describe('sale_date')} is empty{where}")
        raise DataError(
            f"{label}: {plan.describe('sale_date')} has a value that is not a date: "
            f"{quote_value(value)}{where}{date_hint(value, plan.date_format)}"
        )
    return last_sale
