"""Option declarations shared by the commands (declared once, reused everywhere)."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from segcli.engine.errors import SegcliError
from segcli.engine.methods import method_names
from segcli.render import format_names
from segcli.render.customers import LIST_WRITERS

SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        "-s",
        help="Sales: a CSV/Parquet path or glob, a .duckdb warehouse, or a postgresql:// URL.",
        envvar="SEGCLI_SOURCE",
        show_default=False,
    ),
]
ItemsOpt = Annotated[
    str | None,
    typer.Option(
        "--items",
        help="Sale items file (CSV/Parquet), needed by --method behavior.",
        envvar="SEGCLI_ITEMS",
    ),
]
BusinessOpt = Annotated[
    int | None,
    typer.Option(
        "--business-id",
        help="Business to report on; also the business of every row when the data has no business_id column. \\[default: 1]",
        envvar="SEGCLI_BUSINESS_ID",
        show_default=False,
    ),
]
MethodOpt = Annotated[
    str | None,
    typer.Option(
        "--method",
        "-m",
        help=f"Segmentation method: {', '.join(method_names()[:-1])} or {method_names()[-1]}. \\[default: rfm]",
        show_default=False,
        autocompletion=method_names,
    ),
]
DaysOpt = Annotated[
    str | None,
    typer.Option(
        "--days",
        "-d",
        help="Window length in days, 1..9999, ending on the as-of date. \\[default: 90]",
        show_default=False,
    ),
]
StorefrontOpt = Annotated[
    str | None,
    typer.Option("--storefront-id", help="Only sales of this storefront.", show_default=False),
]
SegmentNameOpt = Annotated[
    str | None,
    typer.Option("--segment-name", help="Show only this segment (by name).", show_default=False),
]
SegmentCodeOpt = Annotated[
    str | None,
    typer.Option("--segment-code", help="Show only this segment (by code).", show_default=False),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Report date YYYY-MM-DD (the window's last day). \\[default: today in --timezone]",
        envvar="SEGCLI_AS_OF",
        show_default=False,
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        "--tz",
        help="IANA time zone whose local dates the report uses. \\[default: UTC]",
        envvar="SEGCLI_TIMEZONE",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="Config file. \\[default: ./segcli.toml, else the user config folder's segcli.toml]",
        envvar="SEGCLI_CONFIG",
        show_default=False,
    ),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Rename a source column to a canonical one: SOURCE=CANONICAL (repeatable).",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file (atomically); its suffix gives the format unless --format is given "
        "(an unknown suffix is an error); '-' for stdout.",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help=f"Output format: {', '.join(format_names())}. "
        "\\[default: the --output file's suffix; for stdout, table on a terminal, else json]",
        show_default=False,
        autocompletion=format_names,
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Compute the report without reading or writing the report cache.",
        envvar="SEGCLI_NO_CACHE",
    ),
]
RefreshOpt = Annotated[
    bool,
    typer.Option("--refresh", help="Compute the report and overwrite its cached copy."),
]
CacheDirOpt = Annotated[
    str | None,
    typer.Option(
        "--cache-dir",
        help="Report cache folder. \\[default: the user cache folder, e.g. ~/.cache/segcli]",
        envvar="SEGCLI_CACHE_DIR",
        show_default=False,
    ),
]
CacheTtlOpt = Annotated[
    int | None,
    typer.Option(
        "--cache-ttl",
        help="Serve a cached report only while it is younger than this many seconds. \\[default: 600]",
        envvar="SEGCLI_CACHE_TTL",
        show_default=False,
    ),
]
CacheMaxSizeOpt = Annotated[
    str | None,
    typer.Option(
        "--cache-max-size",
        help="Most bytes the parsed copies of CSV files may take in the cache folder (least recently used "
        "go first), e.g. 2GB or 500MB; 0 reads every CSV directly. \\[default: 2GB]",
        envvar="SEGCLI_CACHE_MAX_SIZE",
        show_default=False,
    ),
]
ListFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help=f"Output format: {', '.join(LIST_WRITERS)}. \\[default: table on a terminal, else csv]",
        show_default=False,
        autocompletion=lambda: list(LIST_WRITERS),
    ),
]
TokensFileOpt = Annotated[
    str | None,
    typer.Option(
        "--tokens-file",
        help="The API token file. \\[default: tokens.json in the user config folder]",
        envvar="SEGCLI_TOKENS_FILE",
        show_default=False,
    ),
]
SalesTableOpt = Annotated[
    str | None,
    typer.Option(
        "--sales-table",
        help="PostgreSQL table (or view) of sales, schema-qualified if needed. \\[default: sales]",
        envvar="SEGCLI_SALES_TABLE",
        show_default=False,
    ),
]
ItemsTableOpt = Annotated[
    str | None,
    typer.Option(
        "--items-table",
        help="PostgreSQL table of sale items. \\[default: sale_items]",
        envvar="SEGCLI_ITEMS_TABLE",
        show_default=False,
    ),
]
CompareOpt = Annotated[
    bool,
    typer.Option(
        "--compare",
        help="Compare with the previous window of the same length: change per segment and migration.",
    ),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Engine that computes the report: duckdb (this process) or spark (PySpark or Spark Connect). \\[default: duckdb]",
        envvar="SEGCLI_ENGINE",
        show_default=False,
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="With --engine spark: the Spark master (local[N], spark://HOST:PORT, yarn, k8s://...). \\[default: local[*]]",
        envvar="SEGCLI_SPARK_MASTER",
        show_default=False,
    ),
]
SparkRemoteOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-remote",
        help="With --engine spark: a Spark Connect server, sc://HOST:PORT (instead of --spark-master).",
        envvar="SEGCLI_SPARK_REMOTE",
        show_default=False,
    ),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="CSV field delimiter, e.g. ';' or '\\t' for tab. \\[default: detected]",
        envvar="SEGCLI_DELIMITER",
        show_default=False,
    ),
]
DecimalOpt = Annotated[
    str | None,
    typer.Option(
        "--decimal-separator",
        help="Decimal separator of CSV amounts: '.' or ',' (then '.' may group thousands). \\[default: .]",
        envvar="SEGCLI_DECIMAL_SEPARATOR",
        show_default=False,
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="CSV text encoding: utf-8, utf-16, latin-1, cp1252, ... \\[default: utf-8]",
        envvar="SEGCLI_ENCODING",
        show_default=False,
    ),
]
DateFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--date-format",
        help="strftime format of text dates, e.g. %d.%m.%Y. \\[default: ISO 8601 or YYYYMMDD]",
        envvar="SEGCLI_DATE_FORMAT",
        show_default=False,
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Treat a warning (no sales in scope, an as-of after the last sale or in the future, a storefront "
        "without sales) as an error: exit 1 and write nothing.",
        envvar="SEGCLI_STRICT",
    ),
]
CurrencyOpt = Annotated[
    str | None,
    typer.Option(
        "--currency",
        help="The sales' currency (e.g. EUR), shown with every amount; the data's currency column wins "
        "and must agree.",
        envvar="SEGCLI_CURRENCY",
        show_default=False,
    ),
]
ListCompareOpt = Annotated[
    bool,
    typer.Option(
        "--compare",
        help="Add each customer's segment in the previous window of the same length "
        "(previous_segment_name, previous_segment_code); lapsed customers are listed too.",
    ),
]
MovedFromOpt = Annotated[
    str | None,
    typer.Option(
        "--moved-from",
        help="Only customers whose previous segment was this (name or code; 'new': none). Implies --compare.",
        show_default=False,
    ),
]
MovedToOpt = Annotated[
    str | None,
    typer.Option(
        "--moved-to",
        help="Only customers whose current segment is this (name or code; 'lapsed': none). Implies --compare.",
        show_default=False,
    ),
]

# The option that sets each parameter an error names ("Invalid days. ..."): the command line adds it.
PARAMETER_FLAGS = {
    "segmentation_method": "--method",
    "days": "--days",
    "storefront_id": "--storefront-id",
    "segment_name": "--segment-name",
    "segment_code": "--segment-code",
    "as_of": "--as-of",
    "timezone": "--timezone",
    "format": "--format",
    "output": "--output",
    "compare": "--compare",
    "moved_from": "--moved-from",
    "moved_to": "--moved-to",
    "cache_ttl": "--cache-ttl",
    "customers": "--customers",
    "workers": "--workers",
    "delimiter": "--delimiter",
    "decimal": "--decimal-separator",
    "encoding": "--encoding",
    "date": "--date-format",
    "currency": "--currency",
}
_PARAMETER_RE = re.compile(r"^Invalid (\w+)")


def cli_message(error: SegcliError) -> str:
    """An error as the command line prints it: the API's text, then the flag that fixes it (or the error's hint)."""
    hint = error.cli_hint
    if hint is None:
        match = _PARAMETER_RE.match(error.message)
        hint = PARAMETER_FLAGS.get(match.group(1)) if match else None
    return f"{error.message} ({hint})" if hint else error.message
