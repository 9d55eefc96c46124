"""The customer list (`segcli customers`): a terminal preview, CSV, JSON lines or Parquet."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import IO, TYPE_CHECKING

from segcli.engine import jsonout
from segcli.engine.errors import InvalidParameter
from segcli.render import RenderSettings
from segcli.render.csv import safe_text, write_csv

if TYPE_CHECKING:
    import pyarrow

PREVIEW_ROWS = 20
_BATCH_ROWS = 10_000
# Preview columns given up, in this order, when the terminal is too narrow.
_PREVIEW_DROP_ORDER = ("Code", "Days", "Last purchase")
_FACET_TITLES = (("category", "Category"), ("channel", "Channel"), ("season", "Season"))


def _preview_columns(row: dict[str, str | None]) -> dict[str, str]:
    """A row's preview cells by column title: scores and segment, or behavior's segment per facet."""
    cells = {
        "Customer": row["customer_id"] or "",
        "Last purchase": row["last_purchase_date"] or "",
        "Days": row["days_since"] or "",
        "Orders": row["frequency"] or "",
        "Monetary": row["monetary"] or "",
    }
    if "segment_name" in row:
        cells["Scores"] = f"R{row['r']}F{row['f']}M{row['m']}" if row["r"] else ""
        cells["Segment"] = row["segment_name"] or ""
        cells["Code"] = row["segment_code"] or ""
        if "previous_segment_name" in row:
            cells["Before"] = row["previous_segment_name"] or NEW_MARK
            cells["Segment"] = row["segment_name"] or LAPSED_MARK
    for facet, title in _FACET_TITLES:
        if f"{facet}_segment" in row:
            cells[title] = row[f"{facet}_segment"] or ""
            if f"previous_{facet}_segment" in row:
                cells[f"{title} before"] = row[f"previous_{facet}_segment"] or NEW_MARK
                cells[title] = row[f"{facet}_segment"] or LAPSED_MARK
    return cells


_RIGHT = {"Days", "Orders", "Monetary"}
_WRAP = {"Segment", "Before", *(t for _, title in _FACET_TITLES for t in (title, f"{title} before"))}
# How the preview shows a customer without a previous (new) or current (lapsed) segment.
NEW_MARK, LAPSED_MARK = "(new)", "(lapsed)"


def tidy(table: pyarrow.Table) -> pyarrow.Table:
    """The list as written: monetary at 2 decimals when that loses nothing, else at full scale."""
    import pyarrow as pa

    index = table.schema.get_field_index("monetary")
    column = table.column(index)
    if not pa.types.is_decimal(column.type) or column.type.scale <= 2:
        return table
    try:
        cents = column.cast(pa.decimal128(column.type.precision, 2))  # a safe cast fails on any loss
    except pa.ArrowInvalid:
        return table
    return table.set_column(index, "monetary", cents)


def text_rows(table: pyarrow.Table, limit: int | None = None) -> Iterator[list[str | None]]:
    """Rows as text (dates ISO, decimals exact, null as None), batch by batch."""
    import pyarrow as pa

    rows = table if limit is None else table.slice(0, limit)
    for batch in rows.to_batches(max_chunksize=_BATCH_ROWS):
        columns = [batch.column(i).cast(pa.string()).to_pylist() for i in range(batch.num_columns)]
        yield from (list(row) for row in zip(*columns, strict=True))


def write_list_csv(table: pyarrow.Table, out: IO[bytes]) -> None:
    """CSV with a header row, the columns of the list in order; text cells never a formula."""
    import pyarrow as pa

    text = [
        i
        for i, f in enumerate(table.schema)
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]

    def safe(row: list[str | None]) -> list[str | None]:
        for i in text:
            value = row[i]
            if value:
                row[i] = safe_text(value)
        return row

    rows = map(safe, text_rows(table)) if text else text_rows(table)
    write_csv(itertools.chain([list(table.column_names)], rows), out)


def write_jsonl(table: pyarrow.Table, out: IO[bytes]) -> None:
    """One JSON object per line; monetary as an exact number literal."""
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        out.write("".join(jsonout.dumps(row) + "\n" for row in batch.to_pylist()).encode("utf-8"))


def write_json(table: pyarrow.Table, out: IO[bytes]) -> None:
    """One JSON array of objects (the rows of write_jsonl), written batch by batch."""
    first = True
    out.write(b"[")
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        for row in batch.to_pylist():
            out.write(("\n" if first else ",\n").encode("utf-8") + jsonout.dumps(row).encode("utf-8"))
            first = False
    out.write(b"\n]\n" if not first else b"]\n")


def write_parquet(table: pyarrow.Table, out: IO[bytes]) -> None:
    """Parquet with the list's types (monetary stays a decimal)."""
    import pyarrow.parquet as pq

    pq.write_table(table, out)


def write_preview(table: pyarrow.Table, out: IO[bytes], width: int | None = 120) -> None:
    """A rich table of the first rows and the total count; columns fit `width` (None: the terminal's)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from segcli.render.plain import clean

    names = table.column_names
    rows = [
        {title: clean(value) for title, value in _preview_columns(dict(zip(names, row, strict=True))).items()}
        for row in text_rows(table, PREVIEW_ROWS)
    ]
    titles = list(_preview_columns(dict.fromkeys(names, "")) if not rows else rows[0])
    total = table.num_rows
    if total > PREVIEW_ROWS:
        note = f"First {PREVIEW_ROWS} of {total:,} customers; all of them: --format csv|jsonl|parquet"
    else:
        note = f"{total:,} customer{'' if total == 1 else 's'}"
    text = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    try:
        console = Console(file=text, highlight=False, width=width)

        def needed(columns: list[str]) -> int:  # cells, 2 of padding and 1 of rule each
            return sum(max([len(c), *(len(r[c]) for r in rows)]) + 3 for c in columns) + 1

        for title in (t for t in _PREVIEW_DROP_ORDER if t in titles):
            if needed(titles) <= console.width:
                break
            titles.remove(title)
        grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        for title in titles:
            grid.add_column(title, justify="right" if title in _RIGHT else "left", no_wrap=title not in _WRAP)
        for row in rows:
            grid.add_row(*(Text(row[title]) for title in titles))
        if rows:
            console.print(grid)
        console.print(note, style="dim")
    finally:
        text.detach()


@dataclass(frozen=True)
class ListWriter:
    """How one format writes the customer list."""

    binary: bool
    media_type: str
    extension: str
    write: Callable[[pyarrow.Table, IO[bytes]], None]

    def sized(self, settings: RenderSettings) -> ListWriter:
        """This writer, with the width a terminal preview needs."""
        if self.write is write_preview:
            return replace(self, write=partial(write_preview, width=settings.width))
        return self


LIST_WRITERS: dict[str, ListWriter] = {
    "table": ListWriter(False, "text/plain", "txt", write_preview),
    "csv": ListWriter(False, "text/csv", "csv", write_list_csv),
    "jsonl": ListWriter(False, "application/x-ndjson", "jsonl", write_jsonl),
    "json": ListWriter(False, "application/json", "json", write_json),
    "parquet": ListWriter(True, "application/vnd.apache.parquet", "parquet", write_parquet),
}


def get_list_writer(name: str, settings: RenderSettings = RenderSettings()) -> ListWriter:
    """The writer of a customer-list format, or the invalid-format error."""
    writer = LIST_WRITERS.get(name)
    if writer is None:
        raise InvalidParameter(f"Invalid format. Must be one of: {', '.join(LIST_WRITERS)}")
    return writer.sized(settings)
