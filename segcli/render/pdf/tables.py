"""Tables in the report's style, and column widths that fit the page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fpdf.enums import TableBordersLayout, TableCellFillMode
from fpdf.fonts import FontFace

from segcli.render.pdf.frame import CONTENT_W, NAVY, PANEL, RULE, WHITE, ReportPdf

LABEL_MAX_W = 48  # mm: the widest a label from the data (a segment name or code) may be in a table


def styled_table(
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
