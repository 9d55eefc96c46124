"""`segcli customers`: one row per customer in scope, the list a marketer acts on."""

from __future__ import annotations

from segcli.commands.common import check_output, pick_format, render_settings, write_with
from segcli.commands.groups import ReportOptions, option_groups
from segcli.commands.options import ListFormatOpt, OutputOpt
from segcli.commands.progress import Progress
from segcli.engine.errors import InvalidParameter
from segcli.render.customers import get_list_writer


@option_groups
def customers(
    *,
    options: ReportOptions,
    fmt: ListFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """List the customers in scope with their figures, scores and segment."""
    from segcli.engine.service import customer_table
    from segcli.render.customers import tidy

    settings = options.settings()
    params, request = options.request(settings)
    name = pick_format(fmt, output, default_pipe="csv")
    writer = get_list_writer(name, render_settings(output))
    if name == "parquet" and output is None:
        raise InvalidParameter(
            "Refusing to write Parquet to stdout without --output; use --output FILE (or '-')"
        )
    if settings.engine == "spark" and name == "parquet" and output not in (None, "-"):
        from segcli.engine.spark.customers import write_customer_parquet

        with Progress("Scoring customers…"):  # the executors write a Parquet directory (a path or URL)
            write_customer_parquet(settings, request, params, output)
        return
    check_output(output, writer.binary)
    with Progress("Scoring customers…"):
        table = tidy(customer_table(settings, request, params))
    write_with(output, writer.binary, lambda out: writer.write(table, out))
