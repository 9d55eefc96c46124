"""The progress indicator: a spinner on a terminal for long runs, silence everywhere else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from segcli.commands.progress import Progress
from tests.conftest import AS_OF, SMALL_SALES, small_args


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_spinner_shows_on_a_terminal_once_work_is_slow():
    stream = FakeTerminal()
    with Progress("Segmenting customers", delay=0, stream=stream) as progress:
        assert progress.shown.wait(timeout=30)
    assert "Segmenting customers" in stream.getvalue()


def test_spinner_stops_when_the_work_fails():
    stream = FakeTerminal()

    def fail_while_shown() -> None:
        with Progress("Working", delay=0, stream=stream) as progress:
            assert progress.shown.wait(timeout=30)
            raise KeyError("x")

    with pytest.raises(KeyError):
        fail_while_shown()
    # torn down: the cursor rich hid when the spinner started is shown again at the end
    written = stream.getvalue()
    assert written.rfind("\x1b[?25h") > written.rfind("\x1b[?25l") >= 0


def test_quick_work_shows_nothing():
    stream = FakeTerminal()
    with Progress("Segmenting customers", delay=3600, stream=stream) as progress:
        pass
    assert not progress.shown.is_set()
    assert stream.getvalue() == ""


def test_nothing_when_not_a_terminal():
    stream = io.StringIO()
    with Progress("Segmenting customers", delay=0, stream=stream) as progress:
        pass
    assert not progress.shown.is_set()
    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    "args",
    [
        small_args("--days", "30", "--format", "csv"),
        small_args("--days", "30", "--format", "pdf", "--output", "-"),
        ["customers", "--source", str(SMALL_SALES), "--as-of", AS_OF.isoformat(), "--format", "jsonl"],
    ],
)
def test_stderr_is_empty_on_success_in_a_pipe(cli, args):
    run = cli(*args)
    assert run.exit_code == 0
    assert run.stderr == ""
    assert run.stdout_bytes


def test_stderr_is_empty_when_writing_a_file(cli, tmp_path: Path):
    run = cli(*small_args("--output", str(tmp_path / "r.pdf")))
    assert run.exit_code == 0
    assert run.stderr == ""
    assert run.stdout == ""
