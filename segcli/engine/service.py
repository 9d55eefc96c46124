"""The one engine call both doors (command line and HTTP) go through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from segcli.engine.cache import ReportCache, cache_key, report_fingerprint
from segcli.engine.caveats import future_warning
from segcli.engine.compute import ReportRequest, compute_report, today_in
from segcli.engine.errors import DataError
from segcli.engine.report import Report
from segcli.engine.settings import Settings
from segcli.engine.sources import Source, open_source

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.params import ReportParams


def source_from_settings(settings: Settings, columnar: bool = True) -> Source:
    """Open the source the settings name; a CSV is parsed once per report, or once while it is unchanged."""
    source = open_source(
        settings.source,
        mapping=settings.columns,
        default_business_id=settings.business_id,
        items=settings.items,
        sales_table=settings.sales_table,
        items_table=settings.items_table,
        dialect=settings.csv_dialect,
    )
    if columnar:  # a CSV is parsed once: into its copy in the cache folder, or (--no-cache) into memory
        from segcli.engine.sources.columnar import MemoryCopy, attach, store_for

        store = (
            store_for(settings.resolved_cache_dir, settings.cache_max_size) if settings.use_cache else None
        )
        attach(source, store if store is not None and store.max_size > 0 else MemoryCopy())
    return source


def cached_report(
    settings: Settings, request: ReportRequest, source: Source | None, cache: ReportCache | None
) -> Report | None:
    """The request's report if the cache holds it fresh, else None (never computes, never waits)."""
    if cache is None or source is None:  # Spark: get_report reads its cache
        return None
    report = cache.cached(cache_key(request), report_fingerprint(settings, request, source), _usable(request))
    return None if report is None else finish(settings, request, _shown(report, request))


def _usable(request: ReportRequest) -> Callable[[Report], bool]:
    # one entry per key serves both: a report with its comparison answers a plain request too
    return lambda cached: cached.comparison is not None or not request.compare


def _shown(report: Report, request: ReportRequest) -> Report:
    return (
        replace(report, comparison=None) if report.comparison is not None and not request.compare else report
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
        return finish(settings, request, compute_report(source, request, settings.tables))
    # the source's identity is taken before computing: a change during the run makes the entry stale
    fingerprint = report_fingerprint(settings, request, source)
    report = cache.get_or_compute(
        cache_key(request),
        fingerprint,
        lambda: compute_report(source, request, settings.tables),
        usable=_usable(request),
    )
    return finish(settings, request, _shown(report, request))


def finish(settings: Settings, request: ReportRequest, report: Report) -> Report:
    """What depends on today or on the settings, not on the data: kept out of the cache."""
    if settings.currency is not None:
        if report.currency is not None and report.currency != settings.currency:
            raise DataError(
                f"currency {settings.currency} was given, but the sales in scope are in {report.currency}"
            )
        report = replace(report, currency=settings.currency)
    future = future_warning(request.as_of, today_in(request.timezone), request.timezone)
    return report.with_warnings(future) if future else report


def _spark_report(settings: Settings, request: ReportRequest, cache: ReportCache | None) -> Report:
    """The report computed on Spark; cached only when the source is local files (their identity is known)."""
    from segcli.engine.spark.report import SparkSourceInfo, spark_report

    info = SparkSourceInfo.of(settings)
    if cache is None or info is None:
        return finish(settings, request, spark_report(settings, request))
    fingerprint = report_fingerprint(settings, request, cast(Source, info))
    report = cache.get_or_compute(
        cache_key(request), fingerprint, lambda: spark_report(settings, request), usable=_usable(request)
    )
    return finish(settings, request, _shown(report, request))


def customer_table(
    settings: Settings,
    request: ReportRequest,
    params: ReportParams | None,
    moved_from: str | None = None,
    moved_to: str | None = None,
) -> pyarrow.Table:
    """The customer list of a request on the settings' engine, as an Arrow table."""
    if settings.engine == "spark":
        from segcli.engine.spark.customers import customer_arrow

        return customer_arrow(settings, request, params, moved_from=moved_from, moved_to=moved_to)
    from segcli.engine.compute import customer_table as duckdb_customer_table

    return duckdb_customer_table(
        source_from_settings(settings),
        request,
        settings.tables,
        params,
        moved_from=moved_from,
        moved_to=moved_to,
    )
