"""Build a report: load the window from a source, score it in DuckDB, sum segments exactly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from segcli.engine import behavior, compare, rfm
from segcli.engine.db import connect, duckdb_errors
from segcli.engine.params import ReportParams, check_segment_filter
from segcli.engine.report import (
    EXCLUDED_STATUSES,
    INCLUDED_STATUSES,
    DataQuality,
    Period,
    Report,
    SegmentResult,
    rfm_insights,
)
from segcli.engine.segments import Scores, SegmentTable
from segcli.engine.sources import Scope, Source

if TYPE_CHECKING:
    import duckdb
    import pyarrow


def today_in(timezone: str) -> date:
    """Today's date in the report time zone (the default as-of date)."""
    return datetime.now(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class ReportRequest:
    """Everything that determines one unfiltered report."""

    business_id: int
    as_of: date
    method: str = "rfm"
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
        """Whether the previous window is computed: on request, and always for value and behavior."""
        return self.compare or self.method in ("value", "behavior")

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


def data_quality(con: duckdb.DuckDBPyConnection, params: Mapping[str, Any]) -> DataQuality:
    """Count what happened to each row of the business dated in the window."""
    rows = con.execute(rfm.DATA_QUALITY_SQL, {"start": params["start"], "end": params["end"]}).fetchall()
    return quality_from_rows(rows)


def quality_from_rows(rows: Iterable[tuple[str, bool, int]]) -> DataQuality:
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


def empty_segments(table: SegmentTable) -> list[SegmentResult]:
    """Every segment of a table with zero members, in table order."""
    return [
        SegmentResult(
            name=s.name,
            code=s.code,
            description=s.description,
            actions=s.actions,
            scores=s.scores if table.method == "rfm" else None,
            facet=s.facet,
        )
        for s in table.segments
    ]


def scored_segments(
    con: duckdb.DuckDBPyConnection, params: Mapping[str, Any], table: SegmentTable
) -> tuple[SegmentResult, ...]:
    """Segments of a scored method (rfm, value), summed exactly from the score summary."""
    return segments_from_summary(rfm.score_summary(con, params), table)


def segments_from_summary(
    summary: Iterable[tuple[Scores, int, int, Any, int]], table: SegmentTable
) -> tuple[SegmentResult, ...]:
    """A table's segments summed exactly from (scores, customers, sales, revenue, days_since_sum) rows."""
    segments = empty_segments(table)
    for scores, customers, sales, revenue, days_sum in summary:
        index = table.assign(scores)
        segments[index] = segments[index].add(customers, sales, Decimal(revenue), days_sum)
    return tuple(segments)


def window_segments(
    con: duckdb.DuckDBPyConnection,
    request: ReportRequest,
    tables: Mapping[str, SegmentTable],
    previous: bool = False,
) -> tuple[SegmentResult, ...]:
    """One window's segments; with `request.compare`, also its members table for the migration."""
    params = request.window_params(previous)
    tag = compare.PREVIOUS if previous else compare.CURRENT
    if request.method == "behavior":
        return behavior.window_segments(con, params, tag, members=request.compare)
    table = tables[request.method]
    if request.compare:
        members = f"SELECT customer_id, '' AS facet, segment_code FROM ({rfm.customers_sql(table)})"
        compare.create_members(con, tag, members, params)
    return scored_segments(con, params, table)


def compute_report(source: Source, request: ReportRequest, tables: Mapping[str, SegmentTable]) -> Report:
    """Compute a whole, unfiltered report from a source (no cache)."""
    if request.method == "behavior":
        behavior.require_inputs(source)
    con = connect(request.timezone)
    try:
        scope = request.load_scope
        source.load_window(con, scope)
        if request.method == "behavior":
            source.load_items(con, scope)
        with duckdb_errors(source.label):
            quality = data_quality(con, request.window_params())
            segments = window_segments(con, request, tables)
            previous = window_segments(con, request, tables, previous=True) if request.needs_previous else ()
            flows = compare.migration_flows(con) if request.compare else []
    finally:
        con.close()
    return assemble_report(request, segments, previous, quality, flows)


def assemble_report(
    request: ReportRequest,
    segments: tuple[SegmentResult, ...],
    previous: tuple[SegmentResult, ...],
    quality: DataQuality,
    flows: list[compare.Flow],
) -> Report:
    """The report of computed windows: insights, and the comparison when requested (any engine)."""
    if request.method == "rfm":
        insights = rfm_insights(segments)
    else:
        insights = compare.comparative_insights(segments, previous)
    return Report(
        method=request.method,
        business_id=request.business_id,
        storefront_id=request.storefront_id,
        timezone=request.timezone,
        period=request.period,
        segments=segments,
        insights=insights,
        data_quality=quality,
        comparison=(
            compare.build_comparison(request.period, segments, previous, flows) if request.compare else None
        ),
    )


def customer_table(
    source: Source,
    request: ReportRequest,
    tables: Mapping[str, SegmentTable],
    params: ReportParams | None = None,
) -> pyarrow.Table:
    """One row per customer in scope with scores and segment (behavior: one per facet), filtered by segment."""
    name = params.segment_name if params is not None else None
    code = params.segment_code if params is not None else None
    if request.method == "behavior":
        behavior.require_inputs(source)
        name_columns, code_columns = behavior.list_columns(request.days)
    else:
        name_columns, code_columns = ["seg.segment_name"], ["seg.segment_code"]
    conditions = ["TRUE"]
    if name is not None:
        conditions.append(f"$segment_name IN ({', '.join(name_columns)})")
    if code is not None:
        conditions.append(f"$segment_code IN ({', '.join(code_columns)})")
    where = " AND ".join(conditions)
    filters = {k: v for k, v in (("segment_name", name), ("segment_code", code)) if v is not None}
    con = connect(request.timezone)
    try:
        source.load_window(con, request.scope)
        if request.method == "behavior":
            source.load_items(con, request.scope)
        with duckdb_errors(source.label):
            if request.method == "behavior":
                # the profiles behind the list; its segments (from the data) check the filter
                segments = behavior.window_segments(
                    con, request.window_params(), compare.CURRENT, members=False
                )
                if params is not None:
                    check_segment_filter(params, [s.name for s in segments], [s.code for s in segments])
                sql, values = behavior.customers_sql(request.days, where), {"end": request.as_of}
            else:
                sql, values = rfm.customers_sql(tables[request.method], where), request.window_params()
            return con.sql(sql, params={**values, **filters}).to_arrow_table()
    finally:
        con.close()
