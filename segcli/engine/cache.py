"""The report cache (SPEC 6): whole reports on disk, never stale, one computation per key.

A `ReportCache` is built by a command or an app factory and passed down; it
opens its diskcache lazily, in the process that uses it (never at import,
never before a fork). Each value carries a fingerprint of everything that
shapes a report besides the SPEC key; a stored report is served only when the
fingerprint matches and it is younger than the TTL. Any cache failure is a
miss with one warning: the cache never fails a report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segcli import __version__
from segcli.engine.db import first_line
from segcli.engine.errors import InvalidParameter, SegcliError
from segcli.engine.keylock import WAIT, key_lock
from segcli.engine.private import check_private, private_folder
from segcli.engine.report import Report
from segcli.engine.settings import DEFAULT_CACHE_TTL, Settings

if TYPE_CHECKING:
    import diskcache

    from segcli.engine.compute import ReportRequest
    from segcli.engine.sources import Source

KEY_PREFIX = "customer_segmentation:"
KEY_FORMAT = KEY_PREFIX + "{business_id}:{start_date}:{end_date}:{method}:{storefront_id}"
ENTRY_FORMAT = 3  # bump when the Report model changes shape: older entries become plain misses
LOCK_PREFIX = "segcli:lock:"
STATS_PREFIX = "segcli:stats:"
MEMORY_ENTRIES = 64  # reports a process keeps in memory besides the folder (a server's hot set)
STATS_FLUSH = 1.0  # seconds between writes of this process's hit/miss counts to the folder
DB_FILES = ("cache.db", "cache.db-wal", "cache.db-shm")
CACHE_WHAT = "report cache"


def cache_key(request: ReportRequest) -> str:
    """The SPEC key of a request's report."""
    period = request.period
    return KEY_FORMAT.format(
        business_id=request.business_id,
        start_date=period.start_date.isoformat(),
        end_date=period.end_date.isoformat(),
        method=request.method,
        storefront_id="all" if request.storefront_id is None else request.storefront_id,
    )


