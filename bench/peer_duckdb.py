"""The hand-written DuckDB peer: SPEC 3 (RFM) as one SQL statement with NTILE, the way an expert writes it.

It validates nothing and counts no data quality (segcli does both). Independent of segcli.

    python bench/peer_duckdb.py sales.parquet --as-of 2026-11-20 --days 90 --business-id 1
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

import duckdb

from bench.rfm_rules import peer_args, print_result, totals

# tie-aware quintiles as SPEC writes them: NTILE over (value, customer_id), then the group's minimum
RFM_SQL = """
WITH sales AS (
    SELECT customer_id, CAST(sale_date AS DATE) AS day,
           CAST(total_amount AS DECIMAL(18, 2)) - coalesce(CAST(amount_refunded AS DECIMAL(18, 2)), 0) AS amount
    FROM {relation}
    WHERE business_id = $business_id AND sale_date >= $start AND sale_date < $end_excl
      AND lower(trim(status)) IN ('completed', 'partial') AND customer_id IS NOT NULL
), customers AS (
    SELECT customer_id, $as_of - max(day) AS days_since, count(*) AS f, sum(amount) AS m
    FROM sales GROUP BY customer_id
), tiles AS (
    SELECT *, NTILE(5) OVER (ORDER BY f, customer_id) AS f_tile, NTILE(5) OVER (ORDER BY m, customer_id) AS m_tile
    FROM customers
), scored AS (
    SELECT 5 - (5 * days_since) // $days AS r, min(f_tile) OVER (PARTITION BY f) AS f_score,
           min(m_tile) OVER (PARTITION BY m) AS m_score, f, m
    FROM tiles
)
SELECT r, f_score, m_score, count(*), sum(f), CAST(sum(m) * 100 AS BIGINT) FROM scored GROUP BY ALL
"""


def main(argv: list[str] | None = None) -> None:
    args = peer_args(__doc__.splitlines()[0], argv)
    relation = "read_csv($path)" if args.path.lower().endswith(".csv") else "read_parquet($path)"
    started = time.perf_counter()
    rows = (
        duckdb.connect()
        .execute(
            RFM_SQL.format(relation=relation),
            {
                "path": args.path,
                "business_id": args.business_id,
                "start": args.as_of - timedelta(days=args.days - 1),
                "end_excl": args.as_of + timedelta(days=1),
                "as_of": args.as_of,
                "days": args.days,
            },
        )
        .fetchall()
    )
    segments = totals(rows)
    print_result(time.perf_counter() - started, segments)


if __name__ == "__main__":
    main()
