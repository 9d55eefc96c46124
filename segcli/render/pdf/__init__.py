"""PDF: an A4 report a manager can read, drawn natively with fpdf2 (no chart library)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

from segcli.engine.params import ReportParams
from segcli.engine.report import Report
from segcli.render.pdf.charts import charts
from segcli.render.pdf.comparison import comparison_page
from segcli.render.pdf.fonts import FONT_DIRS, FONT_FILES, SafeText, find_fonts
from segcli.render.pdf.frame import EN_DASH, PdfContext, ReportPdf, generated_now, stamp
from segcli.render.pdf.sections import (
    actions,
    data_quality,
    insights,
    kpi_tiles,
    meta_grid,
    segment_table,
    title_band,
    warnings_box,
)

__all__ = ["FONT_DIRS", "FONT_FILES", "PdfRenderer", "SafeText", "find_fonts", "render_pdf"]


def render_pdf(
    report: Report,
    params: ReportParams,
    generated_at: datetime,
    fonts: tuple[Path, Path] | None,
) -> bytes:
    """The report as PDF bytes; the same inputs give the same bytes."""
    period = report.period
    running = (
        f"Customer segmentation · business {report.business_id} · "
        f"{period.start_date.isoformat()} {EN_DASH} {period.end_date.isoformat()}"
    )
    pdf = ReportPdf(fonts, running, f"Generated {stamp(generated_at)} by segcli")
    pdf.set_creation_date(generated_at)
    pdf.set_title(f"Customer segmentation report, business {report.business_id}")
    pdf.set_creator("segcli")
    pdf.add_page()
    ctx = PdfContext(report, report.shown_segments(params), generated_at, report.shown_comparison(params))
    title_band(pdf, ctx)
    meta_grid(pdf, ctx)
    warnings_box(pdf, ctx)
    kpi_tiles(pdf, ctx)
    insights(pdf, ctx)
    if ctx.shown:
        charts(pdf, ctx)
        segment_table(pdf, ctx)
        actions(pdf, ctx)
    data_quality(pdf, ctx)
    if ctx.comparison is not None:
        comparison_page(pdf, ctx, ctx.comparison)
    return bytes(pdf.output())


class PdfRenderer:
    """The PDF renderer; `generated_at` fixes the moment printed (default: now)."""

    binary = True
    media_type = "application/pdf"
    extension = "pdf"

    def __init__(
        self,
        generated_at: datetime | None = None,
        font_dirs: Sequence[str | os.PathLike[str]] = FONT_DIRS,
    ) -> None:
        self.generated_at = generated_at
        self.font_dirs = font_dirs

    def write(self, report: Report, params: ReportParams, out: IO[bytes]) -> None:
        generated_at = self.generated_at or generated_now()
        out.write(render_pdf(report, params, generated_at, find_fonts(self.font_dirs)))
