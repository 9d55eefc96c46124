"""Renderer settings resolve once in the command layer; renderers read no environment."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest

from segcli.commands.common import render_settings
from segcli.render import RenderSettings, get_renderer
from tests.conftest import ROOT, SMALL_SALES
from tests.test_export_pdf import pages_text, small_report


def test_width_and_generated_at_come_from_the_environment_given() -> None:
    settings = render_settings("report.txt", {"COLUMNS": "70", "SOURCE_DATE_EPOCH": "1790000000"})
    assert settings == RenderSettings(width=70, generated_at=datetime(2026, 9, 21, 14, 13, 20, tzinfo=UTC))


@pytest.mark.parametrize("columns", ["", "wide", "-5"])
def test_unusable_columns_fall_back_to_120(columns: str) -> None:
    assert render_settings("-", {"COLUMNS": columns}) == RenderSettings(width=120, generated_at=None)


def test_renderers_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    report, params = small_report()
    settings = RenderSettings(width=100, generated_at=datetime(2026, 11, 21, 6, 30, tzinfo=UTC))

    def both() -> tuple[bytes, bytes]:
        outs = []
        for name in ("table", "pdf"):
            out = io.BytesIO()
            get_renderer(name, settings).write(report, params, out)  # type: ignore[arg-type]
            outs.append(out.getvalue())
        return outs[0], outs[1]

    table, pdf = both()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert both() == (table, pdf)
    assert max(len(line) for line in table.decode().splitlines()) <= 100
    assert "Generated 2026-11-21 06:30 UTC" in pages_text(pdf)[0]


def test_no_renderer_module_reads_the_environment() -> None:
    sources = sorted((ROOT / "segcli" / "render").rglob("*.py"))
    assert len(sources) > 10
    for path in sources:
        assert not re.search(r"\bos\.environ\b|\bgetenv\(", path.read_text()), path


def test_the_api_resolves_the_pdf_moment_once_from_its_environment(cli) -> None:
    target = "/api/reports/customers/segmentation/?days=30&export_format=pdf"
    run = cli(
        "serve",
        "--source",
        SMALL_SALES,
        "--as-of",
        "2026-11-20",
        "--no-cache",
        "--get",
        target,
        env={"SOURCE_DATE_EPOCH": "1790000000"},
    )
    assert run.exit_code == 0, run.stderr
    assert "Generated 2026-09-21 14:13 UTC" in pages_text(run.stdout_bytes)[0]
