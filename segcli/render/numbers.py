"""Number formatting shared by the terminal table and the PDF: money, counts, shares, changes."""

from __future__ import annotations

from decimal import Decimal

from segcli.engine.report import CENT, TENTH, ratio, round_to


def money(value: Decimal) -> str:
    """An amount at two decimals, rounded half away from zero, with thousands separators."""
    return f"{round_to(value, CENT):,.2f}"


def count(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def share(part: Decimal | int, whole: Decimal | int) -> Decimal:
    """part/whole in percent, one decimal, rounded half away from zero (0 when the whole is 0)."""
    return ratio(Decimal(part) * 100, whole, TENTH)


def percent(part: Decimal | int, whole: Decimal | int) -> str:
    """part/whole as a percentage text with one decimal, e.g. '23.5%'."""
    return f"{share(part, whole)}%"


def change(pct: Decimal) -> str:
    """The size of a change in percent (the engine's figure, already rounded), without its sign."""
    return f"{abs(pct):,}%"


def plural(value: int, word: str) -> str:
    """'1 customer', '2,000 customers'."""
    return f"{value:,} {word}" if value == 1 else f"{value:,} {word}s"
