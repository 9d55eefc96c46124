"""A whole report computed on Spark, assembled by the same code as the DuckDB engine's."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, cast

from segcli.engine import caveats, compare
from segcli.engine.compute import ReportRequest, quality_from_rows, report_from_windows
from segcli.engine.errors import InvalidParameter
from segcli.engine.methods import get_method
from segcli.engine.methods.behavior import BehaviorMethod
from segcli.engine.methods.scored import ScoredMethod, require_table
from segcli.engine.report import Report, SegmentResult
from segcli.engine.segments import SegmentTable
from segcli.engine.sources import open_source
from segcli.engine.spark import behavior as spark_behavior
from segcli.engine.spark.load import (
    Groups,
    SparkScan,
    check_location,
    check_window,
    open_items,
    open_sales,
    window_frame,
    window_groups,
    window_items,
)
from segcli.engine.spark.score import score_summary, scored_customers, segment_lookup
from segcli.engine.spark.session import spark_errors, spark_session

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from segcli.engine.settings import Settings
    from segcli.engine.sources import Scope, Source


SparkMethod = ScoredMethod | BehaviorMethod


def spark_method(name: str) -> SparkMethod:
    """The registered method of a name, if it is one Spark runs (scored methods and behavior)."""
    method = get_method(name)
    if not isinstance(method, ScoredMethod | BehaviorMethod):
        raise InvalidParameter(f"Invalid segmentation_method. {name} does not run on --engine spark")
    return method


@dataclass
class _Inputs:
    """What a method's check_source asks of a source."""

    label: str
    sales: SparkScan
    items: SparkScan | None

    def columns(self) -> set[str]:
        return set(self.sales.plan.source_of)

    def has_items(self) -> bool:
        return self.items is not None


@dataclass
class Loaded:
    """One load of a scope: the checked window, its items, and what to unpersist afterwards."""

    session: SparkSession
    scan: SparkScan
    window: DataFrame
    items: DataFrame | None
    groups: Groups
    last_sale: date | None
    persisted: list[DataFrame] = field(default_factory=list)

    def keep(self, df: DataFrame) -> DataFrame:
        self.persisted.append(df)
        return df


@contextmanager
def loaded(settings: Settings, request: ReportRequest, scope: Scope) -> Iterator[Loaded]:
    """Open the source on Spark, check it (SPEC 1.4) and hold the scope's window while in use."""
    if not settings.source:
        open_source(None)  # raises the no-source error every engine gives
    assert settings.source is not None
    method = spark_method(request.method)  # a method Spark does not run fails before Spark starts
    session = spark_session(settings)
    session.conf.set("spark.sql.session.timeZone", request.timezone)
    persisted: list[DataFrame] = []
    with spark_errors(settings.source):
        try:
            scan = open_sales(session, settings.source, settings.columns, settings.csv_dialect)
            items_scan = None
            if settings.items and method.needs_items:
                items_scan = open_items(session, settings.items, settings.columns, settings.csv_dialect)
            elif settings.items:
                check_location(settings.items)  # named but unused: it must still exist, as on DuckDB
            method.check_source(cast("Source", _Inputs(settings.source, scan, items_scan)))
            window, last_sale = window_frame(scan, scope, settings.business_id)
            window = window.persist()
            persisted.append(window)
            check_window(scan, window)
            state = Loaded(session, scan, window, None, window_groups(scan, window), last_sale, persisted)
            if items_scan is not None:
                state.items = state.keep(window_items(items_scan, window).persist())
            yield state
        finally:
            for df in persisted:
                df.unpersist()


