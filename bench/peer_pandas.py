"""The peer: SPEC section 3 (RFM) the way an analyst writes it today in pandas.

Independent of segcli on purpose (it imports nothing from it). Reads a Parquet or CSV file
with canonical column names, keeps the business's completed/partial sales with a customer in
the window, scores R, F and M, and assigns segments. Money is summed exactly in integer cents
(the benchmark data has two decimal places), so its figures can be compared with segcli's.

    python bench/peer_pandas.py sales.parquet --as-of 2026-11-20 --days 90 --business-id 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["business_id", "customer_id", "sale_date", "total_amount", "amount_refunded", "status"]

# SPEC's RFM table in order: name, code scores (R, F, M), rule as inclusive (min, max) bounds.
SEGMENTS: list[tuple[str, tuple[int, int, int], tuple[tuple[int, int], ...]]] = [
    ("Champions", (5, 5, 5), ((4, 5), (4, 5), (4, 5))),
    ("Loyal Customers", (4, 4, 4), ((3, 5), (3, 5), (3, 5))),
    ("Potential Loyalists", (4, 2, 3), ((4, 5), (2, 3), (2, 5))),
    ("Promising", (3, 2, 2), ((3, 3), (2, 2), (2, 3))),
    ("At Risk", (2, 2, 3), ((1, 2), (2, 5), (3, 5))),
    ("Need Attention", (2, 3, 3), ((1, 2), (3, 5), (2, 2))),
    ("New Customers", (5, 1, 1), ((4, 5), (1, 1), (1, 5))),
    ("Hibernating", (1, 1, 2), ((1, 2), (1, 2), (1, 2))),
]


def segment_of(scores: tuple[int, int, int]) -> int:
    """First segment whose rule matches, else the nearest code (squared distance), earlier on a tie."""
    for index, (_, _, rule) in enumerate(SEGMENTS):
        if all(lo <= s <= hi for s, (lo, hi) in zip(scores, rule, strict=True)):
            return index
    distances = [sum((a - b) ** 2 for a, b in zip(scores, code, strict=True)) for _, code, _ in SEGMENTS]
    return distances.index(min(distances))


# segment index per (R, F, M), flattened as (R-1)*25 + (F-1)*5 + (M-1)
LOOKUP = np.array(
    [segment_of((r, f, m)) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)], dtype=np.int64
)


def quintile(values: pd.Series) -> np.ndarray:
    """SPEC's tie-aware NTILE(5): the closed form over c = number of strictly smaller values."""
    n = len(values)
    c = values.rank(method="min").to_numpy(dtype=np.int64) - 1
    q, r = divmod(n, 5)
    if q == 0:
        return c + 1  # fewer than 5 customers: every position is its own bucket
    head = r * (q + 1)
    return np.where(c < head, c // (q + 1) + 1, r + (c - head) // q + 1)


def read_sales(path: str) -> pd.DataFrame:
    if path.lower().endswith(".csv"):
        return pd.read_csv(path, usecols=COLUMNS, parse_dates=["sale_date"])
    return pd.read_parquet(path, columns=COLUMNS)


def cents(values: pd.Series) -> pd.Series:
    """Money as exact integer cents (values carry at most two decimals)."""
    return (values.astype("float64") * 100).round().astype("int64")


def rfm_segments(df: pd.DataFrame, business_id: int, as_of: date, days: int) -> dict[str, Any]:
    """Customers, sales and revenue per segment, in SPEC's table order."""
    start = pd.Timestamp(as_of - timedelta(days=days - 1))
    end_exclusive = pd.Timestamp(as_of + timedelta(days=1))
    status = df["status"].str.strip().str.lower()
    in_scope = (
        (df["business_id"] == business_id)
        & (df["sale_date"] >= start)
        & (df["sale_date"] < end_exclusive)
        & status.isin(["completed", "partial"])
        & df["customer_id"].notna()
    )
    sales = df.loc[in_scope, ["customer_id", "sale_date"]].copy()
    refunded = df.loc[in_scope, "amount_refunded"].fillna(0)
    sales["amount"] = cents(df.loc[in_scope, "total_amount"]) - cents(refunded)
    sales["day"] = sales["sale_date"].dt.normalize()

    customers = sales.groupby("customer_id").agg(
        last=("day", "max"), frequency=("day", "size"), monetary=("amount", "sum")
    )
    days_since = (pd.Timestamp(as_of) - customers["last"]).dt.days.to_numpy()
    r = 5 - (5 * days_since) // days
    f = quintile(customers["frequency"])
    m = quintile(customers["monetary"])
    customers["segment"] = LOOKUP[(r - 1) * 25 + (f - 1) * 5 + (m - 1)]
    totals = customers.groupby("segment").agg(
        customers=("frequency", "size"), sales=("frequency", "sum"), revenue=("monetary", "sum")
    )
    out = {}
    for index, (name, _, _) in enumerate(SEGMENTS):
        row = totals.loc[index] if index in totals.index else None
        out[name] = {
            "customers": int(row["customers"]) if row is not None else 0,
            "sales": int(row["sales"]) if row is not None else 0,
            "revenue_cents": int(row["revenue"]) if row is not None else 0,
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--business-id", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    segments = rfm_segments(read_sales(args.path), args.business_id, args.as_of, args.days)
    seconds = time.perf_counter() - started
    json.dump({"seconds": seconds, "segments": segments}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
