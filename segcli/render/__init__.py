"""Renderers: one per output format behind one small interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Protocol

from segcli.engine.errors import InvalidParameter
from segcli.engine.params import ReportParams
from segcli.engine.report import Report


class Renderer(Protocol):
    """Writes a report (with the request's segment filters applied) to a stream."""

    binary: bool
    media_type: str
    extension: str

    def write(self, report: Report, params: ReportParams, out: IO[bytes]) -> None: ...


def _table() -> Renderer:
    from segcli.render.table import TableRenderer

    return TableRenderer()


def _json() -> Renderer:
    from segcli.render.json import JsonRenderer

    return JsonRenderer()


def _csv() -> Renderer:
    from segcli.render.csv import CsvRenderer

    return CsvRenderer()


def _pdf() -> Renderer:
    import logging

    from segcli.render.pdf import PdfRenderer

    # fpdf logs a missing glyph (a control character in a name) as a warning that Python's
    # last-resort handler prints on stderr; a successful export writes nothing there
    fpdf_log = logging.getLogger("fpdf")
    if not fpdf_log.handlers:
        fpdf_log.addHandler(logging.NullHandler())

    return PdfRenderer()


# name -> factory; importing a renderer's module (and its heavy imports) waits until it is used
RENDERERS: dict[str, Callable[[], Renderer]] = {"table": _table, "json": _json, "csv": _csv, "pdf": _pdf}


def format_names() -> tuple[str, ...]:
    return tuple(RENDERERS)


def get_renderer(name: str) -> Renderer:
    """The renderer for a format name, or the CLI's invalid-format error."""
    factory = RENDERERS.get(name)
    if factory is None:
        raise InvalidParameter(f"Invalid format. Must be one of: {', '.join(RENDERERS)}")
    return factory()
