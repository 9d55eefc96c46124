"""Behavior segmentation (SPEC section 5): category affinity, channel preference, seasonality.

Each facet is a partition of the customers in scope. Per customer the leading category
(item spend), channel (number of sales) and calendar quarter (spend) are found, the largest
winning and ties going to the first name (earlier quarter); the customer belongs to that
named segment when its share reaches the threshold, else to the facet's catch-all.
Missing values never make a preference but count in the customer's total: a sale without a
channel, an item without a category. A customer whose item spend (or, for seasons, total
spend) is zero or negative, or who has no items, lands in the catch-all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from segcli.engine.compare import CURRENT, comparative_insights
from segcli.engine.engines.base import Query
from segcli.engine.errors import InvalidParameter
from segcli.engine.methods.base import SegmentLabels
from segcli.engine.params import check_segment_filter
from segcli.engine.report import Insights, Period, SegmentResult
from segcli.engine.segments import SegmentTable
from segcli.engine.sources.base import ITEMS_TABLE, WINDOW_TABLE
from segcli.engine.sql import INCLUDED_SQL, sql_literal

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.engines.base import Executor
    from segcli.engine.methods.base import Window
    from segcli.engine.params import ReportParams
    from segcli.engine.sources import Source

SEASON_MIN_DAYS = 180
QUARTER_MONTHS = {"Q1": "Jan-Mar", "Q2": "Apr-Jun", "Q3": "Jul-Sep", "Q4": "Oct-Dec"}


@dataclass(frozen=True)
class Facet:
    """One way of partitioning customers: its named segments (a template) and its catch-all."""

    name: str
    title: str
    code: str  # template: {name}
    label: str  # template: {name}
    description: str  # templates: {name}, {months}
    actions: tuple[str, ...]
    catch_all_code: str
    catch_all: str
    catch_all_description: str
    catch_all_actions: tuple[str, ...]
    rule: str = ""  # template: {name}; what puts a customer into a named segment (`segcli segments`)

    def named(self, key: str) -> SegmentResult:
        """The (empty) segment of customers whose preference is `key`."""
        fields = {"name": key, "months": QUARTER_MONTHS.get(key, "")}
        return SegmentResult(
            name=self.label.format(**fields),
            code=self.code.format(**fields),
            description=self.description.format(**fields),
            actions=tuple(a.format(**fields) for a in self.actions),
            facet=self.name,
        )

    def rest(self) -> SegmentResult:
        """The (empty) catch-all segment."""
        return SegmentResult(
            name=self.catch_all,
            code=self.catch_all_code,
            description=self.catch_all_description,
            actions=self.catch_all_actions,
            facet=self.name,
        )


CATEGORY = Facet(
    name="category",
    title="Category affinity",
    code="CATEGORY:{name}",
    label="{name} Enthusiasts",
    description="At least half of their item spend goes to {name}",
    actions=(
        "Show new {name} arrivals to them first",
        "Cross-sell products that complement {name}",
        "Invite them to {name} events, guides and previews",
    ),
    catch_all_code="CATEGORY_MIXED",
    catch_all="Explorers",
    catch_all_description="No single category takes half of their item spend",
    catch_all_actions=(
        "Recommend across categories from their browsing and purchases",
        "Promote curated bundles that mix categories",
        "Test category-specific offers to find their favourite",
    ),
    rule="{name} takes ≥ 50% of item spend",
)
CHANNEL = Facet(
    name="channel",
    title="Channel preference",
    code="CHANNEL:{name}",
    label="{name} Shoppers",
    description="At least 70% of their orders come through {name}",
    actions=(
        "Reach them in {name} first: campaigns, placements, timing",
        "Polish the {name} experience they rely on",
        "Offer a small incentive to try a second channel",
    ),
    catch_all_code="CHANNEL_OMNI",
    catch_all="Omnichannel",
    catch_all_description="No single channel takes 70% of their orders",
    catch_all_actions=(
        "Keep prices, stock and offers consistent across channels",
        "Offer cross-channel services such as order online, pick up in store",
        "Recognise them as one customer in every channel",
    ),
    rule="{name} takes ≥ 70% of orders",
)
SEASON = Facet(
    name="season",
    title="Seasonality",
    code="SEASON:{name}",
    label="{name} Seasonal Buyers",
    description="At least 60% of their spend falls in {name} ({months})",
    actions=(
        "Plan {name} campaigns around their peak",
        "Send early-access offers just before {name}",
        "Nudge them off-season with timely reminders",
    ),
    catch_all_code="SEASON_STEADY",
    catch_all="Year-round",
    catch_all_description="No calendar quarter takes 60% of their spend",
    catch_all_actions=(
        "Keep an always-on cadence of relevant offers",
        "Suggest subscriptions or replenishment reminders",
        "Reward steady purchasing with loyalty points",
    ),
    rule="{name} takes ≥ 60% of spend; windows of 180+ days",
)

FACETS = (CATEGORY, CHANNEL, SEASON)
FACET_TITLES = {f.name: f.title for f in FACETS}


def _pattern(template: str) -> str:
    """A template's values as a regular expression (read alike by Python and ECMAScript): `{name}` any text."""
    parts = (re.sub(r"[.^$*+?()[\]{}|\\]", lambda m: "\\" + m.group(), p) for p in template.split("{name}"))
    return r"[\s\S]*".join(parts)


