"""DuckDB connections and the boundary where DuckDB errors become segcli errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from segcli.engine.errors import SourceError
from segcli.engine.sql import quote_ident

__all__ = ["connect", "duckdb_errors", "first_line", "quote_ident"]

if TYPE_CHECKING:
    import duckdb


def connect(timezone: str = "UTC", database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose session time zone is the report's (dates are local there)."""
    import duckdb

    con = duckdb.connect(database, config={"autoinstall_known_extensions": False})
    con.execute("SET TimeZone = $tz", {"tz": timezone})
    con.execute("SET enable_progress_bar = false")  # stdout carries data only; segcli shows its own
    return con


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def duckdb_errors(label: str) -> Iterator[None]:
    """Turn any DuckDB error inside the block into a one-line SourceError naming `label`."""
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        raise SourceError(f"{label}: {first_line(exc)}") from exc
