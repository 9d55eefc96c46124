"""Who moved (`segcli customers --compare`): each customer's previous and current segment.

The method's own customer list (`Method.customers`) is taken for the window and for the previous
window of the same length, and the two are fully joined on the customer: a customer only in the
current list is new (empty previous segment), one only in the previous list has lapsed (empty
current segment, figures and scores; last purchase and days since come from the previous window).
The lists are the members the migration matrix counts, so a filter on one move counts one cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from segcli.engine.compare import CURRENT, PREVIOUS
from segcli.engine.comparison import LAPSED, NEW
from segcli.engine.engines.base import Query
from segcli.engine.errors import InvalidParameter
from segcli.engine.params import check_segment_filter
from segcli.engine.sql import quote_ident

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.engines.base import Executor
    from segcli.engine.methods.base import Method, Window
    from segcli.engine.params import ReportParams
    from segcli.engine.segments import SegmentTable

NOW_LIST, PREVIOUS_LIST = "customers_now", "customers_prev"
_ROW = "_row"  # a list's own order, kept through the join


@dataclass(frozen=True)
class SegmentColumns:
    """A customer list's segment name and code columns (one pair, or one per behavior facet)."""

    name: str
    code: str

    @property
    def previous(self) -> tuple[str, str]:
        """The columns that carry the previous window's segment."""
        if self.name == "segment_name":
            return ("previous_segment_name", "previous_segment_code")
        return (f"previous_{self.name}", f"previous_{self.code}")


def segment_columns(columns: Sequence[str]) -> list[SegmentColumns]:
    """The segment columns of a list: `segment_name`/`segment_code`, or `<facet>_segment`/`<facet>_code`."""
    found = []
    if "segment_name" in columns and "segment_code" in columns:
        found.append(SegmentColumns("segment_name", "segment_code"))
    for column in columns:
        facet = column.removesuffix("_segment")
        if facet != column and f"{facet}_code" in columns:
            found.append(SegmentColumns(column, f"{facet}_code"))
    if not found:
        raise InvalidParameter("Invalid compare. The method's customer list names no segment")
    return found


def _any_of(alias: str, pairs: list[SegmentColumns], codes: bool = True) -> str:
    """SQL: the list of a side's segment names (and codes) for `$x IN (...)`."""
    cells = [f"{alias}.{quote_ident(p.name)}" for p in pairs]
    if codes:
        cells += [f"{alias}.{quote_ident(p.code)}" for p in pairs]
    return "(" + ", ".join(cells) + ")"


def moved_query(columns: Sequence[str], previous: Sequence[str], where: Sequence[str]) -> Query:
    """The two lists joined: the current list's columns, then the previous segment columns."""
    pairs = segment_columns(columns)
    dated = "last_purchase_date" in columns and "last_purchase_date" in previous
    selected = []
    for column in columns:
        q = quote_ident(column)
        if column == "customer_id" or (column == "last_purchase_date" and dated):
            selected.append(f"coalesce(n.{q}, p.{q}) AS {q}")
        elif column == "days_since" and dated:
            since = "CAST(CAST($end AS DATE) - p.last_purchase_date AS INTEGER)"
            selected.append(f"coalesce(n.days_since, {since}) AS days_since")
        else:
            selected.append(f"n.{q}")
    for pair in pairs:
        before_name, before_code = pair.previous
        selected.append(f"p.{quote_ident(pair.name)} AS {quote_ident(before_name)}")
        selected.append(f"p.{quote_ident(pair.code)} AS {quote_ident(before_code)}")
    return Query(
        "moved.customers",
        f"""
SELECT {", ".join(selected)}
FROM {NOW_LIST} n
FULL JOIN {PREVIOUS_LIST} p ON n.customer_id = p.customer_id
WHERE {" AND ".join(["TRUE", *where])}
ORDER BY n.{_ROW} NULLS LAST, p.{_ROW}
""",
    )


