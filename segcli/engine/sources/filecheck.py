"""Checks of each file a path or glob names, before its rows are read: header, columns, dates."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from segcli.engine.errors import DataError
from segcli.engine.schema import Column
from segcli.engine.sources.csvcheck import csv_error, diagnose
from segcli.engine.sources.dialect import DAY_MONTH_RE, CsvDialect, day_month_order
from segcli.engine.sources.plan import TS_NAIVE, TS_TZ, base_type, resolve_columns
from segcli.engine.sources.suggest import missing_message

if TYPE_CHECKING:
    import duckdb

Relation = Callable[[Any, Sequence[str]], tuple[str, dict[str, Any]]]
_DELIMITERS = (",", ";", "\t", "|")


class FileCheck:
    """Per file: readable, a header naming each column once, every required column; one pass over
    headers (a CSV sniff or Parquet metadata per file), no rows read."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        label: str,
        kind: str,
        dialect: CsvDialect,
        mapping: Mapping[str, str],
        columns: Sequence[Column],
    ) -> None:
        self.con, self.label, self.kind, self.dialect = con, label, kind, dialect
        self.mapping, self.columns = mapping, columns
        self.types: dict[str, str] | None = None  # a single CSV file's sniffed column types

    def run(
        self, files: Sequence[str], read_paths: Sequence[str], snap: Any, relation: Relation
    ) -> str | None:
        """Raise DataError for the first bad file; return the date format text dates are read with."""
        if self.kind == "parquet" and len(files) == 1:
            return self.dialect.date_format  # the union's DESCRIBE is this file's
        formats: list[tuple[str, str]] = []  # (sniffed day/month format, raw column)
        for original, path in zip(files, read_paths, strict=True):
            types, date_format = self._header(original, path)
            self.types = types if len(files) == 1 and self.kind == "csv" else None
            label = self.label if len(files) == 1 else original
            if self.kind == "csv":
                self._check_header(original, list(types))
            source_of, missing = resolve_columns(label, types, self.mapping, self.columns)
            if missing:
                problem = diagnose(original, self.dialect) if self.kind == "csv" else None
                raise DataError(problem or missing_message(label, missing, list(types), source_of.values()))
            if date_format and "sale_date" in source_of and day_month_order(date_format):
                formats.append((date_format, source_of["sale_date"]))
        if self.dialect.date_format is not None or not formats:
            return self.dialect.date_format
        return self._decide(*formats[0], relation(snap, [formats[0][1]]))

    def _header(self, original: str, path: str) -> tuple[dict[str, str], str | None]:
        """A file's column types and, for a CSV, the date format the sniffer found for its sale_date."""
        import duckdb

        try:
            if self.kind == "parquet":
                rows = self.con.execute(
                    "DESCRIBE SELECT * FROM read_parquet($file)", {"file": path}
                ).fetchall()
                return {row[0]: row[1] for row in rows}, None
            options = self.dialect.read_options(transcoded=path != original)
            args = "".join(f", {name} = $csv_{name}" for name in options)
            params = {"file": path, **{f"csv_{name}": value for name, value in options.items()}}
            columns, date_fmt, ts_fmt = self.con.execute(
                f"SELECT Columns, DateFormat, TimestampFormat FROM sniff_csv($file{args})", params
            ).fetchall()[0]
        except duckdb.Error as exc:
            problem = diagnose(original, self.dialect) if self.kind == "csv" else None
            raise DataError(
                problem or csv_error(original, exc, self.dialect) or f"{original}: {exc}"
            ) from exc
        types = {c["name"]: c["type"] for c in columns}
        source_of, _ = resolve_columns(original, types, self.mapping, self.columns)
        kind = base_type(types[source_of["sale_date"]]) if "sale_date" in source_of else ""
        fmt = date_fmt if kind == "DATE" else ts_fmt if kind in TS_NAIVE | TS_TZ else None
        return types, fmt

    def _check_header(self, original: str, names: list[str]) -> None:
        """A header DuckDB read as one column (rows of another length) or renamed (a name twice)."""
        ragged = len(names) == 1 and any(d in names[0] for d in _DELIMITERS)
        renamed = any(
            (m := re.fullmatch(r"(.+)_([0-9]+)", name)) is not None and m.group(1) in names for name in names
        )
        if ragged or renamed:
            problem = diagnose(original, self.dialect, rows=ragged)
            if problem:
                raise DataError(problem)

    def _decide(self, fmt: str, column: str, relation: tuple[str, dict[str, Any]]) -> str:
        """Day/month order from the data: a first part over 12 is a day, a second part over 12 too."""
        from segcli.engine.sql import quote_ident

        rel, params = relation
        text = f"trim(CAST({quote_ident(column)} AS VARCHAR))"
        first, second, example = self.con.execute(
            f"SELECT max(TRY_CAST(regexp_extract(d, '{DAY_MONTH_RE}', 1) AS INTEGER)), "
            f"max(TRY_CAST(regexp_extract(d, '{DAY_MONTH_RE}', 2) AS INTEGER)), "
            f"min(d) FILTER (WHERE regexp_matches(d, '{DAY_MONTH_RE}')) FROM (SELECT {text} AS d FROM {rel})",
            params,
        ).fetchall()[0]
        order = day_month_order(fmt)
        assert order is not None
        swapped = fmt.replace(order[0], "\0").replace(order[1], order[0]).replace("\0", order[1])
        day_first, month_first = (fmt, swapped) if order[0] == "%d" else (swapped, fmt)
        if (first or 0) > 12 and (second or 0) > 12:
            raise DataError(
                f"{self.label}: column '{column}' mixes day/month and month/day dates; "
                f"give --date-format {day_first} or {month_first}"
            )
        if (first or 0) > 12:
            return day_first
        if (second or 0) > 12:
            return month_first
        raise DataError(
            f"{self.label}: column '{column}' has dates like '{example}' that could be day/month or "
            f"month/day: give --date-format {day_first} or {month_first}"
        )
