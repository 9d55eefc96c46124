"""JSON text with exact decimals: a Decimal is written as its own literal, never via float."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any


def _encode(value: Any, parts: list[str]) -> None:
    if isinstance(value, Decimal):
        parts.append(str(value) if value.is_finite() else "null")
    elif isinstance(value, Mapping):
        parts.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                parts.append(", ")
            parts.append(json.dumps(str(key), ensure_ascii=False))
            parts.append(": ")
            _encode(item, parts)
        parts.append("}")
    elif isinstance(value, list | tuple):
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(", ")
            _encode(item, parts)
        parts.append("]")
    elif isinstance(value, date):
        parts.append(json.dumps(value.isoformat()))
    else:
        parts.append(json.dumps(value, ensure_ascii=False))


def dumps(value: Any) -> str:
    """Compact-but-readable JSON text of `value` (one line) with exact decimals."""
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)
