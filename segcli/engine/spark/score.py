"""RFM scores on Spark: per-customer figures, exact tie-aware quintile cuts, the score summary.

SPEC section 3's tie-aware NTILE(5) gives a score that only steps up at the first position
p_k of each bucket (k = 2..5), so a customer's score is 1 + the number of cut values
t_k = s[p_k - 1] (s: the values sorted ascending, 0-based) that lie below its own value
(see rfm.SCORED_CUSTOMERS_SQL). The cuts are order statistics found without a global sort:
frequency from its histogram (few distinct values), monetary by distributed selection
(approximate quantiles bracket each rank, exact counts confirm the bracket, and a bracket
small enough is read as a histogram). Only counts, cut values and brackets of at most
HISTOGRAM_LIMIT values reach the driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from segcli.engine.report import INCLUDED_STATUSES
from segcli.engine.segments import SegmentTable

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

HISTOGRAM_LIMIT = 50_000
ACCURACY = 10_000  # percentile_approx: rank error at most 1/ACCURACY of the values it sees
MAX_ROUNDS = 12


def in_scope(window: DataFrame, start: date, end: date) -> DataFrame:
    """The sales in scope of one window: included status, with a customer, dated in [start, end]."""
    from pyspark.sql import functions as F

    return window.where(
        F.col("status").isin(*INCLUDED_STATUSES)
        & F.col("customer_id").isNotNull()
        & F.col("sale_date").between(F.lit(start), F.lit(end))
    )


def customer_figures(window: DataFrame, start: date, end: date) -> DataFrame:
    """One row per customer in scope: last purchase date, frequency, monetary (exact)."""
    from pyspark.sql import functions as F

    return (
        in_scope(window, start, end)
        .groupBy("customer_id")
        .agg(
            F.max("sale_date").alias("last_purchase_date"),
            F.count(F.lit(1)).alias("frequency"),
            F.sum("amount").alias("monetary"),
        )
    )


def bucket_starts(n: int) -> list[int]:
    """p_2..p_5: the first 0-based position of NTILE(5) buckets 2..5 over n values."""
    q, r = divmod(n, 5)
    return [(k - 1) * (q + 1) if k - 1 <= r else r * (q + 1) + (k - 1 - r) * q for k in range(2, 6)]


def cuts_from_histogram(histogram: Sequence[tuple[Any, int]], starts: Sequence[int]) -> list[Any]:
    """For each start p, the value at sorted position p - 1 of a (value, count) histogram."""
    cuts = []
    ordered = sorted(histogram)
    for p in starts:
        seen = 0
        for value, count in ordered:
            seen += count
            if seen >= p:
                cuts.append(value)
                break
    return cuts


def _between(column: Column, low: Any, high: Any) -> Column:
    """low < column <= high, a None bound being open."""
    from pyspark.sql import functions as F

    condition = F.lit(True)
    if low is not None:
        condition = condition & (column > F.lit(low))
    if high is not None:
        condition = condition & (column <= F.lit(high))
    return condition


def order_statistics(df: DataFrame, name: str, ranks: Sequence[int], n: int) -> dict[int, Any]:
    """The values at 0-based sorted positions `ranks` of a column of n non-null values, exactly.

    Each rank keeps a bracket (low, high] with count(v <= low) <= rank < count(v <= high).
    A round narrows every bracket with approximate quantiles of the values inside it (one
    aggregate pass) and confirms the candidates with exact counts (one more pass); a candidate
    c with count(v < c) <= rank < count(v <= c) is the answer itself (ties). A bracket of at
    most HISTOGRAM_LIMIT values is read as a histogram of its distinct values.
    """
    from pyspark.sql import functions as F

    column = F.col(name)
    bounds: dict[int, list[Any]] = {
        i: [None, None, 0, n] for i in set(ranks)
    }  # low, high, count<=low, count<=high
    found: dict[int, Any] = {}
    for _ in range(MAX_ROUNDS):
        pending = [i for i in sorted(bounds) if i not in found]
        small = [i for i in pending if bounds[i][3] - bounds[i][2] <= HISTOGRAM_LIMIT]
        if small:
            inside = F.lit(False)
            for i in small:
                inside = inside | _between(column, bounds[i][0], bounds[i][1])
            histogram = sorted((r[0], int(r[1])) for r in df.where(inside).groupBy(name).count().collect())
            for i in small:
                low, high, below, _ = bounds[i]
                seen = below
                for value, count in histogram:
                    if (low is None or value > low) and (high is None or value <= high):
                        seen += count
                        if seen > i:
                            found[i] = value
                            break
        large = [i for i in pending if i not in found]
        if not large:
            break
        # ranks sharing a bracket (all of them at first) share one sketch
        groups: dict[tuple[Any, Any], list[int]] = {}
        for i in large:
            groups.setdefault((bounds[i][0], bounds[i][1]), []).append(i)
        quantiles = []
        for (low, high), members in groups.items():
            fractions = []
            for i in members:
                below, upto = bounds[i][2], bounds[i][3]
                size = upto - below
                margin = 2 * size / ACCURACY + 1
                fractions += [
                    max(0.0, (i - below - margin) / size),
                    min(1.0, (i - below + 1 + margin) / size),
                ]
            quantiles.append(
                F.percentile_approx(F.when(_between(column, low, high), column), fractions, ACCURACY)
            )
        sketched = df.agg(*quantiles).collect()[0]
        by_rank = {
            i: sketched[g][2 * k : 2 * k + 2]
            for g, members in enumerate(groups.values())
            for k, i in enumerate(members)
        }
        large = [i for members in groups.values() for i in members]
        candidates = [list(by_rank[i]) for i in large]
        counts = []
        for pair in candidates:
            for value in pair:
                counts += [F.count_if(column < F.lit(value)), F.count_if(column <= F.lit(value))]
        totals = df.agg(*counts).collect()[0]
        for position, i in enumerate(large):
            for offset, value in enumerate(candidates[position]):
                if value is None or i in found:
                    continue
                below_c, upto_c = totals[4 * position + 2 * offset], totals[4 * position + 2 * offset + 1]
                if below_c <= i < upto_c:
                    found[i] = value
                elif upto_c <= i and upto_c > bounds[i][2]:
                    bounds[i][0], bounds[i][2] = value, upto_c
                elif upto_c > i and upto_c < bounds[i][3]:
                    bounds[i][1], bounds[i][3] = value, upto_c
    missing = [i for i in ranks if i not in found]
    if missing:  # percentile_approx's bound makes this unreachable; say so rather than guess
        raise RuntimeError(f"order statistics did not converge for ranks {missing}")
    return found


def quintile_cuts(customers: DataFrame, n: int) -> tuple[list[int], list[Decimal]]:
    """The four frequency and four monetary cut values over n customers."""
    starts = bucket_starts(n)
    histogram = [(int(r[0]), int(r[1])) for r in customers.groupBy("frequency").count().collect()]
    f_cuts = cuts_from_histogram(histogram, starts)
    stats = order_statistics(customers, "monetary", [p - 1 for p in starts], n)
    return f_cuts, [stats[p - 1] for p in starts]


def score_columns(
    customers: DataFrame, end: date, days: int, f_cuts: Sequence[int], m_cuts: Sequence[Decimal]
) -> DataFrame:
    """Customers with days_since and the R, F, M scores (int)."""
    from pyspark.sql import functions as F

    def score(name: str, cuts: Sequence[Any]) -> Column:
        total = F.lit(1)
        for cut in cuts:
            total = total + (F.col(name) > F.lit(cut)).cast("int")
        return total.cast("int")

    days_since = F.datediff(F.lit(end), F.col("last_purchase_date"))
    return (
        customers.withColumn("days_since", days_since)
        .withColumn("r", F.expr(f"CAST(5 - (days_since * 5) div {int(days)} AS INT)"))
        .withColumn("f", score("frequency", f_cuts))
        .withColumn("m", score("monetary", m_cuts))
    )


def scored_customers(window: DataFrame, start: date, end: date, days: int) -> tuple[DataFrame, DataFrame]:
    """(customers with scores, the per-customer figures persisted) of one window."""
    customers = customer_figures(window, start, end).persist()
    n = customers.count()
    f_cuts, m_cuts = quintile_cuts(customers, n) if n else ([], [])
    return score_columns(customers, end, days, f_cuts, m_cuts), customers


def score_summary(scored: DataFrame) -> list[tuple[int, int, int, int, int, Any, int]]:
    """(r, f, m, customers, sales, revenue, days_since_sum) per score combination present (<= 125 rows)."""
    from pyspark.sql import functions as F

    rows = (
        scored.groupBy("r", "f", "m")
        .agg(F.count(F.lit(1)), F.sum("frequency"), F.sum("monetary"), F.sum("days_since"))
        .collect()
    )
    return sorted((int(r), int(f), int(m), int(c), int(s), rev, int(d)) for r, f, m, c, s, rev, d in rows)


def segment_lookup(table: SegmentTable, scores: Sequence[Column]) -> tuple[Column, Column, Column]:
    """(segment index, name, code) of each customer's (r, f, m), from the table's 125-entry assignment."""
    from pyspark.sql import functions as F

    r, f, m = scores
    index_map = F.create_map(
        *[F.lit(x) for (a, b, c), i in table.assignment().items() for x in (a * 100 + b * 10 + c, i)]
    )
    index = index_map[r * 100 + f * 10 + m]
    names = F.array(*[F.lit(s.name) for s in table.segments])
    codes = F.array(*[F.lit(s.code) for s in table.segments])
    return index, F.element_at(names, index + 1), F.element_at(codes, index + 1)