LABELS = SegmentLabels(
    names=tuple(f.catch_all for f in FACETS),
    codes=tuple(f.catch_all_code for f in FACETS),
    name_patterns=tuple(_pattern(f.label) for f in FACETS),
    code_patterns=tuple(_pattern(f.code) for f in FACETS),
)

# The sales in scope of one window. Parameters: $start, $end.
_SALES = f"""
SELECT sale_id, customer_id, sale_date, amount, channel FROM {WINDOW_TABLE}
WHERE status IN {INCLUDED_SQL} AND customer_id IS NOT NULL AND sale_date BETWEEN $start AND $end
"""

# One row per customer in scope: figures, and the preferred category / channel / quarter or NULL.
PROFILE = Query(
    "behavior.profile",
    f"""
WITH sales AS ({_SALES}),
customers AS (
    SELECT customer_id, count(*) AS frequency, sum(amount) AS monetary,
           CAST($end AS DATE) - max(sale_date) AS days_since
    FROM sales GROUP BY customer_id
),
by_category AS (
    SELECT s.customer_id, i.category, sum(i.line_total) AS spend
    FROM sales s JOIN {ITEMS_TABLE} i ON i.sale_id = s.sale_id
    GROUP BY ALL
),
item_spend AS (SELECT customer_id, sum(spend) AS total FROM by_category GROUP BY customer_id),
top_category AS (
    SELECT customer_id, category, spend FROM by_category WHERE category IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY spend DESC, category) = 1
),
top_channel AS (
    SELECT customer_id, channel, count(*) AS sales FROM sales WHERE channel IS NOT NULL
    GROUP BY customer_id, channel
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY count(*) DESC, channel) = 1
),
top_quarter AS (
    SELECT customer_id, quarter(sale_date) AS q, sum(amount) AS spend FROM sales
    GROUP BY customer_id, q
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY sum(amount) DESC, q) = 1
)
SELECT c.customer_id, c.frequency, c.monetary, c.days_since,
       CASE WHEN t.total > 0 AND tc.spend * 2 >= t.total THEN tc.category END AS category,
       CASE WHEN ch.sales * 10 >= 7 * c.frequency THEN ch.channel END AS channel,
       CASE WHEN c.monetary > 0 AND tq.spend * 10 >= 6 * c.monetary THEN 'Q' || CAST(tq.q AS VARCHAR) END AS season
FROM customers c
LEFT JOIN item_spend t USING (customer_id)
LEFT JOIN top_category tc USING (customer_id)
LEFT JOIN top_channel ch USING (customer_id)
LEFT JOIN top_quarter tq USING (customer_id)
""",
)
PROFILE_SQL = PROFILE.sql

# Categories and channels met in the window's sales in scope: each names a segment, empty or not.
_SEEN = Query(
    "behavior.seen",
    f"""
WITH sales AS ({_SALES})
SELECT DISTINCT 'category', i.category FROM sales s JOIN {ITEMS_TABLE} i ON i.sale_id = s.sale_id
WHERE i.category IS NOT NULL
UNION ALL
SELECT DISTINCT 'channel', channel FROM sales WHERE channel IS NOT NULL
""",
)


def facets(days: int) -> tuple[Facet, ...]:
    """The facets of a window: seasonality only for windows of SEASON_MIN_DAYS or more."""
    return FACETS if days >= SEASON_MIN_DAYS else (CATEGORY, CHANNEL)


def _summary_query(table: str, shown: tuple[Facet, ...]) -> Query:
    return Query(
        "behavior.summary",
        " UNION ALL ".join(
            f"SELECT {sql_literal(f.name)} AS facet, {f.name} AS key, count(*), sum(frequency), "
            f"sum(monetary), sum(days_since) FROM {table} GROUP BY ALL"
            for f in shown
        ),
    )


def facet_segments(
    facet: Facet, seen: set[str], figures: dict[str | None, tuple[int, int, Decimal, int]]
) -> list[SegmentResult]:
    """A facet's segments: named ones by customers (most first) then name, quarters in order; catch-all last."""
    keys = set(QUARTER_MONTHS) if facet is SEASON else seen | {k for k in figures if k is not None}
    zero = (0, 0, Decimal(0), 0)
    by_size = sorted(keys, key=lambda k: (-figures.get(k, zero)[0], k))
    ordered = sorted(keys) if facet is SEASON else by_size
    segments = [facet.named(k).add(*figures.get(k, zero)) for k in ordered]
    return [*segments, facet.rest().add(*figures.get(None, zero))]


