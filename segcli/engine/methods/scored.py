"""Scored methods (rfm, value): SPEC section 3's scores over `window_sales`, then a segment table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from segcli.engine.engines.base import Query
from segcli.engine.errors import InvalidParameter
from segcli.engine.methods.base import SegmentLabels
from segcli.engine.report import SegmentResult
from segcli.engine.segments import SegmentTable, parse_table, shipped_entries
from segcli.engine.sql import INCLUDED_SQL, sql_literal

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.engines.base import Executor
    from segcli.engine.methods.base import Window
    from segcli.engine.params import ReportParams
    from segcli.engine.report import Period
    from segcli.engine.sources import Source

# Customers in scope with their figures and scores. Parameters: $start, $end (dates), $days.
# Frequency and monetary quintiles are SPEC's tie-aware NTILE(5). Its closed form (with n
# customers, c = customers with a strictly smaller value, q = n // 5, r = n % 5) gives a score
# that only grows with c, stepping up at the first position of each NTILE bucket:
# p_k = (k-1)*(q+1) if k-1 <= r else r*(q+1) + (k-1-r)*q, for k = 2..5. So a customer's score is
# 1 + the number of k whose cut value (the value at sorted position p_k - 1) lies below its own.
# The four cuts come from a histogram of distinct values: no per-customer sort or join.
SCORED_CUSTOMERS_SQL = f"""
WITH customers AS (
    SELECT customer_id,
           max(sale_date) AS last_purchase_date,
           count(*) AS frequency,
           sum(amount) AS monetary
    FROM window_sales
    WHERE status IN {INCLUDED_SQL}
      AND customer_id IS NOT NULL
      AND sale_date BETWEEN $start AND $end
    GROUP BY customer_id
),
sizes AS (
    SELECT count(*) // 5 AS q, count(*) % 5 AS r FROM customers
),
starts AS (
    SELECT CASE WHEN r >= 1 THEN q + 1 ELSE q END AS p2,
           CASE WHEN r >= 2 THEN 2 * (q + 1) ELSE r * (q + 1) + (2 - r) * q END AS p3,
           CASE WHEN r >= 3 THEN 3 * (q + 1) ELSE r * (q + 1) + (3 - r) * q END AS p4,
           CASE WHEN r >= 4 THEN 4 * (q + 1) ELSE r * (q + 1) + (4 - r) * q END AS p5
    FROM sizes
),
f_values AS (
    SELECT frequency AS v, CAST(sum(count(*)) OVER (ORDER BY frequency) AS BIGINT) AS upto
    FROM customers GROUP BY frequency
),
m_values AS (
    SELECT monetary AS v, CAST(sum(count(*)) OVER (ORDER BY monetary) AS BIGINT) AS upto
    FROM customers GROUP BY monetary
),
f_cuts AS (
    SELECT min(v) FILTER (upto >= p2) AS t2, min(v) FILTER (upto >= p3) AS t3,
           min(v) FILTER (upto >= p4) AS t4, min(v) FILTER (upto >= p5) AS t5
    FROM f_values, starts
),
m_cuts AS (
    SELECT min(v) FILTER (upto >= p2) AS t2, min(v) FILTER (upto >= p3) AS t3,
           min(v) FILTER (upto >= p4) AS t4, min(v) FILTER (upto >= p5) AS t5
    FROM m_values, starts
),
scored AS (
    SELECT cu.customer_id,
           cu.last_purchase_date,
           CAST($end AS DATE) - cu.last_purchase_date AS days_since,
           cu.frequency,
           cu.monetary,
           5 - (5 * (CAST($end AS DATE) - cu.last_purchase_date)) // $days AS r,
           CAST(1 + (cu.frequency > fc.t2)::INTEGER + (cu.frequency > fc.t3)::INTEGER
                  + (cu.frequency > fc.t4)::INTEGER + (cu.frequency > fc.t5)::INTEGER AS INTEGER) AS f,
           CAST(1 + (cu.monetary > mc.t2)::INTEGER + (cu.monetary > mc.t3)::INTEGER
                  + (cu.monetary > mc.t4)::INTEGER + (cu.monetary > mc.t5)::INTEGER AS INTEGER) AS m
    FROM customers cu, f_cuts fc, m_cuts mc
)
"""

# One row per (R, F, M) combination present: at most 125 rows per report.
SCORE_SUMMARY = Query(
    "scored.score_summary",
    SCORED_CUSTOMERS_SQL
    + """
