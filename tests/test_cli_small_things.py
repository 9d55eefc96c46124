"""Issue 15's small things: error texts per door, `generate`'s folder, `customers`' cache options, completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AS_OF, SMALL_SALES, small_args
from tests.test_api import Api
from tests.test_import_hygiene import HEAVY

# (query string, command-line options, the API's text, the flag the command line adds)
BAD = [
    (
        "segmentation_method=kmeans",
        ["--method", "kmeans"],
        "Invalid segmentation_method. Must be one of: rfm, value, behavior",
        "--method",
    ),
    ("days=0", ["--days", "0"], "Invalid days. Must be an integer between 1 and 9999", "--days"),
    (
        "storefront_id=x",
        ["--storefront-id", "x"],
        "Invalid storefront_id. Must be an integer",
        "--storefront-id",
    ),
    (
        "segment_code=R0",
        ["--segment-code", "R0"],
        "Invalid segment_code. Must be one of: R5F5M5, R4F4M4, R4F2M3, R3F2M2, R2F2M3, R2F3M3, R5F1M1, R1F1M2",
        "--segment-code",
    ),
]


@pytest.mark.parametrize(("query", "options", "text", "flag"), BAD)
def test_cli_keeps_the_api_text_and_adds_the_flag(
    cli: Any, tmp_path: Path, query: str, options: list[str], text: str, flag: str
) -> None:
    run = cli(*small_args(*options))
    assert run.exit_code == 2
    assert run.stderr == f"{text} ({flag})\n"
    response = Api(tmp_path).get(query)
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": text}


def test_as_of_and_format_name_their_flags(cli: Any) -> None:
    run = cli("segment", "--source", str(SMALL_SALES), "--as-of", "20.11.2026")
    assert (run.exit_code, run.stderr) == (2, "Invalid as_of. Must be a date YYYY-MM-DD (--as-of)\n")
    run = cli(*small_args("--format", "xlsx"))
    assert run.exit_code == 2
    assert run.stderr.endswith(" (--format)\n")


def test_generate_creates_the_output_folders(cli: Any, tmp_path: Path) -> None:
    out, items = tmp_path / "a" / "b" / "sales.parquet", tmp_path / "a" / "c" / "items.csv"
    run = cli("generate", "--out", str(out), "--items", str(items), "-n", "20")
    assert run.exit_code == 0, run.stderr
    assert out.is_file()
    assert items.is_file()
    assert (
        cli("segment", "--source", str(out), "--as-of", AS_OF.isoformat(), "--format", "json").exit_code == 0
    )


def test_generate_into_a_file_as_folder_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    run = cli("generate", "--out", str(tmp_path / "plain" / "sales.csv"), "-n", "5")
    assert run.exit_code == 2
    assert run.stderr.startswith(f"Invalid output: cannot create folder {tmp_path / 'plain'}: ")
    assert run.stderr.endswith(" (--out)\n")


def test_customers_takes_the_cache_options_of_segment(cli: Any, tmp_path: Path) -> None:
    base = ["customers", "--source", str(SMALL_SALES), "--as-of", AS_OF.isoformat(), "--format", "csv"]
    plain = cli(*base)
    assert plain.exit_code == 0, plain.stderr
    for extra in (
        ["--no-cache"],
        ["--refresh"],
        ["--cache-dir", str(tmp_path / "cache"), "--cache-ttl", "60"],
    ):
        run = cli(*base, *extra)
        assert run.exit_code == 0, (extra, run.stderr)
        assert run.stdout == plain.stdout
    # the list is computed afresh: it never writes the report cache (only the CSV's parsed copy, issue 14)
    info = cli("cache", "info", "--cache-dir", str(tmp_path / "cache"), "--format", "json").json()
    assert (info["entries"], info["hits"], info["misses"], info["columnar_copies"]) == (0, 0, 0, 1)
    bad = cli(*base, "--cache-ttl", "0")
    assert (bad.exit_code, bad.stderr) == (
        2,
        "Invalid cache_ttl. Must be a positive integer (seconds) (--cache-ttl)\n",
    )


# --- shell completion ------------------------------------------------------------------------


def test_show_completion_prints_a_script(cli: Any) -> None:
    run = cli("--show-completion", "bash")
    assert run.exit_code == 0, run.stderr
    assert "_SEGCLI_COMPLETE=complete_bash" in run.stdout
    assert "complete -o default -F _segcli_completion segcli" in run.stdout


def complete(words: str, cword: int) -> tuple[list[str], set[str]]:
    """Completions bash would get for `words`, and the top-level modules the run loaded."""
    probe = (
        "import sys\nfrom segcli.cli import app\n"
        "try:\n    app(prog_name='segcli')\nexcept SystemExit:\n    pass\n"
        "print('MODULES', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    env = {**os.environ, "_SEGCLI_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    ).stdout
    lines = out.splitlines()
    modules = set(lines[-1].removeprefix("MODULES ").split())
    return lines[:-1], modules


def test_completion_names_commands_and_values_without_heavy_imports() -> None:
    words, modules = complete("segcli seg", 1)
    assert words == ["segment", "segments"]
    assert "typer" in modules  # the probe really ran the CLI
    assert not modules & set(HEAVY)
    words, modules = complete("segcli segment --method v", 3)
    assert words == ["value"]
    assert not modules & set(HEAVY)
    words, _ = complete("segcli customers --format j", 3)
    assert words == ["jsonl", "json"]
