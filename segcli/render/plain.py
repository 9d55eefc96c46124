"""Data values in the terminal: never rich markup, never control characters."""

from __future__ import annotations

import re

from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(value: object) -> str:
    """A value as text with every control character (ESC included) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def plain(value: object, style: str = "") -> Text:
    """A data value as a rich Text: printed as it is, `[bold]` and `[/]` included."""
    return Text(clean(value), style=style)
