"""`segcli customers`: one row per customer in scope, the list a marketer acts on."""

from __future__ import annotations

from dataclasses import dataclass

from segcli.commands.common import check_output, pick_format, render_settings, write_with
from segcli.commands.groups import CacheOptions, OptionGroup, ReportOptions, option_groups
from segcli.commands.options import (
    ListCompareOpt,
    ListFormatOpt,
    MovedFromOpt,
    MovedToOpt,
    OutputOpt,
    RefreshOpt,
)
from segcli.commands.progress import Progress
from segcli.engine.errors import InvalidParameter
from segcli.render.customers import LIST_WRITERS, get_list_writer


@dataclass(frozen=True)
class MoveOptions(OptionGroup):
    """Who moved: the previous window's segment, and filters on the move."""

    compare: ListCompareOpt = False
    moved_from: MovedFromOpt = None
    moved_to: MovedToOpt = None


@option_groups
def customers(
    *,
    options: ReportOptions,
    fmt: ListFormatOpt = None,
    output: OutputOpt = None,
    moves: MoveOptions,
    cache: CacheOptions,
    refresh: RefreshOpt = False,
) -> None:
    """List the customers in scope with their figures, scores and segment (with --compare: the previous one)."""
    from segcli.engine.cache import check_ttl
    from segcli.engine.service import customer_table
    from segcli.render.customers import tidy

    # the list is computed afresh each time; the cache options are those of `segment`, checked alike
    settings = options.settings(**cache.values(refresh))
    check_ttl(settings.cache_ttl)
    params, request = options.request(settings, moves.compare)
    name = pick_format(fmt, output, default_pipe="csv", formats=LIST_WRITERS)
    writer = get_list_writer(name, render_settings(output))
    if name == "parquet" and output is None:
        raise InvalidParameter(
            "Refusing to write Parquet to stdout without --output; use --output FILE (or '-')"
        )
    if settings.engine == "spark" and name == "parquet" and output not in (None, "-"):
        from segcli.engine.spark.customers import write_customer_parquet

        with Progress("Scoring customers…"):  # the executors write a Parquet directory (a path or URL)
            write_customer_parquet(
                settings,
                request,
                params,
                output,
                moved_from=moves.moved_from or None,
                moved_to=moves.moved_to or None,
            )
        return
    check_output(output, writer.binary)
    with Progress("Scoring customers…"):
        table = customer_table(
            settings,
            request,
            params,
            moved_from=moves.moved_from or None,
            moved_to=moves.moved_to or None,
        )
    write_with(output, writer.binary, lambda out: writer.write(tidy(table), out))
