"""A parsed columnar copy of a CSV in the cache folder: the file is parsed once, later reports read Parquet.

The copy holds the raw columns exactly as a report reads the CSV (the sniffed types, money as
text, or every column as text when the sniffed types failed), so every check runs on it as it
would on the CSV and bad data gives the same message on every run. A copy is keyed by the
files' identity (resolved path, size, mtime_ns), the column mapping, the CSV read options and
the DuckDB version: a changed file is a new key, never a stale read. Copies are written to a
temporary name and renamed (two processes converting at once both succeed), and the folder is
kept under a size bound by removing the least recently used copies first.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from segcli.engine.db import duckdb_errors, quote_ident
from segcli.engine.errors import SourceError
from segcli.engine.settings import DEFAULT_CACHE_MAX_SIZE

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from segcli.engine.sources.base import Source
    from segcli.engine.sources.files import FileScan
    from segcli.engine.sources.plan import ColumnPlan

COPY_FORMAT = 1  # bump when what a copy holds changes: older copies are never read again
SUFFIX = ".parquet"
STALE_TEMP = 3600  # seconds after which a temporary file left by a dead process is removed
# types the Parquet round trip keeps exactly; a CSV sniffed into anything else is read directly
ROUND_TRIP = {"BOOLEAN", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT", "VARCHAR", "DATE"}
ROUND_TRIP |= {"TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"}


@dataclass(frozen=True)
class StoreInfo:
    """How many copies the folder holds and their bytes."""

    copies: int
    size_bytes: int


class ColumnarStore:
    """The folder of Parquet copies, bounded to `max_size` bytes (0: never copy)."""

    def __init__(self, directory: Path | str, max_size: int = DEFAULT_CACHE_MAX_SIZE) -> None:
        self.directory = Path(directory)
        self.max_size = max_size

    def adopt(self, scan: FileScan, con: duckdb.DuckDBPyConnection) -> None:
        """Point a CSV scan at its current copy (checked at every read), converting the CSV when there is none."""
        from segcli.engine.sources.files import file_kind

        if self.max_size <= 0 or file_kind(scan.pattern) != "csv":
            return
        if scan.kind != "csv":  # it read a copy before: start again from the CSV, which may have changed
            scan.kind, scan.files, scan.all_varchar, scan._plan = "csv", list(scan.source_files), False, None
        identity = scan.identity()
        path = self.directory / f"{self._key(scan, identity)}{SUFFIX}"
        try:
            os.utime(path)  # a hit: marks it recently used
        except OSError:
            # no copy (or one that cannot be used): make it, unless it would not fit
            fits = sum(size for _, size, _ in identity) <= self.max_size
            if not (fits and self._convert(scan, con, path)):
                MemoryCopy().adopt(scan, con)
                return
        scan.kind, scan.files, scan._plan = "parquet", [str(path)], None

    def info(self) -> StoreInfo:
        """Count and bytes of the copies in the folder."""
        copies = self._copies()
        return StoreInfo(len(copies), sum(size for _, size, _ in copies))

    def clear(self) -> int:
        """Remove every copy (and leftover temporary files); how many copies were removed."""
        removed = 0
        for path in self._files("*"):
            try:
                path.unlink()
                removed += path.suffix == SUFFIX
            except FileNotFoundError:
                pass
        return removed

    # internals ---------------------------------------------------------------

    def _key(self, scan: FileScan, identity: list[tuple[str, int, int]]) -> str:
        import duckdb

        rel, params = scan.relation()
        parts = {
            "format": COPY_FORMAT,
            "duckdb": duckdb.__version__,
            "identity": identity,
            "mapping": sorted(scan.mapping.items()),
            "columns": [c.name for c in scan.columns],
            "relation": rel,
            "params": {k: v for k, v in params.items() if k != "files"},
            "options": getattr(scan, "dialect", None),  # a CSV dialect's read options, when given
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()[:32]

    def _convert(self, scan: FileScan, con: duckdb.DuckDBPyConnection, path: Path) -> bool:
        """Write the copy of a CSV scan at `path`; False when this CSV is better read directly."""
        plan = scan._describe(con, scan.relation())  # a missing column fails here, as without a copy
        money = scan.money_columns(plan)
        if any(plan.types[name].upper() not in ROUND_TRIP for name in plan.types if name not in money):
            return False
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            return False
        temp = path.with_name(f"{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        target = f"'{_sql_path(temp)}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)"
        try:
            parse_once(scan, con, plan, lambda select: f"COPY ({select}) TO {target}")
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except Exception:
            temp.unlink(missing_ok=True)
            raise
        self._evict(keep=path)
        return True

    def _files(self, pattern: str) -> list[Path]:
        try:
            return [p for p in self.directory.glob(pattern) if p.is_file()]
        except OSError:
            return []

    def _copies(self) -> list[tuple[Path, int, float]]:
        out = []
        for path in self._files(f"*{SUFFIX}"):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            out.append((path, st.st_size, st.st_mtime))
        return out

    def _evict(self, keep: Path) -> None:
        """Remove the least recently used copies until the folder fits, and stale temporary files."""
        now = time.time()
        for temp in self._files("*.tmp"):
            try:
                if now - temp.stat().st_mtime > STALE_TEMP:
                    temp.unlink()
            except FileNotFoundError:
                pass
        copies = sorted(self._copies(), key=lambda c: c[2])
        total = sum(size for _, size, _ in copies)
        for path, size, _ in copies:
            if total <= self.max_size:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size


def parse_once(
    scan: FileScan, con: duckdb.DuckDBPyConnection, plan: ColumnPlan, statement: Callable[[str], str]
) -> None:
    """Run `statement(SELECT the planned raw columns FROM the CSV)`: with the sniffed types (money as
    text), else, when a value beyond the sniffer's sample breaks them, with every column as text."""
    import duckdb

    money = scan.money_columns(plan)
    cols = ", ".join(quote_ident(name) for name in plan.source_of.values())  # only what reports read
    try:
        for all_varchar in (scan.all_varchar, True):
            scan.all_varchar = all_varchar
            rel, params = scan.relation(money)
            try:
                with duckdb_errors(scan.pattern):
                    con.execute(statement(f"SELECT {cols} FROM {rel}"), params)
                return
            except SourceError as exc:
                conversion = (duckdb.ConversionException, duckdb.InvalidInputException)
                if all_varchar or not isinstance(exc.__cause__, conversion):
                    raise
    finally:
        scan.all_varchar, scan._plan = False, None


