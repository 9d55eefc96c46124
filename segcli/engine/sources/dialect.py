"""CSV dialects of real exports: delimiter, decimal separator, encoding, date format, in one object."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any

from segcli.engine.errors import InvalidParameter

# encodings DuckDB's CSV reader decodes itself (codec name -> DuckDB's name); others are transcoded
NATIVE_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "iso8859-1": "latin-1"}
_DATE_CODES = set("aAbBcdfgGHIjmMpSuUVwWxXyYzZ%")


@dataclass(frozen=True)
class CsvDialect:
    """How CSV files are read; every read_csv option segcli adds comes from here (and keys caches)."""

    delimiter: str | None = None  # None: sniffed
    decimal: str = "."
    encoding: str = "utf-8"
    date_format: str | None = None  # strftime codes; None: ISO 8601, YYYYMMDD, or inferred

    def __post_init__(self) -> None:
        if self.delimiter in ("\\t", "tab", "TAB"):
            object.__setattr__(self, "delimiter", "\t")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise InvalidParameter(f"Invalid delimiter {self.delimiter!r}. Must be one character (e.g. ';')")
        if self.decimal not in (".", ","):
            raise InvalidParameter(f"Invalid decimal separator {self.decimal!r}. Must be '.' or ','")
        if self.delimiter is not None and self.delimiter == self.decimal:
            raise InvalidParameter("The delimiter and the decimal separator must differ")
        object.__setattr__(self, "encoding", codec_name(self.encoding))
        if self.date_format is not None:
            check_date_format(self.date_format)

    @property
    def native(self) -> bool:
        """Whether DuckDB decodes the encoding itself (else files are transcoded to UTF-8 first)."""
        return self.encoding in NATIVE_ENCODINGS

    def read_options(self, transcoded: bool = False) -> dict[str, Any]:
        """The read_csv named parameters (bound as `$csv_<name>`) for this dialect."""
        options: dict[str, Any] = {}
        if self.delimiter is not None:
            options["delim"] = self.delimiter
        if self.decimal != ".":
            options["decimal_separator"] = self.decimal
        if not transcoded and self.encoding != "utf-8":
            options["encoding"] = NATIVE_ENCODINGS[self.encoding]
        return options

    def key(self) -> list[Any]:
        return [self.delimiter, self.decimal, self.encoding, self.date_format]


def codec_name(name: str) -> str:
    """Python's name of an encoding, or InvalidParameter."""
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        raise InvalidParameter(
            f"Invalid encoding '{name}'. Must be an encoding Python knows, e.g. utf-8, utf-16, latin-1, cp1252"
        ) from None


def check_date_format(fmt: str) -> str:
    """A strftime format with at least a year, a month and a day, or InvalidParameter."""
    codes = re.findall(r"%(.)", fmt)
    bad = [c for c in codes if c not in _DATE_CODES]
    has_day = {"d", "j"} & set(codes) or ({"U", "W", "V"} & set(codes) and {"a", "A", "u", "w"} & set(codes))
    if bad or not ({"Y", "y", "G"} & set(codes)) or not has_day or (not {"m", "b", "B", "j"} & set(codes)):
        raise InvalidParameter(
            f"Invalid date format '{fmt}'. Must be strftime codes with a year, month and day, "
            "e.g. %d.%m.%Y or %m/%d/%Y"
        )
    return fmt


DAY_MONTH_RE = r"^\s*([0-9]{1,2})[-./ ]([0-9]{1,2})[-./ ][0-9]{2,4}"


def day_month_order(fmt: str | None) -> tuple[str, str] | None:
    """('%d', '%m') or ('%m', '%d') when a sniffed format starts with a numeric day and month."""
    if not fmt:
        return None
    match = re.match(r"^%([dm])[-./ ]%([dm])[-./ ]%[Yy]", fmt)
    if match is None or match.group(1) == match.group(2):
        return None
    return (f"%{match.group(1)}", f"%{match.group(2)}")


def date_hint(value: str, date_format: str | None) -> str:
    """A hint for a text value that is not a date: the format it was read with, or one to give."""
    if date_format is not None:
        return f" (read as {date_format})"
    if re.match(DAY_MONTH_RE, value):
        return "; give --date-format, e.g. %d/%m/%Y or %m/%d/%Y"
    return ""
