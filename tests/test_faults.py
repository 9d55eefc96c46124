"""Faults with real processes (issue 13): kill -9 mid-compute, mid-export and mid-load; lock recovery.

Every wait is bounded by a generous timeout so that a regression fails instead of hanging;
no test asserts a duration.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from segcli.engine.cache import LOCK_PREFIX, ReportCache
from segcli.engine.keylock import Owner, key_lock
from tests.conftest import AS_OF, SMALL_SALES

SEGCLI = Path(sys.executable).parent / "segcli"
BOUND_S = 60  # a failure bound on a busy machine, not a speed assertion
# `segcli ARGS` whose report computation sleeps (the process is killed while it sleeps)
SLOW_SEGCLI = """
import sys, time
import segcli.engine.service as service
real = service.compute_report
delay = float(sys.argv.pop(1))
def slow(*args, **kwargs):
    time.sleep(delay)
    return real(*args, **kwargs)
service.compute_report = slow
from segcli.cli import main
sys.argv[0] = "segcli"
main()
"""


def report_args(cache: Path) -> list[str]:
    return [
        "segment",
        "--source",
        str(SMALL_SALES),
        "--as-of",
        AS_OF.isoformat(),
        "--format",
        "json",
        "--cache-dir",
        str(cache),
    ]


def lock_keys(folder: Path) -> list[str]:
    import diskcache

    with diskcache.Cache(str(folder)) as db:
        return [k for k in db.iterkeys() if isinstance(k, str) and k.startswith(LOCK_PREFIX)]


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + BOUND_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_lock_whose_holder_was_killed_is_recovered(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    holder = subprocess.Popen(
        [sys.executable, "-c", SLOW_SEGCLI, "600", *report_args(cache)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: cache.is_dir() and lock_keys(cache), "the holder to take the lock")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(BOUND_S)
    assert lock_keys(cache)  # the dead holder's lock is still there
    started = time.monotonic()
    run = subprocess.run([str(SEGCLI), *report_args(cache)], capture_output=True, timeout=BOUND_S)
    recovered = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    assert run.stderr == b""
    expected = subprocess.run(
        [str(SEGCLI), *report_args(cache)[:-2], "--no-cache"], capture_output=True, timeout=BOUND_S
    )
    assert run.stdout == expected.stdout
    assert lock_keys(cache) == []
    print(f"lock recovered and report computed in {recovered:.2f} s")


def test_a_waiter_gets_the_report_the_live_holder_computed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    holder = subprocess.Popen(
        [sys.executable, "-c", SLOW_SEGCLI, "3", *report_args(cache)], stdout=subprocess.PIPE
    )
    wait_for(lambda: cache.is_dir() and lock_keys(cache), "the holder to take the lock")
    waiter = subprocess.run(
        [str(SEGCLI), *report_args(cache)], capture_output=True, timeout=BOUND_S, check=True
    )
    out, _ = holder.communicate(timeout=BOUND_S)
    assert holder.returncode == 0
    assert waiter.stdout == out
    info = subprocess.run(
        [str(SEGCLI), "cache", "info", "--cache-dir", str(cache), "--format", "json"],
        capture_output=True,
        timeout=BOUND_S,
    )
    assert b'"misses": 1' in info.stdout  # computed once: the waiter was served the holder's report


def test_a_lock_held_on_another_host_ends_with_its_lease(tmp_path: Path) -> None:
    import diskcache

    with diskcache.Cache(str(tmp_path)) as db:
        foreign = Owner("elsewhere", "", 1, "1", "x").encode()
        db.set("k", foreign, expire=0.5)
        assert not Owner.decode(foreign).is_dead()  # type: ignore[union-attr]
        with key_lock(db, "k", wait=BOUND_S) as held:
            assert held
            assert Owner.decode(db.get("k")).pid == os.getpid()  # type: ignore[union-attr]
        assert db.get("k") is None


def test_waiting_for_a_live_holder_is_bounded(tmp_path: Path) -> None:
    import diskcache

    warnings: list[str] = []
    with diskcache.Cache(str(tmp_path)) as db, key_lock(db, "k") as held:
        assert held
        with key_lock(db, "k", wait=0.3, on_timeout=warnings.append) as second:
            assert not second
        assert Owner.decode(db.get("k")).pid == os.getpid()  # type: ignore[union-attr]
    assert warnings == ["waited 0.3 s for another computation of the same report; computing it here"]


def test_the_holder_renews_its_lease(tmp_path: Path) -> None:
    import diskcache

    with diskcache.Cache(str(tmp_path)) as db, key_lock(db, "k", lease=0.5) as held:
        assert held
        time.sleep(1.5)  # three leases: the lock is still there because it was renewed
        assert db.get("k") is not None
        with key_lock(db, "k", wait=0.2) as second:
            assert not second


def test_a_cache_lock_of_a_dead_local_process_is_dead(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(BOUND_S)
    me = Owner.me()
    assert Owner(me.host, me.namespace, proc.pid, "1", "t").is_dead()
    assert Owner.decode(proc.pid).is_dead()  # type: ignore[union-attr]  # an old segcli's bare pid
    assert not me.is_dead()
    assert Owner(me.host, me.namespace, me.pid, "1", "t").is_dead()  # pid reused by a newer process


def test_a_report_cache_survives_a_foreign_lock(tmp_path: Path) -> None:
    import diskcache

    from segcli.engine.compute import ReportRequest
    from segcli.engine.service import get_report
    from segcli.engine.settings import Settings

    cache = ReportCache(tmp_path / "c", lock_wait=0.3, warn=lambda message: None)
    settings = Settings(source=str(SMALL_SALES))
    request = ReportRequest(business_id=1, as_of=AS_OF)
    with diskcache.Cache(str(tmp_path / "c")) as db:
        from segcli.engine.cache import cache_key

        db.set(LOCK_PREFIX + cache_key(request), Owner("elsewhere", "", 1, "1", "x").encode(), expire=60)
    report = get_report(settings, request, cache=cache)
    assert report.total_customers > 0
    cache.close()


def test_requests_waiting_for_a_lock_do_not_starve_cached_ones(cli: Any, tmp_path: Path) -> None:
    import diskcache
    import httpx

    from segcli.api.app import ENDPOINT
    from segcli.engine.cache import cache_key
    from segcli.engine.compute import ReportRequest
    from tests.test_serve_process import create_token, running_server

    tokens, cache = tmp_path / "tokens.json", tmp_path / "cache"
    auth = {"Authorization": f"Bearer {create_token(cli, tokens, 1, 'one')}"}
    args = ("--tokens-file", str(tokens), "--cache-dir", str(cache))
    with running_server(tmp_path, *args, stop=signal.SIGKILL) as server:
        assert httpx.get(f"{server.url}{ENDPOINT}?days=30", headers=auth, timeout=BOUND_S).status_code == 200
        cold = cache_key(ReportRequest(business_id=1, as_of=AS_OF, days=60))
        with diskcache.Cache(str(cache)) as db:  # a live holder elsewhere computes days=60 for minutes
            db.set(LOCK_PREFIX + cold, Owner("elsewhere", "", 1, "1", "x").encode(), expire=300)

        def waiting(_: int) -> None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{server.url}{ENDPOINT}?days=60", headers=auth, timeout=BOUND_S)

        with ThreadPoolExecutor(max_workers=60) as pool:
            pool.map(waiting, range(60))  # more waiters than the server has threads
            time.sleep(2)
            hot = httpx.get(f"{server.url}{ENDPOINT}?days=30", headers=auth, timeout=15)
            assert hot.status_code == 200
            server.proc.kill()  # ends the waiters' requests


# case 7: a full, read-only or wrong output target ----------------------------------------------


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (root may mount one; skipped elsewhere)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=700", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_file_system_is_one_line_and_the_old_report_survives(cli: Any, small_fs: Path) -> None:
    old = small_fs / "report.csv"
    old.write_bytes(b"yesterday\n")
    filler = small_fs / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as out:
        for _ in range(64):
            out.write(b"x" * 1024)
    run = cli(
        "segment", "--source", SMALL_SALES, "--as-of", AS_OF.isoformat(), "--output", old, "--format", "pdf"
    )
    assert run.exit_code == 1
    assert run.stderr == f"{old}: cannot write: No space left on device\n"
    assert old.read_bytes() == b"yesterday\n"
    assert sorted(p.name for p in small_fs.iterdir()) == ["filler", "report.csv"]


def test_a_read_only_file_system_is_one_line(cli: Any, small_fs: Path) -> None:
    old = small_fs / "report.csv"
    old.write_bytes(b"yesterday\n")
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    run = cli("segment", "--source", SMALL_SALES, "--as-of", AS_OF.isoformat(), "--output", old)
    assert run.exit_code == 1
    assert run.stderr == f"{old}: cannot write: Read-only file system\n"
    assert old.read_bytes() == b"yesterday\n"
    tokens = cli("token", "create", "--business-id", "1", "--tokens-file", small_fs / "tokens.json")
    assert tokens.exit_code == 1
    assert tokens.stderr.count("\n") == 1
    assert "Read-only file system" in tokens.stderr


def test_an_injected_enospc_during_the_write_is_one_line(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    old = tmp_path / "customers.csv"
    old.write_bytes(b"yesterday\n")
    monkeypatch.setattr(os, "fsync", full)
    run = cli("customers", "--source", SMALL_SALES, "--as-of", AS_OF.isoformat(), "--output", old)
    assert (run.exit_code, run.stderr) == (1, f"{old}: cannot write: No space left on device\n")
    assert old.read_bytes() == b"yesterday\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_folder_in_the_way_is_one_line(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "out.csv"
    folder.mkdir()
    run = cli("segment", "--source", SMALL_SALES, "--as-of", AS_OF.isoformat(), "--output", folder)
    assert (run.exit_code, run.stderr) == (1, f"{folder}: cannot write: Is a directory\n")
    db = tmp_path / "w.duckdb"
    db.mkdir()
    run = cli("load", SMALL_SALES, "--db", db, "--replace")
    assert run.exit_code == 1
    assert run.stderr.count("\n") == 1, run.stderr
    assert str(db) in run.stderr
    tokens = tmp_path / "tokens.json"
    tokens.mkdir()
    run = cli("token", "create", "--business-id", "1", "--tokens-file", tokens)
    assert run.exit_code == 1
    assert run.stderr.count("\n") == 1, run.stderr
    assert str(tokens) in run.stderr


# case 12: temp files of killed writers ---------------------------------------------------------


def killed_while_writing(args: list[str], folder: Path, pattern: str) -> list[str]:
    """Run segcli ARGS with its writes into `folder` slowed, SIGKILL it once a temp file matching
    `pattern` exists there (renames elsewhere, e.g. a CSV's parsed copy in the cache, go through)."""
    slow = """
import os, sys, time
import segcli.engine.atomic as atomic
def stalled(fd):
    time.sleep(600)
atomic.os.fsync = stalled
real_replace, folder = os.replace, os.path.realpath(sys.argv[1])
def stalled_replace(a, b):
    if os.path.dirname(os.path.realpath(b)) == folder:
        time.sleep(600)
    real_replace(a, b)
os.replace = stalled_replace
from segcli.cli import main
sys.argv[0:2] = ["segcli"]
main()
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", slow, str(folder), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: list(folder.glob(pattern)), f"a temp file {pattern}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(BOUND_S)
    return sorted(p.name for p in folder.glob(pattern))


def test_temp_files_of_a_killed_export_are_removed_by_the_next_write(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    report = out / "report.csv"
    left = killed_while_writing(
        ["segment", "--source", str(SMALL_SALES), "--as-of", AS_OF.isoformat(), "--output", str(report)],
        out,
        ".segcli-tmp-*",
    )
    assert len(left) == 1
    assert left[0].endswith("-report.csv")
    assert not report.exists()
    (out / ".segcli-tmp-notapid-x-keep").write_text("not ours")
    (out / f".segcli-tmp-{os.getpid()}-ab-live.csv").write_text("a live writer's")  # this process runs
    run = cli("customers", "--source", SMALL_SALES, "--as-of", AS_OF.isoformat(), "--output", out / "c.csv")
    assert run.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".segcli-tmp-notapid-x-keep", f".segcli-tmp-{os.getpid()}-ab-live.csv", "c.csv"]
    )


def test_temp_files_of_a_killed_load_are_removed_by_the_next_load(cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    left = killed_while_writing(["load", str(SMALL_SALES), "--db", str(db)], tmp_path, ".w.duckdb.*")
    assert left
    assert all(name.startswith(".w.duckdb.") and ".tmp" in name for name in left)
    assert not db.exists()
    run = cli("load", SMALL_SALES, "--db", db)
    assert run.exit_code == 0, run.stderr
    assert list(tmp_path.glob(".w.duckdb.*")) == []


# case 11: private folders ----------------------------------------------------------------------


def test_cache_and_token_folders_are_created_private(cli: Any, tmp_path: Path) -> None:
    cache, tokens = tmp_path / "new" / "cache", tmp_path / "conf" / "tokens.json"
    run = cli("segment", "--source", SMALL_SALES, "--as-of", AS_OF.isoformat(), "--cache-dir", cache)
    assert run.exit_code == 0
    assert cli("token", "create", "--business-id", "1", "--tokens-file", tokens).exit_code == 0
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert oct(tokens.parent.stat().st_mode & 0o777) == "0o700"
    for path in [cache / "cache.db", tokens, tokens.with_name("tokens.json.lock")]:
        assert oct(path.stat().st_mode & 0o777) == "0o600", path


@pytest.mark.parametrize("unsafe", ["mode", "owner"])
def test_a_folder_others_could_write_is_refused(cli: Any, tmp_path: Path, unsafe: str) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o700)
    if unsafe == "mode":
        folder.chmod(0o777)
        why = "group or others may write to it (mode 0777); chmod 700 it"
    else:
        os.chown(folder, 65534, 65534)  # nobody
        why = f"it belongs to uid 65534, not to this user (uid {os.geteuid()})"
    run = cli("segment", "--source", SMALL_SALES, "--as-of", AS_OF.isoformat(), "--cache-dir", folder)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == f"{folder}: refusing the report cache folder: {why}\n"
    assert list(folder.iterdir()) == []  # nothing written into it
    run = cli("token", "create", "--business-id", "1", "--tokens-file", folder / "tokens.json")
    assert run.exit_code == 1
    assert run.stderr == f"{folder}: refusing the token file folder: {why}\n"
    assert list(folder.iterdir()) == []
