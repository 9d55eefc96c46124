"""The PostgreSQL text of a Postgres source's queries: scope predicates, quality counts, window and items.

Functions here only build SQL (values go through a `Binder`); `postgres.py` runs them.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from segcli.engine.sources.base import Scope
from segcli.engine.sources.pg_catalog import Binder, PgTable, inexact_ids
from segcli.engine.sources.plan import ColumnPlan
from segcli.engine.sql import INCLUDED_SQL, normal_status

# a table's columns and types (domains as their base type), or no row when it does not exist
DESCRIBE_SQL = """
    SELECT c.oid::regclass::text, c.relkind::text, a.attname::text,
           coalesce(bt.typname, t.typname)::text,
           format_type(coalesce(bt.oid, t.oid), CASE WHEN bt.oid IS NULL THEN a.atttypmod END)
    FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
    WHERE c.oid = to_regclass($1)
    ORDER BY a.attnum
"""
RELFILENODE_SQL = "SELECT relfilenode::int8 FROM pg_class WHERE oid = to_regclass($1)"


def version_probe(table: PgTable) -> str:
    """Row count and sum of row versions' xmin (tables), or a hash of the rows (views, foreign tables)."""
    if table.relkind in ("r", "p"):
        return f"SELECT count(*), sum(xmin::text::bigint)::text FROM {table.relation}"
    return f"SELECT count(*), sum(hashtext(t::text)::bigint)::text FROM {table.relation} t"


def date_bounds(plan: ColumnPlan, scope: Scope) -> tuple[Any, Any] | None:
    """The window as values of a DATE or TIMESTAMP column; None for TIMESTAMPTZ (DuckDB computes instants)."""
    kind = plan.kind("sale_date")
    if kind == "DATE":
        return scope.start_date, scope.end_exclusive
    if kind == "TIMESTAMP":
        return datetime.combine(scope.start_date, time()), datetime.combine(scope.end_exclusive, time())
    return None


def scope_where(
    plan: ColumnPlan, scope: Scope, bounds: tuple[Any, Any], bind: Binder, default_business_id: int
) -> str:
    """Postgres predicates for the business's rows dated in the window (and of the storefront)."""
    parts = []
    if plan.has("business_id"):
        parts.append(f"{plan.raw('business_id')} = {bind(scope.business_id)}")
    elif scope.business_id != default_business_id:
        parts.append("FALSE")
    day = plan.raw("sale_date")
    parts.append(f"{day} >= {bind(bounds[0])} AND {day} < {bind(bounds[1])}")
    if scope.storefront_id is not None:
        plan.require_storefront()
        parts.append(f"{plan.raw('storefront_id')} = {bind(scope.storefront_id)}")
    return " AND ".join(parts)


def text_sql(plan: ColumnPlan, canonical: str) -> str:
    """A column as trimmed text, NULL when empty (Postgres SQL)."""
    return f"NULLIF(trim({plan.raw(canonical)}::text), '')"


def key_sql(plan: ColumnPlan, canonical: str) -> str:
    """An id column as compared: trimmed text for text ids, the value otherwise."""
    return text_sql(plan, canonical) if plan.is_text(canonical) else plan.raw(canonical)


def in_scope_sql(plan: ColumnPlan) -> str:
    """Rows a report counts: an included status and a customer."""
    return (
        f"{normal_status(plan.raw('status') + '::text')} IN {INCLUDED_SQL} "
        f"AND {key_sql(plan, 'customer_id')} IS NOT NULL"
    )


def quality_sql(table: PgTable, plan: ColumnPlan, where: str, timezone: str, bind: Binder) -> str:
    """Counts per local day, status and anonymity, and a total row with the checks' counts."""
    day, kind = plan.raw("sale_date"), plan.kind("sale_date")
    if kind == "TIMESTAMPTZ":
        local = f"({day} AT TIME ZONE {bind(timezone)})::date"
    else:
        local = day if kind == "DATE" else f"{day}::date"
    return f"""
        SELECT sale_date, status, anonymous, count(*) AS rows,
               count(sale_key) AS keyed, count(DISTINCT sale_key) AS distinct_keys,
               count(total) AS priced, count(*) FILTER (WHERE bad_id) AS bad_ids,
               GROUPING(sale_date, status, anonymous) <> 0 AS is_total
        FROM (
            SELECT {local} AS sale_date,
                   {normal_status(plan.raw("status") + "::text")} AS status,
                   {key_sql(plan, "customer_id")} IS NULL AS anonymous,
                   {key_sql(plan, "sale_id")} AS sale_key,
                   {plan.raw("total_amount")} AS total,
                   coalesce({" OR ".join(inexact_ids(table, plan).values()) or "FALSE"}, FALSE) AS bad_id
            FROM {table.relation} WHERE {where}
        ) w
        GROUP BY GROUPING SETS ((sale_date, status, anonymous), ())
    """


def id_example_sql(table: PgTable, plan: ColumnPlan, name: str, where: str, condition: str) -> str:
    """One row whose id `name` meets `condition`: the value and its sale_id, as text."""
    return (
        f"SELECT {table.text(plan, name)}, {table.text(plan, 'sale_id')} FROM {table.relation} "
        f"WHERE {where} AND {condition} LIMIT 1"
    )


def window_sql(table: PgTable, plan: ColumnPlan, where: str) -> str:
    """The window's rows with the columns a report reads (business and storefront were filtered on)."""
    cols = [table.select(plan, c) for c in plan.source_of if c not in ("business_id", "storefront_id")]
    return f"SELECT {', '.join(cols)} FROM {table.relation} WHERE {where}"


def items_sql(items: PgTable, plan: ColumnPlan, sales: PgTable, sales_plan: ColumnPlan, where: str) -> str:
    """The items of the sales in scope (`where` selects the business's window of `sales`)."""
    cols = ", ".join(items.select(plan, c) for c in plan.source_of)
    return (
        f"SELECT {cols} FROM {items.relation} WHERE {plan.raw('sale_id')} IN "
        f"(SELECT {sales_plan.raw('sale_id')} FROM {sales.relation} "
        f"WHERE {where} AND {in_scope_sql(sales_plan)})"
    )


def all_rows_sql(table: PgTable, plan: ColumnPlan) -> str:
    """Every row of a table with its planned columns (for `segcli load`)."""
    return f"SELECT {', '.join(table.select(plan, c) for c in plan.source_of)} FROM {table.relation}"


def last_sale_sql(
    table: PgTable, plan: ColumnPlan, scope: Scope, bind: Binder, default_business_id: int
) -> str | None:
    """The latest sale_date of the business's (and storefront's) rows; None when the scope is empty."""
    parts = []
    if plan.has("business_id"):
        parts.append(f"{plan.raw('business_id')} = {bind(scope.business_id)}")
    elif scope.business_id != default_business_id:
        return None
    if scope.storefront_id is not None:
        parts.append(f"{plan.raw('storefront_id')} = {bind(scope.storefront_id)}")
    where = " AND ".join(parts) or "TRUE"
    return f"SELECT max({plan.raw('sale_date')}) FROM {table.relation} WHERE {where}"
