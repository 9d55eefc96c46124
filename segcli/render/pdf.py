"""PDF: an A4 report a manager can read, drawn natively with fpdf2 (no chart library)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, cast

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from segcli.engine.params import ReportParams
from segcli.engine.report import CENT, TENTH, DataQuality, Report, SegmentResult, ratio

# Where DejaVu lives on Debian/Ubuntu, Fedora, Arch, and in per-user or macOS font folders.
FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
)
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")

PAGE_W, MARGIN = 210.0, 15.0
CONTENT_W = PAGE_W - 2 * MARGIN

NAVY = (31, 42, 68)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (214, 219, 226)
PANEL = (244, 246, 249)
BLUE = (52, 101, 164)
GREEN = (46, 139, 102)
AMBER = (214, 124, 38)
VIOLET = (111, 84, 168)
WHITE = (255, 255, 255)
TRACK = (232, 236, 241)

_METHOD_TITLES = {
    "rfm": "RFM (recency, frequency, monetary)",
    "value": "Value (spend quintiles)",
    "behavior": "Behaviour",
}
# Characters DejaVu or WinAnsi may lack, with a readable stand-in.
_STAND_INS = {
    "\N{RIGHTWARDS ARROW}": "->",
    "\N{EM DASH}": "-",
    "\N{EN DASH}": "-",
    "\N{BULLET}": "-",
    "\N{HORIZONTAL ELLIPSIS}": "...",
    "\N{MINUS SIGN}": "-",
    "\N{GREATER-THAN OR EQUAL TO}": ">=",
    "\N{LESS-THAN OR EQUAL TO}": "<=",
}
EN_DASH = "\N{EN DASH}"


def find_fonts(dirs: Sequence[str | os.PathLike[str]] = FONT_DIRS) -> tuple[Path, Path] | None:
    """DejaVu Sans regular and bold from the first folder holding both, else None."""
    for folder in dirs:
        base = Path(folder).expanduser()
        regular, bold = (base / name for name in FONT_FILES)
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def generated_now() -> datetime:
    """Now in UTC, or SOURCE_DATE_EPOCH when set (reproducible output)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    """A moment as 'YYYY-MM-DD HH:MM UTC'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def percent(part: Decimal | int, whole: Decimal | int) -> str:
    return f"{ratio(Decimal(part) * 100, whole, TENTH)}%"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


class SafeText:
    """Makes text printable in the chosen font: stand-ins, then accents dropped, else '?'."""

    def __init__(self, supported: frozenset[int] | None) -> None:
        # None: a core font, whose text must encode in Windows-1252 (the PDF's WinAnsiEncoding)
        self.supported = supported

    def ok(self, char: str) -> bool:
        if self.supported is not None:
            return ord(char) in self.supported
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            return False
        return True

    def __call__(self, text: str) -> str:
        if all(c == "\n" or self.ok(c) for c in text):
            return text
        out = []
        for char in text:
            if char == "\n" or self.ok(char):
                out.append(char)
                continue
            stand_in = _STAND_INS.get(char)
            if stand_in is None:
                base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
                stand_in = base if base and all(self.ok(c) for c in base) else "?"
            out.append(stand_in if all(self.ok(c) for c in stand_in) else "?")
        return "".join(out)


class ReportPdf(FPDF):
    """The page frame: fonts, a running header after page 1, and 'Page X of Y' footers."""

    def __init__(self, fonts: tuple[Path, Path] | None, running_title: str, footer_note: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        if fonts is not None:
            self.add_font("DejaVu", "", str(fonts[0]))
            self.add_font("DejaVu", "B", str(fonts[1]))
            self.family = "DejaVu"
            regular, bold = (cast(TTFFont, self.fonts[key]) for key in ("dejavu", "dejavuB"))
            supported = set(regular.cmap) & set(bold.cmap)
            self.safe = SafeText(frozenset(supported))
        else:
            self.family = "helvetica"
            self.core_fonts_encoding = "cp1252"
            self.safe = SafeText(None)
        self.bullet = self.safe("•")
        self.dash = self.safe("—")
        self.running_title = self.safe(running_title)
        self.footer_note = self.safe(footer_note)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=18)
        self.alias_nb_pages()

    def font(self, size: float, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*color)

    def fit(self, text: str, width: float) -> str:
        """Safe text, shortened with an ellipsis to fit `width` in the current font."""
        text = self.safe(text)
        if self.get_string_width(text) <= width:
            return text
        ellipsis = self.safe("…")
        while text and self.get_string_width(text + ellipsis) > width:
            text = text[:-1]
        return text.rstrip() + ellipsis

    def shrink_to_fit(
        self,
        text: str,
        width: float,
        sizes: Sequence[float],
        bold: bool = True,
        color: tuple[int, int, int] = INK,
    ) -> None:
        """Set the largest font size at which `text` fits `width` (else the smallest)."""
        for size in sizes:
            self.font(size, bold=bold, color=color)
            if self.get_string_width(self.safe(text)) <= width:
                return

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.font(8, color=MUTED)
        self.set_xy(MARGIN, 8)
        self.cell(CONTENT_W, 5, self.running_title)
        self.set_draw_color(*RULE)
        self.line(MARGIN, 14, PAGE_W - MARGIN, 14)
        self.set_y(MARGIN + 3)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y() - 1, PAGE_W - MARGIN, self.get_y() - 1)
        self.font(8, color=MUTED)
        self.cell(CONTENT_W / 2, 5, self.footer_note)
        self.cell(CONTENT_W / 2, 5, f"Page {self.page_no()} of {self.str_alias_nb_pages}", align="R")

    def section(self, title: str, needed: float = 20) -> None:
        """A section heading, on a new page when the heading and `needed` mm would not fit."""
        if self.will_page_break(10 + needed):
            self.add_page()
        self.ln(4)
        self.font(12, bold=True, color=NAVY)
        self.cell(CONTENT_W, 7, self.safe(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*BLUE)
        self.set_line_width(0.5)
        self.line(MARGIN, self.get_y(), MARGIN + 14, self.get_y())
        self.set_line_width(0.2)
        self.ln(3)


@dataclass(frozen=True)
class PdfContext:
    report: Report
    shown: tuple[SegmentResult, ...]
    generated_at: datetime


def _title_band(pdf: ReportPdf, ctx: PdfContext) -> None:
    report = ctx.report
    pdf.set_fill_color(*NAVY)
    pdf.rect(0, 0, PAGE_W, 30, style="F")
    pdf.set_xy(MARGIN, 7.5)
    pdf.font(20, bold=True, color=WHITE)
    pdf.cell(CONTENT_W, 10, "Customer segmentation report", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(10, color=(200, 210, 228))
    store = "all storefronts" if report.storefront_id is None else f"storefront {report.storefront_id}"
    pdf.cell(
        CONTENT_W,
        7,
        pdf.safe(f"Business {report.business_id} · {report.method.upper()} segmentation · {store}"),
    )
    pdf.set_y(35)


def _meta_grid(pdf: ReportPdf, ctx: PdfContext) -> None:
    report, period = ctx.report, ctx.report.period
    window = f"{period.start_date.isoformat()} {EN_DASH} {period.end_date.isoformat()} ({plural(period.days, 'day')})"
    cells = (
        ("Window", window),
        ("As of", f"{period.end_date.isoformat()} ({report.timezone})"),
        ("Generated", stamp(ctx.generated_at)),
        ("Business", str(report.business_id)),
        ("Method", _METHOD_TITLES.get(report.method, report.method)),
        (
            "Storefront",
            "All storefronts" if report.storefront_id is None else str(report.storefront_id),
        ),
    )
    widths = (68.0, 68.0, CONTENT_W - 136)
    for row in range(2):
        y = pdf.get_y()
        x = MARGIN
        for col in range(3):
            label, value = cells[row * 3 + col]
            pdf.set_xy(x, y)
            pdf.font(6.5, color=MUTED)
            pdf.cell(widths[col], 4, label.upper())
            pdf.set_xy(x, y + 3.8)
            pdf.font(8.5, bold=True)
            pdf.cell(widths[col], 5, pdf.fit(value, widths[col] - 2))
            x += widths[col]
        pdf.set_y(y + 10)


def _kpi_tiles(pdf: ReportPdf, ctx: PdfContext) -> None:
    report = ctx.report
    tiles = (
        ("Customers", f"{report.total_customers:,}"),
        ("Orders", f"{report.total_sales:,}"),
        ("Revenue", money(ratio(report.total_revenue, 1, CENT))),
        ("Average order value", money(ratio(report.total_revenue, report.total_sales, CENT))),
    )
    gap = 4
    width = (CONTENT_W - gap * (len(tiles) - 1)) / len(tiles)
    y = pdf.get_y() + 1
    for i, (label, value) in enumerate(tiles):
        x = MARGIN + i * (width + gap)
        pdf.set_fill_color(*PANEL)
        pdf.rect(x, y, width, 17, style="F")
        pdf.set_xy(x + 4, y + 2.5)
        pdf.font(7, color=MUTED)
        pdf.cell(width - 8, 4, label.upper())
        pdf.set_xy(x + 4, y + 7.5)
        pdf.shrink_to_fit(value, width - 8, sizes=(14, 12, 10), color=NAVY)
        pdf.cell(width - 8, 7, pdf.fit(value, width - 8))
    pdf.set_y(y + 17)


def _insight_detail(report: Report, name: str | None) -> tuple[str, str]:
    segment = next((s for s in report.segments if s.name == name), None)
    if segment is None:
        return ("No segment qualifies", "")
    return (
        f"{plural(segment.customer_count, 'customer')} "
        f"({percent(segment.customer_count, report.total_customers)})",
        f"{money(segment.total_revenue)} revenue ({percent(segment.revenue, report.total_revenue)})",
    )


def _insights(pdf: ReportPdf, ctx: PdfContext) -> None:
    report = ctx.report
    insights = report.insights
    cards = (
        ("Highest revenue", insights.highest_revenue_segment, GREEN),
        ("Largest segment", insights.largest_segment, BLUE),
        ("Fastest growing", insights.fastest_growing_segment, VIOLET),
        ("Needs attention", insights.needs_attention, AMBER),
    )
    pdf.section("Insights", needed=24)
    gap = 4
    width = (CONTENT_W - gap * 3) / 4
    y = pdf.get_y()
    for i, (label, name, color) in enumerate(cards):
        x = MARGIN + i * (width + gap)
        pdf.set_fill_color(*PANEL)
        pdf.rect(x, y, width, 22, style="F")
        pdf.set_fill_color(*color)
        pdf.rect(x, y, 1.4, 22, style="F")
        pdf.set_xy(x + 4, y + 2.5)
        pdf.font(7, color=MUTED)
        pdf.cell(width - 6, 4, label.upper())
        pdf.set_xy(x + 4, y + 7)
        pdf.shrink_to_fit(name or pdf.dash, width - 6, sizes=(9.5, 8.5, 7.5), color=INK if name else MUTED)
        pdf.cell(width - 6, 6, pdf.fit(name or pdf.dash, width - 6))
        for line, text in enumerate(_insight_detail(report, name)):
            pdf.set_xy(x + 4, y + 13.2 + line * 3.6)
            pdf.shrink_to_fit(text, width - 6, sizes=(7, 6.5, 6), bold=False, color=MUTED)
            pdf.cell(width - 6, 3.6, pdf.fit(text, width - 6))
    pdf.set_y(y + 22)


@dataclass(frozen=True)
class BarChart:
    title: str
    values: tuple[Decimal, ...]
    labels: tuple[str, ...]
    color: tuple[int, int, int]


def _charts(pdf: ReportPdf, ctx: PdfContext) -> None:
    """Customers and revenue per segment: two horizontal bar charts side by side, row by row."""
    shown = ctx.shown
    row_h, gap = 6.0, 8.0
    chart_w = (CONTENT_W - gap) / 2
    charts = (
        BarChart(
            "Customers per segment",
            tuple(Decimal(s.customer_count) for s in shown),
            tuple(f"{s.customer_count:,}" for s in shown),
            BLUE,
        ),
        BarChart(
            "Revenue per segment",
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
        if pdf.will_page_break(row_h):
            pdf.add_page()
            titles()
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


def _table(
    pdf: ReportPdf,
    col_widths: tuple[float, ...],
    text_align: tuple[str, ...],
    size: float = 7.5,
    headings: bool = True,
    v_align: str = "MIDDLE",
) -> Any:
    """An fpdf2 table in the report's style: navy headings, zebra rows, thin rules."""
    pdf.font(size)
    pdf.set_fill_color(*WHITE)
    pdf.set_draw_color(*RULE)
    return pdf.table(
        col_widths=col_widths,
        text_align=text_align,
        v_align=v_align,
        first_row_as_headings=headings,
        headings_style=FontFace(emphasis="BOLD", color=WHITE, fill_color=NAVY, size_pt=size),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        cell_fill_color=PANEL,
        cell_fill_mode=TableCellFillMode.EVEN_ROWS if headings else TableCellFillMode.ROWS,
        line_height=size * 0.53,
        padding=(1.1, 1.6, 1.1, 1.6),
        width=CONTENT_W,
    )


