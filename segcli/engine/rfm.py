"""The scoring SQL (SPEC section 3) over the `window_sales` table every source loads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from segcli.engine.report import INCLUDED_STATUSES
from segcli.engine.segments import Scores, SegmentTable

if TYPE_CHECKING:
    import duckdb

_INCLUDED = ", ".join(f"'{s}'" for s in INCLUDED_STATUSES)

# Customers in scope with their figures and scores. Parameters: $start, $end (dates), $days.
# Frequency and monetary quintiles use SPEC's closed form of the tie-aware NTILE(5):
# with n customers, c = customers with a strictly smaller value, q = n // 5, r = n % 5,
# score = c // (q+1) + 1 if c < r*(q+1) else r + (c - r*(q+1)) // q + 1.
# c comes from a histogram of distinct values, so no per-customer sort is needed.
SCORED_CUSTOMERS_SQL = f"""
WITH customers AS (
    SELECT customer_id,
           max(sale_date) AS last_purchase_date,
           count(*) AS frequency,
           sum(amount) AS monetary
    FROM window_sales
    WHERE status IN ({_INCLUDED})
      AND customer_id IS NOT NULL
      AND sale_date BETWEEN $start AND $end
    GROUP BY customer_id
),
sizes AS (
    SELECT count(*) // 5 AS q, count(*) % 5 AS r FROM customers
),
f_below AS (
    SELECT frequency AS v,
           coalesce(sum(count(*)) OVER (ORDER BY frequency
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS c
    FROM customers GROUP BY frequency
),
m_below AS (
    SELECT monetary AS v,
           coalesce(sum(count(*)) OVER (ORDER BY monetary
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS c
    FROM customers GROUP BY monetary
),
scored AS (
    SELECT cu.customer_id,
           cu.last_purchase_date,
           CAST($end AS DATE) - cu.last_purchase_date AS days_since,
           cu.frequency,
           cu.monetary,
           5 - (5 * (CAST($end AS DATE) - cu.last_purchase_date)) // $days AS r,
           CAST(CASE WHEN fb.c < s.r * (s.q + 1) THEN fb.c // (s.q + 1) + 1
                     ELSE s.r + (fb.c - s.r * (s.q + 1)) // s.q + 1 END AS INTEGER) AS f,
           CAST(CASE WHEN mb.c < s.r * (s.q + 1) THEN mb.c // (s.q + 1) + 1
                     ELSE s.r + (mb.c - s.r * (s.q + 1)) // s.q + 1 END AS INTEGER) AS m
    FROM customers cu
    CROSS JOIN sizes s
    JOIN f_below fb ON fb.v = cu.frequency
    JOIN m_below mb ON mb.v = cu.monetary
)
"""

# One row per (R, F, M) combination present: at most 125 rows per report.
SCORE_SUMMARY_SQL = (
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
"""
)

# Per status and anonymity, the rows of the business dated in the window (counted by the source).
DATA_QUALITY_SQL = """
SELECT status, anonymous, CAST(sum(rows) AS BIGINT) AS rows
FROM window_quality
WHERE sale_date BETWEEN $start AND $end
GROUP BY ALL
ORDER BY status, anonymous
"""


def assignment_values(table: SegmentTable) -> str:
    """A VALUES list mapping each (r, f, m) to its segment's name and code, for joins."""
    rows = []
    for (r, f, m), index in table.assignment().items():
        segment = table.segments[index]
        name = segment.name.replace("'", "''")
        code = segment.code.replace("'", "''")
        rows.append(f"({r}, {f}, {m}, {index}, '{name}', '{code}')")
    return "(VALUES " + ", ".join(rows) + ") AS seg(r, f, m, segment_index, segment_name, segment_code)"


def customers_sql(table: SegmentTable, where: str = "TRUE") -> str:
    """One row per customer with scores and segment (the `segcli customers` list)."""
    return (
        SCORED_CUSTOMERS_SQL
        + f"""
SELECT s.customer_id, s.last_purchase_date, CAST(s.days_since AS INTEGER) AS days_since,
       CAST(s.frequency AS INTEGER) AS frequency, s.monetary,
       CAST(s.r AS INTEGER) AS r, s.f, s.m, seg.segment_name, seg.segment_code
FROM scored s
JOIN {assignment_values(table)} USING (r, f, m)
WHERE {where}
ORDER BY seg.segment_index, s.customer_id
"""
    )


def score_summary(
    con: duckdb.DuckDBPyConnection, params: Mapping[str, Any]
) -> list[tuple[Scores, int, int, Any, int]]:
    """(scores, customers, sales, revenue, days_since_sum) per score combination present."""
    rows = con.execute(SCORE_SUMMARY_SQL, dict(params)).fetchall()
    return [((r, f, m), customers, sales, revenue, days) for r, f, m, customers, sales, revenue, days in rows]
