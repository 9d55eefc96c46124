"""Customers and revenue per segment as two bar charts drawn natively."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from segcli.render.numbers import count, money
from segcli.render.pdf.frame import (
    BLUE,
    CONTENT_W,
    GREEN,
    MARGIN,
    NAVY,
    TRACK,
    VIOLET,
    PdfContext,
    ReportPdf,
    facet_title,
)


@dataclass(frozen=True)
class BarChart:
    title: str
    values: tuple[Decimal, ...]
    labels: tuple[str, ...]
    color: tuple[int, int, int]


def charts(pdf: ReportPdf, ctx: PdfContext) -> None:
    """Customers and revenue per segment: two horizontal bar charts side by side, row by row."""
    shown = ctx.shown
    row_h, gap = 6.0, 8.0
    chart_w = (CONTENT_W - gap) / 2
    charts = (
        BarChart(
            "Customers per segment",
            tuple(Decimal(s.customer_count) for s in shown),
            tuple(count(s.customer_count) for s in shown),
            BLUE,
        ),
        BarChart(
            f"Revenue per segment{' (' + ctx.report.currency + ')' if ctx.report.currency else ''}",
            tuple(s.total_revenue for s in shown),
            tuple(money(s.total_revenue) for s in shown),
            GREEN,
        ),
    )
    pdf.font(7.5, bold=True)
    value_ws = [max(pdf.get_string_width(label) for label in chart.labels) + 2 for chart in charts]
    pdf.font(7.5)
    names = [pdf.safe(s.name) for s in shown]
    label_w = min(chart_w * 0.42, max(pdf.get_string_width(name) for name in names) + 4)

    def titles() -> None:
        y = pdf.get_y()
        for i, chart in enumerate(charts):
            pdf.set_xy(MARGIN + i * (chart_w + gap), y)
            pdf.font(9, bold=True, color=NAVY)
            pdf.cell(chart_w, 6, chart.title)
        pdf.set_y(y + 7)

    pdf.section("Customers and revenue by segment", needed=7 + row_h * min(len(shown), 4))
    titles()
    for index, name in enumerate(names):
        facet = shown[index].facet
        starts_facet = facet is not None and (index == 0 or shown[index - 1].facet != facet)
        if pdf.will_page_break(row_h * (2 if starts_facet else 1)):
            pdf.add_page()
            titles()
        if starts_facet:  # behavior: each facet is a partition of the customers, labelled
            y = pdf.get_y()
            for i in range(len(charts)):
                pdf.set_xy(MARGIN + i * (chart_w + gap), y)
                pdf.font(7.5, bold=True, color=VIOLET)
                pdf.cell(chart_w, row_h, pdf.safe(facet_title(facet)))
            pdf.set_y(y + row_h)
        y = pdf.get_y()
        for i, chart in enumerate(charts):
            x = MARGIN + i * (chart_w + gap)
            track_w = chart_w - label_w - value_ws[i] - 2
            pdf.font(7.5)
            pdf.set_xy(x, y)
            pdf.cell(label_w - 2, row_h, pdf.fit(name, label_w - 3), align="R")
            pdf.set_fill_color(*TRACK)
            pdf.rect(x + label_w, y + 1.3, track_w, row_h - 2.6, style="F")
            top, value = max(chart.values), chart.values[index]
            if top > 0 and value > 0:  # refunds can make revenue negative: no bar then
                pdf.set_fill_color(*chart.color)
                pdf.rect(x + label_w, y + 1.3, float(value / top) * track_w, row_h - 2.6, style="F")
            pdf.set_xy(x + label_w + track_w + 1, y)
            pdf.font(7.5, bold=True)
            pdf.cell(value_ws[i], row_h, chart.labels[index], align="R")
        pdf.set_y(y + row_h)
