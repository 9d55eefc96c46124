"""Renderers: one per output format behind one small interface."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Protocol

from segcli.engine.errors import InvalidParameter
from segcli.engine.params import ReportParams
from segcli.engine.report import Report


@dataclass(frozen=True)
class RenderSettings:
    """What renderers need from outside the report, resolved once by the caller (renderers read no environment)."""

    width: int | None = 120  # terminal columns; None: the terminal's own width
    generated_at: datetime | None = None  # the PDF's "Generated" moment; None: now

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], to_terminal: bool) -> RenderSettings:
        """The terminal's own width when printing to one, else $COLUMNS (default 120); the PDF's
        generated-at from SOURCE_DATE_EPOCH when set (reproducible output)."""
        columns = environ.get("COLUMNS", "").strip()
        epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
        return cls(
            width=None if to_terminal else int(columns) if columns.isdigit() else 120,
            generated_at=datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else None,
        )


class Renderer(Protocol):
    """Writes a report (with the request's segment filters applied) to a stream."""

    binary: bool
    media_type: str
    extension: str

    def write(self, report: Report, params: ReportParams, out: IO[bytes]) -> None: ...


def _table(settings: RenderSettings) -> Renderer:
    from segcli.render.table import TableRenderer

    return TableRenderer(settings.width)


def _json(settings: RenderSettings) -> Renderer:
    from segcli.render.json import JsonRenderer

    return JsonRenderer()


def _csv(settings: RenderSettings) -> Renderer:
    from segcli.render.csv import CsvRenderer

    return CsvRenderer()


def _pdf(settings: RenderSettings) -> Renderer:
    import logging

    from segcli.render.pdf import PdfRenderer

    # fpdf logs a missing glyph (a control character in a name) as a warning that Python's
    # last-resort handler prints on stderr; a successful export writes nothing there
    fpdf_log = logging.getLogger("fpdf")
    if not fpdf_log.handlers:
        fpdf_log.addHandler(logging.NullHandler())

    return PdfRenderer(settings.generated_at)


# name -> factory; importing a renderer's module (and its heavy imports) waits until it is used
RENDERERS: dict[str, Callable[[RenderSettings], Renderer]] = {
    "table": _table,
    "json": _json,
    "csv": _csv,
    "pdf": _pdf,
}


def format_names() -> tuple[str, ...]:
    return tuple(RENDERERS)


def get_renderer(name: str, settings: RenderSettings = RenderSettings()) -> Renderer:
    """The renderer for a format name, or the CLI's invalid-format error."""
    factory = RENDERERS.get(name)
    if factory is None:
        raise InvalidParameter(f"Invalid format. Must be one of: {', '.join(RENDERERS)}")
    return factory(settings)