SELECT CAST(r AS INTEGER) AS r, f, m,
       count(*) AS customers,
       sum(frequency) AS sales,
       sum(monetary) AS revenue,
       sum(days_since) AS days_since_sum
FROM scored
GROUP BY ALL
ORDER BY r, f, m
""",
)


def assignment_values(table: SegmentTable) -> str:
    """A VALUES list mapping each (r, f, m) to its segment's name and code, for joins."""
    rows = []
    for (r, f, m), index in table.assignment().items():
        segment = table.segments[index]
        rows.append(f"({r}, {f}, {m}, {index}, {sql_literal(segment.name)}, {sql_literal(segment.code)})")
    return "(VALUES " + ", ".join(rows) + ") AS seg(r, f, m, segment_index, segment_name, segment_code)"


def customers_query(table: SegmentTable, where: str = "TRUE") -> Query:
    """One row per customer with scores and segment (the `segcli customers` list)."""
    return Query(
        "scored.customers",
        SCORED_CUSTOMERS_SQL
        + f"""
SELECT s.customer_id, s.last_purchase_date, CAST(s.days_since AS INTEGER) AS days_since,
       CAST(s.frequency AS INTEGER) AS frequency, s.monetary,
       CAST(s.r AS INTEGER) AS r, s.f, s.m, seg.segment_name, seg.segment_code
FROM scored s
JOIN {assignment_values(table)} USING (r, f, m)
WHERE {where}
ORDER BY seg.segment_index, s.customer_id
""",
    )


def members_query(table: SegmentTable) -> Query:
    """(customer_id, facet, segment_code) of one window, for the migration matrix."""
    return Query(
        "scored.members",
        f"SELECT customer_id, '' AS facet, segment_code FROM ({customers_query(table).sql})",
    )


def require_table(table: SegmentTable | None, name: str) -> SegmentTable:
    """The method's segment table, or the error naming a method without one."""
    if table is None:
        raise InvalidParameter(f"Invalid segmentation_method. {name} has no segment table")
    return table


@dataclass(frozen=True)
class ScoredMethod:
    """A method that scores customers (R, F, M) and assigns scores to segments by a table."""

    name: str
    title: str
    needs_previous: bool
    scored: bool
    needs_items: bool = False
    faceted: bool = False

    def default_table(self) -> SegmentTable | None:
        return parse_table(self.name, shipped_entries()[self.name], "segments.toml")

    def check_source(self, source: Source) -> None:
        return None

    def segment_labels(self, table: SegmentTable | None) -> SegmentLabels | None:
        return None if table is None else SegmentLabels(table.names, table.codes)

    def empty_segments(self, table: SegmentTable) -> list[SegmentResult]:
        """Every segment of the table with zero members, in table order."""
        return [
            SegmentResult(
                name=s.name,
                code=s.code,
                description=s.description,
                actions=s.actions,
                scores=s.scores if self.scored else None,
                facet=s.facet,
            )
            for s in table.segments
        ]

    def window_segments(
        self, ex: Executor, window: Window, table: SegmentTable | None, tag: str, members: bool
    ) -> tuple[SegmentResult, ...]:
        """Segments summed exactly from the score summary (at most 125 rows)."""
        table = require_table(table, self.name)
        if members:
            ex.create_table(f"members_{tag}", members_query(table), window)
        return self.summed(table, ex.rows(SCORE_SUMMARY, window))

    def summed(self, table: SegmentTable, summary: Iterable[tuple[Any, ...]]) -> tuple[SegmentResult, ...]:
        """The table's segments from (r, f, m, customers, sales, revenue, days_since_sum) rows (any engine)."""
        segments = self.empty_segments(table)
        for r, f, m, customers, sales, revenue, days_sum in summary:
            index = table.assign((r, f, m))
            segments[index] = segments[index].add(customers, sales, Decimal(revenue), days_sum)
        return tuple(segments)

    def customers(
        self, ex: Executor, window: Window, table: SegmentTable | None, params: ReportParams | None
    ) -> pyarrow.Table:
        conditions, filters = ["TRUE"], dict[str, Any]()
        if params is not None and params.segment_name is not None:
            conditions.append("$segment_name = seg.segment_name")
            filters["segment_name"] = params.segment_name
        if params is not None and params.segment_code is not None:
            conditions.append("$segment_code = seg.segment_code")
            filters["segment_code"] = params.segment_code
        query = customers_query(require_table(table, self.name), " AND ".join(conditions))
        return ex.arrow(query, {**window, **filters})

    def notes(self, period: Period) -> tuple[str, ...]:
        return ()
