"""The one engine call both doors (command line and HTTP) go through."""

from __future__ import annotations

from segcli.engine.compute import ReportRequest, compute_report
from segcli.engine.report import Report
from segcli.engine.settings import Settings
from segcli.engine.sources import Source, open_source


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


def get_report(settings: Settings, request: ReportRequest, source: Source | None = None) -> Report:
    """The whole, unfiltered report for a request."""
    if source is None:
        source = source_from_settings(settings)
    return compute_report(source, request, settings.tables)
