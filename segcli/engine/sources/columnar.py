"""A parsed columnar copy of a CSV in the cache folder: the file is parsed once, later reports read Parquet.

The copy holds the raw columns exactly as a report reads the CSV (the sniffed types; money,
integer ids and dates read with a format as text; or every column as text when the sniffed
types failed), so every check runs on it as it would on the CSV and bad data gives the same
message on every run. How the CSV was read (the plan's types, its text columns, its date format)
travels in the copy's Parquet metadata, so a later report neither sniffs nor transcodes the CSV.
A copy is keyed by the files' identity (resolved path, size, mtime_ns, as the snapshot saw them),
the column mapping, the CSV dialect and the DuckDB version: a changed file is a new key, never a
stale read. Copies are written to a
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
from typing import TYPE_CHECKING, Any

from segcli.engine.private import check_private, private_folder
from segcli.engine.settings import DEFAULT_CACHE_MAX_SIZE
from segcli.engine.sql import quote_ident, sql_literal

if TYPE_CHECKING:
    import duckdb

    from segcli.engine.sources.base import Source
    from segcli.engine.sources.files import FileScan, Snapshot

COPY_FORMAT = 2  # bump when what a copy holds changes: older copies are never read again
META_KEY = "segcli_read"  # the copy's Parquet key-value metadata: how its CSV was read
WHAT = "report cache"  # copies feed reports: their folders are as private as the report cache's
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

    def adopt(self, scan: FileScan, con: duckdb.DuckDBPyConnection, snap: Snapshot) -> None:
        """Point a CSV snapshot at its copy (checked at every read), converting the CSV when there is none."""
        if self.max_size <= 0 or scan.kind != "csv":
            return
        for folder in (self.directory.parent, self.directory):  # copies others could write are never read
            check_private(folder, WHAT)
        path = self.directory / f"{self._key(scan, snap)}{SUFFIX}"
        try:
            os.utime(path)  # a hit: marks it recently used
            stored = _stored(con, path)
        except (OSError, ValueError):
            stored = None
        # a copy read as text serves a snapshot that must be read as text; not the other way round
        if stored is not None and (stored["all_varchar"] or not snap.all_varchar):
            _restore(scan, snap, stored)
            snap.copy = ("parquet", str(path))
            return
        snap.copy = None
        fits = sum(size for _, size, _ in snap.identity) <= self.max_size
        if fits and self._convert(scan, con, snap, path):
            snap.copy = ("parquet", str(path))
        else:
            MemoryCopy().adopt(scan, con, snap)

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

    def _key(self, scan: FileScan, snap: Snapshot) -> str:
        import duckdb

        parts = {
            "format": COPY_FORMAT,
            "duckdb": duckdb.__version__,
            "identity": snap.identity,
            "mapping": sorted(scan.mapping.items()),
            "columns": [c.name for c in scan.columns],
            "dialect": scan.dialect.key(),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()[:32]

    def _convert(self, scan: FileScan, con: duckdb.DuckDBPyConnection, snap: Snapshot, path: Path) -> bool:
        """Write the copy of a CSV snapshot at `path`; False when this CSV is better read directly.

        A value beyond the sniffer's sample that breaks the sniffed types raises DuckDB's error:
        `FileScan.run` then reads the snapshot as text, and this copies it again.
        """
        import duckdb

        plan = scan.plan(con, snap)  # checks the files: a bad header fails here, as without a copy
        text = set(scan.text_columns(plan, snap))
        read = {
            n: "VARCHAR" if n in text or snap.all_varchar else plan.types[n] for n in plan.source_of.values()
        }
        if any(kind.upper() not in ROUND_TRIP for kind in read.values()):
            return False
        try:
            private_folder(self.directory.parent, WHAT)
            private_folder(self.directory, WHAT)
        except OSError:
            return False
        temp = path.with_name(f"{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        meta = {
            "types": plan.types,
            "all_varchar": snap.all_varchar,
            "integer_text": sorted(snap.integer_text),
            "date_format": snap.date_format,
        }
        options = "FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880"
        options += f", KV_METADATA {{{META_KEY}: {sql_literal(json.dumps(meta))}}}"
        rel, params = scan.relation(snap, sorted(text))
        cols = ", ".join(quote_ident(name) for name in dict.fromkeys(plan.source_of.values()))
        try:
            con.execute(f"COPY (SELECT {cols} FROM {rel}) TO {sql_literal(str(temp))} ({options})", params)
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except (duckdb.IOException, OSError):  # the cache folder is full or read-only: read the CSV
            temp.unlink(missing_ok=True)
            return False
        except BaseException:
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


def _stored(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, Any] | None:
    """What a copy says about how its CSV was read (its plan's types, text columns, date format)."""
    import duckdb

    try:
        rows = con.execute(
            "SELECT decode(value) FROM parquet_kv_metadata($path) WHERE decode(key) = $key",
            {"path": str(path), "key": META_KEY},
        ).fetchall()
    except duckdb.Error:  # removed meanwhile, or not a copy this version wrote
        return None
    return json.loads(rows[0][0]) if rows else None


def _restore(scan: FileScan, snap: Snapshot, stored: dict[str, Any]) -> None:
    """The snapshot's plan as it was when its copy was written: no sniffing or transcoding again."""
    snap.all_varchar = bool(stored["all_varchar"])
    snap.integer_text = set(stored["integer_text"])
    snap.date_format = stored["date_format"]
    snap.checked = True
    snap.plan = scan.plan_from(snap, stored["types"])


class MemoryCopy:
    """Without a cache folder (`--no-cache`): the CSV parsed once into a temporary table of the report's connection."""

    def adopt(self, scan: FileScan, con: duckdb.DuckDBPyConnection, snap: Snapshot) -> None:
        """Parse a CSV snapshot's planned columns into a table of `con` (once) and point the snapshot at it."""
        if scan.kind != "csv":
            return
        table = f"csv_copy_{id(snap):x}"
        if (
            snap.copy == ("table", table)
            and con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = $t", {"t": table}
            ).fetchall()[0][0]
        ):
            return
        snap.copy = None
        plan = scan.plan(con, snap)
        rel, params = scan.relation(snap, scan.text_columns(plan, snap))
        cols = ", ".join(quote_ident(name) for name in dict.fromkeys(plan.source_of.values()))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {cols} FROM {rel}", params)
        snap.copy = ("table", table)


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


__all__ = ["ColumnarStore", "MemoryCopy", "StoreInfo", "attach", "store_for"]
