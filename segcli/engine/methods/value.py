"""Value: customers by spend quintile (the value table); growth insights against the previous window."""

from __future__ import annotations

from dataclasses import dataclass

from segcli.engine.compare import comparative_insights
from segcli.engine.methods.scored import ScoredMethod
from segcli.engine.report import Insights, SegmentResult
from segcli.engine.segments import SegmentTable


@dataclass(frozen=True)
class ValueMethod(ScoredMethod):
    """The scores of rfm assigned to the value table; its insights compare with the previous window."""

    def insights(
        self,
        current: tuple[SegmentResult, ...],
        previous: tuple[SegmentResult, ...],
        table: SegmentTable | None,
    ) -> Insights:
        return comparative_insights(current, previous)


VALUE = ValueMethod(name="value", title="Value (spend quintiles)", needs_previous=True, scored=False)
