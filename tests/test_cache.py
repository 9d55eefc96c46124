"""The report cache (SPEC 6): hits, every kind of miss, many processes, a broken cache folder."""

from __future__ import annotations

import csv
import multiprocessing
import os
import pickle
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import diskcache
import pytest

from segcli.engine.cache import (
    ENTRY_FORMAT,
    KEY_PREFIX,
    STATS_PREFIX,
    ReportCache,
    cache_key,
    report_fingerprint,
)
from segcli.engine.compute import ReportRequest
from segcli.engine.service import get_report, source_from_settings
from segcli.engine.settings import load_settings, user_cache_dir
from tests.conftest import AS_OF, SMALL_SALES, small_args

# The small fixture, business 1, 30 days to 2026-11-20 (see fixtures/small/README.md).
KEY_30 = "customer_segmentation:1:2026-10-22:2026-11-20:rfm:all"
CUSTOM_RFM = """
[[segments.rfm]]
name = "Best"
code = "R5F5M5"
r = [4, 5]

[[segments.rfm]]
name = "Rest"
code = "R1F1M1"
"""


def counts(cli: Any) -> dict[str, int]:
    """Entries, hits and misses kept in the cache folder (they survive processes)."""
    body = cli("cache", "info", "--format", "json").json()
    return {k: body[k] for k in ("entries", "hits", "misses")}


def report_json(cli: Any, *args: str | Path) -> Any:
    run = cli(*args, "--format", "json")
    assert run.exit_code == 0, run.stderr
    return run.json()["data"]


def names(data: Any) -> list[str]:
    return [s["segment_name"] for s in data["segments"]]


def copy_fixture(dest: Path, extra: dict[str, Any] | None = None) -> Path:
    """The small fixture copied to `dest`, with extra columns computed per row."""
    with SMALL_SALES.open(newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0]) + list(extra or {})
    with dest.open("w", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **{k: fn(row) for k, fn in (extra or {}).items()}})
    return dest


def test_repeat_is_served_from_cache_and_filters_and_formats_reuse_it(cli):
    args = small_args("--days", "30")
    first = cli(*args, "--format", "json")
    second = cli(*args, "--format", "json")
    assert second.exit_code == 0
    assert second.stdout == first.stdout
    assert counts(cli) == {"entries": 1, "hits": 1, "misses": 1}

    table = cli(*args, "--format", "table", "--segment-name", "At Risk")
    assert table.exit_code == 0
    assert "R2F2M3" in table.stdout
    assert "R4F4M4" not in table.stdout
    champions = report_json(cli, *args, "--segment-code", "R5F5M5")
    assert names(champions) == ["Champions"]
    # insights are over all segments, even when filtered
    assert champions["insights"] == first.json()["data"]["insights"]
    assert counts(cli) == {"entries": 1, "hits": 3, "misses": 1}


def test_key_is_the_spec_key_in_the_user_cache_folder(cli):
    assert cli(*small_args("--days", "30"), "--format", "json").exit_code == 0
    assert cli(*small_args("--days", "30", "--storefront-id", "10"), "--format", "json").exit_code == 0
    folder = user_cache_dir()
    assert folder == Path(os.environ["XDG_CACHE_HOME"]) / "segcli"
    with diskcache.Cache(str(folder)) as db:
        reports = sorted(k for k in db.iterkeys() if k.startswith(KEY_PREFIX))
    assert reports == ["customer_segmentation:1:2026-10-22:2026-11-20:rfm:10", KEY_30]
    request = ReportRequest(business_id=1, as_of=AS_OF, days=30, method="value", storefront_id=20)
    assert cache_key(request) == "customer_segmentation:1:2026-10-22:2026-11-20:value:20"


@pytest.mark.parametrize(
    ("variant", "same_key"),
    [
        (["--storefront-id", "10"], False),
        (["--business-id", "2"], False),
        (["--method", "value"], False),
        (["--days", "31"], False),
        (["--timezone", "Pacific/Kiritimati"], True),
    ],
)
def test_a_different_request_is_a_miss(cli, variant, same_key):
    base = report_json(cli, *small_args("--days", "30"))
    other = report_json(cli, *small_args("--days", "30", *variant))
    assert other != base
    assert counts(cli) == {"entries": 1 if same_key else 2, "hits": 0, "misses": 2}
    # a different key leaves the first entry in place; the same key was overwritten
    assert report_json(cli, *small_args("--days", "30")) == base
    assert counts(cli)["hits"] == (0 if same_key else 1)


