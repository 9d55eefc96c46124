"""The comparison model: change per segment and the migration matrices, as frozen dataclasses.

`engine/compare.py` computes them; `to_dict` is the `data.comparison` body (api/schema.py's
`Comparison` model describes the same keys, checked by tests/test_seam.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segcli.engine.report import Period

NEW = "new"
LAPSED = "lapsed"


@dataclass(frozen=True)
class SegmentChange:
    """One segment's customers and revenue in the previous window and now, with their change."""

    segment_name: str
    segment_code: str
    facet: str | None
    previous_customer_count: int
    customer_count: int
    customer_change_pct: Decimal | None
    previous_revenue: Decimal  # rounded to cents
    revenue: Decimal  # rounded to cents
    revenue_change_pct: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"segment_name": self.segment_name, "segment_code": self.segment_code}
        if self.facet is not None:
            body["facet"] = self.facet
        body.update(
            previous_customer_count=self.previous_customer_count,
            customer_count=self.customer_count,
            customer_change_pct=self.customer_change_pct,
            previous_revenue=self.previous_revenue,
            revenue=self.revenue,
            revenue_change_pct=self.revenue_change_pct,
        )
        return body


@dataclass(frozen=True)
class MigrationRow:
    """Customers of one previous segment (or "new") per current segment, then "lapsed"."""

    from_segment: str
    customers: tuple[int, ...]
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {"from_segment": self.from_segment, "customers": list(self.customers), "total": self.total}


@dataclass(frozen=True)
class MigrationSummary:
    """Customers who stayed in their segment, moved to another, are new, and lapsed."""

    stayed: int
    moved: int
    new: int
    lapsed: int

    def items(self) -> tuple[tuple[str, int], ...]:
        return (("stayed", self.stayed), ("moved", self.moved), ("new", self.new), ("lapsed", self.lapsed))


@dataclass(frozen=True)
class MigrationMatrix:
    """One facet's matrix: rows are previous segments plus "new", columns current segments plus "lapsed"."""

    facet: str | None
    columns: tuple[str, ...]
    rows: tuple[MigrationRow, ...]

    @property
    def now_totals(self) -> tuple[int, ...]:
        """Customers per current segment (every column but "lapsed")."""
        return tuple(sum(r.customers[i] for r in self.rows) for i in range(len(self.columns) - 1))

    @property
    def summary(self) -> MigrationSummary:
        segments = self.columns[:-1]
        stayed = sum(
            r.customers[segments.index(r.from_segment)] for r in self.rows if r.from_segment in segments
        )
        lapsed = sum(r.customers[-1] for r in self.rows)
        before = sum(r.total for r in self.rows if r.from_segment != NEW)
        new = sum(r.total for r in self.rows if r.from_segment == NEW)
        return MigrationSummary(stayed, before - stayed - lapsed, new, lapsed)

    def to_dict(self) -> dict[str, Any]:
        return {"facet": self.facet, "columns": list(self.columns), "rows": [r.to_dict() for r in self.rows]}


@dataclass(frozen=True)
class Mover:
    """A segment and its measured change from the previous window (customers, or revenue in cents)."""

    segment_name: str
    segment_code: str
    facet: str | None
    change: int | Decimal

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"segment_name": self.segment_name, "segment_code": self.segment_code}
        if self.facet is not None:
            body["facet"] = self.facet
        body["change"] = self.change
        return body


@dataclass(frozen=True)
class Movers:
    """The segments that measurably grew and fell most, by customers and by revenue (None: none did)."""

    grew_most_customers: Mover | None = None
    fell_most_customers: Mover | None = None
    grew_most_revenue: Mover | None = None
    fell_most_revenue: Mover | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            name: None if mover is None else mover.to_dict()
            for name, mover in (
                ("grew_most_customers", self.grew_most_customers),
                ("fell_most_customers", self.fell_most_customers),
                ("grew_most_revenue", self.grew_most_revenue),
                ("fell_most_revenue", self.fell_most_revenue),
            )
        }


@dataclass(frozen=True)
class Comparison:
    """The additive `data.comparison`: the previous window's totals, change per segment, the migration."""

    previous_period: Period
    previous_total_customers: int
    previous_total_revenue: Decimal  # rounded to cents
    segments: tuple[SegmentChange, ...]
    migration: tuple[MigrationMatrix, ...]
    movers: Movers = Movers()  # over every segment, before any segment filter
    # the change of the totals, for views (the body leaves them to the reader)
    customer_change_pct: Decimal | None = None
    revenue_change_pct: Decimal | None = None

    def filtered(self, wants: Callable[[str, str], bool]) -> Comparison:
        """The comparison with its per-segment rows filtered (the matrices stay whole)."""
        rows = tuple(r for r in self.segments if wants(r.segment_name, r.segment_code))
        return replace(self, segments=rows)

    def to_dict(self) -> dict[str, Any]:
        before = self.previous_period
        return {
            "previous_period": {
                "start_date": before.start_date.isoformat(),
                "end_date": before.end_date.isoformat(),
                "days": before.days,
            },
            "previous_total_customers": self.previous_total_customers,
            "previous_total_revenue": self.previous_total_revenue,
            "segments": [r.to_dict() for r in self.segments],
            "migration": [m.to_dict() for m in self.migration],
            "movers": self.movers.to_dict(),
        }
