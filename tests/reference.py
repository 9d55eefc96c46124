"""An independent, plain-Python reading of SPEC section 3, to check the SQL engine against."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

# SPEC's RFM table: name, code scores, rule; in table order.
SPEC_RULES: list[tuple[str, tuple[int, int, int], Callable[[int, int, int], bool]]] = [
    ("Champions", (5, 5, 5), lambda r, f, m: r >= 4 and f >= 4 and m >= 4),
    ("Loyal Customers", (4, 4, 4), lambda r, f, m: r >= 3 and f >= 3 and m >= 3),
    ("Potential Loyalists", (4, 2, 3), lambda r, f, m: r >= 4 and 2 <= f <= 3 and m >= 2),
    ("Promising", (3, 2, 2), lambda r, f, m: r == 3 and f == 2 and 2 <= m <= 3),
    ("At Risk", (2, 2, 3), lambda r, f, m: r <= 2 and f >= 2 and m >= 3),
    ("Need Attention", (2, 3, 3), lambda r, f, m: r <= 2 and f >= 3 and m == 2),
    ("New Customers", (5, 1, 1), lambda r, f, m: r >= 4 and f == 1),
    ("Hibernating", (1, 1, 2), lambda r, f, m: r <= 2 and f <= 2 and m <= 2),
]


def spec_segment(scores: tuple[int, int, int]) -> str:
    """First matching rule, else the nearest code (squared distance), the earlier on a tie."""
    for name, _, rule in SPEC_RULES:
        if rule(*scores):
            return name
    distances = [
        (sum((a - b) ** 2 for a, b in zip(scores, code, strict=True)), i)
        for i, (_, code, _) in enumerate(SPEC_RULES)
    ]
    return SPEC_RULES[min(distances)[1]][0]


def tie_aware_ntile(values: dict[str, Decimal | int]) -> dict[str, int]:
    """NTILE(5) over (value, customer_id), then each tie group takes the bucket of its first member."""
    ordered = sorted(values, key=lambda c: (values[c], c))
    n = len(ordered)
    q, r = divmod(n, 5)
    buckets: list[int] = []
    for bucket in range(1, 6):
        buckets.extend([bucket] * (q + 1 if bucket <= r else q))
    first_bucket: dict[Decimal | int, int] = {}
    for position, customer in enumerate(ordered):
        first_bucket.setdefault(values[customer], buckets[position])
    return {c: first_bucket[values[c]] for c in ordered}


@dataclass(frozen=True)
class Sale:
    business_id: int
    customer_id: str | None
    day: date
    amount: Decimal
    status: str


@dataclass(frozen=True)
class CustomerScore:
    customer_id: str
    last: date
    days_since: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    segment: str


def reference_customers(
    sales: Iterable[Sale], business_id: int, as_of: date, days: int
) -> list[CustomerScore]:
    """Per-customer scores and segment exactly as SPEC sections 2 and 3 say."""
    start = as_of - timedelta(days=days - 1)
    frequency: dict[str, int] = defaultdict(int)
    monetary: dict[str, Decimal] = defaultdict(Decimal)
    last: dict[str, date] = {}
    for sale in sales:
        status = sale.status.strip().lower()
        customer = (sale.customer_id or "").strip()
        if sale.business_id != business_id or not start <= sale.day <= as_of:
            continue
        if status not in ("completed", "partial") or not customer:
            continue
        frequency[customer] += 1
        monetary[customer] += sale.amount
        last[customer] = max(last.get(customer, sale.day), sale.day)
    f_scores = tie_aware_ntile(dict(frequency))
    m_scores = tie_aware_ntile(dict(monetary))
    out = []
    for customer in sorted(frequency):
        days_since = (as_of - last[customer]).days
        r = 5 - (5 * days_since) // days
        scores = (r, f_scores[customer], m_scores[customer])
        out.append(
            CustomerScore(
                customer,
                last[customer],
                days_since,
                frequency[customer],
                monetary[customer],
                *scores,
                spec_segment(scores),
            )
        )
    return out


def segment_totals(customers: Sequence[CustomerScore]) -> dict[str, tuple[int, int, Decimal]]:
    """(customers, sales, revenue) per segment name."""
    totals: dict[str, tuple[int, int, Decimal]] = {name: (0, 0, Decimal(0)) for name, _, _ in SPEC_RULES}
    for c in customers:
        n, s, rev = totals[c.segment]
        totals[c.segment] = (n + 1, s + c.frequency, rev + c.monetary)
    return totals
