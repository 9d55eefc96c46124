"""The comparison page: change per segment and the migration matrices."""

from __future__ import annotations

from decimal import Decimal

from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from segcli.engine.comparison import NEW, Comparison, MigrationMatrix, Mover
from segcli.engine.report import CENT, ratio
from segcli.render.numbers import change as size
from segcli.render.numbers import count, money, plural
from segcli.render.pdf.frame import (
    BLUE,
    CONTENT_W,
    EN_DASH,
    GREEN,
    INK,
    MUTED,
    NAVY,
    RED,
    STAYED,
    VIOLET,
    WHITE,
    PdfContext,
    ReportPdf,
    facet_title,
)
from segcli.render.pdf.tables import LABEL_MAX_W, fit_columns, natural_widths, styled_table, table_size


def signed_pct(pct: Decimal | None, now: Decimal | int) -> tuple[str, tuple[int, int, int]]:
    """A change in percent with its sign and colour; "new" when there was nothing before."""
    if pct is None:
        return ("new", BLUE) if now > 0 else ("\N{EM DASH}", MUTED)
    if pct > 0:
        return f"+{size(pct)}", GREEN
    if pct < 0:
        return f"-{size(pct)}", RED
    return size(pct), MUTED


def _change_table(pdf: ReportPdf, comparison: Comparison) -> None:
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
    for row in comparison.segments:
        cells = [
            (row.segment_name, INK),
            (count(row.previous_customer_count), INK),
            (count(row.customer_count), INK),
            signed_pct(row.customer_change_pct, row.customer_count),
            (money(row.previous_revenue), INK),
            (money(row.revenue), INK),
            signed_pct(row.revenue_change_pct, row.revenue),
        ]
        body.append((row.facet, [(pdf.safe(text), color) for text, color in cells]))
    rows = [heading_row, *([text for text, _ in cells] for _, cells in body)]
    size = table_size(pdf, rows, sizes=(8, 7.5, 7, 6.5))
    widths = fit_columns(pdf, rows)
    heading = FontFace(emphasis="BOLD", color=VIOLET, fill_color=WHITE, size_pt=size)
    with styled_table(pdf, widths, ("LEFT", *(["RIGHT"] * 6)), size=size) as table:
        table.row(heading_row)
        for i, (facet, cells) in enumerate(body):
            if facet is not None and (i == 0 or body[i - 1][0] != facet):
                table.row().cell(pdf.safe(facet_title(facet)), colspan=len(cells), style=heading)
            row = table.row()
            for text, color in cells:
                row.cell(text, style=FontFace(color=color, size_pt=size) if color != INK else None)


def _matrix(pdf: ReportPdf, matrix: MigrationMatrix) -> None:
    """One migration matrix as a table: previous segments (and new) by current segments (and lapsed)."""
    columns = matrix.columns
    rows = matrix.rows
    now_totals = matrix.now_totals
    grid = [
        ["Previous segment", *columns, "Before"],
        *(
            [
                r.from_segment,
                *(count(n) for n in r.customers),
                "" if r.from_segment == NEW else count(r.total),
            ]
            for r in rows
        ),
        ["Now", *(count(n) for n in now_totals), "", ""],
    ]
    pdf.font(7.5, bold=True)  # the table's largest size: a label that fits at it fits at any
    grid = [[pdf.fit(text, LABEL_MAX_W) for text in line] for line in grid]  # names from the data: any length
    title = "Migration" + (f" {pdf.dash} {facet_title(matrix.facet)}" if matrix.facet else "")
    summary = " · ".join(f"{key} {n:,}" for key, n in matrix.summary.items())
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
        with styled_table(
            pdf, col_widths, align, size=size, v_align="BOTTOM", width=sum(col_widths)
        ) as table:
            table.row([grid[0][0], *(grid[0][k] for k in chunk)])
            for i, line in enumerate(grid[1:-1]):
                row = table.row()
                name = rows[i].from_segment
                row.cell(line[0], style=FontFace(color=BLUE, size_pt=size) if name == NEW else None)
                for k in chunk:
                    value = rows[i].customers[k - 1] if k <= len(columns) else None
                    stayed = k <= len(columns) - 1 and columns[k - 1] == name
                    style = stayed_style if stayed else (muted if value == 0 or k > len(columns) else None)
                    row.cell(line[k], style=style)
            row = table.row()
            row.cell(grid[-1][0], style=strong)
            for k in chunk:
                row.cell(grid[-1][k], style=strong)
        pdf.ln(1.5)


def _mover(mover: Mover | None, money_change: bool, currency: str) -> str:
    if mover is None:
        return "none"
    sign = "+" if mover.change > 0 else "\N{MINUS SIGN}"
    amount = money(abs(Decimal(mover.change))) + currency if money_change else count(abs(int(mover.change)))
    facet = f" ({facet_title(mover.facet)})" if mover.facet is not None else ""
    return f"{mover.segment_name}{facet} ({sign}{amount})"


def mover_lines(comparison: Comparison, currency: str) -> list[str]:
    """The measured movers: which segments grew and fell most, by customers and by revenue."""
    m = comparison.movers
    return [
        f"Grew most: by customers {_mover(m.grew_most_customers, False, currency)}; "
        f"by revenue {_mover(m.grew_most_revenue, True, currency)}.",
        f"Fell most: by customers {_mover(m.fell_most_customers, False, currency)}; "
        f"by revenue {_mover(m.fell_most_revenue, True, currency)}.",
    ]


def comparison_page(pdf: ReportPdf, ctx: PdfContext, comparison: Comparison) -> None:
    """How customers moved: the change per segment and the migration matrices, on a page of their own."""
    report = ctx.report
    before = comparison.previous_period
    pdf.add_page()
    pdf.section("How customers moved", needed=40)
    pdf.font(8.5)
    days = plural(before.days, "day")
    window = f"{before.start_date.isoformat()} {EN_DASH} {before.end_date.isoformat()} ({days})"
    pdf.multi_cell(
        CONTENT_W,
        4.5,
        pdf.safe(f"Compared with the previous window of the same length, {window}."),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    old_customers, old_revenue = comparison.previous_total_customers, comparison.previous_total_revenue
    customers = report.total_customers
    revenue = ratio(report.total_revenue, 1, CENT)
    currency = f" {report.currency}" if report.currency else ""
    line = (
        f"Customers {old_customers:,} → {customers:,} "
        f"({signed_pct(comparison.customer_change_pct, customers)[0]}) · "
        f"revenue {money(old_revenue)} → {money(revenue)}{currency} "
        f"({signed_pct(comparison.revenue_change_pct, revenue)[0]})"
    )
    pdf.font(8.5, bold=True)
    pdf.multi_cell(CONTENT_W, 4.5, pdf.safe(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(8.5)
    for text in mover_lines(comparison, currency):
        pdf.multi_cell(CONTENT_W, 4.5, pdf.safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    if comparison.segments:
        _change_table(pdf, comparison)
    for matrix in comparison.migration:
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