def test_touching_or_rewriting_the_source_is_a_miss(cli, isolated):
    sales = copy_fixture(isolated / "sales.csv")
    args: list[str | Path] = ["segment", "--source", sales, "--as-of", "2026-11-20", "--days", "30"]
    base = report_json(cli, *args)
    report_json(cli, *args)
    assert counts(cli) == {"entries": 1, "hits": 1, "misses": 1}

    st = sales.stat()
    os.utime(sales, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # same bytes, newer mtime
    assert report_json(cli, *args) == base
    assert counts(cli) == {"entries": 1, "hits": 1, "misses": 2}

    lines = sales.read_text().splitlines(keepends=True)
    sales.write_text("".join(line for line in lines if ",c01," not in line))  # c01 disappears
    rewritten = report_json(cli, *args)
    assert counts(cli) == {"entries": 1, "hits": 1, "misses": 3}
    # the fixture's 12 customers in scope, less c01
    assert (base["total_customers"], rewritten["total_customers"]) == (12, 11)


def test_a_different_mapping_never_gets_the_other_report(cli, isolated):
    sales = copy_fixture(
        isolated / "sales.csv",
        {"gross": lambda row: str(Decimal(row["total_amount"] or "0") * 2)},
    )
    args: list[str | Path] = ["segment", "--source", sales, "--as-of", "2026-11-20", "--days", "30"]
    plain = report_json(cli, *args)
    mapped = report_json(cli, *args, "--map", "gross=total_amount")
    # gross doubles every amount, refunds still subtract once (sales 7 and 36: 20.00 + 50.00):
    # 2 x (2,124.98 + 70.00) - 70.00 = 4,319.96
    assert Decimal(str(plain["total_revenue"])) == Decimal("2124.98")
    assert Decimal(str(mapped["total_revenue"])) == Decimal("4319.96")
    assert report_json(cli, *args) == plain
    assert counts(cli) == {"entries": 1, "hits": 0, "misses": 3}


def test_a_different_segment_table_is_a_miss(cli, isolated):
    config = isolated / "custom.toml"
    config.write_text(CUSTOM_RFM)
    default = report_json(cli, *small_args("--days", "30"))
    custom = report_json(cli, *small_args("--days", "30", "--config", str(config)))
    assert names(default)[0] == "Champions"
    assert names(custom) == ["Best", "Rest"]
    assert counts(cli) == {"entries": 1, "hits": 0, "misses": 2}


def test_no_cache_neither_reads_nor_writes_and_refresh_recomputes(cli):
    args = small_args("--days", "30")
    report_json(cli, *args, "--no-cache")
    assert counts(cli) == {"entries": 0, "hits": 0, "misses": 0}
    report_json(cli, *args)
    report_json(cli, *args, "--no-cache")
    assert counts(cli) == {"entries": 1, "hits": 0, "misses": 1}
    report_json(cli, *args, "--refresh")
    report_json(cli, *args)
    assert counts(cli) == {"entries": 1, "hits": 1, "misses": 2}


def test_cache_dir_and_ttl_options_and_config(cli, isolated):
    report_json(cli, *small_args("--days", "30", "--cache-dir", "here", "--cache-ttl", "7"))
    with diskcache.Cache(str(isolated / "here")) as db:
        entry, expire_time = db.get(KEY_30, expire_time=True)
    assert expire_time - entry["created"] == pytest.approx(7, abs=1)

    (isolated / "segcli.toml").write_text('[cache]\ndir = "there"\nttl = 9\n')
    report_json(cli, *small_args("--days", "30", "--config", "segcli.toml"))
    with diskcache.Cache(str(isolated / "there")) as db:
        entry, expire_time = db.get(KEY_30, expire_time=True)
    assert expire_time - entry["created"] == pytest.approx(9, abs=1)

    bad = cli(*small_args("--cache-ttl", "0"))
    assert (bad.exit_code, bad.stderr) == (
        2,
        "Invalid cache_ttl. Must be a positive integer (seconds) (--cache-ttl)\n",
    )


def small_settings(**values: Any) -> Any:
    return load_settings(None, source=str(SMALL_SALES), **values)


REQUEST_30 = ReportRequest(business_id=1, as_of=AS_OF, days=30)


def test_an_entry_expires_after_its_ttl(tmp_path):
    now = [1_000_000.0]
    cache = ReportCache(tmp_path / "c", ttl=600, clock=lambda: now[0])
    settings = small_settings()
    first = get_report(settings, REQUEST_30, cache=cache)
    now[0] += 599
    assert get_report(settings, REQUEST_30, cache=cache) == first
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)
    now[0] += 1  # 600 s old: expired
    assert get_report(settings, REQUEST_30, cache=cache) == first
    assert (cache.stats.hits, cache.stats.misses) == (1, 2)
    # a reader with a shorter TTL does not take an entry older than its own limit
    now[0] += 30
    short = ReportCache(tmp_path / "c", ttl=30, clock=lambda: now[0])
    get_report(settings, REQUEST_30, cache=short)
    assert (short.stats.hits, short.stats.misses) == (0, 1)


