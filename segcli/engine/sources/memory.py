"""In-memory tables as a source: Arrow, pandas, polars or a DuckDB relation, scanned by DuckDB in place.

The table is registered on the engine's connection (`con.register`), so DuckDB reads its
buffers without a copy; the column plan comes from the registered view's types and the load
runs the same checks and data-quality counts as the file source. pandas and polars are never
imported here: a table's kind is told from its class's module and name.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from segcli.engine.db import duckdb_errors
from segcli.engine.engines.duckdb import DuckDBExecutor
from segcli.engine.errors import InvalidParameter
from segcli.engine.schema import ITEM_COLUMNS, SALES_COLUMNS, Column
from segcli.engine.sources.base import ITEMS_TABLE, Build, Scope, Source
from segcli.engine.sources.checks import check_items, finish_window
from segcli.engine.sources.dialect import CsvDialect
from segcli.engine.sources.files import FileScan, FileSource, check_scope, create_window, kept_last_sale
from segcli.engine.sources.plan import ColumnPlan, window_items_select, window_select
from segcli.engine.sql import quote_ident

if TYPE_CHECKING:
    import duckdb

# (root module, class name) -> the kind of table, as messages name it
_KINDS = {
    ("pyarrow", "Table"): "Arrow table",
    ("pyarrow", "Dataset"): "Arrow dataset",
    ("pyarrow", "RecordBatchReader"): "Arrow record batch reader",
    ("pandas", "DataFrame"): "pandas DataFrame",
    ("polars", "DataFrame"): "polars DataFrame",
    ("polars", "LazyFrame"): "polars LazyFrame",
    ("duckdb", "DuckDBPyRelation"): "DuckDB relation",
    ("_duckdb", "DuckDBPyRelation"): "DuckDB relation",
}
TABLE_KINDS = tuple(dict.fromkeys(_KINDS.values()))
# kinds held as a pyarrow Table once scannable: their batches can be pruned by date
_ARROW_TABLES = (
    "Arrow table",
    "Arrow record batch reader",
    "DuckDB relation",
    "polars DataFrame",
    "polars LazyFrame",
)


def table_kind(data: object) -> str | None:
    """The kind of in-memory table `data` is ("pandas DataFrame", ...), or None for anything else."""
    for cls in type(data).__mro__:
        kind = _KINDS.get((cls.__module__.split(".")[0], cls.__name__))
        if kind is not None:
            return kind
    return None


def _scannable(data: Any, kind: str) -> Any:
    """What DuckDB scans for `data`: the object itself, or its one-time result when a scan would re-run it.

    A polars frame is taken as Arrow (a LazyFrame collected first), a relation (bound to its own connection, which DuckDB cannot read
    from another) is run into Arrow, and a record batch reader (readable once) is read; every
    other kind is scanned where it lies.
    """
    if kind in ("polars DataFrame", "polars LazyFrame"):
        frame = data.collect() if kind == "polars LazyFrame" else data
        # polars' newest Arrow level keeps its string views: zero-copy (the default copies strings)
        compat = getattr(sys.modules.get("polars"), "CompatLevel", None)
        return frame.to_arrow(compat_level=compat.newest()) if compat is not None else frame.to_arrow()
    if kind == "DuckDB relation":
        return data.to_arrow_table()
    if kind == "Arrow record batch reader":
        return data.read_all()
    return data


def window_batches(table: Any, column: str, scope: Scope) -> Any:
    """The table's record batches that may hold rows dated in the scope, as a table (zero-copy).

    Arrow scans in DuckDB filter every row; Parquet skips row groups by their statistics. This
    does the same for in-memory batches: a batch whose `column` (a date or timestamp) lies
    wholly outside the scope, widened by a day for time zones, is left out. Returns None when
    nothing can be left out.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    field = table.schema.field(column)
    if not (pa.types.is_date(field.type) or pa.types.is_timestamp(field.type)):
        return None
    low, high = scope.start_date - timedelta(days=1), scope.end_exclusive + timedelta(days=1)
    batches = table.to_batches()
    kept = []
    for batch in batches:
        bounds = pc.min_max(batch.column(column))
        first, last = bounds["min"], bounds["max"]
        if not first.is_valid:  # every date null: no row of the window
            continue
        if first.cast(pa.date32()).as_py() < high and last.cast(pa.date32()).as_py() >= low:
            kept.append(batch)
    return None if len(kept) == len(batches) else pa.Table.from_batches(kept, schema=table.schema)


