"""What the peers share (no segcli import): SPEC 3's RFM segment table, rules in order then the
nearest code, and their command line."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

# name, code scores (R, F, M), rule as inclusive (min, max) bounds
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
LOOKUP = [segment_of((r, f, m)) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]


def totals(rows: list[tuple[int, int, int, int, int, int]]) -> dict[str, dict[str, int]]:
    """Per segment name (table order): customers, sales and revenue in cents, from rows of
    (R, F, M, customers, sales, revenue_cents)."""
    out = {name: {"customers": 0, "sales": 0, "revenue_cents": 0} for name, _, _ in SEGMENTS}
    for r, f, m, customers, sales, cents in rows:
        entry = out[SEGMENTS[LOOKUP[(r - 1) * 25 + (f - 1) * 5 + (m - 1)]][0]]
        entry["customers"] += int(customers)
        entry["sales"] += int(sales)
        entry["revenue_cents"] += int(cents)
    return out


def peer_args(description: str, argv: list[str] | None) -> argparse.Namespace:
    """A peer's command line: the sales file, --as-of, --days and --business-id."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("path")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--business-id", type=int, default=1)
    return parser.parse_args(argv)


def print_result(seconds: float, segments: dict[str, dict[str, int]]) -> None:
    """A peer's output: one JSON line of its seconds and segments."""
    json.dump({"seconds": seconds, "segments": segments}, sys.stdout)
    print()
