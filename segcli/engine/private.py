"""Folders that hold secrets or pickles (the report cache, the token file): only their user may write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from segcli.engine.errors import SegcliError


def check_private(folder: Path, what: str) -> None:
    """Refuse an existing folder that another user owns or that group or others may write to."""
    try:
        info = folder.stat()
    except OSError:
        return  # missing or unreachable: whoever creates or opens it reports that
    if not stat.S_ISDIR(info.st_mode):
        return
    if info.st_uid != os.geteuid():
        raise SegcliError(
            f"{folder}: refusing the {what} folder: it belongs to uid {info.st_uid}, not to this user "
            f"(uid {os.geteuid()})"
        )
    if info.st_mode & 0o022:
        raise SegcliError(
            f"{folder}: refusing the {what} folder: group or others may write to it "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); chmod 700 it"
        )


def private_folder(folder: Path, what: str) -> Path:
    """Create `folder` (mode 0700) if missing, then check it as `check_private` does."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_private(folder, what)
    return folder
