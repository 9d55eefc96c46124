"""Start-up stays light and the engine stays a library: checked in fresh interpreters."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("duckdb", "pyarrow", "fpdf", "fastapi", "uvicorn", "pandas", "pyspark")
UI = ("typer", "rich", "click", "fpdf", "fastapi")


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.splitlines()[-1].split())  # the last line: the help text above may name modules


def test_help_imports_no_heavy_module() -> None:
    modules = loaded_after(
        "import sys\nfrom segcli.cli import app\nsys.argv = ['segcli', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert "typer" in modules  # the probe really ran the CLI
    assert not modules & set(HEAVY)


def test_segment_help_imports_no_heavy_module() -> None:
    modules = loaded_after(
        "import sys\nfrom segcli.cli import app\nsys.argv = ['segcli', 'segment', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert not modules & set(HEAVY)


def test_engine_imports_no_ui_package() -> None:
    modules = loaded_after(
        "import segcli.engine.compute, segcli.engine.service, segcli.engine.sources, segcli.engine.generate, "
        "segcli.engine.spark.report, segcli.engine.spark.customers"
    )
    assert "segcli" in modules
    assert not modules & set(UI)


def test_import_segcli_loads_no_ui_and_no_engine() -> None:
    """`import segcli` (and touching its API names) stays light: the engine loads when a function runs."""
    modules = loaded_after("import segcli\nsegcli.segment, segcli.customers, segcli.Report, segcli.DataError")
    assert "segcli" in modules
    assert not modules & {*UI, *HEAVY, "polars"}


def test_python_api_calls_load_no_ui_package() -> None:
    """A report, its HTML and CSV, and the customer list through the API: no CLI, server or PDF package."""
    from tests.conftest import SMALL_SALES

    modules = loaded_after(
        f"import segcli\nr = segcli.segment({str(SMALL_SALES)!r}, as_of='2026-11-20', cache=False)\n"
        f"r._repr_html_(), r.segments, r.to_dict()\nsegcli.customers({str(SMALL_SALES)!r}, as_of='2026-11-20')"
    )
    assert "duckdb" in modules  # the probe really ran a report
    assert not modules & set(UI)
