"""Pieces every reporting command shares: settings, as-of date, format choice, output."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segcli.engine.atomic import atomic_write
from segcli.engine.errors import InvalidParameter
from segcli.engine.params import ReportParams, validate_params
from segcli.engine.settings import Settings, load_settings, parse_map
from segcli.render import RenderSettings

if TYPE_CHECKING:
    from segcli.engine.compute import ReportRequest

_SUFFIX_FORMATS = {
    ".json": "json",
    ".csv": "csv",
    ".pdf": "pdf",
    ".txt": "table",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}


def resolve_settings(config: str | None, map_pairs: list[str] | None, **values: Any) -> Settings:
    """Settings from the command line (and SEGCLI_* variables) over the config file."""
    return load_settings(config, columns=parse_map(map_pairs or []), **values)


def resolve_report(
    settings: Settings,
    *,
    method: str | None,
    days: str | None,
    storefront_id: str | None,
    segment_name: str | None,
    segment_code: str | None,
    as_of: str | None,
    compare: bool = False,
) -> tuple[ReportParams, ReportRequest]:
    """The validated parameters (the API's messages) and the engine request of a report command."""
    from segcli.engine.compute import ReportRequest

    params = validate_params(
        segmentation_method=method,
        days=days,
        storefront_id=storefront_id,
        segment_name=segment_name,
        segment_code=segment_code,
        tables=settings.tables,
    )
    request = ReportRequest.from_params(
        params,
        business_id=settings.business_id,
        as_of=parse_as_of(as_of),
        timezone=settings.timezone,
        compare=compare,
    )
    return params, request


def parse_as_of(value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidParameter("Invalid as_of. Must be a date YYYY-MM-DD") from None


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def render_settings(output: str | None, environ: Mapping[str, str] | None = None) -> RenderSettings:
    """What renderers need, resolved once from the environment and where the output goes."""
    to_terminal = (output is None or output == "-") and stdout_is_terminal()
    return RenderSettings.from_environ(os.environ if environ is None else environ, to_terminal)


def pick_format(
    fmt: str | None,
    output: str | None,
    default_terminal: str = "table",
    default_pipe: str = "json",
    formats: Collection[str] | None = None,
) -> str:
    """--format, else the output file's suffix (an unknown one is an error), else for stdout a table
    on a terminal and `default_pipe` in a pipe. `formats`: the command's format names (None: any)."""
    if fmt:
        return fmt.lower()
    if output is None or output == "-":
        return default_terminal if stdout_is_terminal() else default_pipe
    known = {k: v for k, v in _SUFFIX_FORMATS.items() if formats is None or v in formats}
    suffix = Path(output).suffix.lower()
    if suffix in known:
        return known[suffix]
    what = f"unknown suffix '{suffix}'" if suffix else "no suffix"
    raise InvalidParameter(
        f"Invalid output: {output} has {what}. Must end in one of: {', '.join(known)}",
        cli_hint="or give --format",
    )


def check_output(output: str | None, binary: bool) -> None:
    """Refuse an output that cannot be written, before any work is done."""
    if output is None or output == "-":
        if binary and output is None and stdout_is_terminal():
            raise InvalidParameter(
                "Refusing to write a binary PDF to the terminal; use --output FILE (or '-')"
            )
        return
    folder = Path(output).parent
    if str(folder) and not folder.is_dir():
        raise InvalidParameter(f"Invalid output: folder {folder} does not exist")


def open_output(output: str | None, binary: bool) -> Any:
    """A context manager yielding the binary stream to write: stdout or an atomic file."""
    check_output(output, binary)
    if output is None or output == "-":
        return contextlib.nullcontext(sys.stdout.buffer)
    return atomic_write(output)


def write_with(output: str | None, binary: bool, writer: Any) -> None:
    """Call writer(stream) on the chosen output, flushing stdout afterwards."""
    with open_output(output, binary) as out:
        writer(out)
        if out is sys.stdout.buffer:
            out.flush()


def cache_values(
    no_cache: bool, refresh: bool, cache_dir: str | None, cache_ttl: int | None
) -> dict[str, Any]:
    """Settings values from the cache options (None where an option was not given)."""
    return {
        "use_cache": False if no_cache else None,
        "refresh": True if refresh else None,
        "cache_dir": cache_dir,
        "cache_ttl": cache_ttl,
    }
