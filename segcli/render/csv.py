"""CSV: one row per shown segment, columns in SPEC order, actions joined with "; ".

When the report's currency is known, a last `currency` column repeats it on every row (a
comment line would break CSV readers; a file without a known currency is unchanged).

With a comparison (`--compare`) the file is the migration instead: a long table with one row
per cell of each matrix (from_segment, to_segment, customers), "new" and "lapsed" included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from segcli.engine.params import ReportParams
from segcli.engine.report import Report

if TYPE_CHECKING:
    from segcli.engine.comparison import Comparison

COLUMNS = (
    "segment_name",
    "segment_code",
    "description",
    "customer_count",
    "total_revenue",
    "average_order_value",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "avg_days_since_last_purchase",
    "avg_purchase_frequency",
    "avg_total_spend",
    "recommended_actions",
)
ACTION_SEPARATOR = "; "
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet may run as a formula


def safe_text(text: str) -> str:
    """A text cell a spreadsheet shows as text: a leading `'` before a formula's first character."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    """A value as CSV text: decimals as plain digits, None as an empty cell, text never a formula."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return safe_text(value)
    return str(value)


def report_rows(report: Report, params: ReportParams) -> list[list[str]]:
    """The header and one row per shown segment, from the same figures as the JSON body."""
    bodies = report.to_body(params)["data"]["segments"]
    columns = [*COLUMNS, "facet"] if any("facet" in b for b in bodies) else list(COLUMNS)
    if report.currency:  # SPEC's columns stay as they are; the currency, when known, comes last
        columns.append("currency")
    rows = [columns]
    for body in bodies:
        flat = {**body, **body["characteristics"], "currency": report.currency}
        flat["recommended_actions"] = ACTION_SEPARATOR.join(body["recommended_actions"])
        rows.append([cell(flat.get(column)) for column in columns])
    return rows


MIGRATION_COLUMNS = ("from_segment", "to_segment", "customers")


def migration_rows(comparison: Comparison) -> list[list[str]]:
    """The header and every cell of every migration matrix, row by row; `facet` last for behavior."""
    faceted = any(matrix.facet is not None for matrix in comparison.migration)
    rows = [[*MIGRATION_COLUMNS, "facet"] if faceted else list(MIGRATION_COLUMNS)]
    for matrix in comparison.migration:
        for row in matrix.rows:
            for to, customers in zip(matrix.columns, row.customers, strict=True):
                cells = [safe_text(row.from_segment), safe_text(to), str(customers)]
                rows.append([*cells, cell(matrix.facet)] if faceted else cells)
    return rows


def write_csv(rows: Iterable[Sequence[str | None]], out: IO[bytes]) -> None:
    """Write rows as UTF-8 CSV (no BOM, LF line ends, quoting only where needed)."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        csv.writer(text, lineterminator="\n").writerows(rows)
    finally:
        text.detach()


class CsvRenderer:
    binary = False
    media_type = "text/csv"
    extension = "csv"

    def write(self, report: Report, params: ReportParams, out: IO[bytes]) -> None:
        comparison = report.shown_comparison(params)
        write_csv(report_rows(report, params) if comparison is None else migration_rows(comparison), out)
