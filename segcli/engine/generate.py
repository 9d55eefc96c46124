"""Deterministic synthetic sales that look like a real shop, generated in DuckDB SQL.

Every random draw is a hash of (row, draw number) mixed with the seed, so the output depends
only on the arguments (and the DuckDB version), never on threads or time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from segcli.engine.atomic import sweep_stale, temp_path
from segcli.engine.db import connect, duckdb_errors
from segcli.engine.errors import InvalidParameter
from segcli.engine.sources import file_kind
from segcli.engine.sql import sql_literal

if TYPE_CHECKING:
    import duckdb

DEFAULT_END_DATE = date(2026, 11, 20)
HISTORY_DAYS = 730
CHANNELS = ("web", "mobile", "store", "marketplace")
CATEGORIES = ("Apparel", "Footwear", "Accessories", "Home", "Beauty", "Electronics")


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


_MACROS = """
CREATE OR REPLACE TEMP MACRO u(s, i, k) AS ((hash(hash(i * 64 + k) + s) >> 11) / 9007199254740992.0);
CREATE OR REPLACE TEMP MACRO z(s, i, k) AS
    (sqrt(-2 * ln(greatest(u(s, i, k), 1e-12))) * cos(2 * pi() * u(s, i, k + 32)));
"""

# One row per customer: business, storefront, how many orders, when, how much they spend.
_CUSTOMERS = f"""
CREATE OR REPLACE TEMP TABLE gen_customers AS
SELECT i AS customer_id,
       CASE WHEN u($seed, i, 1) < 0.70 THEN 1 WHEN u($seed, i, 1) < 0.90 THEN 2 ELSE 3 END AS business_id,
       CASE WHEN u($seed, i, 1) < 0.70 THEN 1 + CAST(floor(u($seed, i, 2) * 3) AS INTEGER)
            WHEN u($seed, i, 1) < 0.90 THEN 4 + CAST(floor(u($seed, i, 2) * 2) AS INTEGER)
            ELSE 6 END AS storefront_id,
       CASE WHEN u($seed, i, 3) < 0.55 THEN 1
            WHEN u($seed, i, 3) < 0.85 THEN 2 + CAST(floor(u($seed, i, 4) * 4) AS INTEGER)
            ELSE least(400, 6 + CAST(floor(-ln(greatest(u($seed, i, 4), 1e-12)) * 16.5) AS INTEGER))
       END AS n_orders,
       CAST(floor(u($seed, i, 5) * {HISTORY_DAYS}) AS INTEGER) AS first_day,
       CAST(floor(-ln(greatest(u($seed, i, 6), 1e-12)) * 250) AS INTEGER) AS lifetime,
       ln(55) + 0.6 * z($seed, i, 7) AS mu,
       CAST(floor(u($seed, i, 8) * 100) AS INTEGER) AS channel_pick,
       CAST(floor(u($seed, i, 9) * {len(CATEGORIES)}) AS INTEGER) AS category_pick
FROM range(1, $customers + 1) t(i)
"""

# One row per sale, numbered in date order like a real export.
_SALES = f"""
CREATE OR REPLACE TEMP TABLE gen_sales AS
WITH orders AS (
    SELECT c.*, unnest(range(c.n_orders)) AS k FROM gen_customers c
),
drawn AS (
    SELECT customer_id, business_id, storefront_id, channel_pick, category_pick, k,
           customer_id * 1000 + k AS key,
           CAST($start AS TIMESTAMP)
             + to_days(CAST(first_day + CASE WHEN n_orders = 1 THEN 0 ELSE floor(
                   u($seed, customer_id * 1000 + k, 11)
                   * (least(lifetime, {HISTORY_DAYS} - 1 - first_day) + 1)) END AS INTEGER))
             + to_seconds(CAST(floor(u($seed, customer_id * 1000 + k, 12) * 86400) AS BIGINT)) AS ts,
           CAST(round(exp(mu + 0.45 * z($seed, customer_id * 1000 + k, 13)), 2) AS DECIMAL(12, 2)) AS price,
           u($seed, customer_id * 1000 + k, 14) AS status_u,
           u($seed, customer_id * 1000 + k, 15) AS casing_u,
           u($seed, customer_id * 1000 + k, 16) AS anon_u,
           u($seed, customer_id * 1000 + k, 17) AS refund_u,
           u($seed, customer_id * 1000 + k, 18) AS channel_u,
           u($seed, customer_id * 1000 + k, 19) AS refund_part,
           u($seed, customer_id * 1000 + k, 21) AS channel_alt
    FROM orders
)
SELECT row_number() OVER (ORDER BY ts, customer_id, k) AS sale_id,
       business_id,
       storefront_id,
       CASE WHEN anon_u < 0.02 THEN NULL ELSE customer_id END AS customer_id,
       ts AS sale_date,
       CASE WHEN refund_u < 0.005 THEN -price ELSE price END AS total_amount,
       CASE WHEN refund_u BETWEEN 0.005 AND 0.035
            THEN CAST(round(price * refund_part, 2) AS DECIMAL(12, 2)) END AS amount_refunded,
       CASE WHEN status_u < 0.86 THEN
                ['completed', 'Completed', ' COMPLETED', 'completed '][1 + CAST(floor(casing_u * 4) AS INTEGER)]
            WHEN status_u < 0.91 THEN ['partial', 'Partial', ' PARTIAL '][1 + CAST(floor(casing_u * 3) AS INTEGER)]
            WHEN status_u < 0.95 THEN ['pending', 'Pending'][1 + CAST(floor(casing_u * 2) AS INTEGER)]
            WHEN status_u < 0.985 THEN ['cancelled', 'CANCELLED'][1 + CAST(floor(casing_u * 2) AS INTEGER)]
            ELSE ['refunded', 'on_hold'][1 + CAST(floor(casing_u * 2) AS INTEGER)] END AS status,
       {_list(CHANNELS)}[1 + CASE WHEN channel_u < 0.75
            THEN (CASE WHEN channel_pick < 45 THEN 0 WHEN channel_pick < 75 THEN 1
                       WHEN channel_pick < 95 THEN 2 ELSE 3 END)
            ELSE CAST(floor(channel_alt * 4) AS INTEGER) END] AS channel,
       CASE business_id WHEN 3 THEN 'EUR' ELSE 'USD' END AS currency,
       category_pick,
       key
