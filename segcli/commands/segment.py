"""`segcli segment`: the segmentation report."""

from __future__ import annotations

from segcli.commands.common import (
    cache_values,
    check_output,
    pick_format,
    resolve_report,
    resolve_settings,
    write_with,
)
from segcli.commands.options import (
    AsOfOpt,
    BusinessOpt,
    CacheDirOpt,
    CacheTtlOpt,
    CompareOpt,
    ConfigOpt,
    DaysOpt,
    EngineOpt,
    FormatOpt,
    ItemsOpt,
    ItemsTableOpt,
    MapOpt,
    MethodOpt,
    NoCacheOpt,
    OutputOpt,
    RefreshOpt,
    SalesTableOpt,
    SegmentCodeOpt,
    SegmentNameOpt,
    SourceOpt,
    SparkMasterOpt,
    SparkRemoteOpt,
    StorefrontOpt,
    TimezoneOpt,
)
from segcli.commands.progress import Progress
from segcli.engine.params import check_segment_filter
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
    sales_table: SalesTableOpt = None,
    items_table: ItemsTableOpt = None,
    config: ConfigOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    spark_remote: SparkRemoteOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    cache_dir: CacheDirOpt = None,
    cache_ttl: CacheTtlOpt = None,
    compare: CompareOpt = False,
) -> None:
    """Segment customers and print the report (RFM by default)."""
    from segcli.engine.cache import open_cache
    from segcli.engine.service import get_report

    settings = resolve_settings(
        config,
        map_pairs,
        source=source,
        items=items,
        business_id=business_id,
        timezone=timezone,
        **cache_values(no_cache, refresh, cache_dir, cache_ttl),
        sales_table=sales_table,
        items_table=items_table,
        engine=engine,
        spark_master=spark_master,
        spark_remote=spark_remote,
    )
    params, request = resolve_report(
        settings,
        method=method,
        days=days,
        storefront_id=storefront_id,
        segment_name=segment_name,
        segment_code=segment_code,
        as_of=as_of,
        compare=compare,
    )
    renderer = get_renderer(pick_format(fmt, output))
    check_output(output, renderer.binary)
    with Progress("Segmenting customers…"), open_cache(settings) as cache:
        report = get_report(settings, request, cache=cache)
    check_segment_filter(params, report.names, report.codes)  # behavior's segments come from the data
    write_with(output, renderer.binary, lambda out: renderer.write(report, params, out))
