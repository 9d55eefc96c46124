"""`segcli segment`: the segmentation report."""

from __future__ import annotations

from segcli.commands.common import check_output, pick_format, render_settings, write_with
from segcli.commands.groups import CacheOptions, ReportOptions, option_groups
from segcli.commands.options import CompareOpt, FormatOpt, OutputOpt, RefreshOpt
from segcli.commands.progress import Progress
from segcli.engine.params import check_segment_filter
from segcli.render import get_renderer


@option_groups
def segment(
    *,
    options: ReportOptions,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    cache: CacheOptions,
    refresh: RefreshOpt = False,
    compare: CompareOpt = False,
) -> None:
    """Segment customers and print the report (RFM by default)."""
    from segcli.engine.cache import open_cache
    from segcli.engine.service import get_report

    settings = options.settings(**cache.values(refresh))
    params, request = options.request(settings, compare)
    renderer = get_renderer(pick_format(fmt, output), render_settings(output))
    check_output(output, renderer.binary)
    with Progress("Segmenting customers…"), open_cache(settings) as reports:
        report = get_report(settings, request, cache=reports)
    check_segment_filter(params, report.names, report.codes)  # behavior's segments come from the data
    write_with(output, renderer.binary, lambda out: renderer.write(report, params, out))
