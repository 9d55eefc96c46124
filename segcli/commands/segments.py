"""`segcli segments`: the segment table in use (default, or from segcli.toml / --config)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from segcli.commands.common import pick_format, render_settings, write_with
from segcli.commands.options import ConfigOpt, MethodOpt, OutputOpt

SegmentsFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="Output format: table, json or csv. \\[default: table on a terminal, else json]",
        show_default=False,
    ),
]


def segments(
    method: MethodOpt = None,
    config: ConfigOpt = None,
    fmt: SegmentsFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Show the segment table in use: name, code, rule, description, actions and insight role."""
    from segcli.engine.catalog import catalog
    from segcli.engine.params import validate_params
    from segcli.engine.settings import load_settings
    from segcli.render.segments import get_catalog_writer, write_table

    settings = load_settings(config)
    params = validate_params(segmentation_method=method)
    name = pick_format(fmt, output)
    writer = get_catalog_writer(name)
    if writer is write_table:
        writer = partial(write_table, width=render_settings(output).width)
    shown = catalog(params.method, settings.tables, settings.config_path)
    write_with(output, False, lambda out: writer(shown, out))
