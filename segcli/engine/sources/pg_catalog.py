"""PostgreSQL helpers: URLs without their passwords, error reasons, catalog tables and positional binds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from segcli.engine.sources.plan import ColumnPlan
from segcli.engine.sql import quote_ident

CONNECT_TIMEOUT = 10
PG_INTEGER = {"int2", "int4", "int8"}
# Postgres type -> the DuckDB type its values arrive as (text-like ones are sent as text)
DUCK_TYPES = {
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "float4": "FLOAT",
    "float8": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    **dict.fromkeys(("numeric", "text", "varchar", "bpchar", "uuid", "name", "citext"), "VARCHAR"),
}
# Stricter than files for the columns whose filters run in Postgres or must stay exact
ALLOWED_TYPES = {
    "date": ({"date", "timestamp", "timestamptz"}, "date, timestamp or timestamptz"),
    "int": (PG_INTEGER, "an integer type"),
    "money": (PG_INTEGER | {"numeric", "float4", "float8"}, "numeric or an integer type"),
}
AUTH_RE = re.compile(
    r"password authentication failed|authentication failed|no password supplied|"
    r"role \".*\" does not exist|no pg_hba\.conf entry",
    re.IGNORECASE,
)
DB_MISSING_RE = re.compile(r"database \".*\" does not exist", re.IGNORECASE)


def redact(url: str) -> str:
    """The URL with any password replaced by *** (in the user part and in the query)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, sep, _password = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if sep else netloc
    query = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*/:"), parts.fragment))


def passwords(url: str) -> list[str]:
    parts = urlsplit(url)
    found = [unquote(parts.password)] if parts.password else []
    found += [v for k, v in parse_qsl(parts.query) if k.lower() == "password" and v]
    return found + [p for p in list(found) if p != unquote(p)]


def error_reason(message: str) -> str:
    """libpq's own words: the text after 'failed:' / 'ERROR:', first line, no FATAL prefix."""
    text = message.strip()
    for marker in ("ERROR:", "failed:"):
        if marker in text:
            text = text.rsplit(marker, 1)[1]
            break
    text = text.strip().splitlines()[0] if text.strip() else message
    return re.sub(r"^(FATAL|ERROR):\s+", "", text.strip())


@dataclass(frozen=True)
class PgTable:
    """A table (or view) as the catalog describes it."""

    given: str
    relation: str  # the catalog's own quoted name: safe to put in SQL
    relkind: str
    types: dict[str, str]  # column -> Postgres type name (domains resolved)
    formatted: dict[str, str]  # column -> type as Postgres prints it

    def duck_types(self) -> dict[str, str]:
        return {c: DUCK_TYPES.get(t, self.formatted[c]) for c, t in self.types.items()}

    def select(self, plan: ColumnPlan, canonical: str) -> str:
        """The column as it must be sent so it arrives with the DuckDB type the plan expects."""
        src = plan.source_of[canonical]
        raw, pg_type = quote_ident(src), self.types[src]
        if pg_type == "numeric":
            raw = f"trim_scale({raw})::text"
        elif DUCK_TYPES.get(pg_type) == "VARCHAR":
            raw = f"{raw}::text"
        return f"{raw} AS {quote_ident(src)}"

    def text(self, plan: ColumnPlan, canonical: str) -> str:
        """The column's value as lower-case text, as it arrives (numeric without trailing zeros)."""
        raw = plan.raw(canonical)
        if self.types[plan.source_of[canonical]] == "numeric":
            raw = f"trim_scale({raw})"
        return f"lower({raw}::text)"


def inexact_ids(table: PgTable, plan: ColumnPlan) -> dict[str, str]:
    """Per float or numeric id column, the Postgres condition of a value that is no 64-bit integer."""
    found = {}
    for name in ("sale_id", "customer_id"):
        if table.types[plan.source_of[name]] in ("float4", "float8", "numeric"):
            x = plan.raw(name)
            found[name] = (
                f"({x} <> trunc({x}) OR {x}::text IN ('NaN', 'Infinity', '-Infinity') "
                f"OR abs({x}) >= 9223372036854775808)"
            )
    return found


class Binder:
    """Positional parameters ($1, $2, ...) for one Postgres query."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


class LiteralBinder(Binder):
    """Typed literals in place of parameters, for integers, dates and instants only.

    A query without parameters is read with COPY, which the driver streams in batches; with
    parameters the whole result is buffered first (~150 MB for 700k rows).
    """

    def __call__(self, value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return f"CAST({int(value)} AS bigint)"
        if isinstance(value, datetime):
            kind = "timestamptz" if value.tzinfo is not None else "timestamp"
            return f"CAST('{value.isoformat()}' AS {kind})"
        if isinstance(value, date):
            return f"CAST('{value.isoformat()}' AS date)"
        raise TypeError(f"no literal for {type(value).__name__}")
