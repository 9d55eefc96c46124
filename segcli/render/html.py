"""HTML for notebooks (`Report._repr_html_`): header, insights, segments with bars, data quality.

Plain HTML with inline styles (a notebook strips <style> blocks in some front ends); every
value from the data is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from html import escape

from segcli.engine.comparison import Comparison, Mover
from segcli.engine.params import ReportParams
from segcli.engine.report import DataQuality, Report
from segcli.render.numbers import count, money, percent

_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;"
_RIGHT = _CELL + "text-align:right;white-space:nowrap;"
_HEAD = "padding:2px 8px;border-bottom:2px solid #888;text-align:left;"


def _bar(fraction: Decimal, color: str) -> str:
    width = max(Decimal(0), min(Decimal(1), fraction)) * 100
    return (
        f'<td style="{_CELL}width:90px;"><div style="background:{color};height:0.8em;'
        f'width:{width:.1f}%;"></div></td>'
    )


def _row(cells: Iterable[str], style: str = _CELL) -> str:
    return "<tr>" + "".join(f'<td style="{style}">{escape(c)}</td>' for c in cells) + "</tr>"


def _header(report: Report, warnings: list[str]) -> str:
    p = report.period
    store = "all" if report.storefront_id is None else str(report.storefront_id)
    lines = [
        '<div style="font-weight:bold;font-size:1.1em;">Customer segmentation</div>',
        f"<div>business {escape(str(report.business_id))} · storefront {escape(store)} · "
        f"method {escape(report.method)}</div>",
        f"<div>Window {p.start_date.isoformat()} → {p.end_date.isoformat()} ({p.days} days, as of "
        f"{p.end_date.isoformat()}, {escape(report.timezone)})</div>",
        f"<div>{count(report.total_customers)} customers · {count(report.total_sales)} sales · "
        f"revenue {money(report.total_revenue)}{_currency(report)}</div>",
    ]
    lines += [f'<div style="color:#a15c00;">Warning: {escape(w)}</div>' for w in warnings]
    return "".join(lines)


def _currency(report: Report) -> str:
    """ " EUR" after an amount when the currency is known, else nothing."""
    return f" {escape(report.currency)}" if report.currency else ""


def _insights(report: Report) -> str:
    values = report.insights.to_dict()
    measured = report.insights.measured  # rfm's last two are priority lists, labelled as such
    labels = (
        ("highest_revenue_segment", "Highest revenue"),
        ("largest_segment", "Largest"),
        ("fastest_growing_segment", "Fastest growing" if measured else "Nurture next"),
        ("needs_attention", "Needs attention" if measured else "Win back first"),
    )
    rows = "".join(
        f'<tr><td style="{_CELL}color:#666;">{label}</td>'
        f'<td style="{_CELL}font-weight:bold;">{escape(values[key] or "—")}</td></tr>'
        for key, label in labels
    )
    return f'<table style="border-collapse:collapse;margin:8px 0;"><caption style="text-align:left;">Insights</caption>{rows}</table>'


def _segments(report: Report, params: ReportParams | None) -> str:
    from segcli.engine.methods.behavior import FACET_TITLES

    titles = ("Segment", "Code", "Customers", "Share", "", "Revenue", "Share", "", "AOV", "Days", "Orders")
    head = "".join(f'<th style="{_HEAD}">{t}</th>' for t in titles)
    biggest = max((s.customer_count for s in report.segments), default=0) or 1
    richest = max((s.revenue for s in report.segments), default=Decimal(0))
    rows = []
    facet = None
    for s in report.shown_segments(params):
        if s.facet is not None and s.facet != facet:
            facet = s.facet
            rows.append(
                f'<tr><td colspan="{len(titles)}" style="{_CELL}font-weight:bold;color:#7a3e9d;">'
                f"{escape(FACET_TITLES.get(facet, facet))}</td></tr>"
            )
        revenue_fraction = s.revenue / richest if richest > 0 and s.revenue > 0 else Decimal(0)
        rows.append(
            "<tr>"
            f'<td style="{_CELL}">{escape(s.name)}</td>'
            f'<td style="{_CELL}color:#666;">{escape(s.code)}</td>'
            f'<td style="{_RIGHT}">{count(s.customer_count)}</td>'
            f'<td style="{_RIGHT}">{percent(s.customer_count, report.total_customers)}</td>'
            + _bar(Decimal(s.customer_count) / biggest, "#2a9dc4")
            + f'<td style="{_RIGHT}">{money(s.revenue)}</td>'
            f'<td style="{_RIGHT}">{percent(s.revenue, report.total_revenue)}</td>'
            + _bar(revenue_fraction, "#3a9a4a")
            + f'<td style="{_RIGHT}">{money(s.average_order_value)}</td>'
            f'<td style="{_RIGHT}">{s.avg_days_since_last_purchase}</td>'
            f'<td style="{_RIGHT}">{s.avg_purchase_frequency}</td>'
            "</tr>"
        )
    return (
        f'<table style="border-collapse:collapse;margin:8px 0;"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _change(pct: Decimal | None) -> str:
    return "—" if pct is None else f"{pct:+}%"


def _mover(mover: Mover | None, money_change: bool, currency: str) -> str:
    if mover is None:
        return "—"
    sign = "+" if mover.change > 0 else "\N{MINUS SIGN}"
    amount = money(abs(Decimal(mover.change))) + currency if money_change else count(abs(int(mover.change)))
    facet = "" if mover.facet is None else f" ({mover.facet})"
    return f"{escape(mover.segment_name)}{escape(facet)} {sign}{amount}"


def _movers(comparison: Comparison, currency: str) -> str:
    """The segments that measurably grew and fell most, by customers and by revenue."""
    m = comparison.movers
    return (
        f'<div style="color:#666;">Grew most: by customers {_mover(m.grew_most_customers, False, currency)} · '
        f"by revenue {_mover(m.grew_most_revenue, True, currency)}</div>"
        f'<div style="color:#666;">Fell most: by customers {_mover(m.fell_most_customers, False, currency)} · '
        f"by revenue {_mover(m.fell_most_revenue, True, currency)}</div>"
    )


def _comparison(comparison: Comparison, currency: str = "") -> str:
    """Change per segment against the previous window, the movers, and each matrix's migration summary."""
    before = comparison.previous_period
    titles = ("Segment", "Customers before", "now", "change", "Revenue before", "now", "change")
    head = "".join(f'<th style="{_HEAD}">{t}</th>' for t in titles)
    rows = "".join(
        f'<tr><td style="{_CELL}">{escape(r.segment_name)}</td>'
        f'<td style="{_RIGHT}">{count(r.previous_customer_count)}</td>'
        f'<td style="{_RIGHT}">{count(r.customer_count)}</td>'
        f'<td style="{_RIGHT}">{_change(r.customer_change_pct)}</td>'
        f'<td style="{_RIGHT}">{money(r.previous_revenue)}</td>'
        f'<td style="{_RIGHT}">{money(r.revenue)}</td>'
        f'<td style="{_RIGHT}">{_change(r.revenue_change_pct)}</td></tr>'
        for r in comparison.segments
    )
    summaries = "".join(
        f'<div style="color:#666;">Migration{"" if m.facet is None else " (" + escape(m.facet) + ")"}: '
        + " · ".join(f"{name} {value:,}" for name, value in m.summary.items())
        + "</div>"
        for m in comparison.migration
    )
    return (
        f'<div style="font-weight:bold;margin-top:8px;">Compared with {before.start_date.isoformat()} → '
        f"{before.end_date.isoformat()}</div>"
        f'<table style="border-collapse:collapse;margin:8px 0;"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>{_movers(comparison, currency)}{summaries}"
    )


