"""Checks of loaded rows (SPEC 1.4) and the data-quality counts; one aggregate pass each where possible."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from segcli.engine.engines.base import Query
from segcli.engine.errors import DataError
from segcli.engine.sources.base import ITEMS_TABLE, QUALITY_TABLE, WINDOW_TABLE, quote_value
from segcli.engine.sources.plan import EXACT_TYPES, INT_TYPES, ColumnPlan, ScopeFilter
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
    decimals = f"regexp_matches({raw}, '[.][0-9]{{5,}}')" if plan.kind(name) == "VARCHAR" else None
    return bad, decimals


def _fail_money(ex: Executor, plan: ColumnPlan, table: str, name: str, condition: str, what: str) -> None:
    raw = f"_raw_{name}" if plan.kind(name) not in EXACT_TYPES else "NULL"
    sale_id, value = ex.rows(
        Query(
            "checks.money_example",
            f"SELECT sale_id, {raw} FROM {table} WHERE {condition} ORDER BY sale_id LIMIT 1",
        )
    )[0]
    if value is None or not str(value).strip():
        raise DataError(f"{plan.label}: {plan.describe(name)} is empty (sale_id {sale_id})")
    raise DataError(f"{plan.label}: {plan.describe(name)} {what}: {quote_value(value)} (sale_id {sale_id})")


# largest sale_id range checked for duplicates with a bitmap rather than a hash table
_BITMAP_RANGE = 1 << 28


def _has_duplicates(ex: Executor, table: str, key: Sequence[str], rows: int, low: Any, high: Any) -> bool:
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
    distinct: int = ex.rows(Query("checks.distinct_ids", sql))[0][0]
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
            _fail_money(ex, plan, table, name, condition, what)
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
    checks = _money_checks(plan)
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
    checks = _money_checks(plan)
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


def check_business_rows(
    ex: Executor,
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
    if flt.storefront is not None and plan.kind("storefront_id") not in INT_TYPES:
        raw_storefront = f"CAST({plan.raw('storefront_id')} AS VARCHAR)"
        conditions["storefront"] = (
            f"{flt.business} AND NULLIF(trim({raw_storefront}), '') IS NOT NULL "
            f"AND {plan.int_expr('storefront_id')} IS NULL"
        )
    conditions["date"] = f"{flt.business} AND ({plan.date_expr()}) IS NULL"
    failing = set(conditions)
    if one_pass:
        found = ex.rows(
            Query(
                "checks.business_checks",
                f"SELECT {', '.join(f'coalesce(bool_or({c}), FALSE)' for c in conditions.values())} FROM {relation}",
            ),
            business_params,
        )[0]
        failing = {name for name, bad in zip(conditions, found, strict=True) if bad}
    if "business" in failing:
        raw = f"CAST({plan.raw('business_id')} AS VARCHAR)"
        bad = ex.rows(
            Query(
                "checks.business_example",
                f"SELECT {raw} FROM {relation} WHERE {conditions['business']} LIMIT 1",
            ),
            dict(params),
        )
        if bad:
            value = bad[0][0]
            if value is None or not value.strip():
                raise DataError(f"{label}: {plan.describe('business_id')} has an empty value")
            raise DataError(
                f"{label}: {plan.describe('business_id')} has a value that is not an integer: "
                f"{quote_value(value)}"
            )
    if "storefront" in failing:
        bad = ex.rows(
            Query(
                "checks.storefront_example",
                f"SELECT {raw_storefront} FROM {relation} WHERE {conditions['storefront']} LIMIT 1",
            ),
            business_params,
        )
        if bad:
            raise DataError(
                f"{label}: {plan.describe('storefront_id')} has a value that is not an integer: "
                f"{quote_value(bad[0][0])}"
            )
    if "date" not in failing:
        return
    bad = ex.rows(
        Query(
            "checks.date_example",
            f"SELECT CAST({plan.raw('sale_date')} AS VARCHAR), {plan.id_expr('sale_id')} FROM {relation} "
            f"WHERE {conditions['date']} LIMIT 1",
        ),
        business_params,
    )
    if bad:
        value, sale_id = bad[0]
        if value is None or not value.strip():
            raise DataError(f"{label}: {plan.describe('sale_date')} is empty (sale_id {sale_id})")
        raise DataError(
            f"{label}: {plan.describe('sale_date')} has a value that is not a date: "
            f"{quote_value(value)} (sale_id {sale_id})"
        )
