"""The terminal report: header, insights, segments with shares and bars, data quality."""

from __future__ import annotations

import io
import textwrap
from decimal import Decimal
from typing import IO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from segcli.engine.methods.behavior import FACET_TITLES
from segcli.engine.params import ReportParams
from segcli.engine.report import DataQuality, Report
from segcli.render.numbers import count, money, percent
from segcli.render.plain import clean, plain

BAR_WIDTH = 10


def insight_labels(report: Report) -> tuple[tuple[str, str], ...]:
    """(key, label) of the four insights: rfm's last two are priority lists, not measurements."""
    measured = report.insights.measured
    return (
        ("highest_revenue_segment", "Highest revenue"),
        ("largest_segment", "Largest"),
        ("fastest_growing_segment", "Fastest growing" if measured else "Nurture next"),
        ("needs_attention", "Needs attention" if measured else "Win back first"),
    )


def bar(fraction: Decimal, width: int = BAR_WIDTH) -> str:
    """An inline bar of eighth-blocks for a fraction in 0..1."""
    eighths = int(max(Decimal(0), min(Decimal(1), fraction)) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + ("▏▎▍▌▋▊▉"[rest - 1] if rest else "")


def header(report: Report) -> Text:
    p = report.period
    store = "all" if report.storefront_id is None else str(report.storefront_id)
    text = Text()
    text.append("Customer segmentation", style="bold")
    text.append(f"  business {report.business_id} · storefront {store} · method {report.method}\n")
    text.append(
        f"Window {p.start_date.isoformat()} → {p.end_date.isoformat()} "
        f"({p.days} days, as of {p.end_date.isoformat()}, {report.timezone})"
    )
    text.append(
        f"\n{report.total_customers:,} customers · {report.total_sales:,} sales · "
        f"revenue {money(report.total_revenue)}{in_currency(report)}"
    )
    return text


def in_currency(report: Report) -> str:
    """ " EUR" after an amount when the currency is known, else nothing."""
    return f" {clean(report.currency)}" if report.currency else ""


def warning_lines(report: Report, width: int) -> Text:
    """Each warning on its own line(s), continuation lines indented under the text."""
    lines = [
        textwrap.fill(w, width, initial_indent="Warning: ", subsequent_indent="         ")
        for w in report.warnings
    ]
    return Text("\n".join(lines), style="bold yellow")


def insights_panel(report: Report) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column(style="bold")
    values = report.insights.to_dict()
    for key, label in insight_labels(report):
        grid.add_row(label, plain(values[key] or "—"))
    return Panel(grid, title="Insights", title_align="left", expand=False)


# (title, justify, style, priority): the narrowest terminals keep the lowest priorities only
_COLUMNS = (
    ("Segment", "left", None, 0),
    ("Code", "left", "dim", 3),
    ("Customers", "right", None, 0),
    ("Share", "right", None, 0),
    ("", "left", "cyan", 1),
    ("Revenue", "right", None, 0),
    ("Share ", "right", None, 0),
    ("", "left", "green", 3),
    ("AOV", "right", None, 2),
    ("Days", "right", None, 2),
    ("Orders", "right", None, 2),
)


def segments_table(report: Report, params: ReportParams, width: int = 120) -> Table:
    """Segments with counts, revenue, shares and inline bars; columns fit the width."""
    return _segments(report, params, width)[0]


# what the columns that need one mean, for the legend under the table
_LEGEND = {
    "Days": "Days: average days since last purchase",
    "Orders": "Orders: average orders per customer",
}


def _segments(report: Report, params: ReportParams, width: int) -> tuple[Table, str]:
    """The segments table and the legend of the columns it kept."""
    titles = [
        (f"Revenue {report.currency}" if title == "Revenue" and report.currency else title, *rest)
        for title, *rest in _COLUMNS
    ]
    total_customers = report.total_customers
    total_revenue = report.total_revenue
    biggest = max((s.customer_count for s in report.segments), default=0) or 1
    richest = max((s.revenue for s in report.segments), default=Decimal(0))
    rows = []
    facets = []
    for s in report.shown_segments(params):
        facets.append(s.facet)
        revenue_fraction = s.revenue / richest if richest > 0 and s.revenue > 0 else Decimal(0)
        rows.append(
            (
                plain(s.name),
                plain(s.code),
                count(s.customer_count),
                percent(s.customer_count, total_customers),
                bar(Decimal(s.customer_count) / biggest),
                money(s.revenue),
                percent(s.revenue, total_revenue),
                bar(revenue_fraction),
                money(s.average_order_value),
                str(s.avg_days_since_last_purchase),
                str(s.avg_purchase_frequency),
            )
        )
    widths = [
        max([len(title.strip()), BAR_WIDTH if not title else 0, *(len(r[i]) for r in rows)]) + 3
        for i, (title, *_rest) in enumerate(titles)
    ]
    keep_up_to = 3
    while (
        keep_up_to > 0 and sum(w for w, c in zip(widths, titles, strict=True) if c[3] <= keep_up_to) > width
    ):
        keep_up_to -= 1
    kept = [i for i, column in enumerate(titles) if column[3] <= keep_up_to]
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False)
    for i in kept:
        title, justify, style, _ = titles[i]
        table.add_column(title.strip(), justify=justify, style=style, no_wrap=True)
    for i, (facet, row) in enumerate(zip(facets, rows, strict=True)):
        if facet is not None and (i == 0 or facets[i - 1] != facet):
            if i:
                table.add_section()
            table.add_row(plain(FACET_TITLES.get(facet, facet), style="bold magenta"))
        table.add_row(*(row[k] for k in kept))
    shown = {titles[i][0] for i in kept}
    legend = " · ".join(text for title, text in _LEGEND.items() if title in shown)
    return table, legend


