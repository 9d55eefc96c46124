"""Golden outputs of the small fixture: any change to a format shows up as a diff to review."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GOLDEN, small_args

UPDATE = os.environ.get("SEGCLI_UPDATE_GOLDEN") == "1"


def check_golden(name: str, data: bytes) -> None:
    """Compare with fixtures/small/golden/<name>; SEGCLI_UPDATE_GOLDEN=1 rewrites it instead."""
    path: Path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"missing golden file {path}; run with SEGCLI_UPDATE_GOLDEN=1"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("report.json", ["--days", "30", "--format", "json"]),
        ("report-storefront-20.json", ["--days", "30", "--storefront-id", "20", "--format", "json"]),
        ("report.txt", ["--days", "30", "--format", "table"]),
    ],
)
def test_golden(cli: Any, name: str, args: list[str]) -> None:
    run = cli(*small_args(*args))
    assert run.exit_code == 0, run.stderr
    check_golden(name, run.stdout_bytes)