def fit_columns(pdf: ReportPdf, rows: Sequence[Sequence[str]], wrap_first: float = 28) -> tuple[float, ...]:
    """Column widths that fit every cell (headings may wrap at spaces); the first column takes the slack."""
    pad = 3.2
    widths = [
        max(
            max(pdf.get_string_width(word) for word in rows[0][j].split() or [""]),
            *(pdf.get_string_width(row[j]) for row in rows[1:]),
        )
        + pad
        for j in range(len(rows[0]))
    ]
    slack = CONTENT_W - sum(widths)
    widths[0] = max(widths[0] + slack, wrap_first)
    scale = CONTENT_W / sum(widths)
    return tuple(w * scale for w in widths)


def _segment_table(pdf: ReportPdf, ctx: PdfContext) -> None:
    report, shown = ctx.report, ctx.shown
    size = 7.5
    rows = [
        [
            "Segment",
            "Code",
            "Customers",
            "% cust.",
            "Revenue",
            "% rev.",
            "Avg order",
            "Days since",
            "Orders / cust.",
            "Spend / cust.",
        ]
    ]
    for s in shown:
        rows.append(
            [
                s.name,
                s.code,
                f"{s.customer_count:,}",
                percent(s.customer_count, report.total_customers),
                money(s.total_revenue),
                percent(s.revenue, report.total_revenue),
                money(s.average_order_value),
                str(s.avg_days_since_last_purchase),
                str(s.avg_purchase_frequency),
                money(s.avg_total_spend),
            ]
        )
    if len(shown) > 1:
        customers = sum(s.customer_count for s in shown)
        revenue = sum((s.revenue for s in shown), Decimal(0))
        label = "Total" if len(shown) == len(report.segments) else "Shown segments"
        rows.append(
            [
                label,
                "",
                f"{customers:,}",
                percent(customers, report.total_customers),
                money(ratio(revenue, 1, CENT)),
                percent(revenue, report.total_revenue),
                *([""] * 4),
            ]
        )
    rows = [[pdf.safe(text) for text in row] for row in rows]
    # keep a short table on one page: it moves to the next page whole when it would split
    pdf.section("Segments", needed=min(8 + len(rows) * 5.6, 120))
    pdf.font(size, bold=True)
    widths = fit_columns(pdf, rows)
    with _table(pdf, widths, ("LEFT", "LEFT", *(["RIGHT"] * 8)), size=size) as table:
        for i, row in enumerate(rows):
            is_total = len(shown) > 1 and i == len(rows) - 1
            table.row(row, style=FontFace(emphasis="BOLD", size_pt=size) if is_total else None)
    pdf.ln(1.5)
    pdf.font(6.5, color=MUTED)
    pdf.cell(
        CONTENT_W,
        4,
        "Days since: average days since the last purchase, at the as-of date. "
        "Shares are of all customers and all revenue in the window.",
    )
    pdf.ln(4)


