"""PDF: an A4 report a manager can read, drawn natively with fpdf2 (no chart library)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, cast

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from segcli.engine.behavior import FACET_TITLES, SEASON_MIN_DAYS
from segcli.engine.compare import NEW, change_pct, migration_summary
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
RED = (192, 57, 43)
STAYED = (220, 232, 246)  # the migration matrix's diagonal

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
    comparison: Mapping[str, Any] | None = None  # with its rows filtered like `shown`


def facet_groups(segments: Sequence[SegmentResult]) -> list[tuple[str | None, list[SegmentResult]]]:
    """Consecutive segments of the same facet (one group, facet None, for rfm and value)."""
    groups: list[tuple[str | None, list[SegmentResult]]] = []
    for segment in segments:
        if not groups or groups[-1][0] != segment.facet:
            groups.append((segment.facet, []))
        groups[-1][1].append(segment)
    return groups


def facet_title(facet: str | None) -> str:
    return FACET_TITLES.get(facet, facet) if facet is not None else ""


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


def _table(
    pdf: ReportPdf,
    col_widths: tuple[float, ...],
    text_align: tuple[str, ...],
    size: float = 7.5,
    headings: bool = True,
    v_align: str = "MIDDLE",
    width: float = CONTENT_W,
) -> Any:
    """An fpdf2 table in the report's style (navy headings, zebra rows, thin rules), from the left margin."""
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
        width=width,
        align="LEFT",
    )


_CELL_PAD = 3.2


def natural_widths(pdf: ReportPdf, rows: Sequence[Sequence[str]], wrap_headings: bool = True) -> list[float]:
    """Per column, the widest cell in the current font (headings, the first row, may wrap at spaces)."""
    return [
        max(
            max(
                pdf.get_string_width(word)
                for word in (rows[0][j].split() if wrap_headings else [rows[0][j]]) or [""]
            ),
            *(pdf.get_string_width(row[j]) for row in rows[1:]),
        )
        + _CELL_PAD
        for j in range(len(rows[0]))
    ]


def fits(widths: Sequence[float], wrap_first: float = 28) -> bool:
    """Whether the columns fit the page with only the first one wrapping (down to `wrap_first`)."""
    return min(widths[0], wrap_first) + sum(widths[1:]) <= CONTENT_W


def fit_columns(pdf: ReportPdf, rows: Sequence[Sequence[str]], wrap_first: float = 28) -> tuple[float, ...]:
    """Column widths that fit every cell (headings may wrap at spaces); the first column takes the slack."""
    widths = natural_widths(pdf, rows)
    slack = CONTENT_W - sum(widths)
    widths[0] = max(widths[0] + slack, wrap_first)
    scale = CONTENT_W / sum(widths)
    return tuple(w * scale for w in widths)


def table_size(
    pdf: ReportPdf, rows: Sequence[Sequence[str]], sizes: Sequence[float] = (7.5, 7, 6.5)
) -> float:
    """The largest font size (bold, as the headings) at which a table's columns fit unsqueezed."""
    for size in sizes:
        pdf.font(size, bold=True)
        if fits(natural_widths(pdf, rows)):
            return size
    return sizes[-1]


