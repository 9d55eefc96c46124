"""Page 1 and the report's sections: title, key figures, insights, segments, actions, data quality."""

from __future__ import annotations

from decimal import Decimal

from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from segcli.engine.methods import get_method
from segcli.engine.report import CENT, DataQuality, Report, ratio
from segcli.render.numbers import count, money, percent, plural
from segcli.render.pdf.frame import (
    AMBER,
    BLUE,
    CONTENT_W,
    EN_DASH,
    GREEN,
    INK,
    MARGIN,
    MUTED,
    NAVY,
    PAGE_W,
    PANEL,
    VIOLET,
    WHITE,
    PdfContext,
    ReportPdf,
    facet_title,
    stamp,
)
from segcli.render.pdf.tables import LABEL_MAX_W, fit_columns, styled_table, table_size


def title_band(pdf: ReportPdf, ctx: PdfContext) -> None:
    """The navy band at the top of page 1: title, business, method, storefront."""
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


def meta_grid(pdf: ReportPdf, ctx: PdfContext) -> None:
    """Window, as-of, generated-at, business, method and storefront in a 3 x 2 grid."""
    report, period = ctx.report, ctx.report.period
    window = f"{period.start_date.isoformat()} {EN_DASH} {period.end_date.isoformat()} ({plural(period.days, 'day')})"
    cells = (
        ("Window", window),
        ("As of", f"{period.end_date.isoformat()} ({report.timezone})"),
        ("Generated", stamp(ctx.generated_at)),
        ("Business", str(report.business_id)),
        ("Method", get_method(report.method).title),
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


def kpi_tiles(pdf: ReportPdf, ctx: PdfContext) -> None:
    """Customers, orders, revenue and average order value as four tiles."""
    report = ctx.report
    tiles = (
        ("Customers", count(report.total_customers)),
        ("Orders", count(report.total_sales)),
        (f"Revenue{unit(report)}", money(ratio(report.total_revenue, 1, CENT))),
        (f"Average order value{unit(report)}", money(ratio(report.total_revenue, report.total_sales, CENT))),
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


def unit(report: Report) -> str:
    """ " (EUR)" after a money heading when the currency is known, else nothing."""
    return f" ({report.currency})" if report.currency else ""


def warnings_box(pdf: ReportPdf, ctx: PdfContext) -> None:
    """The report's warnings (SPEC 1.5), one per line in an amber-edged box under the header."""
    warnings = ctx.report.warnings
    if not warnings:
        return
    pdf.ln(1)
    y = pdf.get_y()
    pdf.set_x(MARGIN + 4)
    pdf.font(8, bold=True, color=AMBER)
    pdf.cell(
        CONTENT_W - 6, 5, "WARNING" if len(warnings) == 1 else "WARNINGS", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.font(8.5)
    for warning in warnings:
        pdf.set_x(MARGIN + 4)
        pdf.multi_cell(CONTENT_W - 6, 4.3, pdf.safe(warning), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    bottom = pdf.get_y() + 1.5
    pdf.set_fill_color(*AMBER)
    pdf.rect(MARGIN, y, 1.4, bottom - y, style="F")
    pdf.set_y(bottom + 1)


def _insight_detail(report: Report, name: str | None) -> tuple[str, str]:
    segment = next((s for s in report.segments if s.name == name), None)
    if segment is None:
        return ("No segment qualifies", "")
    return (
        f"{plural(segment.customer_count, 'customer')} "
        f"({percent(segment.customer_count, report.total_customers)})",
        f"{money(segment.total_revenue)}{' ' + report.currency if report.currency else ''} revenue "
        f"({percent(segment.revenue, report.total_revenue)})",
    )


def insights(pdf: ReportPdf, ctx: PdfContext) -> None:
    """The four insights as cards, each with its segment's customers and revenue."""
    report = ctx.report
    found = report.insights
    cards = (
        ("Highest revenue", found.highest_revenue_segment, GREEN),
        ("Largest segment", found.largest_segment, BLUE),
        # rfm's are the segment table's priority lists, not measurements: labelled for what they are
        ("Fastest growing" if found.measured else "Nurture next", found.fastest_growing_segment, VIOLET),
        ("Needs attention" if found.measured else "Win back first", found.needs_attention, AMBER),
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


def segment_table(pdf: ReportPdf, ctx: PdfContext) -> None:
    """The shown segments with counts, shares and averages, and a total row for one partition."""
    report, shown = ctx.report, ctx.shown
    rows = [
        [
            "Segment",
            "Code",
            "Customers",
            "% cust.",
            f"Revenue{unit(report)}",
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
                count(s.customer_count),
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
                count(customers),
                percent(customers, report.total_customers),
                money(ratio(revenue, 1, CENT)),
                percent(revenue, report.total_revenue),
                *([""] * 4),
            ]
        )
    rows = [[pdf.safe(text) for text in row] for row in rows]
    pdf.font(7.5, bold=True)  # the table's largest size: a label that fits at it fits at any
    # a name or code from the data may be any length: cut it so the figures keep their room
    rows = [[pdf.fit(text, LABEL_MAX_W) if j < 2 else text for j, text in enumerate(row)] for row in rows]
    facet_rows = len({s.facet for s in shown}) if faceted else 0
    # keep a short table on one page: it moves to the next page whole when it would split
    pdf.section("Segments", needed=min(8 + (len(rows) + facet_rows) * 5.6, 120))
    size = table_size(pdf, rows)
    widths = fit_columns(pdf, rows)
    heading = FontFace(emphasis="BOLD", color=VIOLET, fill_color=WHITE, size_pt=size)
    with styled_table(pdf, widths, ("LEFT", "LEFT", *(["RIGHT"] * 8)), size=size) as table:
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
    for remark in report.notes:
        pdf.multi_cell(CONTENT_W, 3.4, pdf.safe(f"{remark}."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def actions(pdf: ReportPdf, ctx: PdfContext) -> None:
    """What each shown segment means and its recommended actions."""
    pdf.section("Recommended actions", needed=30)
    with styled_table(pdf, (42, 58, 80), ("LEFT", "LEFT", "LEFT"), size=8, v_align="TOP") as table:
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
        ("Sales dated in the window", count(quality.rows_read)),
        ("Sales in scope (counted in this report)", count(quality.rows_in_scope)),
        ("Excluded by status", listing(dict(quality.excluded_by_status))),
        ("Unknown status (excluded)", listing(dict(quality.unknown_status))),
        ("Anonymous sales (no customer, excluded)", count(quality.anonymous_sales)),
    ]


def data_quality(pdf: ReportPdf, ctx: PdfContext) -> None:
    """The rows read, in scope, excluded, of unknown status and anonymous."""
    pdf.section("Data quality", needed=36)
    with styled_table(pdf, (70, 110), ("LEFT", "LEFT"), size=8, headings=False) as table:
        for label, value in _quality_rows(ctx.report.data_quality):
            row = table.row()
            row.cell(pdf.safe(label), style=FontFace(color=MUTED, size_pt=8))
            row.cell(pdf.safe(value))
