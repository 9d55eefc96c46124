"""The page frame: geometry, palette, the FPDF subclass with its header and footer, and small text helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from segcli.engine.comparison import Comparison
from segcli.engine.methods.behavior import FACET_TITLES
from segcli.engine.report import Report, SegmentResult
from segcli.render.pdf.fonts import SafeText

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
EN_DASH = "\N{EN DASH}"


def generated_now() -> datetime:
    """Now in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    """A moment as 'YYYY-MM-DD HH:MM UTC'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


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
    """What every section draws from: the report, its shown segments and comparison, the moment."""

    report: Report
    shown: tuple[SegmentResult, ...]
    generated_at: datetime
    comparison: Comparison | None = None  # with its rows filtered like `shown`


def facet_title(facet: str | None) -> str:
    """A behavior facet's title (empty for rfm and value)."""
    return FACET_TITLES.get(facet, facet) if facet is not None else ""
