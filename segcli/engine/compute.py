"""Build a report: load the window from a source, run the method's queries on an engine, sum exactly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from segcli.engine import compare
from segcli.engine.engines.base import Query
from segcli.engine.engines.duckdb import duckdb_engine
from segcli.engine.methods import get_method
from segcli.engine.params import DEFAULT_METHOD, ReportParams
from segcli.engine.report import (
    EXCLUDED_STATUSES,
    INCLUDED_STATUSES,
    DataQuality,
    Period,
    Report,
    SegmentResult,
)
from segcli.engine.segments import SegmentTable
from segcli.engine.sources import Scope, Source

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.engines.base import Executor
    from segcli.engine.methods.base import Method

# Per status and anonymity, the rows of the business dated in the window (counted by the source).
DATA_QUALITY = Query(
    "quality.counts",
    """
SELECT status, anonymous, CAST(sum(rows) AS BIGINT) AS rows
FROM window_quality
WHERE sale_date BETWEEN $start AND $end
GROUP BY ALL
ORDER BY status, anonymous
""",
)


def today_in(timezone: str) -> date:
    """Today's date in the report time zone (the default as-of date)."""
    return datetime.now(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class ReportRequest:
    """Everything that determines one unfiltered report."""

    business_id: int
    as_of: date
    method: str = DEFAULT_METHOD
    days: int = 90
    storefront_id: int | None = None
    timezone: str = "UTC"
    compare: bool = False  # add data.comparison (a cached report with one serves plain requests too)

    @classmethod
    def from_params(
        cls,
        params: ReportParams,
        *,
        business_id: int,
        as_of: date | None,
        timezone: str,
        compare: bool = False,
    ) -> ReportRequest:
        return cls(
            business_id=business_id,
            as_of=as_of if as_of is not None else today_in(timezone),
            method=params.method,
            days=params.days,
            storefront_id=params.storefront_id,
            timezone=timezone,
            compare=compare,
        )

    @property
    def period(self) -> Period:
        return Period(self.as_of - timedelta(days=self.days - 1), self.as_of, self.days)

    @property
    def scope(self) -> Scope:
        period = self.period
        return Scope(self.business_id, period.start_date, period.end_date, self.storefront_id)

    @property
    def needs_previous(self) -> bool:
        """Whether the previous window is computed: on request, and always when the method's insights compare."""
        return self.compare or get_method(self.method).needs_previous

    @property
    def load_scope(self) -> Scope:
        """The scope to load: the window, from the previous window's start when that is needed."""
        if not self.needs_previous:
            return self.scope
        start = compare.previous_period(self.period).start_date
        return Scope(self.business_id, start, self.as_of, self.storefront_id)

    def window_params(self, previous: bool = False) -> dict[str, Any]:
        period = compare.previous_period(self.period) if previous else self.period
        return {"start": period.start_date, "end": period.end_date, "days": period.days}


def data_quality(ex: Executor, params: Mapping[str, Any]) -> DataQuality:
    """Count what happened to each row of the business dated in the window."""
    return quality_from_rows(ex.rows(DATA_QUALITY, {"start": params["start"], "end": params["end"]}))


def quality_from_rows(rows: Iterable[tuple[Any, ...]]) -> DataQuality:
    """The data-quality summary from (normalised status, anonymous, rows) counts (any engine)."""
    read = in_scope = anonymous = 0
    excluded: dict[str, int] = {}
    unknown: dict[str, int] = {}
    for status, is_anonymous, count in rows:
        read += count
        if status in INCLUDED_STATUSES:
            if is_anonymous:
                anonymous += count
            else:
                in_scope += count
        elif status in EXCLUDED_STATUSES:
            excluded[status] = excluded.get(status, 0) + count
        else:
            unknown[status] = unknown.get(status, 0) + count
    return DataQuality(
        read, in_scope, dict(sorted(excluded.items())), dict(sorted(unknown.items())), anonymous
    )


def build_report(ex: Executor, method: Method, request: ReportRequest, table: SegmentTable | None) -> Report:
    """The report of a request from the window tables already loaded into the engine."""
    quality = data_quality(ex, request.window_params())
    now = request.window_params()
    segments = method.window_segments(ex, now, table, compare.CURRENT, request.compare)
    previous: tuple[Any, ...] = ()
    if request.needs_previous:
        before = request.window_params(previous=True)
        previous = method.window_segments(ex, before, table, compare.PREVIOUS, request.compare)
    flows = compare.migration_flows(ex) if request.compare else []
    return report_from_windows(method, request, table, quality, segments, previous, flows)


def report_from_windows(
    method: Method,
    request: ReportRequest,
    table: SegmentTable | None,
    quality: DataQuality,
    segments: tuple[SegmentResult, ...],
    previous: tuple[SegmentResult, ...],
    flows: list[compare.Flow],
) -> Report:
    """The report of computed windows: insights, notes, and the comparison when requested (any engine)."""
    return Report(
        method=request.method,
        business_id=request.business_id,
        storefront_id=request.storefront_id,
        timezone=request.timezone,
        period=request.period,
        segments=segments,
        insights=method.insights(segments, previous, table),
        data_quality=quality,
        comparison=(
            compare.build_comparison(request.period, segments, previous, flows) if request.compare else None
        ),
        notes=method.notes(request.period),
    )


def compute_report(source: Source, request: ReportRequest, tables: Mapping[str, SegmentTable]) -> Report:
    """Compute a whole, unfiltered report from a source (no cache)."""
    method = get_method(request.method)
    method.check_source(source)
    with duckdb_engine(request.timezone, source.label) as ex:
        ex.load(source, request.load_scope, items=method.needs_items)
        return build_report(ex, method, request, tables.get(method.name))


def customer_table(
    source: Source,
    request: ReportRequest,
    tables: Mapping[str, SegmentTable],
    params: ReportParams | None = None,
) -> pyarrow.Table:
    """One row per customer in scope with scores and segment (behavior: one per facet), filtered by segment."""
    method = get_method(request.method)
    method.check_source(source)
    with duckdb_engine(request.timezone, source.label) as ex:
        ex.load(source, request.scope, items=method.needs_items)
        return method.customers(ex, request.window_params(), tables.get(method.name), params)
