"""The OpenAPI description of the endpoint: models used for the schema only, and the query parameters.

The endpoint writes its bodies itself (the same bytes as `segcli segment --format json`);
these models must describe exactly those bodies: the schemathesis test checks every
response against them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from segcli.engine.methods import method_names, registered
from segcli.engine.params import DEFAULT_DAYS, DEFAULT_METHOD, EXPORT_FORMATS, MAX_DAYS

if TYPE_CHECKING:
    from segcli.engine.segments import SegmentTable

FacetName = Literal["category", "channel", "season"]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _optional_facet(description: str) -> Any:
    """A `facet` key present only in behavior reports (never null)."""
    return Field(default=None, description=description, json_schema_extra=_no_default)


class Body(BaseModel):
    """The bodies hold exactly the documented keys: schemathesis then checks for any other."""

    model_config = ConfigDict(extra="forbid")


class Characteristics(Body):
    avg_days_since_last_purchase: float = Field(
        description="Members' average days since their last sale, 1 decimal."
    )
    avg_purchase_frequency: float = Field(description="Sales per customer, 1 decimal.")
    avg_total_spend: float = Field(description="Revenue per customer, 2 decimals.")


class Segment(Body):
    segment_name: str
    segment_code: str
    description: str
    customer_count: int
    total_revenue: float = Field(description="Sum of members' spend, 2 decimals (an exact decimal literal).")
    average_order_value: float = Field(description="total_revenue / members' sales, 2 decimals; 0 if none.")
    recency_score: int | None = Field(description="The segment code's R digit (rfm), else null.")
    frequency_score: int | None
    monetary_score: int | None
    characteristics: Characteristics
    recommended_actions: list[str]
    facet: FacetName | SkipJsonSchema[None] = _optional_facet(
        "behavior only: the facet (a partition of the customers) the segment belongs to."
    )


class Insights(Body):
    highest_revenue_segment: str | None
    largest_segment: str | None
    fastest_growing_segment: str | None
    needs_attention: str | None


class Period(Body):
    start_date: str = Field(json_schema_extra={"format": "date"})
    end_date: str = Field(json_schema_extra={"format": "date"})
    days: int
    timezone: str


class DataQuality(Body):
    rows_read: int
    rows_in_scope: int
    excluded_by_status: dict[str, int]
    unknown_status: dict[str, int]
    anonymous_sales: int


class PreviousPeriod(Body):
    start_date: str = Field(json_schema_extra={"format": "date"})
    end_date: str = Field(json_schema_extra={"format": "date"})
    days: int


class SegmentChange(Body):
    segment_name: str
    segment_code: str
    facet: FacetName | SkipJsonSchema[None] = _optional_facet("behavior only.")
    previous_customer_count: int
    customer_count: int = Field(description="0 for a segment met only in the previous window.")
    customer_change_pct: float | None = Field(
        description="Change in percent, 1 decimal; null when there were no customers before."
    )
    previous_revenue: float
    revenue: float
    revenue_change_pct: float | None = Field(
        description="Change in percent, 1 decimal; null when the previous revenue was not positive."
    )


class MigrationRow(Body):
    from_segment: str = Field(description='A segment of the previous window, or "new".')
    customers: list[int] = Field(description="Customers per column, aligned with `columns`.")
    total: int = Field(description="The row's sum: the segment's previous customer count.")


class Migration(Body):
    facet: FacetName | None = Field(description="behavior: the facet; null for rfm and value.")
    columns: list[str] = Field(description='The current segments, then "lapsed".')
    rows: list[MigrationRow] = Field(
        description='The previous segments (stayers on the diagonal), segments gone now, then "new".'
    )


class Mover(Body):
    segment_name: str
    segment_code: str
    facet: FacetName | SkipJsonSchema[None] = _optional_facet("behavior only.")
    change: float = Field(
        description="The change from the previous window: customers, or revenue (2 decimals)."
    )


class Movers(Body):
    """Measured against the previous window over every segment (before the segment filters); null when
    no segment rose (fell). Unlike insights.fastest_growing_segment and needs_attention, which for rfm
    are the segment table's priority lists."""

    grew_most_customers: Mover | None
    fell_most_customers: Mover | None
    grew_most_revenue: Mover | None
    fell_most_revenue: Mover | None


class Comparison(Body):
    previous_period: PreviousPeriod
    previous_total_customers: int
    previous_total_revenue: float
    segments: list[SegmentChange] = Field(description="Per segment, after the segment filters.")
    migration: list[Migration] = Field(description="One matrix per facet, never filtered.")
    movers: Movers = Field(description="The segments that grew and fell most, by customers and by revenue.")