class MemoryScan:
    """One in-memory table, registered on each connection that reads it."""

    def __init__(
        self,
        data: Any,
        kind: str,
        label: str,
        name: str,
        mapping: Mapping[str, str],
        columns: Sequence[Column],
    ) -> None:
        self.kind = kind
        self.label = label
        self.data = _scannable(data, kind)
        self.name = name
        self.mapping = dict(mapping)
        self.columns = columns
        self._types: dict[str, str] | None = None
        self._plan: ColumnPlan | None = None

    def relation(self, con: duckdb.DuckDBPyConnection) -> str:
        """The table's name on `con`, registered there (zero-copy) if need be.

        A pandas Categorical of text arrives as an ENUM: a view reads it as text, like a file's column.
        """
        data = quote_ident(f"{self.name}_data")
        with duckdb_errors(self.label):
            con.register(f"{self.name}_data", self.data)
            if self._types is None:
                rows = con.execute(f"DESCRIBE SELECT * FROM {data}").fetchall()
                self._types = {str(row[0]): str(row[1]) for row in rows}
            enums = [name for name, kind in self._types.items() if kind.upper().startswith("ENUM")]
            if not enums:
                return data
            casts = ", ".join(f"CAST({quote_ident(n)} AS VARCHAR) AS {quote_ident(n)}" for n in enums)
            view = quote_ident(self.name)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * REPLACE ({casts}) FROM {data}")
            return view

    def plan(self, con: duckdb.DuckDBPyConnection) -> ColumnPlan:
        if self._plan is None:
            self.relation(con)
            assert self._types is not None
            types = {n: "VARCHAR" if k.upper().startswith("ENUM") else k for n, k in self._types.items()}
            self._plan = ColumnPlan(self.label, types, self.mapping, self.columns)
        return self._plan

    def run(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        """Call `build(plan, relation, params)` over the table (the same contract as `FileScan.run`)."""
        plan = self.plan(con)
        build(plan, self.relation(con), {})

    def window_relation(self, con: duckdb.DuckDBPyConnection, plan: ColumnPlan, scope: Scope) -> str:
        """A relation holding at least the scope's rows: the batches that may hold them, else the table."""
        if self.kind not in _ARROW_TABLES or not plan.has("sale_date"):
            return self.relation(con)
        batches = window_batches(self.data, plan.source_of["sale_date"], scope)
        if batches is None:
            return self.relation(con)
        with duckdb_errors(self.label):
            con.register(f"{self.name}_window", batches)
        return quote_ident(f"{self.name}_window")


def memory_scan(data: Any, mapping: Mapping[str, str], items: bool = False) -> MemoryScan:
    """A scan of an in-memory table of sales (or of sale items), or InvalidParameter for another object."""
    kind = table_kind(data)
    if kind is None:
        what = "items" if items else "source"
        raise InvalidParameter(
            f"Invalid {what}. Must be a path, glob or URL, or one of: {', '.join(TABLE_KINDS)} "
            f"(got {type(data).__module__}.{type(data).__qualname__})"
        )
    if items:
        return MemoryScan(data, kind, f"{kind} of items", "segcli_memory_items", mapping, ITEM_COLUMNS)
    return MemoryScan(data, kind, kind, "segcli_memory_sales", mapping, SALES_COLUMNS)


def _load_items(con: duckdb.DuckDBPyConnection, scan: MemoryScan | FileScan, label: str) -> None:
    """Create `window_items` from a scan of sale items and check its amounts."""

    def build(plan: ColumnPlan, rel: str, params: dict[str, Any]) -> None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {ITEMS_TABLE} AS {window_items_select(plan, rel)}", params)

    with duckdb_errors(label):
        scan.run(con, build)
        check_items(DuckDBExecutor(con, label), scan.plan(con))


def _identity(cache_key: str | None, *parts: Any) -> str:
    """The cache identity: the caller's key for in-memory data; without one, never the same twice."""
    return repr([cache_key if cache_key is not None else uuid.uuid4().hex, *parts])


class MemorySource(Source):
    """Sales in an in-memory table; sale items in another one, or in files."""

    def __init__(
        self,
        data: Any,
        mapping: Mapping[str, str] | None = None,
        default_business_id: int = 1,
        items: Any = None,
        cache_key: str | None = None,
        dialect: CsvDialect | None = None,
    ) -> None:
        self.sales = memory_scan(data, mapping or {})
        self.label = self.sales.label
        self.default_business_id = default_business_id
        self.items: MemoryScan | FileScan | None = None
        self.dialect = dialect or CsvDialect()
        if isinstance(items, str):
            self.items = FileScan(items, mapping or {}, ITEM_COLUMNS, self.dialect)
        elif items is not None:
            self.items = memory_scan(items, mapping or {}, items=True)
        self.cache_key = cache_key
        self.rows_fetched = 0
        # pandas columns of Python objects are converted at every scan: their window is copied once
        self.copy_window = self.sales.kind == "pandas DataFrame"

    def identity(self) -> str:
        files = self.items.identity() if isinstance(self.items, FileScan) else None
        read = self.dialect.key() if files is not None and self.dialect != CsvDialect() else None
        return _identity(self.cache_key, self.label, self.default_business_id, files, read)

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
            # no statistics to answer a LIMIT 1 without a scan: one aggregate pass finds what fails
            flt = check_scope(con, plan, rel, params, scope, self.default_business_id, one_pass=True)
            select = window_select(plan, self.sales.window_relation(con, plan, scope), flt.where)
            # a view reads the table in place
            create_window(con, select, {**params, **flt.params}, view=not self.copy_window)

        with duckdb_errors(self.label):
            self.sales.run(con, build)
            ex = DuckDBExecutor(con, self.label)
            self.rows_fetched += finish_window(ex, self.sales.plan(con))

    def last_sale_date(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> date | None:
        with duckdb_errors(self.label):
            return kept_last_sale(con)

    def load_items(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        if self.items is None:
            super().load_items(con, scope)
            return
        label = self.items.label if isinstance(self.items, MemoryScan) else self.items.pattern
        _load_items(con, self.items, label)

    def read_all(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        self.sales.run(con, build)

    def read_all_items(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        if self.items is None:
            super().read_all_items(con, build)
            return
        self.items.run(con, build)


class FileSalesMemoryItems(Source):
    """Sales in files, sale items in an in-memory table."""

    def __init__(
        self, sales: FileSource, items: Any, mapping: Mapping[str, str] | None, cache_key: str | None
    ):
        self.files = sales
        self.items = memory_scan(items, mapping or {}, items=True)
        self.label = sales.label
        self.default_business_id = sales.default_business_id
        self.cache_key = cache_key
        self.rows_fetched = 0

    def identity(self) -> str:
        return _identity(self.cache_key, self.files.identity())

    def columns(self) -> set[str]:
        return self.files.columns()

    def has_items(self) -> bool:
        return True

    def load_window(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        self.files.load_window(con, scope)
        self.rows_fetched = self.files.rows_fetched

    def last_sale_date(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> date | None:
        return self.files.last_sale_date(con, scope)

    def load_items(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        _load_items(con, self.items, self.items.label)


def with_memory_items(
    source: Source, items: Any, mapping: Mapping[str, str] | None, cache_key: str | None
) -> Source:
    """A file source whose sale items are an in-memory table (a database source reads its own)."""
    if not isinstance(source, FileSource):
        raise InvalidParameter(
            "items names sale items for file and in-memory sources only: a database source reads its own"
        )
    return FileSalesMemoryItems(source, items, mapping, cache_key)