def test_fingerprint_covers_items_and_default_business(isolated):
    items = isolated / "items.csv"
    items.write_text("sale_id,category,line_total\n1,shoes,999.00\n")
    base = small_settings()

    def fingerprint(settings: Any) -> str:
        return report_fingerprint(settings, REQUEST_30, source_from_settings(settings))

    prints = {
        fingerprint(base),
        fingerprint(small_settings(items=str(items))),
        fingerprint(small_settings(business_id=2)),
        fingerprint(small_settings(columns={"gross": "total_amount"})),
    }
    assert len(prints) == 4
    assert fingerprint(small_settings()) == fingerprint(base)


def test_the_cache_opens_lazily(tmp_path):
    cache = ReportCache(tmp_path / "lazy")
    assert not (tmp_path / "lazy").exists()
    get_report(small_settings(), REQUEST_30, cache=cache)
    assert (tmp_path / "lazy" / "cache.db").is_file()
    cache.close()


def _ask_at_once(cache_dir: str, barrier: Any, results: Any) -> None:
    """One of several processes asking for the same report as soon as all are ready."""
    settings = small_settings()
    cache = ReportCache(cache_dir)
    barrier.wait()
    report = get_report(settings, REQUEST_30, cache=cache)
    results.put((report.total_customers, cache.stats.hits, cache.stats.misses))
    cache.close()


