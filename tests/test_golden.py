"""Golden outputs of the small fixture: any change to a format shows up as a diff to review."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import small_args
from tests.goldens import check_golden


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
