"""The method protocol: what a segmentation method loads, computes and answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.engines.base import Executor
    from segcli.engine.params import ReportParams
    from segcli.engine.report import Insights, Period, SegmentResult
    from segcli.engine.segments import SegmentTable
    from segcli.engine.sources import Source

# A window's bound parameters: start, end (dates, both included) and days.
Window = Mapping[str, Any]


@dataclass(frozen=True)
class SegmentLabels:
    """The values a segment filter can match for a method: fixed ones, and patterns for names from the data."""

    names: tuple[str, ...]
    codes: tuple[str, ...]
    name_patterns: tuple[str, ...] = ()  # regular expressions, each matching a whole value
    code_patterns: tuple[str, ...] = ()


class Method(Protocol):
    """One segmentation method. Registered by name in `segcli.engine.methods`."""

    @property
    def name(self) -> str:
        """The name `--method` and `segmentation_method` take."""
        ...

    @property
    def title(self) -> str:
        """A human title for renderers."""
        ...

    @property
    def needs_items(self) -> bool:
        """Loads sale items besides the sales."""
        ...

    @property
    def needs_previous(self) -> bool:
        """Always computes the previous window (its insights compare)."""
        ...

    @property
    def scored(self) -> bool:
        """Segment codes carry (R, F, M) scores, shown per segment."""
        ...

    @property
    def faceted(self) -> bool:
        """Segments come in facets, each a partition of the customers."""
        ...

    def default_table(self) -> SegmentTable | None:
        """The segment table segcli ships for the method; None when segments come from the data."""
        ...

    def check_source(self, source: Source) -> None:
        """Raise InvalidParameter naming what the method needs and the source lacks."""
        ...

    def segment_labels(self, table: SegmentTable | None) -> SegmentLabels | None:
        """The names and codes its segments can have with `table` (for the OpenAPI); None: any text."""
        ...

    def window_segments(
        self, ex: Executor, window: Window, table: SegmentTable | None, tag: str, members: bool
    ) -> tuple[SegmentResult, ...]:
        """One window's segments (tag: now or prev); with `members`, also its `members_<tag>` table."""
        ...

    def insights(
        self,
        current: tuple[SegmentResult, ...],
        previous: tuple[SegmentResult, ...],
        table: SegmentTable | None,
    ) -> Insights:
        """The report's four insights."""
        ...

    def customers(
        self, ex: Executor, window: Window, table: SegmentTable | None, params: ReportParams | None
    ) -> pyarrow.Table:
        """One row per customer in scope with its segment(s), after the request's segment filters."""
        ...

    def notes(self, period: Period) -> tuple[str, ...]:
        """Short remarks a view shows under the segments (e.g. a facet the window is too short for)."""
        ...