def _quality(quality: DataQuality) -> str:
    text = (
        f"Data quality: {quality.rows_read:,} rows in the window, {quality.rows_in_scope:,} in scope, "
        f"{quality.anonymous_sales:,} anonymous"
    )
    parts = []
    if quality.excluded_by_status:
        parts.append("excluded " + ", ".join(f"{k} {v:,}" for k, v in quality.excluded_by_status.items()))
    if quality.unknown_status:
        parts.append("unknown status " + ", ".join(f"'{k}' {v:,}" for k, v in quality.unknown_status.items()))
    if parts:
        text += " · " + " · ".join(parts)
    return f'<div style="color:#666;">{escape(text)}</div>'


def report_html(report: Report, params: ReportParams | None = None, warnings: Iterable[str] = ()) -> str:
    """The report as one HTML fragment: header, insights, segment table with bars, data quality, comparison."""
    notes = "".join(f'<div style="color:#666;">{escape(n)}</div>' for n in report.notes)
    comparison = report.shown_comparison(params)
    return (
        '<div class="segcli-report" style="font-family:system-ui,sans-serif;font-size:0.9em;">'
        + _header(report, list(warnings))
        + _insights(report)
        + _segments(report, params)
        + '<div style="color:#666;">Days: average days since last purchase · Orders: average orders '
        "per customer</div>"
        + notes
        + _quality(report.data_quality)
        + (_comparison(comparison, _currency(report)) if comparison is not None else "")
        + "</div>"
    )
