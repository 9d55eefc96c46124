"""`segcli segment`: the segmentation report."""

from __future__ import annotations

import sys

from segcli.commands.common import check_output, pick_format, render_settings, write_with
from segcli.commands.groups import CacheOptions, OutputOptions, ReportOptions, option_groups
from segcli.commands.options import CompareOpt, RefreshOpt
from segcli.commands.progress import Progress
from segcli.engine.errors import StrictWarnings
from segcli.engine.params import check_segment_filter
from segcli.render import format_names, get_renderer


@option_groups
def segment(
    *,
    options: ReportOptions,
    out: OutputOptions,
    cache: CacheOptions,
    refresh: RefreshOpt = False,
    compare: CompareOpt = False,
) -> None:
    """Segment customers and print the report (RFM by default)."""
    from segcli.engine.cache import open_cache
    from segcli.engine.service import get_report

    settings = options.settings(**cache.values(refresh), **out.values())
    params, request = options.request(settings, compare)
    output = out.output
    renderer = get_renderer(pick_format(out.fmt, output, formats=format_names()), render_settings(output))
    check_output(output, renderer.binary)
    with Progress("Segmenting customers…"), open_cache(settings) as reports:
        report = get_report(settings, request, cache=reports)
    check_segment_filter(params, report.names, report.codes)  # behavior's segments come from the data
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.warnings and settings.strict:
        count = len(report.warnings)
        what = "1 warning" if count == 1 else f"{count} warnings"
        raise StrictWarnings(f"--strict: the report has {what}; nothing written")
    write_with(output, renderer.binary, lambda stream: renderer.write(report, params, stream))
