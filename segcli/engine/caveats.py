"""Warnings (SPEC 1.5): a report that succeeds but is probably not what the user meant says so.

Data warnings depend on the data and the request only, so they travel with a cached report;
"in the future" depends on today and is added to every report as it leaves `get_report`.
"""

from __future__ import annotations

from datetime import date

from segcli.engine.report import Report

# last_sale when the source cannot tell (no staleness warning then)
UNKNOWN = "unknown"


def _whose(report: Report) -> str:
    store = "" if report.storefront_id is None else f", storefront {report.storefront_id}"
    return f"business {report.business_id}{store}"


def data_warnings(report: Report, last_sale: date | str | None) -> tuple[str, ...]:
    """No sales at all, no sales in scope, an as-of after the last sale (naming its date)."""
    if last_sale is None:
        if report.storefront_id is not None:
            return (f"storefront {report.storefront_id} has no sales (business {report.business_id})",)
        return (f"business {report.business_id} has no sales in the data",)
    period = report.period
    warnings = []
    if report.total_customers == 0:
        warnings.append(
            f"no sales in scope: 0 customers for {_whose(report)} from "
            f"{period.start_date.isoformat()} to {period.end_date.isoformat()}"
        )
    if isinstance(last_sale, date) and period.end_date > last_sale:
        day = last_sale.isoformat()
        warnings.append(
            f"as-of {period.end_date.isoformat()} is after the last sale in the data ({day}, "
            f"{_whose(report)}); use --as-of {day} for a report up to it"
        )
    return tuple(warnings)


def future_warning(as_of: date, today: date, timezone: str) -> str | None:
    """An as-of after today (in the report time zone): its window holds days that have not happened."""
    if as_of <= today:
        return None
    return f"as-of {as_of.isoformat()} is in the future (today is {today.isoformat()} in {timezone})"