FROM drawn
"""

# One to three items per sale; line totals add up exactly to the sale's total.
_ITEMS = f"""
SELECT sale_id, line_no, category, line_total FROM (
    SELECT s.sale_id,
           j + 1 AS line_no,
           {_list(CATEGORIES)}[1 + CASE WHEN u($seed, s.key, 30 + j) < (CASE WHEN j = 0 THEN 0.7 ELSE 0.45 END)
                THEN s.category_pick
                ELSE CAST(floor(u($seed, s.key, 40 + j) * {len(CATEGORIES)}) AS INTEGER) END] AS category,
           CASE WHEN j < s.n_items - 1
                THEN CAST(round(s.total_amount * [[1.0], [0.6, 0.4], [0.5, 0.3, 0.2]][s.n_items][j + 1], 2)
                          AS DECIMAL(12, 2))
                ELSE s.total_amount - CAST(CASE s.n_items
                    WHEN 1 THEN 0
                    WHEN 2 THEN round(s.total_amount * 0.6, 2)
                    ELSE round(s.total_amount * 0.5, 2) + round(s.total_amount * 0.3, 2) END AS DECIMAL(12, 2))
           END AS line_total
    FROM (
        SELECT sale_id, key, category_pick, total_amount,
               CASE WHEN u($seed, key, 20) < 0.55 THEN 1 WHEN u($seed, key, 20) < 0.85 THEN 2 ELSE 3 END
                   AS n_items
        FROM gen_sales
    ) s, LATERAL (SELECT unnest(range(s.n_items)) AS j)
)
ORDER BY sale_id, line_no
"""

_SALES_OUT = """
SELECT sale_id, business_id, storefront_id, customer_id, sale_date, total_amount, amount_refunded,
       status, channel, currency
FROM gen_sales ORDER BY sale_id
"""


@dataclass(frozen=True)
class GenerateResult:
    sales_rows: int
    item_rows: int | None


def _copy(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object], path: Path) -> None:
    """COPY a query to a file atomically (temporary name in the same folder, then rename)."""
    kind = file_kind(str(path))
    sweep_stale(path.parent)
    tmp = temp_path(path)
    fmt = (
        "(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)"
        if kind == "parquet"
        else "(FORMAT csv, HEADER)"
    )
    try:
        con.execute(f"COPY ({query}) TO {sql_literal(str(tmp))} {fmt}", params)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _make_folder(folder: Path, option: str) -> None:
    """Create an output's folder (and its parents) as `mkdir -p` would."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        message = f"Invalid output: cannot create folder {folder}: {exc.strerror}"
        raise InvalidParameter(message, cli_hint=option) from None


def generate(
    customers: int,
    seed: int,
    out: str,
    items: str | None = None,
    end_date: date = DEFAULT_END_DATE,
) -> GenerateResult:
    """Write synthetic sales (and items) for `customers` customers over two years ending `end_date`."""
    if customers < 1:
        raise InvalidParameter("Invalid customers. Must be a positive integer")
    if end_date.toordinal() < HISTORY_DAYS:
        first = date.fromordinal(HISTORY_DAYS).isoformat()
        raise InvalidParameter(f"Invalid --end-date. Must be {first} or later (two years of sales end there)")
    out_path = Path(out)
    for option, path in (("--out", out), ("--items", items)):
        if path is not None and not path.lower().endswith((".csv", ".parquet")):
            raise InvalidParameter(f"Invalid {option} '{path}'. Must end in .csv or .parquet")
    for option, path in (("--out", out), ("--items", items)):
        if path is not None:
            _make_folder(Path(path).parent, option)
    start = date.fromordinal(end_date.toordinal() - HISTORY_DAYS + 1)
    params = {"seed": seed, "start": start}
    con = connect()
    try:
        with duckdb_errors("generate"):
            for statement in _MACROS.strip().split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(_CUSTOMERS, {"seed": seed, "customers": customers})
            con.execute(_SALES, params)
            _copy(con, _SALES_OUT, {}, out_path)
            sales_rows = con.execute("SELECT count(*) FROM gen_sales").fetchall()[0][0]
            item_rows = None
            if items is not None:
                _copy(con, _ITEMS, {"seed": seed}, Path(items))
                item_rows = con.execute(
                    f"SELECT count(*) FROM read_{file_kind(items)}($p)", {"p": items}
                ).fetchall()[0][0]
    finally:
        con.close()
    return GenerateResult(sales_rows, item_rows)
