"""Build a report: load the window from a source, run the method's queries on an engine, sum exactly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from segcli.engine import caveats, compare
from segcli.engine.engines.base import Query
from segcli.engine.engines.duckdb import duckdb_engine
from segcli.engine.errors import InvalidParameter
from segcli.engine.methods import get_method
from segcli.engine.moved import check_table_moves, moved_customers
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
from segcli.engine.sources import WINDOW_TABLE, Scope, Source
from segcli.engine.sql import INCLUDED_SQL

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


HAS_CURRENCY = Query(
    "report.has_currency",
    "SELECT count(*) FROM information_schema.columns "
    f"WHERE table_name = '{WINDOW_TABLE}' AND column_name = 'currency'",
)
CURRENCY = Query(
    "report.currency",
    f"""
SELECT currency FROM {WINDOW_TABLE}
WHERE currency IS NOT NULL AND status IN {INCLUDED_SQL} AND customer_id IS NOT NULL
  AND sale_date BETWEEN $start AND $end
LIMIT 1
""",
)


def today_in(timezone: str) -> date:
    """Today's date in the report time zone (the default as-of date)."""
    return datetime.now(ZoneInfo(timezone)).date()


def check_window_dates(as_of: date, days: int, previous: bool) -> None:
    """Raise InvalidParameter when the window (or the previous one) leaves the calendar dates can hold."""
    if as_of >= date.max:  # the window's exclusive end is the day after
        raise InvalidParameter(f"Invalid as_of. Must be before {date.max.isoformat()}")
    room = (as_of - date.min).days + 1  # days from year 1 to as_of, both included
    if room < days or (previous and room < 2 * days):
        both = " and the previous one" if room >= days else ""
        raise InvalidParameter(
            f"Invalid as_of. The {days}-day window ending {as_of.isoformat()}{both} would start before year 1"
        )


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

    def __post_init__(self) -> None:
        check_window_dates(self.as_of, self.days, self.needs_previous)

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


def report_currency(ex: Executor, params: Mapping[str, Any]) -> str | None:
    """The currency of the window's sales in scope (the load checked there is one), or None."""
    if not ex.rows(HAS_CURRENCY)[0][0]:
        return None
    found = ex.rows(CURRENCY, {"start": params["start"], "end": params["end"]})
    return str(found[0][0]) if found else None


def finish_report(ex: Executor, source: Source, request: ReportRequest, report: Report) -> Report:
    """The report with its currency and its data warnings (SPEC 1.5)."""
    try:
        last_sale: date | str | None = ex.last_sale(source, request.scope)
    except NotImplementedError:
        last_sale = caveats.UNKNOWN
    return replace(
        report,
        currency=report_currency(ex, request.window_params()),
        warnings=caveats.data_warnings(report, last_sale),
    )


def compute_report(source: Source, request: ReportRequest, tables: Mapping[str, SegmentTable]) -> Report:
    """Compute a whole, unfiltered report from a source (no cache)."""
    method = get_method(request.method)
    method.check_source(source)
    with duckdb_engine(request.timezone, source.label) as ex:
        ex.load(source, request.load_scope, items=method.needs_items)
        report = build_report(ex, method, request, tables.get(method.name))
        return finish_report(ex, source, request, report)


def customer_table(
    source: Source,
    request: ReportRequest,
    tables: Mapping[str, SegmentTable],
    params: ReportParams | None = None,
    *,
    compare: bool = False,
    moved_from: str | None = None,
    moved_to: str | None = None,
) -> pyarrow.Table:
    """One row per customer in scope with scores and segment (behavior: one per facet), filtered by segment.

    With `compare` (or a move filter, or `request.compare`), customers of the previous window too, with
    their previous segment (`previous_segment_name`, `previous_segment_code`); see `engine/moved.py`.
    """
    method = get_method(request.method)
    method.check_source(source)
    table = tables.get(method.name)
    if compare or request.compare or moved_from is not None or moved_to is not None:
        request = replace(request, compare=True)
        if table is not None:
            check_table_moves(table, moved_from, moved_to)
    with duckdb_engine(request.timezone, source.label) as ex:
        if not request.compare:
            ex.load(source, request.scope, items=method.needs_items)
            return method.customers(ex, request.window_params(), table, params)
        ex.load(source, request.load_scope, items=method.needs_items)
        now, before = request.window_params(), request.window_params(previous=True)
        return moved_customers(ex, method, now, before, table, params, moved_from, moved_to)
