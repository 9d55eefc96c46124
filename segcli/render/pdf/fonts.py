"""Fonts: where DejaVu Sans lives, and text made printable in the chosen font."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path

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


def find_fonts(dirs: Sequence[str | os.PathLike[str]] = FONT_DIRS) -> tuple[Path, Path] | None:
    """DejaVu Sans regular and bold from the first folder holding both, else None."""
    for folder in dirs:
        base = Path(folder).expanduser()
        regular, bold = (base / name for name in FONT_FILES)
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


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
