"""An exclusive lock on a file (flock), waited for at most a given time: one writer at a time."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from segcli.engine.errors import SourceError


@contextlib.contextmanager
def exclusive_lock(path: Path, wait: float, busy: str) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created if missing); after `wait` seconds raise SourceError(busy).

    The kernel releases the lock when its holder exits, even on kill -9, so a dead holder never
    blocks the next one. The file stays: removing it while others wait would let two holders in.
    """
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise SourceError(f"{path}: cannot create the lock file: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SourceError(busy) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