def window_segments(ex: Executor, window: Window, tag: str, members: bool) -> tuple[SegmentResult, ...]:
    """The behavior segments of one window, its profile left as `behavior_<tag>`; with `members`, `members_<tag>`."""
    profile = f"behavior_{tag}"
    bounds = {"start": window["start"], "end": window["end"]}
    shown = facets(window["days"])
    ex.create_table(profile, PROFILE, bounds)
    figures: dict[str, dict[str | None, tuple[int, int, Decimal, int]]] = {f.name: {} for f in shown}
    for facet, key, customers, sales, revenue, days_sum in ex.rows(_summary_query(profile, shown)):
        figures[facet][key] = (customers, sales, Decimal(revenue), int(days_sum))
    seen: dict[str, set[str]] = {f.name: set() for f in shown}
    for facet, key in ex.rows(_SEEN, bounds):
        seen[facet].add(key)
    if members:
        ex.create_table(f"members_{tag}", _members_query(profile, shown))
    return tuple(s for f in shown for s in facet_segments(f, seen.get(f.name, set()), figures[f.name]))


def _template_sql(template: str, key: str, catch_all: str) -> str:
    """SQL for a segment's name or code from the profile's preference column (NULL: the catch-all)."""
    before, _, after = template.partition("{name}")
    return f"coalesce({sql_literal(before)} || {key} || {sql_literal(after)}, {sql_literal(catch_all)})"


def _code_sql(f: Facet) -> str:
    return _template_sql(f.code, f.name, f.catch_all_code)


def _members_query(profile: str, shown: tuple[Facet, ...]) -> Query:
    return Query(
        "behavior.members",
        " UNION ALL ".join(
            f"SELECT customer_id, {sql_literal(f.name)} AS facet, {_code_sql(f)} AS segment_code FROM {profile}"
            for f in shown
        ),
    )


def customers_query(days: int, where: str = "TRUE", profile: str = f"behavior_{CURRENT}") -> Query:
    """One row per customer with their segment in each facet (the `segcli customers` list).

    Reads the profile table `window_segments` left for the current window. Parameters: $end.
    """
    segments = ", ".join(
        f"{_template_sql(f.label, f.name, f.catch_all)} AS {f.name}_segment, {_code_sql(f)} AS {f.name}_code"
        for f in facets(days)
    )
    return Query(
        "behavior.customers",
        f"""
WITH listed AS (
    SELECT customer_id, CAST($end AS DATE) - CAST(days_since AS INTEGER) AS last_purchase_date,
           CAST(days_since AS INTEGER) AS days_since, CAST(frequency AS INTEGER) AS frequency, monetary,
           {segments}
    FROM {profile}
)
SELECT * FROM listed WHERE {where} ORDER BY customer_id
""",
    )


@dataclass(frozen=True)
class BehaviorMethod:
    """Facets of preference (category, channel, season); segments come from the data."""

    name: str = "behavior"
    title: str = "Behaviour"
    needs_items: bool = True
    needs_previous: bool = True
    scored: bool = False
    faceted: bool = True

    def default_table(self) -> SegmentTable | None:
        return None

    def check_source(self, source: Source) -> None:
        missing, flags = [], []
        if "channel" not in source.columns():
            missing.append(f"a channel column (none in {source.label})")
            flags.append("map one with --map SOURCE=channel")
        if not source.has_items():
            missing.append("sale items")
            flags.append("--items")
        if missing:
            message = f"Invalid segmentation_method. behavior needs {' and '.join(missing)}"
            raise InvalidParameter(message, cli_hint="; ".join(flags))

    def segment_labels(self, table: SegmentTable | None) -> SegmentLabels | None:
        return LABELS

    def window_segments(
        self, ex: Executor, window: Window, table: SegmentTable | None, tag: str, members: bool
    ) -> tuple[SegmentResult, ...]:
        return window_segments(ex, window, tag, members)

    def insights(
        self,
        current: tuple[SegmentResult, ...],
        previous: tuple[SegmentResult, ...],
        table: SegmentTable | None,
    ) -> Insights:
        return comparative_insights(current, previous)

    def customers(
        self, ex: Executor, window: Window, table: SegmentTable | None, params: ReportParams | None
    ) -> pyarrow.Table:
        # the profiles behind the list; its segments (from the data) check the filter
        segments = window_segments(ex, window, CURRENT, members=False)
        if params is not None:
            check_segment_filter(params, [s.name for s in segments], [s.code for s in segments])
        shown = facets(window["days"])
        conditions, filters = ["TRUE"], dict[str, Any]()
        if params is not None and params.segment_name is not None:
            columns = ", ".join(f"{f.name}_segment" for f in shown)
            conditions.append(f"$segment_name IN ({columns})")
            filters["segment_name"] = params.segment_name
        if params is not None and params.segment_code is not None:
            conditions.append(f"$segment_code IN ({', '.join(f'{f.name}_code' for f in shown)})")
            filters["segment_code"] = params.segment_code
        query = customers_query(window["days"], " AND ".join(conditions))
        return ex.arrow(query, {"end": window["end"], **filters})

    def notes(self, period: Period) -> tuple[str, ...]:
        if period.days < SEASON_MIN_DAYS:
            return (f"Seasonality needs a window of {SEASON_MIN_DAYS} days or more",)
        return ()


BEHAVIOR = BehaviorMethod()
