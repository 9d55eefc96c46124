"""Period comparison: the previous window of equal length, change per segment, the migration matrix.

Each window leaves a `members_<tag>(customer_id, facet, segment_code)` table (facet '' for methods
without facets); the migration matrix is a full join of the previous window's members with the
current one's, so a customer without a previous row is "new" and one without a current row "lapsed".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from segcli.engine.comparison import (
    LAPSED,
    NEW,
    Comparison,
    MigrationMatrix,
    MigrationRow,
    Mover,
    Movers,
    SegmentChange,
)
from segcli.engine.engines.base import Query
from segcli.engine.report import (
    CENT,
    TENTH,
    Insights,
    Period,
    SegmentResult,
    first_facet,
    first_largest,
    ratio,
    round_to,
)

if TYPE_CHECKING:
    from segcli.engine.engines.base import Executor

__all__ = ["LAPSED", "NEW", "Comparison", "build_comparison", "change_pct", "previous_period"]

CURRENT, PREVIOUS = "now", "prev"

FLOWS = Query(
    "compare.flows",
    """
SELECT coalesce(p.facet, n.facet) AS facet, p.segment_code AS from_code, n.segment_code AS to_code,
       count(*) AS customers
FROM members_prev p
FULL JOIN members_now n ON p.customer_id = n.customer_id AND p.facet = n.facet
GROUP BY ALL
""",
)


@dataclass(frozen=True)
class Flow:
    """Customers who went from one segment (None: new) to another (None: lapsed) within a facet."""

    facet: str | None
    from_code: str | None
    to_code: str | None
    customers: int


def previous_period(period: Period) -> Period:
    """The window of the same length ending the day before `period` starts."""
    end = period.start_date - timedelta(days=1)
    return Period(end - timedelta(days=period.days - 1), end, period.days)


def migration_flows(ex: Executor) -> list[Flow]:
    """Customers per (facet, previous segment, current segment), from the two members tables."""
    rows = ex.rows(FLOWS)
    return [Flow(facet or None, a, b, n) for facet, a, b, n in rows]


def change_pct(now: Decimal | int, before: Decimal | int) -> Decimal | None:
    """Change from `before` to `now` in percent, one decimal; None when `before` is not positive."""
    if before <= 0:
        return None
    return ratio((now - before) * 100, before, TENTH)


def _key(segment: SegmentResult) -> tuple[str | None, str]:
    return (segment.facet, segment.code)


def growth_insights(
    current: tuple[SegmentResult, ...], previous: tuple[SegmentResult, ...]
) -> tuple[str | None, str | None]:
    """(fastest growing, needs attention) measured against the previous window.

    Fastest growing: the largest relative rise in customers, among segments with customers now
    and in the previous window. Needs attention: the largest relative fall in revenue, among
    segments with customers now and positive revenue before. Only rises (falls) count; ties go
    to the earlier segment; None when no segment qualifies (e.g. no previous data).
    """
    before = {_key(s): s for s in previous}
    growing: tuple[Fraction, str] | None = None
    falling: tuple[Fraction, str] | None = None
    for segment in current:
        old = before.get(_key(segment))
        if segment.customer_count == 0 or old is None:
            continue
        if old.customer_count > 0:
            growth = Fraction(segment.customer_count - old.customer_count, old.customer_count)
            if growth > 0 and (growing is None or growth > growing[0]):
                growing = (growth, segment.name)
        if old.revenue > 0:
            fall = Fraction(segment.revenue - old.revenue) / Fraction(old.revenue)
            if fall < 0 and (falling is None or fall < falling[0]):
                falling = (fall, segment.name)
    return (growing[1] if growing else None, falling[1] if falling else None)


def comparative_insights(current: tuple[SegmentResult, ...], previous: tuple[SegmentResult, ...]) -> Insights:
    """Insights of value and behavior: SPEC section 3's largest two, growth from the comparison."""
    fastest, attention = growth_insights(current, previous)
    return Insights(
        highest_revenue_segment=first_largest(current, lambda s: s.revenue),
        largest_segment=first_largest(current, lambda s: s.customer_count),
        fastest_growing_segment=fastest,
        needs_attention=attention,
        measured=True,
    )


def _facets(*windows: Iterable[SegmentResult]) -> list[str | None]:
    return list(dict.fromkeys(s.facet for window in windows for s in window))