class MemoryCopy:
    """Without a cache folder (`--no-cache`): the CSV parsed once into a temporary table of the report's connection."""

    def adopt(self, scan: FileScan, con: duckdb.DuckDBPyConnection) -> None:
        """Parse a CSV scan's planned columns into a table and point the scan at it."""
        from segcli.engine.sources.files import file_kind

        if file_kind(scan.pattern) != "csv":
            return
        if scan.kind != "csv":  # read through a table of another connection before: parse again
            scan.kind, scan.files, scan.all_varchar, scan._plan = "csv", list(scan.source_files), False, None
        plan = scan._describe(con, scan.relation())
        table = f"csv_copy_{len(scan.columns)}_{id(scan):x}"
        parse_once(scan, con, plan, lambda select: f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
        scan.kind, scan.files, scan._plan = "table", [table], None


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def attach(source: Source, store: ColumnarStore | MemoryCopy) -> None:
    """Let a file source's CSV scans (sales and items) read through the store's copies."""
    from segcli.engine.sources.files import FileSource

    if isinstance(source, FileSource):
        for scan in (source.sales, source.items):
            if scan is not None:
                scan.columnar = store


def store_for(cache_dir: Path, max_size: int) -> ColumnarStore:
    """The store in a cache folder."""
    return ColumnarStore(cache_dir / "columnar", max_size)


__all__ = ["ColumnarStore", "MemoryCopy", "StoreInfo", "attach", "parse_once", "store_for"]