def quality_lines(quality: DataQuality, width: int = 120) -> Text:
    """The data-quality summary; a line too long for the width wraps, indented."""
    lines = [
        textwrap.fill(
            f"Data quality: {quality.rows_read:,} rows in the window, {quality.rows_in_scope:,} in scope, "
            f"{quality.anonymous_sales:,} anonymous",
            width,
            subsequent_indent="  ",
        )
    ]
    excluded = [f"{clean(k)} {v:,}" for k, v in quality.excluded_by_status.items()]
    unknown = [f"'{clean(k)}' {v:,}" for k, v in quality.unknown_status.items()]
    if excluded or unknown:
        parts = []
        if excluded:
            parts.append("excluded " + ", ".join(excluded))
        if unknown:
            parts.append("unknown status " + ", ".join(unknown))
        lines.append(textwrap.fill(" · ".join(parts), width, initial_indent="  ", subsequent_indent="    "))
    return Text("\n".join(lines), style="dim")


def render(report: Report, params: ReportParams, width: int = 120) -> Group:
    from segcli.render.comparison import comparison_view

    table, legend = _segments(report, params, width)
    parts: list[RenderableType] = [header(report)]
    if report.warnings:
        parts.append(warning_lines(report, width))
    parts += [Text(""), insights_panel(report), table]
    if legend:
        parts.append(Text(legend, style="dim"))
    parts += [Text(remark, style="dim") for remark in report.notes]
    parts.append(quality_lines(report.data_quality, width))
    comparison = report.shown_comparison(params)
    if comparison is not None:
        parts += [Text(""), comparison_view(comparison, report, width)]
    return Group(*parts)


class TableRenderer:
    """The terminal report; `width` in columns (None: the terminal's own)."""

    binary = False
    media_type = "text/plain"
    extension = "txt"

    def __init__(self, width: int | None = 120) -> None:
        self.width = width  # None: the terminal's own width

    def write(self, report: Report, params: ReportParams, out: IO[bytes]) -> None:
        text = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        try:
            console = Console(file=text, highlight=False, width=self.width)
            console.print(render(report, params, console.width))
        finally:
            text.detach()
