"""SQL text helpers: the one way identifiers, literals and statuses enter SQL text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from segcli.engine.report import EMPTY_STATUS, INCLUDED_STATUSES


def quote_ident(name: str) -> str:
    """A SQL identifier, quoted; the only way user-supplied names enter SQL."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: Any) -> str:
    """A SQL literal for a value (dates, numbers, text, lists and maps of them); text is escaped."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(sql_literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{sql_literal(str(k))}: {sql_literal(v)}" for k, v in value.items()) + "}"
    return "'" + str(value).replace("'", "''") + "'"


def inline_params(sql: str, params: Mapping[str, Any]) -> str:
    """`sql` with each `$name` replaced by its value's literal (for statements DuckDB cannot prepare)."""
    return re.sub(
        r"\$(\w+)", lambda m: sql_literal(params[m.group(1)]) if m.group(1) in params else m.group(0), sql
    )


def normal_status(text: str) -> str:
    """SQL: a status as the contract reads it (trimmed, lower-cased, '(empty)' when missing)."""
    return f"coalesce(NULLIF(lower(trim({text})), ''), {sql_literal(EMPTY_STATUS)})"


# The statuses a report includes, as a SQL list: ('completed', 'partial').
INCLUDED_SQL = "(" + ", ".join(sql_literal(s) for s in INCLUDED_STATUSES) + ")"