def _segment_table(pdf: ReportPdf, ctx: PdfContext) -> None:
    report, shown = ctx.report, ctx.shown
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
    faceted = any(s.facet is not None for s in shown)
    # a total row sums one partition of the customers: not the facets of behavior together
    with_total = len(shown) > 1 and not faceted
    if with_total:
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
    facet_rows = len({s.facet for s in shown}) if faceted else 0
    # keep a short table on one page: it moves to the next page whole when it would split
    pdf.section("Segments", needed=min(8 + (len(rows) + facet_rows) * 5.6, 120))
    size = table_size(pdf, rows)
    widths = fit_columns(pdf, rows)
    heading = FontFace(emphasis="BOLD", color=VIOLET, fill_color=WHITE, size_pt=size)
    with _table(pdf, widths, ("LEFT", "LEFT", *(["RIGHT"] * 8)), size=size) as table:
        table.row(rows[0])
        for i, row in enumerate(rows[1:], start=1):
            if i <= len(shown):
                facet = shown[i - 1].facet
                if facet is not None and (i == 1 or shown[i - 2].facet != facet):
                    table.row().cell(pdf.safe(facet_title(facet)), colspan=len(row), style=heading)
            is_total = with_total and i == len(rows) - 1
            table.row(row, style=FontFace(emphasis="BOLD", size_pt=size) if is_total else None)
    pdf.ln(1.5)
    pdf.font(6.5, color=MUTED)
    note = (
        "Days since: average days since the last purchase, at the as-of date. "
        "Shares are of all customers and all revenue in the window."
    )
    if faceted:
        note += " Each facet divides all the customers: its shares add up to 100%."
    pdf.multi_cell(CONTENT_W, 3.4, pdf.safe(note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if report.method == "behavior" and report.period.days < SEASON_MIN_DAYS:
        pdf.multi_cell(
            CONTENT_W,
            3.4,
            f"Seasonality needs a window of {SEASON_MIN_DAYS} days or more.",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.ln(1)


def _actions(pdf: ReportPdf, ctx: PdfContext) -> None:
    pdf.section("Recommended actions", needed=30)
    with _table(pdf, (42, 58, 80), ("LEFT", "LEFT", "LEFT"), size=8, v_align="TOP") as table:
        table.row(["Segment", "What it means", "Recommended actions"])
        heading = FontFace(emphasis="BOLD", color=VIOLET, fill_color=WHITE, size_pt=8)
        for i, s in enumerate(ctx.shown):
            if s.facet is not None and (i == 0 or ctx.shown[i - 1].facet != s.facet):
                table.row().cell(pdf.safe(facet_title(s.facet)), colspan=3, style=heading)
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


def signed_pct(pct: Decimal | None, now: Decimal | int) -> tuple[str, tuple[int, int, int]]:
    """A change in percent with its sign and colour; "new" when there was nothing before."""
    if pct is None:
        return ("new", BLUE) if now > 0 else ("\N{EM DASH}", MUTED)
    if pct > 0:
        return f"+{pct:,}%", GREEN
    if pct < 0:
        return f"-{-pct:,}%", RED
    return f"{pct}%", MUTED


def _change_table(pdf: ReportPdf, comparison: Mapping[str, Any]) -> None:
    """Per segment: customers and revenue in the previous window and now, and their change."""
    heading_row = [
        "Segment",
        "Customers before",
        "Customers now",
        "Change",
        "Revenue before",
        "Revenue now",
        "Change",
    ]
    body: list[tuple[str | None, list[tuple[str, tuple[int, int, int]]]]] = []
    for row in comparison["segments"]:
        cells = [
            (row["segment_name"], INK),
            (f"{row['previous_customer_count']:,}", INK),
            (f"{row['customer_count']:,}", INK),
            signed_pct(row["customer_change_pct"], row["customer_count"]),
            (money(row["previous_revenue"]), INK),
            (money(row["revenue"]), INK),
            signed_pct(row["revenue_change_pct"], row["revenue"]),
        ]
        body.append((row.get("facet"), [(pdf.safe(text), color) for text, color in cells]))
    rows = [heading_row, *([text for text, _ in cells] for _, cells in body)]
    size = table_size(pdf, rows, sizes=(8, 7.5, 7, 6.5))
    widths = fit_columns(pdf, rows)
    heading = FontFace(emphasis="BOLD", color=VIOLET, fill_color=WHITE, size_pt=size)
    with _table(pdf, widths, ("LEFT", *(["RIGHT"] * 6)), size=size) as table:
        table.row(heading_row)
        for i, (facet, cells) in enumerate(body):
            if facet is not None and (i == 0 or body[i - 1][0] != facet):
                table.row().cell(pdf.safe(facet_title(facet)), colspan=len(cells), style=heading)
            row = table.row()
            for text, color in cells:
                row.cell(text, style=FontFace(color=color, size_pt=size) if color != INK else None)


def _matrix(pdf: ReportPdf, matrix: Mapping[str, Any]) -> None:
    """One migration matrix as a table: previous segments (and new) by current segments (and lapsed)."""
    columns: list[str] = matrix["columns"]
    rows = matrix["rows"]
    now_totals = [sum(r["customers"][i] for r in rows) for i in range(len(columns) - 1)]
    grid = [
        ["Previous segment", *columns, "Before"],
        *(
            [
                r["from_segment"],
                *(f"{n:,}" for n in r["customers"]),
                "" if r["from_segment"] == NEW else f"{r['total']:,}",
            ]
            for r in rows
        ),
        ["Now", *(f"{n:,}" for n in now_totals), "", ""],
    ]
    grid = [[pdf.safe(text) for text in line] for line in grid]
    title = "Migration" + (f" {pdf.dash} {facet_title(matrix['facet'])}" if matrix["facet"] else "")
    summary = " · ".join(f"{key} {count:,}" for key, count in migration_summary(matrix).items())
    if pdf.will_page_break(12 + 6 * len(grid)):
        pdf.add_page()
    pdf.ln(3)
    pdf.font(9.5, bold=True, color=NAVY)
    pdf.cell(CONTENT_W, 5, pdf.safe(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(7.5, color=MUTED)
    pdf.cell(CONTENT_W, 4.5, pdf.safe(summary), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    size = table_size(pdf, grid, sizes=(7.5, 7, 6.5, 6, 5.5))
    widths = natural_widths(pdf, grid, wrap_headings=False)  # headings on one line when they fit
    if widths[0] + sum(widths[1:]) > CONTENT_W:
        widths = natural_widths(pdf, grid)
    # segment names wrap (down to 28 mm) before the numbers' columns go on in a second table
    label_w = max(min(widths[0], CONTENT_W - sum(widths[1:])), 28.0)
    chunks: list[list[int]] = [[]]
    for j in range(1, len(widths)):
        if chunks[-1] and label_w + sum(widths[k] for k in chunks[-1]) + widths[j] > CONTENT_W:
            chunks.append([])
        chunks[-1].append(j)
    stayed_style = FontFace(emphasis="BOLD", fill_color=STAYED, size_pt=size)
    muted = FontFace(color=MUTED, size_pt=size)
    strong = FontFace(emphasis="BOLD", size_pt=size)
    for chunk in chunks:
        spare = CONTENT_W - label_w - sum(widths[k] for k in chunk)
        col_widths = (
            (label_w + spare, *(widths[k] for k in chunk))
            if len(chunks) == 1
            else (label_w, *(widths[k] for k in chunk))
        )
        align = ("LEFT", *(["RIGHT"] * len(chunk)))
        with _table(pdf, col_widths, align, size=size, v_align="BOTTOM", width=sum(col_widths)) as table:
            table.row([grid[0][0], *(grid[0][k] for k in chunk)])
            for i, line in enumerate(grid[1:-1]):
                row = table.row()
                name = rows[i]["from_segment"]
                row.cell(line[0], style=FontFace(color=BLUE, size_pt=size) if name == NEW else None)
                for k in chunk:
                    value = rows[i]["customers"][k - 1] if k <= len(columns) else None
                    stayed = k <= len(columns) - 1 and columns[k - 1] == name
                    style = stayed_style if stayed else (muted if value == 0 or k > len(columns) else None)
                    row.cell(line[k], style=style)
            row = table.row()
            row.cell(grid[-1][0], style=strong)
            for k in chunk:
                row.cell(grid[-1][k], style=strong)
        pdf.ln(1.5)


def _comparison(pdf: ReportPdf, ctx: PdfContext, comparison: Mapping[str, Any]) -> None:
    """How customers moved: the change per segment and the migration matrices, on a page of their own."""
    report = ctx.report
    before = comparison["previous_period"]
    pdf.add_page()
    pdf.section("How customers moved", needed=40)
    pdf.font(8.5)
    window = f"{before['start_date']} {EN_DASH} {before['end_date']} ({plural(before['days'], 'day')})"
    pdf.multi_cell(
        CONTENT_W,
        4.5,
        pdf.safe(f"Compared with the previous window of the same length, {window}."),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    old_customers, old_revenue = comparison["previous_total_customers"], comparison["previous_total_revenue"]
    customers = report.total_customers
    revenue = ratio(report.total_revenue, 1, CENT)
    line = (
        f"Customers {old_customers:,} → {customers:,} "
        f"({signed_pct(change_pct(customers, old_customers), customers)[0]}) · "
        f"revenue {money(old_revenue)} → {money(revenue)} "
        f"({signed_pct(change_pct(revenue, old_revenue), revenue)[0]})"
    )
    pdf.font(8.5, bold=True)
    pdf.multi_cell(CONTENT_W, 4.5, pdf.safe(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    if comparison["segments"]:
        _change_table(pdf, comparison)
    for matrix in comparison["migration"]:
        _matrix(pdf, matrix)
    pdf.ln(1)
    pdf.font(6.5, color=MUTED)
    pdf.multi_cell(
        CONTENT_W,
        3.4,
        pdf.safe(
            "Rows: segment in the previous window; columns: segment now. Highlighted: customers who "
            "stayed in their segment. new: customers with a sale now but none in the previous window; "
            "lapsed: customers of the previous window without a sale now."
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


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
    _title_band(pdf, ctx)
    _meta_grid(pdf, ctx)
    _kpi_tiles(pdf, ctx)
    _insights(pdf, ctx)
    if ctx.shown:
        _charts(pdf, ctx)
        _segment_table(pdf, ctx)
        _actions(pdf, ctx)
    _data_quality(pdf, ctx)
    if ctx.comparison is not None:
        _comparison(pdf, ctx, ctx.comparison)
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
