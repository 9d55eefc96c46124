"""Sources of sales, and the registry that picks one from a `--source` path or URL.

Each kind registers a test on the location and an opener; the opener imports its module
only when chosen, so no module imports the sources it does not use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from segcli.engine.errors import InvalidParameter, SourceError
from segcli.engine.sources.base import ITEMS_TABLE, QUALITY_TABLE, WINDOW_TABLE, Build, Scope, Source
from segcli.engine.sources.dialect import CsvDialect
from segcli.engine.sources.files import FileSource, file_kind

__all__ = [
    "ITEMS_TABLE",
    "QUALITY_TABLE",
    "WINDOW_TABLE",
    "Build",
    "CsvDialect",
    "FileSource",
    "Scope",
    "Source",
    "SourceKind",
    "file_kind",
    "open_source",
    "register_source",
]


@dataclass(frozen=True)
class SourceOptions:
    """What the settings say about a source besides its location."""

    mapping: Mapping[str, str] | None
    default_business_id: int
    items: str | None
    sales_table: str
    items_table: str
    dialect: CsvDialect | None = None


@dataclass(frozen=True)
class SourceKind:
    """One kind of source: whether a location names it, and how to open it."""

    name: str
    matches: Callable[[str], bool]
    open: Callable[[str, SourceOptions], Source]
    reads_own_items: bool = False  # a database: --items (a file) does not apply


def _postgres(location: str, options: SourceOptions) -> Source:
    from segcli.engine.sources.postgres import PostgresSource

    return PostgresSource(
        location,
        mapping=options.mapping,
        default_business_id=options.default_business_id,
        sales_table=options.sales_table,
        items_table=options.items_table,
    )


def _warehouse(location: str, options: SourceOptions) -> Source:
    from segcli.engine.sources.warehouse import WarehouseSource

    return WarehouseSource(location)


def _files(location: str, options: SourceOptions) -> Source:
    return FileSource(location, options.mapping, options.default_business_id, options.items, options.dialect)


_URL_RE = re.compile(r"^postgres(ql)?://", re.IGNORECASE)

# tried in order; the last (files) takes anything else
_KINDS: list[SourceKind] = [
    SourceKind("postgres", lambda loc: bool(_URL_RE.match(loc)), _postgres, reads_own_items=True),
    SourceKind("warehouse", lambda loc: loc.lower().endswith(".duckdb"), _warehouse, reads_own_items=True),
    SourceKind("files", lambda loc: True, _files),
]


def register_source(kind: SourceKind) -> None:
    """Add a kind of source, tried before the built-in ones."""
    _KINDS.insert(0, kind)


def open_source(
    location: str | None,
    *,
    mapping: Mapping[str, str] | None = None,
    default_business_id: int = 1,
    items: str | None = None,
    sales_table: str = "sales",
    items_table: str = "sale_items",
    dialect: CsvDialect | None = None,
) -> Source:
    """The source a `--source` value names: a file path or glob, a .duckdb file or a Postgres URL."""
    if not location:
        raise SourceError("No source given. Use --source FILE (or SEGCLI_SOURCE, or 'source' in segcli.toml)")
    kind = next(k for k in _KINDS if k.matches(location))
    if kind.reads_own_items and items:
        raise InvalidParameter(
            "--items names a file of sale items, for file sources only: a database source reads its own "
            "(PostgreSQL: --items-table; a warehouse: what segcli load --items copied)"
        )
    return kind.open(
        location, SourceOptions(mapping, default_business_id, items, sales_table, items_table, dialect)
    )
