"""CSV and Parquet files (a path or a glob), read by DuckDB."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segcli.engine.db import duckdb_errors, first_line
from segcli.engine.engines.duckdb import DuckDBExecutor
from segcli.engine.errors import DataError, SourceError
from segcli.engine.schema import ITEM_COLUMNS, SALES_COLUMNS, Column
from segcli.engine.sources.base import ITEMS_TABLE, WINDOW_TABLE, Build, Scope, Source, last_sale_select
from segcli.engine.sources.checks import TextIds, check_business_rows, check_items, finish_window
from segcli.engine.sources.csvcheck import Transcoder, csv_error
from segcli.engine.sources.dialect import CsvDialect
from segcli.engine.sources.filecheck import FileCheck
from segcli.engine.sources.plan import (
    INT_TYPES,
    INTEGER_TEXT,
    ColumnPlan,
    ScopeFilter,
    scope_filter,
    window_items_select,
    window_select,
)
from segcli.engine.sql import inline_params

if TYPE_CHECKING:
    import duckdb

    from segcli.engine.sources.columnar import ColumnarStore, MemoryCopy

LAST_SALE_TABLE = "window_last_sale"


def keep_last_sale(con: duckdb.DuckDBPyConnection, day: Any) -> None:
    """Keep the last sale date a load's check pass found, for `last_sale_date` on the same connection."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {LAST_SALE_TABLE} AS SELECT CAST($d AS DATE) AS day", {"d": day}
    )


