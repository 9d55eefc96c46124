"""--output decides the format: --format, else the file's suffix; never whether stdout is a terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from segcli.commands import common
from segcli.engine.errors import InvalidParameter
from segcli.render import format_names
from tests.conftest import small_args


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("r.json", b'{"success": true'),
        ("r.csv", b"segment_name,"),
        ("r.pdf", b"%PDF"),
        ("R.TXT", b"Customer"),
    ],
)
def test_the_suffix_decides(cli: Any, name: str, start: bytes) -> None:
    run = cli(*small_args("--output", name))  # CliRunner: stdout is a pipe, as under cron
    assert run.exit_code == 0, run.stderr
    assert Path(name).read_bytes().startswith(start)
    assert run.stdout == ""


def test_txt_under_a_pipe_is_the_table(cli: Any) -> None:
    run = cli(*small_args("--days", "30", "--output", "r.txt"))
    assert run.exit_code == 0, run.stderr
    text = Path("r.txt").read_text("utf-8")
    assert text.splitlines()[0] == "Customer segmentation  business 1 · storefront all · method rfm"
    assert "\x1b[" not in text  # no terminal colour codes in a file


def test_format_wins_over_the_suffix(cli: Any) -> None:
    run = cli(*small_args("--format", "json", "--output", "r.txt"))
    assert run.exit_code == 0, run.stderr
    assert json.loads(Path("r.txt").read_text("utf-8"))["success"] is True


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("r.xlsx", "unknown suffix '.xlsx'"),
        ("report", "no suffix"),
        ("r.parquet", "unknown suffix '.parquet'"),
    ],
)
def test_unknown_suffix_is_exit_2_and_writes_nothing(cli: Any, name: str, what: str) -> None:
    run = cli(*small_args("--output", name))
    assert run.exit_code == 2
    assert run.stderr == (
        f"Invalid output: {name} has {what}. Must end in one of: .json, .csv, .pdf, .txt (or give --format)\n"
    )
    assert not Path(name).exists()
    assert run.stdout == ""


@pytest.mark.parametrize("terminal", [True, False])
def test_never_dependent_on_the_terminal(monkeypatch: pytest.MonkeyPatch, terminal: bool) -> None:
    monkeypatch.setattr(common, "stdout_is_terminal", lambda: terminal)
    formats = format_names()
    assert common.pick_format(None, "r.txt", formats=formats) == "table"
    assert common.pick_format(None, "r.json", formats=formats) == "json"
    assert common.pick_format("csv", "r.json", formats=formats) == "csv"
    with pytest.raises(InvalidParameter):
        common.pick_format(None, "r.xlsx", formats=formats)
    # only stdout follows the terminal: a table there, JSON (or the command's default) in a pipe
    assert common.pick_format(None, None, formats=formats) == ("table" if terminal else "json")
    assert common.pick_format(None, "-", default_pipe="csv") == ("table" if terminal else "csv")


def test_customer_list_suffixes(cli: Any) -> None:
    args = ["customers", "--source", small_args()[2], "--as-of", "2026-11-20", "--days", "30"]
    for name, start in (("c.parquet", b"PAR1"), ("c.jsonl", b'{"customer_id"'), ("c.csv", b"customer_id,")):
        run = cli(*args, "--output", name)
        assert run.exit_code == 0, run.stderr
        assert Path(name).read_bytes().startswith(start), name
    # .json: one array holding the rows of the JSON Lines file
    assert cli(*args, "--output", "c.json").exit_code == 0
    lines = [json.loads(line) for line in Path("c.jsonl").read_text("utf-8").splitlines()]
    assert json.loads(Path("c.json").read_text("utf-8")) == lines
    assert len(lines) == 12
    assert (
        cli(*args, "--format", "json", "--segment-name", "Champions", "--output", "none.json").exit_code == 0
    )
    run = cli(*args, "--output", "c.xlsx")
    assert run.exit_code == 2
    assert "unknown suffix '.xlsx'" in run.stderr
    assert not Path("c.xlsx").exists()
