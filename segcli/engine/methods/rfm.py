"""RFM (SPEC section 3): scores shown per segment; insights from the table's role tags."""

from __future__ import annotations

from dataclasses import dataclass

from segcli.engine.methods.scored import ScoredMethod
from segcli.engine.report import Insights, SegmentResult, first_largest, first_non_empty
from segcli.engine.segments import SegmentTable


def role_insights(segments: tuple[SegmentResult, ...], table: SegmentTable | None) -> Insights:
    """SPEC section 3 insights over all segments; growth and attention from the segments tagged with those roles."""
    return Insights(
        highest_revenue_segment=first_largest(segments, lambda s: s.revenue),
        largest_segment=first_largest(segments, lambda s: s.customer_count),
        fastest_growing_segment=(
            first_non_empty(segments, table.with_role("fastest_growing")) if table else None
        ),
        needs_attention=first_non_empty(segments, table.with_role("needs_attention")) if table else None,
    )


@dataclass(frozen=True)
class RFMMethod(ScoredMethod):
    """Recency, frequency, monetary scores assigned to the rfm table's segments."""

    def insights(
        self,
        current: tuple[SegmentResult, ...],
        previous: tuple[SegmentResult, ...],
        table: SegmentTable | None,
    ) -> Insights:
        return role_insights(current, table)


RFM = RFMMethod(name="rfm", title="RFM (recency, frequency, monetary)", needs_previous=False, scored=True)
