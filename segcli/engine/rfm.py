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
    WHERE status IN ({_INCLUDED})
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
