"""`segcli load`: copy sales (and items) from any source into a DuckDB warehouse file."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from segcli.commands.common import resolve_settings
from segcli.commands.options import (
    BusinessOpt,
    ConfigOpt,
    DateFormatOpt,
    DecimalOpt,
    DelimiterOpt,
    EncodingOpt,
    ItemsOpt,
    ItemsTableOpt,
    MapOpt,
    SalesTableOpt,
)


def load(
    source: Annotated[
        str,
        typer.Argument(
            help="Sales to copy: a CSV/Parquet path or glob, a postgresql:// URL, a .duckdb file."
        ),
    ],
    db: Annotated[str, typer.Option("--db", help="The warehouse file to write (.duckdb).")],
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing warehouse.")] = False,
    append: Annotated[
        bool, typer.Option("--append", help="Add to an existing warehouse (new sale ids only).")
    ] = False,
    items: ItemsOpt = None,
    wait: Annotated[
        float,
        typer.Option("--wait", help="Seconds to wait while another load writes the same warehouse."),
    ] = 600.0,
    business_id: BusinessOpt = None,
    sales_table: SalesTableOpt = None,
    items_table: ItemsTableOpt = None,
    map_pairs: MapOpt = None,
    config: ConfigOpt = None,
    delimiter: DelimiterOpt = None,
    decimal_separator: DecimalOpt = None,
    encoding: EncodingOpt = None,
    date_format: DateFormatOpt = None,
) -> None:
    """Copy sales (and items) into a DuckDB warehouse: validated, sorted, all or nothing."""
    from segcli.commands.progress import Progress
    from segcli.engine.atomic import write_error
    from segcli.engine.service import source_from_settings
    from segcli.engine.sources.warehouse_load import load_warehouse

    settings = resolve_settings(
        config,
        map_pairs,
        source=source,
        items=items,
        business_id=business_id,
        sales_table=sales_table,
        items_table=items_table,
        delimiter=delimiter,
        decimal_separator=decimal_separator,
        encoding=encoding,
        date_format=date_format,
    )
    src = source_from_settings(settings, columnar=False)  # read once: a copy would not pay off
    # a named items table must exist; the default one is copied when it does
    with_items = items_table is not None or src.has_items()
    try:
        with Progress(f"Loading {source} into {db}…") as progress:
            result = load_warehouse(
                src, db, replace=replace, append=append, items=with_items, wait=wait, step=progress.update
            )
    except OSError as exc:
        raise write_error(db, exc) from None
    message = f"loaded {result.sales_rows:,} sales"
    if result.items_rows is not None:
        message += f" and {result.items_rows:,} items"
    message += f" into {db} ({result.total_sales:,} sales"
    if result.total_items is not None:
        message += f", {result.total_items:,} items"
    print(message + " in total)", file=sys.stderr)