def segment_rows(
    current: tuple[SegmentResult, ...], previous: tuple[SegmentResult, ...]
) -> list[SegmentChange]:
    """Per segment: before, now and the change; segments only in the previous window come last in their facet."""
    before = {_key(s): s for s in previous}
    now_keys = {_key(s) for s in current}
    rows = []
    for facet in _facets(current, previous):
        listed = [s for s in current if s.facet == facet]
        listed += [s for s in previous if s.facet == facet and _key(s) not in now_keys]
        for s in listed:
            old = before.get(_key(s))
            is_now = _key(s) in now_keys
            cur_count, cur_revenue = (s.customer_count, s.revenue) if is_now else (0, Decimal(0))
            old_count, old_revenue = (old.customer_count, old.revenue) if old else (0, Decimal(0))
            rows.append(
                SegmentChange(
                    segment_name=s.name,
                    segment_code=s.code,
                    facet=facet,
                    previous_customer_count=old_count,
                    customer_count=cur_count,
                    customer_change_pct=change_pct(cur_count, old_count),
                    previous_revenue=round_to(old_revenue, CENT),
                    revenue=round_to(cur_revenue, CENT),
                    revenue_change_pct=change_pct(cur_revenue, old_revenue),
                )
            )
    return rows


def _extreme(
    rows: Sequence[SegmentChange], change: Callable[[SegmentChange], Any], sign: int
) -> Mover | None:
    """The row with the largest rise (sign 1) or fall (sign -1) by `change`; the earlier one on a tie."""
    best: tuple[Any, SegmentChange] | None = None
    for row in rows:
        delta = change(row)
        if delta * sign > 0 and (best is None or delta * sign > best[0] * sign):
            best = (delta, row)
    if best is None:
        return None
    delta, row = best
    return Mover(row.segment_name, row.segment_code, row.facet, delta)


def movers(rows: Sequence[SegmentChange]) -> Movers:
    """The segments that grew and fell most, in customers and in revenue (absolute change)."""

    def customers(row: SegmentChange) -> int:
        return row.customer_count - row.previous_customer_count

    def revenue(row: SegmentChange) -> Decimal:
        return row.revenue - row.previous_revenue

    return Movers(
        grew_most_customers=_extreme(rows, customers, 1),
        fell_most_customers=_extreme(rows, customers, -1),
        grew_most_revenue=_extreme(rows, revenue, 1),
        fell_most_revenue=_extreme(rows, revenue, -1),
    )


def migration_matrices(
    current: tuple[SegmentResult, ...], previous: tuple[SegmentResult, ...], flows: list[Flow]
) -> list[MigrationMatrix]:
    """One matrix per facet: rows are previous segments plus "new", columns current segments plus "lapsed"."""
    counts = {(f.facet, f.from_code, f.to_code): f.customers for f in flows}
    matrices = []
    for facet in _facets(current, previous):
        to = [s for s in current if s.facet == facet]
        columns = [s.code for s in to] + [None]
        rows = []
        # previous segments in the columns' order (stayers on the diagonal), then those gone now, then new
        now_codes = [s.code for s in to]
        was = sorted(
            (s for s in previous if s.facet == facet),
            key=lambda s: now_codes.index(s.code) if s.code in now_codes else len(now_codes),
        )
        for name, code in [(s.name, s.code) for s in was] + [(NEW, None)]:
            cells = tuple(counts.get((facet, code, c), 0) for c in columns)
            rows.append(MigrationRow(name, cells, sum(cells)))
        matrices.append(MigrationMatrix(facet, (*(s.name for s in to), LAPSED), tuple(rows)))
    return matrices


def build_comparison(
    period: Period,
    current: tuple[SegmentResult, ...],
    previous: tuple[SegmentResult, ...],
    flows: list[Flow],
) -> Comparison:
    """The additive `data.comparison` of a report."""
    before, now = first_facet(previous), first_facet(current)
    old_customers = sum(s.customer_count for s in before)
    old_revenue = round_to(sum((s.revenue for s in before), Decimal(0)), CENT)
    customers = sum(s.customer_count for s in now)
    revenue = round_to(sum((s.revenue for s in now), Decimal(0)), CENT)
    rows = tuple(segment_rows(current, previous))
    return Comparison(
        previous_period=previous_period(period),
        previous_total_customers=old_customers,
        previous_total_revenue=old_revenue,
        segments=rows,
        migration=tuple(migration_matrices(current, previous, flows)),
        movers=movers(rows),
        customer_change_pct=change_pct(customers, old_customers),
        revenue_change_pct=change_pct(revenue, old_revenue),
    )