def _actions(pdf: ReportPdf, ctx: PdfContext) -> None:
    pdf.section("Recommended actions", needed=30)
    with _table(pdf, (42, 58, 80), ("LEFT", "LEFT", "LEFT"), size=8, v_align="TOP") as table:
        table.row(["Segment", "What it means", "Recommended actions"])
        for s in ctx.shown:
            row = table.row()
            row.cell(pdf.safe(s.name), style=FontFace(emphasis="BOLD", size_pt=8))
            description = s.description or pdf.dash
            row.cell(pdf.safe(f"{description}\n{plural(s.customer_count, 'customer')}"))
            row.cell(pdf.safe("\n".join(f"{pdf.bullet} {a}" for a in s.actions) or pdf.dash))


def _quality_rows(quality: DataQuality) -> list[tuple[str, str]]:
    def listing(counts: dict[str, int]) -> str:
        return ", ".join(f"{name} {count:,}" for name, count in counts.items()) or "none"

    return [
        ("Sales dated in the window", f"{quality.rows_read:,}"),
        ("Sales in scope (counted in this report)", f"{quality.rows_in_scope:,}"),
        ("Excluded by status", listing(dict(quality.excluded_by_status))),
        ("Unknown status (excluded)", listing(dict(quality.unknown_status))),
        ("Anonymous sales (no customer, excluded)", f"{quality.anonymous_sales:,}"),
    ]


def _data_quality(pdf: ReportPdf, ctx: PdfContext) -> None:
    pdf.section("Data quality", needed=36)
    with _table(pdf, (70, 110), ("LEFT", "LEFT"), size=8, headings=False) as table:
        for label, value in _quality_rows(ctx.report.data_quality):
            row = table.row()
            row.cell(pdf.safe(label), style=FontFace(color=MUTED, size_pt=8))
            row.cell(pdf.safe(value))


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
    ctx = PdfContext(report, report.shown_segments(params), generated_at)
    _title_band(pdf, ctx)
    _meta_grid(pdf, ctx)
    _kpi_tiles(pdf, ctx)
    _insights(pdf, ctx)
    if ctx.shown:
        _charts(pdf, ctx)
        _segment_table(pdf, ctx)
        _actions(pdf, ctx)
    _data_quality(pdf, ctx)
    return bytes(pdf.output())


class PdfRenderer:
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
