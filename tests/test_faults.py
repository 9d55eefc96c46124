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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

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
        stderr=subprocess.PIPE,
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
