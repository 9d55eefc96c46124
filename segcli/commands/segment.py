"""`segcli segment`: the segmentation report."""

from __future__ import annotations

from segcli.commands.common import parse_as_of, pick_format, resolve_settings, write_with
from segcli.commands.options import (
    AsOfOpt,
    BusinessOpt,
    CompareOpt,
    ConfigOpt,
    DaysOpt,
    FormatOpt,
    ItemsOpt,
    MapOpt,
    MethodOpt,
    OutputOpt,
    SegmentCodeOpt,
    SegmentNameOpt,
    SourceOpt,
    StorefrontOpt,
    TimezoneOpt,
)
from segcli.engine.params import check_segment_filter, validate_params
from segcli.render import get_renderer


def segment(
    source: SourceOpt = None,
    items: ItemsOpt = None,
    business_id: BusinessOpt = None,
    method: MethodOpt = None,
    days: DaysOpt = None,
    storefront_id: StorefrontOpt = None,
    segment_name: SegmentNameOpt = None,
    segment_code: SegmentCodeOpt = None,
    as_of: AsOfOpt = None,
    timezone: TimezoneOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    map_pairs: MapOpt = None,
    config: ConfigOpt = None,
    compare: CompareOpt = False,
) -> None:
    """Segment customers and print the report (RFM by default)."""
    from segcli.engine.compute import ReportRequest
    from segcli.engine.service import get_report

    settings = resolve_settings(
        config, map_pairs, source=source, items=items, business_id=business_id, timezone=timezone
    )
    params = validate_params(
        segmentation_method=method,
        days=days,
        storefront_id=storefront_id,
        segment_name=segment_name,
        segment_code=segment_code,
        tables=settings.tables,
    )
    renderer = get_renderer(pick_format(fmt, output))
    request = ReportRequest.from_params(
        params,
        business_id=settings.business_id,
        as_of=parse_as_of(as_of),
        timezone=settings.timezone,
        compare=compare,
    )
    report = get_report(settings, request)
    check_segment_filter(params, report.names, report.codes)  # behavior's segments come from the data
    write_with(output, renderer.binary, lambda out: renderer.write(report, params, out))
