"""The report model: plain dataclasses holding exact figures, and their JSON body."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from segcli.engine.params import ReportParams

if TYPE_CHECKING:
    from segcli.engine.comparison import Comparison

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
_CTX = decimal.Context(prec=60)

INCLUDED_STATUSES = ("completed", "partial")
EXCLUDED_STATUSES = ("pending", "cancelled")
EMPTY_STATUS = "(empty)"


def round_to(value: Decimal, places: Decimal) -> Decimal:
    """Round half away from zero, on the exact value (never a negative zero)."""
    rounded = value.quantize(places, rounding=ROUND_HALF_UP, context=_CTX)
    return rounded + 0 if rounded.is_zero() else rounded


def ratio(numerator: Decimal | int, denominator: Decimal | int, places: Decimal) -> Decimal:
    """numerator / denominator rounded to `places`; 0 when the denominator is 0."""
    if denominator == 0:
        return Decimal(0).quantize(places)
    return round_to(_CTX.divide(Decimal(numerator), Decimal(denominator)), places)


@dataclass(frozen=True)
class Period:
    """The report window: `days` calendar days ending on `end_date`, both ends included."""

    start_date: date
    end_date: date
    days: int


@dataclass(frozen=True)
class SegmentResult:
    """One segment's members summed exactly; rounded figures are derived on demand."""

    name: str
    code: str
    description: str
    actions: tuple[str, ...]
    scores: tuple[int, int, int] | None = None
    facet: str | None = None
    customer_count: int = 0
    sales: int = 0
    revenue: Decimal = Decimal(0)
    days_since_sum: int = 0

    @property
    def total_revenue(self) -> Decimal:
        return round_to(self.revenue, CENT)

    @property
    def average_order_value(self) -> Decimal:
        return ratio(self.revenue, self.sales, CENT)

    @property
    def avg_days_since_last_purchase(self) -> Decimal:
        return ratio(self.days_since_sum, self.customer_count, TENTH)

    @property
    def avg_purchase_frequency(self) -> Decimal:
        return ratio(self.sales, self.customer_count, TENTH)

    @property
    def avg_total_spend(self) -> Decimal:
        return ratio(self.revenue, self.customer_count, CENT)

    def add(self, customers: int, sales: int, revenue: Decimal, days_since_sum: int) -> SegmentResult:
        """This segment with more members added."""
        return replace(
            self,
            customer_count=self.customer_count + customers,
            sales=self.sales + sales,
            revenue=self.revenue + revenue,
            days_since_sum=self.days_since_sum + days_since_sum,
        )

    def to_dict(self) -> dict[str, Any]:
        r, f, m = self.scores if self.scores else (None, None, None)
        body: dict[str, Any] = {
            "segment_name": self.name,
            "segment_code": self.code,
            "description": self.description,
            "customer_count": self.customer_count,
            "total_revenue": self.total_revenue,
            "average_order_value": self.average_order_value,
            "recency_score": r,
            "frequency_score": f,
            "monetary_score": m,
            "characteristics": {
                "avg_days_since_last_purchase": self.avg_days_since_last_purchase,
                "avg_purchase_frequency": self.avg_purchase_frequency,
                "avg_total_spend": self.avg_total_spend,
            },
            "recommended_actions": list(self.actions),
        }
        if self.facet is not None:
            body["facet"] = self.facet
        return body


@dataclass(frozen=True)
class Insights:
    """Segment names (or None) that summarise the report."""

    highest_revenue_segment: str | None = None
    largest_segment: str | None = None
    fastest_growing_segment: str | None = None
    needs_attention: str | None = None
    # True when the last two are measured against the previous window (value, behavior); False when
    # they are the segment table's priority lists (rfm): views label them for what they are
    measured: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "highest_revenue_segment": self.highest_revenue_segment,
            "largest_segment": self.largest_segment,
            "fastest_growing_segment": self.fastest_growing_segment,
            "needs_attention": self.needs_attention,
        }


