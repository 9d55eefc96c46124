"""Files written atomically: a temporary file in the same folder, renamed into place when complete.

segcli's temporary files are named `.segcli-tmp-<pid>-<random>-<name>`, so a run killed
mid-write (kill -9, power loss) leaves a file that the next write into that folder
recognises and removes once its process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from segcli.engine.errors import SegcliError

TEMP_PREFIX = ".segcli-tmp-"
_TEMP_RE = re.compile(r"^\.segcli-tmp-(?P<pid>\d+)-[0-9a-f]+-")
STALE_AFTER = 24 * 3600  # seconds without a write after which a temp file is stale even if its pid runs


def temp_path(target: Path) -> Path:
    """A fresh temporary name for `target`, in its folder."""
    return target.with_name(f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{target.name}")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def sweep_stale(folder: Path, pattern: re.Pattern[str] = _TEMP_RE) -> list[Path]:
    """Remove temporary files in `folder` left by segcli runs that died; return what was removed.

    `pattern` must match the whole name prefix and capture the writer's `pid`.
    """
    removed = []
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = pattern.match(entry.name)
            if match is None or int(match["pid"]) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and (
                    _gone(int(match["pid"])) or now - entry.stat().st_mtime > STALE_AFTER
                ):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def write_error(path: str | os.PathLike[str], exc: OSError) -> SegcliError:
    """An OSError while writing `path` as one line: the path and the system's reason."""
    return SegcliError(f"{os.fspath(path)}: cannot write: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: int | None = None) -> Iterator[IO[bytes]]:
    """Yield a binary file; on success it replaces `path`, on any error it vanishes.

    An existing file at `path` is untouched until the new one is complete. A file system
    error (full, read-only, a folder in the way) becomes a one-line SegcliError.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise SegcliError(f"{target}: cannot write: Is a directory")
    sweep_stale(folder)
    tmp = temp_path(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise write_error(target, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise write_error(target, exc) from None
        raise
