"""The DuckDB executor: one in-process connection whose session time zone is the report's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from segcli.engine.db import connect, duckdb_errors
from segcli.engine.engines.base import Params, Query

if TYPE_CHECKING:
    import duckdb
    import pyarrow

    from segcli.engine.sources import Scope, Source


class DuckDBExecutor:
    """Runs named queries on a DuckDB connection; `duckdb.Error` becomes one segcli error line."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, label: str = "duckdb") -> None:
        self.con = con
        self.label = label

    @classmethod
    def open(cls, timezone: str = "UTC", label: str = "duckdb") -> DuckDBExecutor:
        """A new in-memory engine whose dates are local to `timezone`."""
        return cls(connect(timezone), label)

    def rows(self, query: Query, params: Params | None = None) -> list[tuple[Any, ...]]:
        with duckdb_errors(self.label):
            return self.con.execute(query.sql, query.bind(params)).fetchall()

    def arrow(self, query: Query, params: Params | None = None) -> pyarrow.Table:
        with duckdb_errors(self.label):
            return self.con.sql(query.sql, params=query.bind(params)).to_arrow_table()

    def create_table(self, name: str, query: Query, params: Params | None = None) -> None:
        with duckdb_errors(self.label):
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {query.sql}", query.bind(params))

    def register(self, name: str, table: pyarrow.Table) -> None:
        with duckdb_errors(self.label):
            self.con.register(name, table)

    def load(self, source: Source, scope: Scope, items: bool = False) -> None:
        source.load_window(self.con, scope)
        if items:
            source.load_items(self.con, scope)

    def last_sale(self, source: Source, scope: Scope) -> date | None:
        return source.last_sale_date(self.con, scope)

    def close(self) -> None:
        self.con.close()


@contextmanager
def duckdb_engine(timezone: str, label: str) -> Iterator[DuckDBExecutor]:
    """An executor for one report, closed afterwards."""
    executor = DuckDBExecutor.open(timezone, label)
    try:
        yield executor
    finally:
        executor.close()
