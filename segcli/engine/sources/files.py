"""CSV and Parquet files (a path or a glob), read by DuckDB."""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segcli.engine.db import duckdb_errors, first_line
from segcli.engine.engines.duckdb import DuckDBExecutor
from segcli.engine.errors import SourceError
from segcli.engine.schema import ITEM_COLUMNS, SALES_COLUMNS, Column
from segcli.engine.sources.base import ITEMS_TABLE, WINDOW_TABLE, Build, Scope, Source
from segcli.engine.sources.checks import check_business_rows, check_items, finish_window
from segcli.engine.sources.plan import INT_TYPES, ColumnPlan, scope_filter, window_items_select, window_select
from segcli.engine.sql import inline_params

if TYPE_CHECKING:
    import duckdb


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
        if self.kind != "parquet" or plan.kind("sale_id") not in INT_TYPES:
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
        except (duckdb.ConversionException, duckdb.InvalidInputException, SourceError) as exc:
            # a check run through an executor arrives as a SourceError caused by the DuckDB error
            cause = exc.__cause__ if isinstance(exc, SourceError) else exc
            if not isinstance(cause, duckdb.ConversionException | duckdb.InvalidInputException):
                raise
            if self.kind != "csv" or self.all_varchar:
                raise SourceError(f"{self.pattern}: {first_line(cause)}") from cause
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
            check_business_rows(
                DuckDBExecutor(con, plan.label), plan, rel, params, flt, one_pass=self.sales.kind == "csv"
            )
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
            ex = DuckDBExecutor(con, self.label)
            self.rows_fetched += finish_window(ex, plan, self.sales.id_bounds(con, plan))

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
            check_items(DuckDBExecutor(con, scan.pattern), scan.plan(con))

    def read_all(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        self.sales.run(con, build)

    def read_all_items(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        if self.items is None:
            super().read_all_items(con, build)
            return
        self.items.run(con, build)
