"""The polars peer: SPEC 3 (RFM) with a lazy query, the way an analyst writes it in polars.

Independent of segcli. Money is summed exactly in integer cents (the data has two decimals).

    python bench/peer_polars.py sales.parquet --as-of 2026-11-20 --days 90 --business-id 1
"""

from __future__ import annotations

import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

import polars as pl

from bench.rfm_rules import peer_args, print_result, totals

COLUMNS = ["business_id", "customer_id", "sale_date", "total_amount", "amount_refunded", "status"]


def quintile(value: str, n: int) -> pl.Expr:
    """SPEC's tie-aware NTILE(5): the closed form over c = number of strictly smaller values."""
    c = pl.col(value).rank("min").cast(pl.Int64) - 1
    q, r = divmod(n, 5)
    if q == 0:
        return c + 1
    head = r * (q + 1)
    return pl.when(c < head).then(c // (q + 1) + 1).otherwise(r + (c - head) // q + 1)


def cents(column: str) -> pl.Expr:
    return (pl.col(column).cast(pl.Float64) * 100).round(0).cast(pl.Int64)


def rfm_segments(path: str, business_id: int, as_of: date, days: int) -> dict[str, dict[str, int]]:
    if path.lower().endswith(".csv"):
        money = {"total_amount": pl.Float64, "amount_refunded": pl.Float64}
        frame = pl.scan_csv(path, try_parse_dates=True, schema_overrides=money)
    else:
        frame = pl.scan_parquet(path)
    start = datetime.combine(as_of - timedelta(days=days - 1), datetime.min.time())
    end_excl = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    customers = (
        frame.select(COLUMNS)
        .filter(
            (pl.col("business_id") == business_id)
            & (pl.col("sale_date") >= start)
            & (pl.col("sale_date") < end_excl)
            & pl.col("status").str.strip_chars().str.to_lowercase().is_in(["completed", "partial"])
            & pl.col("customer_id").is_not_null()
        )
        .with_columns(
            day=pl.col("sale_date").cast(pl.Date),
            amount=cents("total_amount") - cents("amount_refunded").fill_null(0),
        )
        .group_by("customer_id")
        .agg(last=pl.col("day").max(), frequency=pl.len(), monetary=pl.col("amount").sum())
        .collect()
    )
    n = customers.height
    scored = customers.lazy().select(
        r=5 - (5 * (pl.lit(as_of) - pl.col("last")).dt.total_days()) // days,
        f=quintile("frequency", n),
        m=quintile("monetary", n),
        frequency=pl.col("frequency"),
        monetary=pl.col("monetary"),
    )
    combos = (
        scored.group_by("r", "f", "m")
        .agg(pl.len(), pl.col("frequency").sum(), pl.col("monetary").sum())
        .collect()
        .rows()
    )
    return totals(combos)


def main(argv: list[str] | None = None) -> None:
    args = peer_args(__doc__.splitlines()[0], argv)
    started = time.perf_counter()
    segments = rfm_segments(args.path, args.business_id, args.as_of, args.days)
    print_result(time.perf_counter() - started, segments)


if __name__ == "__main__":
    main()