def kept_last_sale(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last sale date `keep_last_sale` kept on this connection."""
    day = con.execute(f"SELECT day FROM {LAST_SALE_TABLE}").fetchall()[0][0]
    return day if isinstance(day, date) else None


def check_scope(
    con: duckdb.DuckDBPyConnection,
    plan: ColumnPlan,
    rel: str,
    params: dict[str, Any],
    scope: Scope,
    default_business_id: int,
    one_pass: bool,
) -> ScopeFilter:
    """Check the business's rows in `rel` (SPEC 1.4) and return the scope's filter."""
    flt = scope_filter(plan, scope, default_business_id)
    last_sale = check_business_rows(DuckDBExecutor(con, plan.label), plan, rel, params, flt, one_pass)
    if one_pass:  # the check pass found it: kept for last_sale_date
        keep_last_sale(con, last_sale)
    return flt


def create_window(con: duckdb.DuckDBPyConnection, select: str, params: dict[str, Any], view: bool) -> None:
    """Create `window_sales` from `select`: a view reads its relation in place, a table copies it."""
    if view:  # a view cannot be prepared: its parameters are inlined
        con.execute(inline_params(f"CREATE OR REPLACE TEMP VIEW {WINDOW_TABLE} AS {select}", params))
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {WINDOW_TABLE} AS {select}", params)


ID_COLUMNS = ("sale_id", "customer_id", "business_id", "storefront_id")


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


class Snapshot:
    """One expansion of a pattern (a glob is expanded per report) and what reading it taught."""

    def __init__(self, files: list[str]) -> None:
        self.files = files
        stats = [os.stat(path) for path in files]
        self.identity = [
            (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
            for path, st in zip(files, stats, strict=True)
        ]
        self.read_paths: list[str] | None = None  # what DuckDB reads (UTF-8 copies where transcoded)
        self.plan: ColumnPlan | None = None
        self.all_varchar = False
        self.integer_text: set[str] = set()  # CSV integer id columns, read as text (see INTEGER_TEXT)
        self.date_format: str | None = None  # given, or decided from the data (day/month order)
        self.checked = False
        self.copy: tuple[str, str] | None = None  # read instead: ("parquet", path) or ("table", name)
        self.copy_select: str | None = None  # the Parquet copy's columns as read (columnar._typed)
        self.copy_parsed: dict[str, str] = {}  # columns the copy holds parsed: raw name -> its parsed column
        self.text_plan: tuple[ColumnPlan, set[str]] | None = None  # the plan and integer_text before that


class FileScan:
    """One CSV or Parquet file set, read by DuckDB with canonical columns planned on top."""

    def __init__(
        self,
        pattern: str,
        mapping: Mapping[str, str],
        columns: Sequence[Column],
        dialect: CsvDialect | None = None,
    ) -> None:
        self.pattern = pattern
        self.kind = file_kind(pattern)
        self.mapping = dict(mapping)
        self.columns = columns
        self.dialect = dialect or CsvDialect()
        self._transcoder = Transcoder()
        self._last = Snapshot(expand_files(pattern))  # fails early when nothing matches
        self.columnar: ColumnarStore | MemoryCopy | None = None  # parses a CSV once (columnar.attach)

    def snapshot(self) -> Snapshot:
        """The files the pattern names now; the previous snapshot (and its plan) if they are unchanged."""
        current = Snapshot(expand_files(self.pattern))
        if current.identity == self._last.identity:
            return self._last
        self._last = current
        return current

    def identity(self) -> list[tuple[str, int, int]]:
        return self.snapshot().identity

    def _read_paths(self, snap: Snapshot) -> list[str]:
        if snap.read_paths is None:
            if self.kind == "csv" and not self.dialect.native:
                snap.read_paths = [self._transcoder.utf8_copy(p, self.dialect.encoding) for p in snap.files]
            else:
                snap.read_paths = list(snap.files)
        return snap.read_paths

    def relation(self, snap: Snapshot, text_columns: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
        """A table-function call over the files, and its parameters (the dialect's options in one place)."""
        if snap.copy is not None:  # the CSV's parsed copy (sources/columnar.py) holds the columns as read
            kind, where = snap.copy
            if kind == "table":
                return where, {}
            if snap.copy_select is not None:
                return f"(SELECT {snap.copy_select} FROM read_parquet($files))", {"files": [where]}
            return "read_parquet($files)", {"files": [where]}
        params: dict[str, Any] = {"files": self._read_paths(snap)}
        if self.kind == "parquet":
            return "read_parquet($files, union_by_name = true)", params
        args = ["$files", "union_by_name = true"]
        for name, value in self.dialect.read_options(transcoded=not self.dialect.native).items():
            params[f"csv_{name}"] = value
            args.append(f"{name} = $csv_{name}")
        if snap.all_varchar:
            args.append("all_varchar = true")
        elif text_columns:
            params["csv_types"] = dict.fromkeys(text_columns, "VARCHAR")
            args.append("types = $csv_types")
        return f"read_csv({', '.join(args)})", params

    def plan(self, con: duckdb.DuckDBPyConnection, snap: Snapshot | None = None) -> ColumnPlan:
        snap = snap or self.snapshot()
        if snap.plan is None:
            snap.plan = self._make_plan(con, snap)
        return snap.plan

    def _make_plan(self, con: duckdb.DuckDBPyConnection, snap: Snapshot) -> ColumnPlan:
        snap.integer_text = set()
        if not snap.checked:
            check = FileCheck(con, self.pattern, self.kind, self.dialect, self.mapping, self.columns)
            snap.date_format = check.run(snap.files, self._read_paths(snap), snap, self.relation)
            snap.checked = True
            sniffed = check.types if not snap.all_varchar else None
        else:
            sniffed = None
        if sniffed:  # a single CSV's sniffed types are what DESCRIBE would say: no second sniff
            plan = self.plan_from(snap, sniffed)
            snap.integer_text = self._integer_ids(plan)
            text = dict.fromkeys(self.text_columns(plan, snap), "VARCHAR")
            return self.plan_from(snap, {**sniffed, **text}) if text else plan
        plan = self._describe(con, snap, self.relation(snap))
        if self.kind == "csv" and not snap.all_varchar:
            # money (and dates read with a format) are read as text and parsed exactly; integer ids
            # as text parsed strictly, never rounded by the CSV scanner (see INTEGER_TEXT)
            snap.integer_text = self._integer_ids(plan)
            plan = self._describe(con, snap, self.relation(snap, self.text_columns(plan, snap)))
        return plan

    def _integer_ids(self, plan: ColumnPlan) -> set[str]:
        """The raw CSV id columns sniffed as integers (read as text, see INTEGER_TEXT)."""
        if self.kind != "csv":
            return set()
        return {plan.source_of[c] for c in ID_COLUMNS if plan.has(c) and plan.kind(c) in INT_TYPES}

    def plan_from(self, snap: Snapshot, types: Mapping[str, str]) -> ColumnPlan:
        """The plan of raw columns of these types, read as the snapshot says (integer ids, date format)."""
        return ColumnPlan(
            self.pattern,
            {name: INTEGER_TEXT if name in snap.integer_text else kind for name, kind in types.items()},
            self.mapping,
            self.columns,
            decimal=self.dialect.decimal,
            date_format=snap.date_format,
        )

    def _describe(
        self, con: duckdb.DuckDBPyConnection, snap: Snapshot, relation: tuple[str, dict[str, Any]]
    ) -> ColumnPlan:
        rel, params = relation
        with self.errors():
            rows = con.execute(f"DESCRIBE SELECT * FROM {rel}", params).fetchall()
        return self.plan_from(snap, {row[0]: row[1] for row in rows})

    @contextmanager
    def errors(self) -> Iterator[None]:
        """DuckDB errors as one line: a CSV error names the file and line, others their first line."""
        import duckdb

        try:
            yield
        except duckdb.Error as exc:
            message = csv_error(self.pattern, exc, self.dialect) if self.kind == "csv" else None
            if message:
                raise DataError(message) from exc
            raise SourceError(f"{self.pattern}: {first_line(exc)}") from exc

    def reads(self, snap: Snapshot | None = None) -> str:
        """What a snapshot (by default the last one) is read from: 'csv', 'parquet' or 'table' (a copy)."""
        snap = snap or self._last
        return snap.copy[0] if snap.copy is not None else self.kind

    def id_bounds(self, con: duckdb.DuckDBPyConnection, snap: Snapshot) -> tuple[int, int] | None:
        """Bounds of integer sale_ids from Parquet statistics (no data read), or None."""
        plan = self.plan(con, snap)
        if self.reads(snap) != "parquet" or plan.kind("sale_id") not in INT_TYPES:
            return None
        column = snap.copy_parsed.get(plan.source_of["sale_id"], plan.source_of["sale_id"])
        row = con.execute(
            "SELECT min(TRY_CAST(stats_min_value AS HUGEINT)), max(TRY_CAST(stats_max_value AS HUGEINT)), "
            "count(*) FILTER (TRY_CAST(stats_min_value AS HUGEINT) IS NULL "
            "OR TRY_CAST(stats_max_value AS HUGEINT) IS NULL) "
            "FROM parquet_metadata($files) WHERE path_in_schema = $column",
            {"files": [snap.copy[1]] if snap.copy else snap.files, "column": column},
        ).fetchall()[0]
        low, high, missing = row
        return None if missing or low is None else (int(low), int(high))

    def text_columns(self, plan: ColumnPlan, snap: Snapshot) -> list[str]:
        """Raw columns read as text: money, integer ids, and a date column parsed with a date format."""
        names = sorted(snap.integer_text)
        names += [plan.source_of[c.name] for c in self.columns if c.kind == "money" and plan.has(c.name)]
        if snap.date_format is not None and plan.has("sale_date"):
            names.append(plan.source_of["sale_date"])
        return names

    def run(self, con: duckdb.DuckDBPyConnection, build: Build) -> Snapshot:
        """Run `build(plan, relation, params)`; a CSV whose sniffed types fail is re-read as text."""
        import duckdb

        snap = self.snapshot()
        try:
            self._read(con, snap, build)
        except (duckdb.ConversionException, duckdb.InvalidInputException, SourceError, TextIds) as exc:
            # a check run through an executor arrives as a SourceError caused by the DuckDB error
            cause = exc.__cause__ if isinstance(exc, SourceError) else exc
            if not isinstance(cause, duckdb.ConversionException | duckdb.InvalidInputException | TextIds):
                raise
            message = (
                csv_error(self.pattern, cause, self.dialect)
                if self.kind == "csv" and not isinstance(cause, TextIds)
                else None
            )
            if message:
                raise DataError(message) from cause
            if self.kind != "csv" or snap.all_varchar:
                raise SourceError(f"{self.pattern}: {first_line(cause)}") from cause
            snap.all_varchar, snap.plan, snap.copy, snap.text_plan = True, None, None, None
            self._read(con, snap, build)
        return snap

    def _read(self, con: duckdb.DuckDBPyConnection, snap: Snapshot, build: Build) -> None:
        if self.columnar is not None and self.kind == "csv":
            self.columnar.adopt(self, con, snap)  # parse the CSV once (or find its parsed copy)
        plan = self.plan(con, snap)
        build(plan, *self.relation(snap, self.text_columns(plan, snap)))


class FileSource(Source):
    """Sales (and optionally sale items) in CSV or Parquet files, a path or a glob each."""

    def __init__(
        self,
        pattern: str,
        mapping: Mapping[str, str] | None = None,
        default_business_id: int = 1,
        items: str | None = None,
        dialect: CsvDialect | None = None,
    ) -> None:
        self.label = pattern
        self.default_business_id = default_business_id
        self.dialect = dialect or CsvDialect()
        self.sales = FileScan(pattern, mapping or {}, SALES_COLUMNS, self.dialect)
        self.items = FileScan(items, mapping or {}, ITEM_COLUMNS, self.dialect) if items else None
        self.rows_fetched = 0

    def identity(self) -> str:
        """The files a glob names now (path, size, mtime of each), and how they are read."""
        parts: list[Any] = [self.sales.identity(), self.default_business_id]
        if self.items is not None:
            parts.append(self.items.identity())
        if self.dialect != CsvDialect():
            parts.append(self.dialect.key())
        return repr(parts)

    def columns(self) -> set[str]:
        from segcli.engine.db import connect

        con = connect()
        try:
            return set(self.sales.plan(con).source_of)
        finally:
            con.close()

    def has_items(self) -> bool:
        return self.items is not None

    def load_window(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        def build(plan: ColumnPlan, rel: str, params: dict[str, Any]) -> None:
            one_pass = self.sales.kind == "csv"  # each LIMIT 1 check would re-read a CSV
            flt = check_scope(con, plan, rel, params, scope, self.default_business_id, one_pass)
            # a view over Parquet (files, or a CSV's parsed copy): its scans prune by row group and
            # re-read cheaply, so nothing is copied; text is parsed once, into a table
            view = self.sales.reads() == "parquet"
            create_window(con, window_select(plan, rel, flt.where), {**params, **flt.params}, view)

        with duckdb_errors(self.label):
            snap = self.sales.run(con, build)
            plan = self.sales.plan(con, snap)
            ex = DuckDBExecutor(con, self.label)
            self.rows_fetched += finish_window(ex, plan, self.sales.id_bounds(con, snap))

    def last_sale_date(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> date | None:
        with duckdb_errors(self.label):
            if self.sales.kind == "csv":
                return kept_last_sale(con)
            snap = self.sales.snapshot()
            plan = self.sales.plan(con, snap)
            rel, params = self.sales.relation(snap, self.sales.text_columns(plan, snap))
            sql, where = last_sale_select(plan, rel, scope, self.default_business_id)
            day = con.execute(sql, {**params, **where}).fetchall()[0][0]
        return day if isinstance(day, date) else None

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
            snap = scan.run(con, build)
            check_items(DuckDBExecutor(con, scan.pattern), scan.plan(con, snap))

    def read_all(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        self.sales.run(con, build)

    def read_all_items(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        if self.items is None:
            super().read_all_items(con, build)
            return
        self.items.run(con, build)
