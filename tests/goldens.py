"""Golden files: outputs rendered from the small fixture, compared byte for byte.

`SEGCLI_UPDATE_GOLDEN=1 make test` rewrites them (read at import: the test fixtures
clear SEGCLI_* variables); review the diff before committing.
"""

from __future__ import annotations

import os

from tests.conftest import GOLDEN

UPDATE = os.environ.get("SEGCLI_UPDATE_GOLDEN") == "1"


def check_golden(name: str, data: bytes) -> None:
    """Assert `data` equals the golden file `name` (or rewrite it when updating)."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    assert path.is_file(), f"missing golden {path}: run with SEGCLI_UPDATE_GOLDEN=1 and review it"
    assert data == path.read_bytes(), f"{path} differs: run with SEGCLI_UPDATE_GOLDEN=1 and review the diff"
