"""The customer list (`segcli customers`): a terminal preview, CSV, JSON lines or Parquet."""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from segcli.engine import jsonout
from segcli.engine.errors import InvalidParameter
from segcli.render.csv import write_csv

if TYPE_CHECKING:
    import pyarrow

PREVIEW_ROWS = 20
_BATCH_ROWS = 10_000
_PREVIEW_HEADINGS = {
    "customer_id": ("Customer", "left"),
    "last_purchase_date": ("Last purchase", "left"),
    "days_since": ("Days since", "right"),
    "frequency": ("Orders", "right"),
    "monetary": ("Monetary", "right"),
    "r": ("R", "right"),
    "f": ("F", "right"),
    "m": ("M", "right"),
    "segment_name": ("Segment", "left"),
    "segment_code": ("Code", "left"),
}


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
    """CSV with a header row, the columns of the list in order."""
    write_csv(itertools.chain([list(table.column_names)], text_rows(table)), out)


def write_jsonl(table: pyarrow.Table, out: IO[bytes]) -> None:
    """One JSON object per line; monetary as an exact number literal."""
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        out.write("".join(jsonout.dumps(row) + "\n" for row in batch.to_pylist()).encode("utf-8"))


def write_parquet(table: pyarrow.Table, out: IO[bytes]) -> None:
    """Parquet with the list's types (monetary stays a decimal)."""
    import pyarrow.parquet as pq

    pq.write_table(table, out)


def write_preview(table: pyarrow.Table, out: IO[bytes]) -> None:
    """A rich table of the first rows and the total count."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for name in table.column_names:
        title, justify = _PREVIEW_HEADINGS.get(name, (name, "left"))
        grid.add_column(title, justify=justify, no_wrap=name != "segment_name")
    for row in text_rows(table, PREVIEW_ROWS):
        grid.add_row(*("" if value is None else value for value in row))
    total = table.num_rows
    if total > PREVIEW_ROWS:
        note = (
            f"First {PREVIEW_ROWS} of {total:,} customers. "
            "For the whole list: --format csv|jsonl|parquet --output FILE"
        )
    else:
        note = f"{total:,} customer{'' if total == 1 else 's'}"
    text = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    try:
        width = None if out.isatty() else int(os.environ.get("COLUMNS") or 120)
        console = Console(file=text, highlight=False, width=width)
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


LIST_WRITERS: dict[str, ListWriter] = {
    "table": ListWriter(False, "text/plain", "txt", write_preview),
    "csv": ListWriter(False, "text/csv", "csv", write_list_csv),
    "jsonl": ListWriter(False, "application/x-ndjson", "jsonl", write_jsonl),
    "parquet": ListWriter(True, "application/vnd.apache.parquet", "parquet", write_parquet),
}


def get_list_writer(name: str) -> ListWriter:
    """The writer of a customer-list format, or the invalid-format error."""
    writer = LIST_WRITERS.get(name)
    if writer is None:
        raise InvalidParameter(f"Invalid format. Must be one of: {', '.join(LIST_WRITERS)}")
    return writer
