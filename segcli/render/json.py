"""JSON: exactly the HTTP success body."""

from __future__ import annotations

from typing import IO

from segcli.engine import jsonout
from segcli.engine.params import ReportParams
from segcli.engine.report import Report


def report_json(report: Report, params: ReportParams) -> bytes:
    """The HTTP success body as UTF-8 bytes, newline-terminated."""
    return (jsonout.dumps(report.to_body(params)) + "\n").encode("utf-8")


class JsonRenderer:
    binary = False
    media_type = "application/json"
    extension = "json"

    def write(self, report: Report, params: ReportParams, out: IO[bytes]) -> None:
        out.write(report_json(report, params))