class ReportData(Body):
    method: str
    insights: Insights
    segments: list[Segment] = Field(
        description="Every segment of the method in order, after the segment filters."
    )
    period: Period
    business_id: int
    storefront_id: int | None
    total_customers: int
    total_revenue: float
    currency: str | None = Field(
        description="The currency of the amounts: the data's currency column, else the configured one; "
        "null when unknown."
    )
    data_quality: DataQuality
    warnings: list[str] = Field(
        description="Why the report is probably not what was meant (no sales in scope, an as-of after the "
        "last sale or in the future, a storefront without sales); empty when none."
    )
    comparison: Comparison | SkipJsonSchema[None] = Field(
        default=None,
        description="With compare=true only: the previous window of the same length and the migration.",
        json_schema_extra=_no_default,
    )


class SuccessBody(Body):
    success: Literal[True]
    data: ReportData


class ErrorBody(Body):
    success: Literal[False]
    error: str


class AuthErrorBody(Body):
    detail: Literal["Authentication credentials were not provided.", "Invalid token."]


class Health(BaseModel):
    status: Literal["ok"]


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _segment_schema(values: Sequence[str], patterns: Sequence[str] | None) -> dict[str, Any]:
    """A segment filter's schema: the listed values, or a pattern's; any text when `patterns` is None."""
    if patterns is None:
        return {"type": "string"}
    listed = {"type": "string", "enum": [*sorted(set(values)), ""]}
    if not patterns:
        return listed
    return {"anyOf": [listed, {"type": "string", "pattern": f"^({'|'.join(patterns)})$"}]}


def _segment_parameters(tables: Mapping[str, SegmentTable]) -> list[dict[str, Any]]:
    """segment_name and segment_code: every registered method's segments (those named from the data as patterns)."""
    labels = [m.segment_labels(tables.get(m.name)) for m in registered()]
    known = [label for label in labels if label is not None]
    open_ended = len(known) < len(labels)  # a method whose segments can be named anything
    names = [v for label in known for v in label.names]
    codes = [v for label in known for v in label.codes]
    name_patterns = None if open_ended else [p for label in known for p in label.name_patterns]
    code_patterns = None if open_ended else [p for label in known for p in label.code_patterns]
    parameters = []
    for name, schema in (
        ("segment_name", _segment_schema(names, name_patterns)),
        ("segment_code", _segment_schema(codes, code_patterns)),
    ):
        what = name.replace("segment_", "a ")
        description = (
            f"Only this segment (empty: all): {what} of the chosen segmentation_method's segments. Which "
            "values are valid depends on the method (some name segments from the data), so a value of another "
            f"method's segments is a 400 `Invalid {name}`."
        )
        parameters.append(_query(name, schema, description))
    return parameters


# Declared for the documentation only: the endpoint reads the raw query string itself, so that
# every invalid value gets the replaced API's 400 message (never FastAPI's 422).
def query_parameters(
    tables: Mapping[str, SegmentTable], methods: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The endpoint's query parameters: segments of `tables`, the `methods` served (default: all registered).

    Built when the app is built, so a method registered before then is listed.
    """
    return [
        _query(
            "segmentation_method",
            {
                "type": "string",
                "enum": list(method_names() if methods is None else methods),
                "default": DEFAULT_METHOD,
            },
            "Segmentation method (only those the source can serve, e.g. with the sale items one needs).",
        ),
        _query(
            "days",
            {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": DEFAULT_DAYS},
            "Window length in days, ending today (in the server's time zone).",
        ),
        _query(
            "storefront_id",
            {
                "anyOf": [
                    {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},  # what engines store
                    {"type": "string", "maxLength": 0},
                ]
            },
            "Only sales of this storefront (empty: all).",
        ),
        *_segment_parameters(tables),
        _query(
            "export_format",
            {"type": "string", "enum": [*EXPORT_FORMATS, ""]},
            "Download the report as a file instead of JSON (empty: JSON).",
        ),
        _query(
            "compare",
            {
                "anyOf": [
                    {"type": "boolean"},
                    {"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$"},
                ],
                "default": False,
            },
            "Add data.comparison: the previous window of the same length, the change per segment and "
            "the migration matrix (true/false or 1/0, any case; empty: false). With export_format=csv "
            "the file is the migration as a long table (from_segment, to_segment, customers).",
        ),
    ]


_AUTH_HEADERS = {"WWW-Authenticate": {"schema": {"type": "string", "enum": ["Bearer"]}}}

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report; a file (attachment) when export_format is given.",
        "model": SuccessBody,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
        "headers": {
            "Content-Disposition": {
                "description": 'Files only: attachment; filename="customer-segmentation-<start>-to-<end>.<ext>"',
                "schema": {"type": "string"},
            }
        },
    },
    400: {"description": "An invalid parameter.", "model": ErrorBody},
    401: {
        "description": "No token, or an unknown or revoked one.",
        "model": AuthErrorBody,
        "headers": _AUTH_HEADERS,
    },
}
