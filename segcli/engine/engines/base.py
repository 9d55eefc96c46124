"""The engine seam: named queries and the small executor interface every engine implements."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.sources import Scope, Source


Params = Mapping[str, Any]


@dataclass(frozen=True)
class Query:
    """A named SQL statement with `$name` parameters; an engine may swap in its own text by name."""

    name: str
    sql: str
    parameters: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", frozenset(re.findall(r"\$(\w+)", self.sql)))

    def bind(self, params: Params | None) -> dict[str, Any]:
        """The values of the parameters the query names (a window's other values are left out)."""
        return {k: v for k, v in (params or {}).items() if k in self.parameters}


class Executor(Protocol):
    """Runs named queries with bound parameters over the tables a source loaded.

    Every engine error leaves as one `SourceError` line naming `label`.
    """

    label: str

    def rows(self, query: Query, params: Params | None = None) -> list[tuple[Any, ...]]:
        """The query's result as rows."""
        ...

    def arrow(self, query: Query, params: Params | None = None) -> pyarrow.Table:
        """The query's result as an Arrow table."""
        ...

    def create_table(self, name: str, query: Query, params: Params | None = None) -> None:
        """Keep the query's result as the (temporary) table `name` for later queries."""
        ...

    def register(self, name: str, table: pyarrow.Table) -> None:
        """Make an Arrow table queryable as `name`."""
        ...

    def load(self, source: Source, scope: Scope, items: bool = False) -> None:
        """Have the source load the scope's sales (and items) into the engine's window tables."""
        ...

    def last_sale(self, source: Source, scope: Scope) -> date | None:
        """The source's last sale date for the scope's business (and storefront), after `load`.

        None when it has no sale; NotImplementedError when the source cannot tell.
        """
        ...

    def close(self) -> None:
        """Release the engine's resources."""
        ...
