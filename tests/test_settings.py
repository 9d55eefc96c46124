"""Settings resolve: command line > environment (SEGCLI_*) > segcli.toml > defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segcli.engine.errors import InvalidParameter
from segcli.engine.settings import load_settings
from tests.conftest import SMALL_SALES


def test_defaults() -> None:
    settings = load_settings()
    assert (settings.source, settings.business_id, settings.timezone, settings.cache_ttl) == (
        None,
        1,
        "UTC",
        600,
    )


def test_config_file_then_environment_then_command_line(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "segcli.toml"
    config.write_text(f'source = "{SMALL_SALES}"\nbusiness_id = 2\ntimezone = "Europe/Berlin"\n')
    args = ["segment", "--as-of", "2026-11-20", "--days", "30", "--format", "json", "--config", str(config)]
    data = cli(*args).json()["data"]
    assert (data["business_id"], data["period"]["timezone"]) == (2, "Europe/Berlin")
    monkeypatch.setenv("SEGCLI_BUSINESS_ID", "1")
    data = cli(*args).json()["data"]
    assert (data["business_id"], data["total_customers"]) == (1, 12)
    data = cli(*args, "--business-id", "2").json()["data"]
    assert data["business_id"] == 2


def test_config_discovered_in_the_working_folder(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEGCLI_CONFIG")
    (isolated / "segcli.toml").write_text(f'source = "{SMALL_SALES}"\n')
    run = cli("segment", "--as-of", "2026-11-20", "--days", "30", "--format", "json")
    assert run.json()["data"]["total_customers"] == 12


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sorce = 'x.csv'\n", "unknown key 'sorce'"),
        ("business_id = 'one'\n", "'business_id' must be an integer"),
        ("[cache]\nttl = 'long'\n", "'cache.ttl' must be an integer"),
        ("[columns]\nx = 'client'\n", "Invalid column in"),
        ("source = \n", "cannot read config"),
    ],
)
def test_bad_config(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "segcli.toml"
    config.write_text(text)
    with pytest.raises(InvalidParameter, match=message):
        load_settings(str(config))


def test_missing_config_file(cli: Any) -> None:
    run = cli("segment", "--config", "nope.toml")
    assert (run.exit_code, run.stderr) == (2, "Config file not found: nope.toml\n")


def test_postgres_table_options_show_their_defaults(cli) -> None:
    # "[default: ...]" must be escaped from rich markup, or the help silently drops it
    for command in ("segment", "customers", "serve", "load"):
        run = cli(command, "--help", env={"COLUMNS": "250"})
        assert run.exit_code == 0
        assert "schema-qualified if needed. [default: sales]" in run.stdout, command
        assert "PostgreSQL table of sale items. [default: sale_items]" in run.stdout, command