def _conditions(
    pairs: list[SegmentColumns], params: ReportParams | None, moved_from: str | None, moved_to: str | None
) -> tuple[list[str], dict[str, Any]]:
    conditions, values = [], dict[str, Any]()
    if params is not None and params.segment_name is not None:
        conditions.append(f"$segment_name IN {_any_of('n', pairs, codes=False)}")
        values["segment_name"] = params.segment_name
    if params is not None and params.segment_code is not None:
        codes = "(" + ", ".join(f"n.{quote_ident(p.code)}" for p in pairs) + ")"
        conditions.append(f"$segment_code IN {codes}")
        values["segment_code"] = params.segment_code
    if moved_from == NEW:
        conditions.append("p.customer_id IS NULL")
    elif moved_from is not None:
        conditions.append(f"$moved_from IN {_any_of('p', pairs)}")
        values["moved_from"] = moved_from
    if moved_to == LAPSED:
        conditions.append("n.customer_id IS NULL")
    elif moved_to is not None:
        conditions.append(f"$moved_to IN {_any_of('n', pairs)}")
        values["moved_to"] = moved_to
    return conditions, values


def check_move(
    parameter: str, value: str | None, extra: str, names: Sequence[str], codes: Sequence[str]
) -> None:
    """Reject a move filter that names no segment of its window (nor `new` / `lapsed`)."""
    if value is None or value == extra or value in names or value in codes:
        return
    choices = ", ".join(f"{name} ({code})" for name, code in zip(names, codes, strict=True))
    raise InvalidParameter(f"Invalid {parameter}. Must be {extra} or a segment name or code: {choices}")


def check_table_moves(table: SegmentTable, moved_from: str | None, moved_to: str | None) -> None:
    """Reject an unknown move before any data is read (a method with a segment table)."""
    check_move("moved_from", moved_from, NEW, table.names, table.codes)
    check_move("moved_to", moved_to, LAPSED, table.names, table.codes)


def _segments(
    ex: Executor, method: Method, window: Window, table: SegmentTable | None, tag: str
) -> tuple[list[str], list[str]]:
    """A window's segment names and codes: the table's, else (behavior) the data's."""
    if table is not None:
        return list(table.names), list(table.codes)
    segments = method.window_segments(ex, window, None, tag, False)
    return [s.name for s in segments], [s.code for s in segments]


def _numbered(table: pyarrow.Table) -> pyarrow.Table:
    import pyarrow as pa

    return table.append_column(_ROW, pa.array(range(table.num_rows), pa.int64()))


def moved_customers(
    ex: Executor,
    method: Method,
    now: Window,
    before: Window,
    table: SegmentTable | None,
    params: ReportParams | None = None,
    moved_from: str | None = None,
    moved_to: str | None = None,
) -> pyarrow.Table:
    """Each customer of either window with its current and previous segment, after the filters."""
    filtered = params is not None and (params.segment_name is not None or params.segment_code is not None)
    if moved_from is not None:
        check_move("moved_from", moved_from, NEW, *_segments(ex, method, before, table, PREVIOUS))
    if moved_to is not None or (filtered and table is None):
        names, codes = _segments(ex, method, now, table, CURRENT)
        check_move("moved_to", moved_to, LAPSED, names, codes)
        if params is not None:
            check_segment_filter(params, names, codes)
    # unfiltered lists: a current segment filter must not turn a customer into a lapsed one
    current = _numbered(method.customers(ex, now, table, None))
    ex.register(NOW_LIST, current)
    previous = _numbered(method.customers(ex, before, table, None))
    ex.register(PREVIOUS_LIST, previous)
    columns = current.column_names[:-1]  # without the row number
    conditions, values = _conditions(segment_columns(columns), params, moved_from, moved_to)
    query = moved_query(columns, previous.column_names, conditions)
    return ex.arrow(query, {"end": now["end"], **values})
