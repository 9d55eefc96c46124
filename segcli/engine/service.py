"""The one engine call both doors (command line and HTTP) go through."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, cast

from segcli.engine.cache import ReportCache, cache_key, report_fingerprint
from segcli.engine.compute import ReportRequest, compute_report
from segcli.engine.report import Report
from segcli.engine.settings import Settings
from segcli.engine.sources import Source, open_source

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.params import ReportParams


def source_from_settings(settings: Settings) -> Source:
    """Open the source the settings name."""
    return open_source(
        settings.source,
        mapping=settings.columns,
        default_business_id=settings.business_id,
        items=settings.items,
        sales_table=settings.sales_table,
        items_table=settings.items_table,
    )


def get_report(
    settings: Settings,
    request: ReportRequest,
    source: Source | None = None,
    cache: ReportCache | None = None,
) -> Report:
    """The whole, unfiltered report for a request: from the cache if given and fresh, else computed."""
    if settings.engine == "spark":
        return _spark_report(settings, request, cache)
    if source is None:
        source = source_from_settings(settings)
    if cache is None:
        return compute_report(source, request, settings.tables)
    # the source's identity is taken before computing: a change during the run makes the entry stale
    fingerprint = report_fingerprint(settings, request, source)
    # one entry per key serves both: a report with its comparison answers a plain request too
    report = cache.get_or_compute(
        cache_key(request),
        fingerprint,
        lambda: compute_report(source, request, settings.tables),
        usable=lambda cached: cached.comparison is not None or not request.compare,
    )
    return (
        replace(report, comparison=None) if report.comparison is not None and not request.compare else report
    )


def _spark_report(settings: Settings, request: ReportRequest, cache: ReportCache | None) -> Report:
    """The report computed on Spark; cached only when the source is local files (their identity is known)."""
    from segcli.engine.spark.report import SparkSourceInfo, spark_report

    info = SparkSourceInfo.of(settings)
    if cache is None or info is None:
        return spark_report(settings, request)
    fingerprint = report_fingerprint(settings, request, cast(Source, info))
    report = cache.get_or_compute(
        cache_key(request),
        fingerprint,
        lambda: spark_report(settings, request),
        usable=lambda cached: cached.comparison is not None or not request.compare,
    )
    return (
        replace(report, comparison=None) if report.comparison is not None and not request.compare else report
    )


def customer_table(settings: Settings, request: ReportRequest, params: ReportParams | None) -> pyarrow.Table:
    """The customer list of a request on the settings' engine, as an Arrow table."""
    if settings.engine == "spark":
        from segcli.engine.spark.customers import customer_arrow

        return customer_arrow(settings, request, params)
    from segcli.engine.compute import customer_table as duckdb_customer_table

    return duckdb_customer_table(source_from_settings(settings), request, settings.tables, params)