def test_four_processes_compute_a_cold_key_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    workers = [ctx.Process(target=_ask_at_once, args=(str(tmp_path), barrier, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    # 12 customers each; one process computed (a miss), three waited and were served
    assert outcomes == [(12, 0, 1), (12, 1, 0), (12, 1, 0), (12, 1, 0)]
    with diskcache.Cache(str(tmp_path)) as db:
        assert (db[STATS_PREFIX + "hits"], db[STATS_PREFIX + "misses"]) == (3, 1)


def test_a_garbage_cache_file_does_not_break_a_report(cli):
    expected = cli(*small_args("--days", "30", "--no-cache"), "--format", "json").stdout
    folder = user_cache_dir()
    folder.mkdir(parents=True)
    (folder / "cache.db").write_bytes(b"this is not a database\n" * 100)
    run = cli(*small_args("--days", "30"), "--format", "json")
    assert run.exit_code == 0
    assert run.stdout == expected
    assert run.stderr == (
        f"segcli: warning: report cache {folder} unusable (file is not a database); computing without it\n"
    )
    info = cli("cache", "info")
    assert info.stdout.endswith("problem: cannot read the cache (file is not a database)\n")
    cleared = cli("cache", "clear")
    assert cleared.stdout == (
        f"cleared 0 cached reports from {folder}\ncleared 1 parsed CSV copy from {folder / 'columnar'}\n"
    )
    assert cleared.stderr == f"removed the corrupt cache database in {folder} (file is not a database)\n"
    assert cli(*small_args("--days", "30"), "--format", "json").stderr == ""
    assert counts(cli) == {"entries": 1, "hits": 0, "misses": 1}


def test_an_unusable_cache_folder_does_not_break_a_report(cli, isolated):
    (isolated / "afile").write_text("")
    run = cli(*small_args("--days", "30", "--cache-dir", str(isolated / "afile" / "cache")))
    assert run.exit_code == 0
    assert run.json()["data"]["total_customers"] == 12
    assert run.stderr.count("segcli: warning: report cache") == 1


def test_unreadable_entries_are_misses_with_one_warning(tmp_path):
    settings = small_settings()
    requests = [REQUEST_30, ReportRequest(business_id=1, as_of=AS_OF, days=30, storefront_id=10)]
    source = source_from_settings(settings)
    with diskcache.Cache(str(tmp_path)) as db:
        for request in requests:
            entry = {
                "format": ENTRY_FORMAT,
                "fingerprint": report_fingerprint(settings, request, source),
                "created": 1_000_000.0,
                "report": b"\x80\x05 not a pickle",
            }
            db.set(cache_key(request), entry)
    warnings: list[str] = []
    cache = ReportCache(tmp_path, clock=lambda: 1_000_001.0, warn=warnings.append)
    reports = [get_report(settings, request, cache=cache) for request in requests]
    # storefront 10: the 12 customers less c09, c10 and c12, who buy only at storefront 20
    assert [r.total_customers for r in reports] == [12, 9]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"segcli: warning: report cache {tmp_path} unusable (")
    # the bad entries were overwritten with good ones
    assert [get_report(settings, request, cache=cache) for request in requests] == reports
    assert (cache.stats.hits, cache.stats.misses) == (2, 2)
    assert pickle.loads(diskcache.Cache(str(tmp_path))[KEY_30]["report"]) == reports[0]


def test_cache_info_and_clear(cli):
    folder = user_cache_dir()
    empty = cli("cache", "info")
    assert empty.stdout == (
        f"folder:  {folder}\nentries: 0\nsize:    0 B\nhits:    0\nmisses:  0\nttl:     600 s\n"
        "copies:  0 parsed CSV, 0 B\n"
    )
    assert not folder.exists()  # looking does not create it
    report_json(cli, *small_args("--days", "30"))
    report_json(cli, *small_args("--days", "30"))
    report_json(cli, *small_args("--days", "30", "--business-id", "2"))
    lines = cli("cache", "info", "--cache-ttl", "60").stdout.splitlines()
    assert lines[:2] == [f"folder:  {folder}", "entries: 2"]
    assert re.fullmatch(r"size:    \d+\.\d KiB \([\d,]+ bytes\)", lines[2])
    assert lines[3:6] == ["hits:    1", "misses:  2", "ttl:     60 s"]
    assert re.fullmatch(r"copies:  1 parsed CSV, \d+\.\d KiB \([\d,]+ bytes\)", lines[6])
    body = cli("cache", "info", "--format", "json").json()
    assert body["folder"] == str(folder)
    assert body["size_bytes"] > 0
    assert cli("cache", "clear").stdout == (
        f"cleared 2 cached reports from {folder}\ncleared 1 parsed CSV copy from {folder / 'columnar'}\n"
    )
    assert counts(cli) == {"entries": 0, "hits": 0, "misses": 0}
    assert cli("cache", "info", "--format", "xml").exit_code == 2


def test_a_cache_hit_imports_neither_duckdb_nor_pyarrow(cli):
    args = [*small_args("--days", "30"), "--format", "json"]
    assert cli(*args).exit_code == 0
    code = (
        "import sys\n"
        "from segcli.cli import app\n"
        f"app({args!r}, standalone_mode=False)\n"
        "print(sorted(m for m in ('duckdb', 'pyarrow', 'fpdf', 'fastapi') if m in sys.modules), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stderr == "[]\n"
    assert counts(cli) == {"entries": 1, "hits": 1, "misses": 1}


def test_an_unopenable_cache_is_reported_and_never_deleted(cli):
    folder = user_cache_dir()
    (folder / "cache.db").mkdir(parents=True)  # sqlite cannot open a folder: not corrupt, just unusable
    run = cli(*small_args("--days", "30"), "--format", "json")
    assert run.exit_code == 0
    assert run.stderr.count("segcli: warning: report cache") == 1
    cleared = cli("cache", "clear")
    assert cleared.exit_code == 1
    assert cleared.stderr == f"{folder}: cannot clear the report cache: unable to open database file\n"
    assert (folder / "cache.db").is_dir()


def test_a_compared_report_serves_plain_requests_but_not_the_reverse(cli):
    args = small_args("--days", "30")
    plain = cli(*args, "--format", "json").stdout
    compared = report_json(cli, *args, "--compare")  # the stored plain report lacks the comparison
    assert "comparison" in compared
    assert counts(cli) == {"entries": 1, "hits": 0, "misses": 2}
    assert cli(*args, "--format", "json").stdout == plain  # served from the compared entry, without it
    assert "comparison" in report_json(cli, *args, "--compare")
    assert counts(cli) == {"entries": 1, "hits": 2, "misses": 2}


def test_one_process_keeps_hot_reports_in_memory_under_the_same_rules(tmp_path):
    """A server's ReportCache answers repeats from memory, but never past the TTL or a new fingerprint."""
    now = [1000.0]
    cache = ReportCache(tmp_path / "c", ttl=60, clock=lambda: now[0])
    computed = []

    def compute(tag):
        def run():
            computed.append(tag)
            return get_report(load_settings(source=str(SMALL_SALES)), ReportRequest(1, AS_OF, days=30))

        return run

    first = cache.get_or_compute(KEY_30, "fp-a", compute("a"))
    assert cache.get_or_compute(KEY_30, "fp-a", compute("a2")) is first  # the same object: from memory
    cache.get_or_compute(KEY_30, "fp-b", compute("b"))  # the source changed: computed again
    now[0] += 59.9
    cache.get_or_compute(KEY_30, "fp-b", compute("b2"))  # still fresh
    now[0] += 0.2
    cache.get_or_compute(KEY_30, "fp-b", compute("b3"))  # 60.1 s old: expired in memory too
    assert computed == ["a", "b", "b3"]
    assert (cache.stats.hits, cache.stats.misses) == (2, 3)
    cache.close()  # the folder's counts are written at close (and at most once a second before)
    info = ReportCache(tmp_path / "c", ttl=60, clock=lambda: now[0]).info()
    assert (info.hits, info.misses) == (2, 3)