def first_largest(segments: Iterable[SegmentResult], key: Callable[[SegmentResult], Any]) -> str | None:
    """Name of the non-empty segment with the largest key, the earlier one on a tie."""
    best: SegmentResult | None = None
    for segment in segments:
        if segment.customer_count > 0 and (best is None or key(segment) > key(best)):
            best = segment
    return best.name if best else None


def first_non_empty(segments: Iterable[SegmentResult], names: Iterable[str]) -> str | None:
    """The first of `names` whose segment has customers."""
    counts = {s.name: s.customer_count for s in segments}
    return next((n for n in names if counts.get(n, 0) > 0), None)


def first_facet(segments: tuple[SegmentResult, ...]) -> tuple[SegmentResult, ...]:
    """One partition of the customers: every segment, or for behavior those of the first facet."""
    if not segments:
        return ()
    facet = segments[0].facet
    return tuple(s for s in segments if s.facet == facet)


@dataclass(frozen=True)
class DataQuality:
    """What happened to the rows of the business dated in the window."""

    rows_read: int = 0
    rows_in_scope: int = 0
    excluded_by_status: Mapping[str, int] = field(default_factory=dict)
    unknown_status: Mapping[str, int] = field(default_factory=dict)
    anonymous_sales: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_in_scope": self.rows_in_scope,
            "excluded_by_status": dict(self.excluded_by_status),
            "unknown_status": dict(self.unknown_status),
            "anonymous_sales": self.anonymous_sales,
        }


@dataclass(frozen=True)
class Report:
    """A whole, unfiltered segmentation report."""

    method: str
    business_id: int
    storefront_id: int | None
    timezone: str
    period: Period
    segments: tuple[SegmentResult, ...]
    insights: Insights
    data_quality: DataQuality
    comparison: Comparison | None = None
    notes: tuple[str, ...] = ()  # the method's remarks for views (never in the JSON body)
    warnings: tuple[str, ...] = ()  # SPEC 1.5: a report that is probably not what the user meant
    currency: str | None = None  # the one currency of the sales in scope, or the configured one

    def with_warnings(self, *warnings: str) -> Report:
        """This report with more warnings, first (a warning already given is not repeated)."""
        return replace(self, warnings=tuple(dict.fromkeys((*warnings, *self.warnings))))

    @property
    def total_customers(self) -> int:
        return sum(s.customer_count for s in first_facet(self.segments))

    @property
    def total_sales(self) -> int:
        return sum(s.sales for s in first_facet(self.segments))

    @property
    def total_revenue(self) -> Decimal:
        return sum((s.revenue for s in first_facet(self.segments)), Decimal(0))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.segments)

    def shown_segments(self, params: ReportParams | None = None) -> tuple[SegmentResult, ...]:
        """The segments that pass the request's segment filters."""
        if params is None:
            return self.segments
        return tuple(s for s in self.segments if params.wants(s.name, s.code))

    def shown_comparison(self, params: ReportParams | None = None) -> Comparison | None:
        """The comparison with its per-segment rows filtered like the segments (the matrix stays whole)."""
        if self.comparison is None or params is None:
            return self.comparison
        return self.comparison.filtered(params.wants)

    def to_body(self, params: ReportParams | None = None) -> dict[str, Any]:
        """The HTTP success body: the replaced API's fields first, then segcli's additions."""
        data: dict[str, Any] = {
            "method": self.method,
            "insights": self.insights.to_dict(),
            "segments": [s.to_dict() for s in self.shown_segments(params)],
            "period": {
                "start_date": self.period.start_date.isoformat(),
                "end_date": self.period.end_date.isoformat(),
                "days": self.period.days,
                "timezone": self.timezone,
            },
            "business_id": self.business_id,
            "storefront_id": self.storefront_id,
            "total_customers": self.total_customers,
            "total_revenue": round_to(self.total_revenue, CENT),
            "currency": self.currency,
            "data_quality": self.data_quality.to_dict(),
            "warnings": list(self.warnings),
        }
        comparison = self.shown_comparison(params)
        if comparison is not None:
            data["comparison"] = comparison.to_dict()
        return {"success": True, "data": data}
