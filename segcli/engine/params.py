"""Request parameters: one validation shared by the command line and the HTTP API."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from segcli.engine.errors import InvalidParameter
from segcli.engine.methods import invalid_method_message, method_names
from segcli.engine.segments import SegmentTable

EXPORT_FORMATS = ("csv", "pdf")
DEFAULT_METHOD = "rfm"
DEFAULT_DAYS = 90
MAX_DAYS = 9999
_INT_RE = re.compile(r"^\s*[+-]?\d+\s*$", re.ASCII)


@dataclass(frozen=True)
class ReportParams:
    """A validated request: which report, and which part of it to show."""

    method: str = DEFAULT_METHOD
    days: int = DEFAULT_DAYS
    storefront_id: int | None = None
    segment_name: str | None = None
    segment_code: str | None = None
    export_format: str | None = None

    def wants(self, name: str, code: str) -> bool:
        """Whether a segment passes the segment filters."""
        return self.segment_name in (None, name) and self.segment_code in (None, code)


def _blank(value: str | int | None) -> bool:
    # only an empty value counts as absent, as the OpenAPI says (`""`); a blank one is invalid
    return value is None or value == ""


def _as_int(value: str | int) -> int | None:
    """The integer a value spells, or None; beyond 64 bits counts as not an integer (no engine takes it)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > 40 or not _INT_RE.match(value):
            return None
        value = int(value)
    return value if -(2**63) <= value < 2**63 else None


def validate_params(
    *,
    segmentation_method: str | None = None,
    days: str | int | None = None,
    storefront_id: str | int | None = None,
    export_format: str | None = None,
    segment_name: str | None = None,
    segment_code: str | None = None,
    tables: Mapping[str, SegmentTable] | None = None,
) -> ReportParams:
    """Check raw parameters in the order the replaced API did; raise its exact messages.

    An absent `segmentation_method` or `days` takes the default; an empty one is
    invalid. An empty filter or export format counts as absent. Segment filters
    of `behavior` depend on the data and are checked by `check_segment_filter`
    once the report is known.
    """
    method = DEFAULT_METHOD if segmentation_method is None else segmentation_method
    if method not in method_names():
        raise InvalidParameter(invalid_method_message())

    n_days = DEFAULT_DAYS if days is None else _as_int(days)
    if n_days is None or not 1 <= n_days <= MAX_DAYS:
        raise InvalidParameter(f"Invalid days. Must be an integer between 1 and {MAX_DAYS}")

    store: int | None = None
    if not _blank(storefront_id):
        assert storefront_id is not None
        store = _as_int(storefront_id)
        if store is None:
            raise InvalidParameter("Invalid storefront_id. Must be an integer")

    fmt = None if _blank(export_format) else export_format
    if fmt is not None and fmt not in EXPORT_FORMATS:
        raise InvalidParameter(f"Invalid export_format. Must be one of: {', '.join(EXPORT_FORMATS)}")

    params = ReportParams(
        method=method,
        days=n_days,
        storefront_id=store,
        segment_name=None if _blank(segment_name) else segment_name,
        segment_code=None if _blank(segment_code) else segment_code,
        export_format=fmt,
    )
    if tables is not None and method in tables:
        table = tables[method]
        check_segment_filter(params, table.names, table.codes)
    return params


COMPARE_VALUES = {"true": True, "1": True, "false": False, "0": False}


def parse_compare(value: str | None) -> bool:
    """The HTTP `compare` flag: true/false or 1/0 in any case; absent or empty is false."""
    if value is None or value == "":
        return False
    flag = COMPARE_VALUES.get(value.lower()) if value.isascii() else None
    if flag is None:
        raise InvalidParameter("Invalid compare. Must be true or false")
    return flag


def check_segment_filter(params: ReportParams, names: Sequence[str], codes: Sequence[str]) -> None:
    """Reject a segment filter that names no segment of the method."""
    if params.segment_name is not None and params.segment_name not in names:
        raise InvalidParameter(f"Invalid segment_name. Must be one of: {', '.join(names)}")
    if params.segment_code is not None and params.segment_code not in codes:
        raise InvalidParameter(f"Invalid segment_code. Must be one of: {', '.join(codes)}")
