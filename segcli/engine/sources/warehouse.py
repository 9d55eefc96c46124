"""The DuckDB warehouse: sales copied from any source into one file, validated, sorted for fast windows.

A warehouse holds
- `sales`: canonical columns (sale_id, business_id, [storefront_id], customer_id, sale_date,
  total_amount, [amount_refunded], status, [channel], [currency]), sorted by business_id
  and sale_date so a window reads few row groups. sale_date keeps the kind of value the
  source had (DATE, naive TIMESTAMP = local time, TIMESTAMPTZ = instant), so a report in
  any time zone sees the same local dates as it would from the source; status is kept as
  loaded, so the data-quality summary counts the same values;
- `sale_items` (when loaded): sale_id, category, line_total;
- `segcli_meta`: one row per load (load_id, loaded_at, mode, source, rows), read by
  `identity()`.
This module reads a warehouse (`WarehouseSource`); `warehouse_load.py` writes one (`segcli load`).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segcli.engine.db import connect, duckdb_errors
from segcli.engine.engines.duckdb import DuckDBExecutor
from segcli.engine.errors import DataError, SourceError
from segcli.engine.schema import ITEM_COLUMNS, SALES_COLUMNS
from segcli.engine.sources.base import ITEMS_TABLE, WINDOW_TABLE, Build, Scope, Source, last_sale_select
from segcli.engine.sources.checks import finish_window
from segcli.engine.sources.plan import ColumnPlan, scope_filter, window_items_select, window_select
from segcli.engine.sql import inline_params

if TYPE_CHECKING:
    import duckdb

SALES = "sales"
ITEMS = "sale_items"
META = "segcli_meta"
ALIAS = "segcli_wh"


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """A table's column names and types."""
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {table}").fetchall()}


class WarehouseSource(Source):
    """A DuckDB file made by `segcli load`, attached read-only for each report."""

    def __init__(self, path: str) -> None:
        if not os.path.isfile(path):
            raise SourceError(f"{path}: file not found (make a warehouse with segcli load)")
        self.path = path
        self.label = path
        self.rows_fetched = 0
        self._plans: dict[str, ColumnPlan] = {}

    def attach(self, con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> None:
        """Attach the file read-only as `alias`, checking it is a segcli warehouse."""
        with duckdb_errors(self.label):
            con.execute(f"ATTACH IF NOT EXISTS $path AS {alias} (READ_ONLY)", {"path": self.path})
            found = {
                row[0]
                for row in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = $alias", {"alias": alias}
                ).fetchall()
            }
        if not {SALES, META} <= found:
            raise SourceError(f"{self.label}: not a segcli warehouse (make one with segcli load)")

    def _plan(self, con: duckdb.DuckDBPyConnection, table: str = SALES) -> ColumnPlan:
        self.attach(con)
        if table not in self._plans:
            columns = SALES_COLUMNS if table == SALES else ITEM_COLUMNS
            with duckdb_errors(self.label):
                types = table_columns(con, f"{ALIAS}.{table}")
            self._plans[table] = ColumnPlan(f"{self.label} ({table})", types, {}, columns)
        return self._plans[table]

    def _with_connection(self, work: Any) -> Any:
        con = connect()
        try:
            return work(con)
        finally:
            con.close()

    def identity(self) -> str:
        """The file (inode, size, modification time) and its latest load."""

        def read(con: duckdb.DuckDBPyConnection) -> Any:
            self.attach(con)
            with duckdb_errors(self.label):
                return con.execute(
                    f"SELECT load_id, CAST(loaded_at AS VARCHAR), total_sales, total_items FROM {ALIAS}.{META} "
                    "ORDER BY loaded_at DESC LIMIT 1"
                ).fetchall()

        st = os.stat(self.path)
        return repr(
            [
                str(Path(self.path).resolve()),
                st.st_ino,
                st.st_size,
                st.st_mtime_ns,
                self._with_connection(read),
            ]
        )

    def columns(self) -> set[str]:
        return set(self._with_connection(lambda con: self._plan(con).source_of))

    def has_items(self) -> bool:
        def read(con: duckdb.DuckDBPyConnection) -> bool:
            self.attach(con)
            return bool(
                con.execute(
                    "SELECT 1 FROM duckdb_tables() WHERE database_name = $alias AND table_name = $t",
                    {"alias": ALIAS, "t": ITEMS},
                ).fetchall()
            )

        return bool(self._with_connection(read))

    def load_window(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        plan = self._plan(con)
        flt = scope_filter(plan, scope, self.default_business_id)
        with duckdb_errors(self.label):
            # a view: the table is sorted by business and date, so its zone maps prune the scan
            select = window_select(plan, f"{ALIAS}.{SALES}", flt.where)
            con.execute(inline_params(f"CREATE OR REPLACE TEMP VIEW {WINDOW_TABLE} AS {select}", flt.params))
            # every row was checked when it was loaded (SPEC 1.4 over the whole file)
            self.rows_fetched += finish_window(DuckDBExecutor(con, self.label), plan, validated=True)

    def last_sale_date(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> date | None:
        plan = self._plan(con)
        sql, params = last_sale_select(plan, f"{ALIAS}.{SALES}", scope, self.default_business_id)
        with duckdb_errors(self.label):  # the table is sorted by business and date: zone maps answer it
            day = con.execute(sql, params).fetchall()[0][0]
        return day if isinstance(day, date) else None

    def load_items(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        if not self.has_items():
            raise DataError(
                f"{self.label}: the warehouse holds no sale items (load them with segcli load --items)"
            )
        plan = self._plan(con, ITEMS)
        with duckdb_errors(self.label):
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {ITEMS_TABLE} AS {window_items_select(plan, f'{ALIAS}.{ITEMS}')}"
            )

    def read_all(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        build(self._plan(con), f"{ALIAS}.{SALES}", {})

    def read_all_items(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        if not self.has_items():
            super().read_all_items(con, build)
        build(self._plan(con, ITEMS), f"{ALIAS}.{ITEMS}", {})
