"""`segcli customers`: one row per customer in scope, the list a marketer acts on."""

from __future__ import annotations

from segcli.commands.common import (
    check_output,
    pick_format,
    resolve_report,
    resolve_settings,
    write_with,
)
from segcli.commands.options import (
    AsOfOpt,
    BusinessOpt,
    ConfigOpt,
    DaysOpt,
    EngineOpt,
    ItemsOpt,
    ItemsTableOpt,
    ListFormatOpt,
    MapOpt,
    MethodOpt,
    OutputOpt,
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
from segcli.engine.errors import InvalidParameter
from segcli.render.customers import get_list_writer


def customers(
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
    fmt: ListFormatOpt = None,
    output: OutputOpt = None,
    map_pairs: MapOpt = None,
    sales_table: SalesTableOpt = None,
    items_table: ItemsTableOpt = None,
    config: ConfigOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    spark_remote: SparkRemoteOpt = None,
) -> None:
    """List the customers in scope with their figures, scores and segment."""
    from segcli.engine.service import customer_table
    from segcli.render.customers import tidy

    settings = resolve_settings(
        config,
        map_pairs,
        source=source,
        items=items,
        business_id=business_id,
        timezone=timezone,
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
    )
    name = pick_format(fmt, output, default_pipe="csv")
    writer = get_list_writer(name)
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