def report_fingerprint(settings: Settings, request: ReportRequest, source: Source) -> str:
    """A hash of what shapes a report besides its key; a stored report must match it to be served."""
    table = settings.tables.get(request.method)
    parts = {
        "entry_format": ENTRY_FORMAT,
        "segcli": __version__,
        "source": source.label,
        "identity": source.identity(),  # files: resolved path, size, mtime_ns of each
        "items": settings.items,
        "tables": [settings.sales_table, settings.items_table],
        "mapping": sorted(settings.columns.items()),
        "segment_table": table.fingerprint() if table is not None else None,
        "timezone": request.timezone,
        "days": request.days,
        "default_business_id": settings.business_id,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def check_ttl(ttl: int) -> int:
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1:
        raise InvalidParameter("Invalid cache_ttl. Must be a positive integer (seconds)")
    return ttl


def _stderr_warning(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class CacheStats:
    """What this process's cache did: reports served from it, and reports computed."""

    hits: int = 0
    misses: int = 0


@dataclass(frozen=True)
class CacheInfo:
    """The state of a cache folder, for `segcli cache info`."""

    directory: Path
    entries: int = 0
    size_bytes: int = 0
    hits: int = 0
    misses: int = 0
    ttl: int = DEFAULT_CACHE_TTL
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.directory),
            "entries": self.entries,
            "size_bytes": self.size_bytes,
            "hits": self.hits,
            "misses": self.misses,
            "ttl_seconds": self.ttl,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class ClearResult:
    removed: int
    problem: str | None = None  # set when the database was corrupt and its files were deleted


class ReportCache:
    """Whole reports under the SPEC key in a diskcache folder, safe across processes."""

    def __init__(
        self,
        directory: Path | str,
        ttl: int = DEFAULT_CACHE_TTL,
        *,
        refresh: bool = False,
        clock: Callable[[], float] = time.time,
        warn: Callable[[str], None] = _stderr_warning,
        lock_wait: float = WAIT,
    ) -> None:
        self.directory = Path(directory)
        self.ttl = check_ttl(ttl)
        self.refresh = refresh  # compute and overwrite, never serve
        self.clock = clock
        self.warn = warn
        self.lock_wait = lock_wait  # seconds to wait for another process's computation of the same key
        self.stats = CacheStats()
        # key -> (fingerprint, created, report): a hit skips sqlite and unpickling; same checks
        self._memory: OrderedDict[str, tuple[str, float, Report]] = OrderedDict()
        self._unflushed: Counter[str] = Counter()
        self._flushed_at = 0.0
        self._db: diskcache.Cache | None = None
        self._pid = 0
        self._disabled = False
        self._warned = False

    def cached(self, key: str, fingerprint: str, usable: Callable[[Report], bool]) -> Report | None:
        """The stored report if fresh, matching and usable (counted as a hit), else None."""
        if self.refresh:
            return None
        report = self._lookup(key, fingerprint)
        return self._served(report) if report is not None and usable(report) else None

    def get_or_compute(
        self,
        key: str,
        fingerprint: str,
        compute: Callable[[], Report],
        usable: Callable[[Report], bool] = lambda report: True,
    ) -> Report:
        """The stored report if fresh, matching and usable, else compute it once (per key, across processes)."""
        if not self.refresh:
            report = self._lookup(key, fingerprint)
            if report is not None and usable(report):
                return self._served(report)
        with self._key_lock(key):
            if not self.refresh:  # another process may have stored it while we waited
                report = self._lookup(key, fingerprint)
                if report is not None and usable(report):
                    return self._served(report)
            self._count("misses")
            report = compute()
            self._store(key, fingerprint, report)
        return report

    def info(self) -> CacheInfo:
        """Folder, live entries, size on disk and the hit/miss counts kept in the folder."""
        if not (self.directory / DB_FILES[0]).exists():
            return CacheInfo(self.directory, ttl=self.ttl)
        try:
            db = self._open()
            try:
                db.expire(retry=True)
                return CacheInfo(
                    self.directory,
                    entries=_count_reports(db),
                    size_bytes=db.volume(),
                    hits=int(db.get(STATS_PREFIX + "hits", 0, retry=True)),
                    misses=int(db.get(STATS_PREFIX + "misses", 0, retry=True)),
                    ttl=self.ttl,
                )
            finally:
                db.close()
        except Exception as exc:  # whatever the folder holds, info reports it rather than failing
            size = sum(p.stat().st_size for p in self._db_files())
            return CacheInfo(self.directory, size_bytes=size, ttl=self.ttl, problem=first_line(exc))

    def clear(self) -> ClearResult:
        """Remove every cached report and the counters; a corrupt database is deleted."""
        self._memory.clear()
        self._unflushed.clear()
        import sqlite3

        if not (self.directory / DB_FILES[0]).exists():
            return ClearResult(0)
        try:
            db = self._open()
            try:
                removed = _count_reports(db)
                db.clear(retry=True)
                return ClearResult(removed)
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):  # locked or unreadable, not corrupt: keep it
                raise SegcliError(
                    f"{self.directory}: cannot clear the report cache: {first_line(exc)}"
                ) from exc
            for path in self._db_files():
                path.unlink()
            return ClearResult(0, problem=first_line(exc))
        except OSError as exc:
            raise SegcliError(f"{self.directory}: cannot clear the report cache: {first_line(exc)}") from exc

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._flush_stats()
            self._db.close()
        self._db = None

    # internals ---------------------------------------------------------------

    def _open(self) -> diskcache.Cache:
        import diskcache

        private_folder(self.directory, CACHE_WHAT)
        db = diskcache.Cache(str(self.directory))
        for path in self._db_files():  # the folder is 0700 already; the files say so too
            with contextlib.suppress(OSError):
                path.chmod(0o600)
        return db

    def _cache(self) -> diskcache.Cache | None:
        """This process's diskcache, opened on first use; None once it proved unusable."""
        if self._disabled:
            return None
        if self._db is None or self._pid != os.getpid():  # a handle from before a fork is never used
            try:
                self._db, self._pid = self._open(), os.getpid()
            except Exception as exc:
                self._disabled = True
                self._problem(exc)
                return None
        return self._db

    def _db_files(self) -> list[Path]:
        return [p for p in (self.directory / name for name in DB_FILES) if p.exists()]

    def _problem(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            self.warn(
                f"segcli: warning: report cache {self.directory} unusable ({first_line(exc)}); "
                "computing without it"
            )

    def _fresh(self, fingerprint: object, wanted: str, created: float) -> bool:
        return fingerprint == wanted and 0 <= self.clock() - created < self.ttl

    def _remember(self, key: str, fingerprint: str, created: float, report: Report) -> None:
        self._memory[key] = (fingerprint, created, report)
        self._memory.move_to_end(key)
        while len(self._memory) > MEMORY_ENTRIES:
            self._memory.popitem(last=False)

    def _lookup(self, key: str, fingerprint: str) -> Report | None:
        remembered = self._memory.get(key)
        if remembered is not None and self._fresh(fingerprint, *remembered[:2]):
            return remembered[2]
        db = self._cache()
        if db is None:
            return None
        try:
            entry = db.get(key, retry=True)
            if (
                not isinstance(entry, dict)
                or entry.get("format") != ENTRY_FORMAT
                or not self._fresh(entry.get("fingerprint"), fingerprint, entry["created"])
            ):
                return None
            report = pickle.loads(entry["report"])
            if not isinstance(report, Report):
                raise TypeError(f"entry {key} holds a {type(report).__name__}, not a report")
            self._remember(key, fingerprint, entry["created"], report)
            return report
        except Exception as exc:  # sqlite, pickle or a foreign value: reading back can fail any way
            self._problem(exc)
            return None

    def _store(self, key: str, fingerprint: str, report: Report) -> None:
        db = self._cache()
        if db is None:
            return
        created = self.clock()
        self._remember(key, fingerprint, created, report)
        entry = {
            "format": ENTRY_FORMAT,
            "fingerprint": fingerprint,
            "created": created,
            "report": pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL),
        }
        try:
            db.set(key, entry, expire=self.ttl, retry=True)
        except Exception as exc:
            self._problem(exc)

    def _served(self, report: Report) -> Report:
        self._count("hits")
        return report

    def _count(self, name: str) -> None:
        """Count a hit or miss; the folder's totals are written at most once a second (and on close)."""
        setattr(self.stats, name, getattr(self.stats, name) + 1)
        self._unflushed[name] += 1
        if time.monotonic() - self._flushed_at >= STATS_FLUSH:
            self._flush_stats()

    def _flush_stats(self) -> None:
        self._flushed_at = time.monotonic()
        if not self._unflushed:
            return
        db = self._cache()
        if db is None:
            return
        try:
            for name, count in self._unflushed.items():
                db.incr(STATS_PREFIX + name, count, retry=True)
            self._unflushed.clear()
        except Exception as exc:
            self._problem(exc)

    @contextmanager
    def _key_lock(self, key: str) -> Iterator[None]:
        """One computation per key across processes; a dead holder's lock is recovered, waiting is bounded."""
        db = self._cache()
        locked = contextlib.ExitStack()
        if db is not None:
            try:
                locked.enter_context(
                    key_lock(db, LOCK_PREFIX + key, wait=self.lock_wait, on_timeout=self.warn)
                )
            except Exception as exc:
                self._problem(exc)
        with locked:
            yield


def _count_reports(db: diskcache.Cache) -> int:
    return sum(1 for key in db.iterkeys() if isinstance(key, str) and key.startswith(KEY_PREFIX))


def cache_for(settings: Settings, **options: Any) -> ReportCache:
    """The report cache the settings name (folder and TTL); a folder others could write is refused."""
    check_private(settings.resolved_cache_dir, CACHE_WHAT)  # it holds pickles: never load another's
    return ReportCache(settings.resolved_cache_dir, settings.cache_ttl, refresh=settings.refresh, **options)


@contextmanager
def open_cache(settings: Settings) -> Iterator[ReportCache | None]:
    """The settings' report cache for the duration of a command; None with --no-cache."""
    if not settings.use_cache:
        yield None
        return
    cache = cache_for(settings)
    try:
        yield cache
    finally:
        cache.close()
