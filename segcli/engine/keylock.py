"""One computation per cache key across processes, with a lock that a dead holder cannot keep.

The lock is a diskcache entry that only one process can `add`. Its value names the owner
(host, pid namespace, pid, process start time, a random tag) and it expires after a short
lease that a thread of the holder renews. A waiter removes the lock at once when its owner
is a dead process on this host; a holder on another host that died loses it when the lease
runs out. No one waits longer than `wait` seconds: after that the waiter computes without
the lock (the same report twice, never a hang).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import diskcache

LEASE = 10.0  # seconds a lock outlives a holder that stopped renewing it (another host, a frozen process)
RENEW_EVERY = LEASE / 5
WAIT = 60.0  # seconds a request waits for another's computation of the same key before doing it itself
POLL_FIRST, POLL_MAX = 0.01, 0.2  # seconds between attempts, doubling up to POLL_MAX


def _proc_start(pid: int) -> str | None:
    """A process's start time in clock ticks since boot (Linux), or None when unknown or it is a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    if fields[0] in (b"Z", b"X"):  # killed but not yet reaped: dead
        return None
    return fields[19].decode()


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


@dataclass(frozen=True)
class Owner:
    """Who holds a lock, precisely enough to tell from this host whether it still runs."""

    host: str
    namespace: str
    pid: int
    start: str
    tag: str

    def encode(self) -> str:
        return "|".join([self.host, self.namespace, str(self.pid), self.start, self.tag])

    @classmethod
    def decode(cls, value: object) -> Owner | None:
        if isinstance(value, int) and not isinstance(value, bool):  # segcli 0.1's lock: a bare pid
            return cls(socket.gethostname(), _pid_namespace(), value, "", "")
        if not isinstance(value, str) or value.count("|") != 4:
            return None
        host, namespace, pid, start, tag = value.split("|")
        return cls(host, namespace, int(pid), start, tag) if pid.isdigit() else None

    @classmethod
    def me(cls) -> Owner:
        pid = os.getpid()
        return cls(socket.gethostname(), _pid_namespace(), pid, _proc_start(pid) or "", secrets.token_hex(8))

    def is_dead(self) -> bool:
        """True only when certain: same host and pid namespace, and the process is gone or another one."""
        here = Owner.me()
        if (self.host, self.namespace) != (here.host, here.namespace):
            return False  # another machine or container: only the lease can tell
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # it exists, run by another user
        start = _proc_start(self.pid)
        if start is None:
            return os.path.isdir("/proc/self")  # /proc readable but the process is a zombie or gone
        return bool(self.start) and start != self.start  # the pid was reused by a newer process


def _remove_if(db: diskcache.Cache, key: str, value: object) -> None:
    """Delete `key` only while it still holds `value` (compare-and-delete in one transaction)."""
    with db.transact(retry=True):
        if db.get(key, retry=True) == value:
            db.delete(key, retry=True)


class _Renewer(threading.Thread):
    """Extends the holder's lease until stopped; stops by itself if the lock was taken from it."""

    def __init__(self, db: diskcache.Cache, key: str, value: str, lease: float) -> None:
        super().__init__(name="segcli-lock-lease", daemon=True)
        self.db, self.key, self.value, self.lease = db, key, value, lease
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.lease / 5):
            try:
                with self.db.transact(retry=True):
                    if self.db.get(self.key, retry=True) != self.value:
                        return
                    self.db.set(self.key, self.value, expire=self.lease, retry=True)
            except Exception:  # a renewal that fails lets the lease run out: never worse than a dead holder
                return


@contextmanager
def key_lock(
    db: diskcache.Cache,
    key: str,
    *,
    wait: float = WAIT,
    lease: float = LEASE,
    on_timeout: Callable[[str], None] | None = None,
) -> Iterator[bool]:
    """Hold `key`'s lock for the block (yield True), or after `wait` seconds proceed without it (yield False)."""
    owner = Owner.me().encode()
    deadline = time.monotonic() + wait
    pause = POLL_FIRST
    held = False
    while True:
        if db.add(key, owner, expire=lease, retry=True):
            held = True
            break
        current = db.get(key, retry=True)
        holder = Owner.decode(current)
        if holder is not None and holder.is_dead():
            _remove_if(db, key, current)
            continue
        if time.monotonic() >= deadline:
            if on_timeout is not None:
                on_timeout(f"waited {wait:g} s for another computation of the same report; computing it here")
            break
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, POLL_MAX)
    renewer = _Renewer(db, key, owner, lease) if held else None
    if renewer is not None:
        renewer.start()
    try:
        yield held
    finally:
        if renewer is not None:
            renewer.stopped.set()
            renewer.join()
            with contextlib.suppress(Exception):  # if this fails, the lease runs out in seconds
                _remove_if(db, key, owner)
