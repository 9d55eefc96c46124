"""Shared fixtures: an isolated world (no user config, cache, tokens), the small fixture, a CLI runner."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytest_plugins = ["tests.pg"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SMALL_SALES = FIXTURES / "small" / "sales.csv"
GOLDEN = FIXTURES / "small" / "golden"
AS_OF = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own folder with its own config, cache and token locations."""
    for key in list(os.environ):
        if key.startswith("SEGCLI_"):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("SEGCLI_CONFIG", "")  # no config discovery unless a test asks
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TZ", "UTC")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def cli() -> Any:
    """Invoke `segcli ARGS...` in-process; returns exit code, stdout and stderr."""
    from segcli.cli import app

    runner = CliRunner()

    def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Run:
        result = runner.invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)

    return invoke


def small_args(*extra: str) -> list[str]:
    """The arguments of a report on the small fixture, as of 2026-11-20."""
    return ["segment", "--source", str(SMALL_SALES), "--as-of", AS_OF.isoformat(), *extra]
