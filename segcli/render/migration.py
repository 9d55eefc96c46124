"""The migration matrix as a long table, for `--format csv --compare` (and any file export)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO

from segcli.engine.errors import InvalidParameter
from segcli.engine.report import Report


def migration_rows(report: Report) -> Iterator[tuple[str | None, str, str, int]]:
    """(facet, from_segment, to_segment, customers) for every cell of every matrix, row by row."""
    if report.comparison is None:
        raise InvalidParameter("The migration table needs a comparison (--compare)")
    for matrix in report.comparison["migration"]:
        for row in matrix["rows"]:
            for to, customers in zip(matrix["columns"], row["customers"], strict=True):
                yield matrix["facet"], row["from_segment"], to, customers


def write_migration_csv(report: Report, out: IO[bytes]) -> None:
    """from_segment,to_segment,customers (facet first for behavior), "new" and "lapsed" included."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    rows = list(migration_rows(report))
    faceted = any(facet is not None for facet, *_ in rows)
    writer.writerow((["facet"] if faceted else []) + ["from_segment", "to_segment", "customers"])
    for facet, source, target, customers in rows:
        writer.writerow(([facet] if faceted else []) + [source, target, customers])
    out.write(text.getvalue().encode("utf-8"))
