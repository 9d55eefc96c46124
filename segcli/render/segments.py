"""The segment table in use (`segcli segments`): a terminal table, JSON or CSV."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO

from segcli.engine import jsonout
from segcli.engine.catalog import Catalog
from segcli.engine.errors import InvalidParameter
from segcli.render.csv import ACTION_SEPARATOR, write_csv

CSV_COLUMNS = (
    "segment_name",
    "segment_code",
    "rule",
    "description",
    "recommended_actions",
    "role",
    "priority",
)
_ROLE_LABELS = {"fastest_growing": "fastest growing", "needs_attention": "needs attention"}


def write_json(catalog: Catalog, out: IO[bytes]) -> None:
    """The catalog as one JSON object (method, table, segments, notes)."""
    out.write((jsonout.dumps(catalog.to_dict()) + "\n").encode("utf-8"))


def write_catalog_csv(catalog: Catalog, out: IO[bytes]) -> None:
    """One row per segment; actions joined with "; "; `facet` last for behavior."""
    columns = [*CSV_COLUMNS, "facet"] if catalog.faceted else list(CSV_COLUMNS)
    rows = [columns]
    for entry in catalog.entries:
        body = entry.to_dict()
        body["recommended_actions"] = ACTION_SEPARATOR.join(entry.recommended_actions)
        rows.append(["" if body.get(c) is None else str(body[c]) for c in columns])
    write_csv(rows, out)


def _role(role: str | None, priority: int) -> str:
    if role is None:
        return ""
    label = _ROLE_LABELS.get(role, role)
    return f"{label} ({priority})" if priority else label


def write_table(catalog: Catalog, out: IO[bytes], width: int | None = 120) -> None:
    """A rich table (segment, code, rule, insight role, description), each segment's actions below, then notes."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    text = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    try:
        console = Console(file=text, highlight=False, width=width)
        origin = "segcli's default table" if catalog.origin == "default" else catalog.origin
        console.print(Text.assemble((f"Segments of {catalog.method}", "bold"), f" ({origin})"))
        grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        roles = any(e.role for e in catalog.entries)
        columns = [*(["Facet"] if catalog.faceted else []), "Segment", "Code", "Rule"]
        columns += [*(["Insight role"] if roles else []), "Description"]
        rule_width = min(16, max((len(e.rule) for e in catalog.entries), default=4))  # rfm's rules stay whole
        for title in columns:
            grid.add_column(
                title,
                no_wrap=title in ("Facet", "Code"),
                min_width=rule_width if title == "Rule" else None,
                ratio=2 if title == "Description" else None,
            )
        for entry in catalog.entries:
            cells = [
                *([entry.facet or ""] if catalog.faceted else []),
                entry.segment_name,
                entry.segment_code,
            ]
            cells += [entry.rule, *([_role(entry.role, entry.priority)] if roles else []), entry.description]
            grid.add_row(*(Text(c) for c in cells))
        console.print(grid)
        console.print(Text("Recommended actions", style="bold"))
        for entry in catalog.entries:
            line = Text.assemble(
                (entry.segment_name, "bold"), ": ", ACTION_SEPARATOR.join(entry.recommended_actions)
            )
            console.print(line)
        console.print()
        for note in catalog.notes:
            console.print(Text(note, style="dim"))
    finally:
        text.detach()


CATALOG_WRITERS: dict[str, Callable[[Catalog, IO[bytes]], None]] = {
    "table": write_table,
    "json": write_json,
    "csv": write_catalog_csv,
}


def get_catalog_writer(name: str) -> Callable[[Catalog, IO[bytes]], None]:
    """The writer of a `segcli segments` format, or the invalid-format error."""
    writer = CATALOG_WRITERS.get(name)
    if writer is None:
        raise InvalidParameter(f"Invalid format. Must be one of: {', '.join(CATALOG_WRITERS)}")
    return writer
