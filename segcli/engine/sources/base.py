"""Sources of sales: each turns its rows into engine tables of canonical columns.

Every source loads the same temporary tables for a scope (business, storefront, a date range):

- `window_sales(sale_id, customer_id, sale_date, amount, status[, channel, currency])`:
  the business's rows dated in the range, with `sale_date` the local date in the
  session time zone, `amount` = total_amount - amount_refunded as an exact DECIMAL,
  and `status` trimmed and lower-cased. It holds at least every row in scope
  (included status, with a customer); file sources keep every status, a database
  source may leave the other rows on the server;
- `window_quality(sale_date, status, anonymous, rows)`: every row of the business
  dated in the range counted per day, status and anonymity (the data-quality summary);
- `window_items(sale_id, category, line_total)`: the items of those sales (on request).

Bad data (SPEC 1.4) raises DataError naming the source, the column and a value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from segcli.engine.errors import DataError, SourceError

if TYPE_CHECKING:
    import duckdb

    from segcli.engine.sources.plan import ColumnPlan

WINDOW_TABLE = "window_sales"
QUALITY_TABLE = "window_quality"
ITEMS_TABLE = "window_items"
MONEY_TYPE = "DECIMAL(18,4)"


@dataclass(frozen=True)
class Scope:
    """Which rows a report reads: one business, optionally one storefront, a date range."""

    business_id: int
    start_date: date
    end_date: date  # inclusive
    storefront_id: int | None = None

    @property
    def end_exclusive(self) -> date:
        return self.end_date + timedelta(days=1)


Build = Callable[["ColumnPlan", str, dict[str, Any]], None]


class Source(ABC):
    """A place sales come from."""

    label: str
    rows_fetched: int = 0
    default_business_id: int = 1

    @abstractmethod
    def identity(self) -> str:
        """A token that changes whenever the data may have changed (for the cache)."""

    @abstractmethod
    def columns(self) -> set[str]:
        """The canonical sales columns this source provides."""

    @abstractmethod
    def load_window(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        """Create `window_sales` (a temporary table or view) for the scope, checking the data."""

    def load_items(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        """Create the `window_items` table for the sales in `window_sales`."""
        raise DataError(f"{self.label}: no sale items given (use --items)")

    def has_items(self) -> bool:
        return False

    def last_sale_date(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> date | None:
        """The local date of the latest sale of the scope's business (and storefront), any date or status.

        None when it has no sale at all. Called after `load_window` on the same connection; a
        source that cannot tell cheaply raises NotImplementedError (no staleness warning then).
        """
        raise NotImplementedError

    def read_all(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        """Call `build(plan, relation, params)` over every sales row (for `segcli load`)."""
        raise SourceError(f"{self.label}: this source cannot be copied into a warehouse")

    def read_all_items(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        """Call `build(plan, relation, params)` over every sale item."""
        raise DataError(f"{self.label}: no sale items given (use --items)")


def last_sale_select(
    plan: ColumnPlan, relation: str, scope: Scope, default_business_id: int
) -> tuple[str, dict[str, Any]]:
    """A query for the latest local sale date of the scope's business (and storefront), at any date."""
    from segcli.engine.sources.plan import scope_filter

    flt = scope_filter(plan, scope, default_business_id)
    where = " AND ".join(p for p in (flt.business, flt.storefront) if p)
    params = {k: v for k, v in flt.params.items() if k in ("business_id", "storefront_id")}
    return f"SELECT max({plan.date_expr()}) FROM {relation} WHERE {where}", params


def quote_value(value: Any) -> str:
    text = str(value)
    return f"'{text[:60]}…'" if len(text) > 60 else f"'{text}'"
