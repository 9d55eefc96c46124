"""The peer: SPEC section 3 (RFM) the way an analyst writes it today in pandas.

Independent of segcli on purpose (it imports nothing from it). Reads a Parquet or CSV file
with canonical column names, keeps the business's completed/partial sales with a customer in
the window, scores R, F and M, and assigns segments. Money is summed exactly in integer cents
(the benchmark data has two decimal places), so its figures can be compared with segcli's.

    python bench/peer_pandas.py sales.parquet --as-of 2026-11-20 --days 90 --business-id 1
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

import numpy as np
import pandas as pd

from bench.rfm_rules import LOOKUP, SEGMENTS, peer_args, print_result

COLUMNS = ["business_id", "customer_id", "sale_date", "total_amount", "amount_refunded", "status"]

# segment index per (R, F, M), flattened as (R-1)*25 + (F-1)*5 + (M-1)
LOOKUP_ARRAY = np.array(LOOKUP, dtype=np.int64)


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
    customers["segment"] = LOOKUP_ARRAY[(r - 1) * 25 + (f - 1) * 5 + (m - 1)]
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
    args = peer_args(__doc__.splitlines()[0], argv)
    started = time.perf_counter()
    segments = rfm_segments(read_sales(args.path), args.business_id, args.as_of, args.days)
    print_result(time.perf_counter() - started, segments)


if __name__ == "__main__":
    main()
