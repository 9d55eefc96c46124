"""`segcli cache info|clear`: look at and empty the report cache."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from segcli.commands.common import resolve_settings
from segcli.commands.options import CacheDirOpt, CacheTtlOpt, ConfigOpt
from segcli.engine.errors import InvalidParameter

InfoFormatOpt = Annotated[
    str,
    typer.Option("--format", "-f", help="Output format: text or json."),
]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit} ({n:,} bytes)"
        value /= 1024
    raise AssertionError("unreachable")


def info(
    cache_dir: CacheDirOpt = None,
    cache_ttl: CacheTtlOpt = None,
    config: ConfigOpt = None,
    fmt: InfoFormatOpt = "text",
) -> None:
    """Show the report cache: folder, entries, size on disk, hits and misses."""
    from segcli.engine import jsonout
    from segcli.engine.cache import cache_for
    from segcli.engine.sources.columnar import store_for

    if fmt not in ("text", "json"):
        raise InvalidParameter("Invalid format. Must be one of: text, json")
    settings = resolve_settings(config, None, cache_dir=cache_dir, cache_ttl=cache_ttl)
    state = cache_for(settings).info()
    copies = store_for(settings.resolved_cache_dir, settings.cache_max_size).info()
    if fmt == "json":
        columnar = {"columnar_copies": copies.copies, "columnar_bytes": copies.size_bytes}
        print(jsonout.dumps({**state.to_dict(), **columnar, "columnar_max_bytes": settings.cache_max_size}))
        return
    lines = [
        f"folder:  {state.directory}",
        f"entries: {state.entries}",
        f"size:    {_size(state.size_bytes)}",
        f"hits:    {state.hits}",
        f"misses:  {state.misses}",
        f"ttl:     {state.ttl} s",
        f"copies:  {copies.copies} parsed CSV, {_size(copies.size_bytes)}",
    ]
    if state.problem is not None:
        lines.append(f"problem: cannot read the cache ({state.problem})")
    print("\n".join(lines))


def clear(cache_dir: CacheDirOpt = None, config: ConfigOpt = None) -> None:
    """Remove every cached report (and the hit/miss counts) and the parsed copies of CSV files."""
    from segcli.engine.cache import cache_for
    from segcli.engine.sources.columnar import store_for

    settings = resolve_settings(config, None, cache_dir=cache_dir)
    cache = cache_for(settings)
    result = cache.clear()
    if result.problem is not None:
        print(f"removed the corrupt cache database in {cache.directory} ({result.problem})", file=sys.stderr)
    noun = "report" if result.removed == 1 else "reports"
    copies = store_for(settings.resolved_cache_dir, settings.cache_max_size).clear()
    print(f"cleared {result.removed} cached {noun} from {cache.directory}")
    if copies:
        print(
            f"cleared {copies} parsed CSV {'copy' if copies == 1 else 'copies'} from {cache.directory / 'columnar'}"
        )