def _scored_window(
    state: Loaded, request: ReportRequest, method: ScoredMethod, table: SegmentTable, previous: bool
) -> tuple[tuple[SegmentResult, ...], DataFrame | None]:
    """One window's segments and, with `request.compare`, its (customer_id, facet, segment_code) rows."""
    from pyspark.sql import functions as F

    params = request.window_params(previous)
    scored, figures = scored_customers(state.window, params["start"], params["end"], params["days"])
    state.keep(figures)
    segments = method.summed(table, score_summary(scored))
    if not request.compare:
        return segments, None
    _, _, code = segment_lookup(table, [F.col("r"), F.col("f"), F.col("m")])
    return segments, scored.select("customer_id", F.lit("").alias("facet"), code.alias("segment_code"))


def _behavior_window(
    state: Loaded, request: ReportRequest, previous: bool
) -> tuple[tuple[SegmentResult, ...], DataFrame | None, DataFrame]:
    params = request.window_params(previous)
    assert state.items is not None
    segments, profiles = spark_behavior.window_segments(
        state.window, state.items, params["start"], params["end"], params["days"]
    )
    state.keep(profiles)
    members = spark_behavior.members(profiles, params["days"]) if request.compare else None
    return segments, members, profiles


def window_segments(
    state: Loaded, request: ReportRequest, tables: Mapping[str, SegmentTable], previous: bool = False
) -> tuple[tuple[SegmentResult, ...], DataFrame | None]:
    method = spark_method(request.method)
    if isinstance(method, BehaviorMethod):
        segments, members, _ = _behavior_window(state, request, previous)
        return segments, members
    return _scored_window(
        state, request, method, require_table(tables.get(method.name), method.name), previous
    )


def migration_flows(previous: DataFrame, current: DataFrame) -> list[compare.Flow]:
    """Customers per (facet, previous segment, current segment): a full join of the two windows' members."""
    from pyspark.sql import functions as F

    before = previous.select(
        F.col("customer_id").alias("p_id"),
        F.col("facet").alias("p_facet"),
        F.col("segment_code").alias("from_code"),
    )
    now = current.select(
        F.col("customer_id").alias("n_id"),
        F.col("facet").alias("n_facet"),
        F.col("segment_code").alias("to_code"),
    )
    joined = before.join(
        now, (F.col("p_id") == F.col("n_id")) & (F.col("p_facet") == F.col("n_facet")), "full"
    )
    rows = (
        joined.select(F.coalesce("p_facet", "n_facet").alias("facet"), "from_code", "to_code")
        .groupBy("facet", "from_code", "to_code")
        .count()
        .collect()
    )
    return [compare.Flow(facet or None, a, b, int(n)) for facet, a, b, n in rows]


def spark_report(settings: Settings, request: ReportRequest) -> Report:
    """Compute a whole, unfiltered report on Spark (no cache)."""
    with loaded(settings, request, request.load_scope) as state, spark_errors(state.scan.label):
        window = request.window_params()
        quality = quality_from_rows(state.groups.quality_rows(window["start"], window["end"]))
        segments, members_now = window_segments(state, request, settings.tables)
        previous: tuple[SegmentResult, ...] = ()
        members_before = None
        if request.needs_previous:
            previous, members_before = window_segments(state, request, settings.tables, previous=True)
        flows: list[compare.Flow] = []
        if request.compare and members_now is not None and members_before is not None:
            flows = migration_flows(members_before, members_now)
        currency = state.groups.currency(window["start"], window["end"])
        last_sale = state.last_sale
    method = get_method(request.method)
    report = report_from_windows(
        method, request, settings.tables.get(method.name), quality, segments, previous, flows
    )
    return replace(report, currency=currency, warnings=caveats.data_warnings(report, last_sale))


@dataclass(frozen=True)
class SparkSourceInfo:
    """What the report cache's fingerprint reads of a source: its label and identity."""

    label: str
    token: str

    @classmethod
    def of(cls, settings: Settings) -> SparkSourceInfo | None:
        """The info of local files; None for other file systems and tables (no cheap identity: not cached)."""
        from segcli.engine.spark.load import source_identity

        token = source_identity(settings.source, settings.items) if settings.source else None
        return None if token is None or settings.source is None else cls(settings.source, token)

    def identity(self) -> str:
        return self.token
