"""CSV files as they really come: transcoding other encodings, and one-line diagnoses of broken files."""

from __future__ import annotations

import codecs
import contextlib
import csv
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator

from segcli.engine.errors import DataError
from segcli.engine.sources.dialect import CsvDialect

CHUNK = 1 << 20  # bytes per read when transcoding or diagnosing: memory stays bounded
_CANDIDATES = (",", ";", "\t", "|")


class Transcoder:
    """UTF-8 copies of files in another encoding, kept while their (size, mtime) hold; removed at exit."""

    def __init__(self) -> None:
        self._dir: str | None = None
        self._copies: dict[tuple[str, int, int], str] = {}
        self._made = 0

    def utf8_copy(self, path: str, encoding: str) -> str:
        """A UTF-8 copy of `path` (decoded from `encoding` in chunks), or a one-line DataError."""
        st = os.stat(path)
        key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
        if key in self._copies and os.path.exists(self._copies[key]):
            return self._copies[key]
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="segcli-csv-")
            weakref.finalize(self, shutil.rmtree, self._dir, True)
        for old in [k for k in self._copies if k[0] == key[0]]:  # an older version of the file
            with contextlib.suppress(OSError):
                os.unlink(self._copies.pop(old))
        self._made += 1
        target = os.path.join(self._dir, f"{self._made}.csv")
        with open(target, "w", encoding="utf-8", newline="") as dst:
            for text in _lines(path, encoding):
                dst.write(text)
        self._copies[key] = target
        return target


def _not_text(path: str, line: int | None, encoding: str) -> str:
    name = {"iso8859-1": "latin-1"}.get(encoding, encoding)
    hint = {"utf-8": "e.g. --encoding cp1252 or utf-16", "iso8859-1": "e.g. --encoding cp1252"}.get(
        encoding, "check --encoding"
    )
    where = f"line {line} is" if line is not None else "is"
    return f"{path}: {where} not valid {name} text (give the file's encoding, {hint})"


def _lines(path: str, encoding: str) -> Iterator[str]:
    """The file's text in chunks; a DataError naming the line where it stops being `encoding`."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line = 1
    with open(path, "rb") as src:
        while True:
            chunk = src.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                good = decoder.decode(chunk[: exc.start], final=False) if exc.start else ""
                raise DataError(_not_text(path, line + good.count("\n"), encoding)) from None
            line += text.count("\n")
            yield text
            if not chunk:
                return


def _records(path: str, encoding: str) -> Iterator[str]:
    """Physical lines of the decoded file (with their line ends)."""
    rest = ""
    for text in _lines(path, encoding):
        rest += text
        *whole, rest = rest.split("\n")
        for line in whole:
            yield line + "\n"
    if rest:
        yield rest


def diagnose(path: str, dialect: CsvDialect, rows: bool = True) -> str | None:
    """What makes a CSV file unreadable, as one line (empty, bad encoding, ragged rows, a header
    naming a column twice), or None."""
    if os.path.getsize(path) == 0:
        return f"{path}: the file is empty"
    records = _records(path, dialect.encoding)
    header = next(records, "").lstrip("\ufeff")
    if not header.strip():
        return f"{path}: the file is empty (no header line)"
    delimiter = dialect.delimiter or max(_CANDIDATES, key=header.count)
    names = next(csv.reader([header], delimiter=delimiter))
    seen: set[str] = set()
    for name in names:
        if name.strip() in seen:
            return f"{path}: column '{name.strip()}' appears twice in the header; rename one"
        seen.add(name.strip())
    if not rows:  # the header only
        return None
    reader = csv.reader(records, delimiter=delimiter)
    for row in reader:
        if row and len(row) != len(names):
            line = reader.line_num + 1
            return (
                f"{path}: line {line} has {len(row)} fields where the header has {len(names)} "
                f"(delimiter {delimiter!r}{'' if dialect.delimiter else ', detected'})"
            )
    return None


_LINE_RE = re.compile(r"CSV Error on Line: (\d+)")


def duckdb_csv_message(path: str, error: BaseException, dialect: CsvDialect) -> str | None:
    """DuckDB's multi-line CSV error as one line naming the file and line, or None if not a CSV error."""
    text = str(error)
    line = _LINE_RE.search(text)
    where = f"{path}: line {line.group(1)}" if line else path
    if "Invalid unicode" in text or re.search(r"is not [-\w]+ encoded", text):
        return _not_text(path, int(line.group(1)) if line else None, dialect.encoding)
    columns = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if columns:
        return f"{where} has {columns.group(2)} fields where the header has {columns.group(1)}"
    if "Error when sniffing file" in text or "not possible to automatically detect" in text:
        return f"{path}: cannot be read as CSV (no consistent delimiter; check --delimiter and --encoding)"
    return None


def csv_error(pattern: str, error: BaseException, dialect: CsvDialect) -> str | None:
    """A DuckDB CSV error as one line naming the original file (diagnosed in Python when DuckDB
    could not even sniff it), or None when it is not about the file's text."""
    found = re.search(r"^\s*file = (.+)$", str(error), re.MULTILINE)
    path = found.group(1).strip() if found and "segcli-csv-" not in found.group(1) else pattern
    text = str(error)
    if ("Error when sniffing" in text or "Expected Number of Columns" in text) and os.path.isfile(path):
        problem = diagnose(path, dialect)
        if problem:
            return problem
    return duckdb_csv_message(path, error, dialect)
