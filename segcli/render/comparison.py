"""The terminal view of `data.comparison`: change per segment with arrows, and the migration matrices."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from segcli.engine.compare import LAPSED, NEW, change_pct
from segcli.render.table import FACET_TITLES, money


def change(pct: Decimal | None, now: Decimal | int) -> Text:
    """▲/▼ and the percentage, green for a rise and red for a fall; "new" when there was nothing before."""
    if pct is None:
        return Text("new" if now > 0 else "—", style="cyan" if now > 0 else "dim")
    if pct > 0:
        return Text(f"▲ {pct:,}%", style="green")
    if pct < 0:
        return Text(f"▼ {-pct:,}%", style="red")
    return Text(f"= {pct}%", style="dim")


def summary_line(comparison: Mapping[str, Any], customers: int, revenue: Decimal) -> Text:
    """Totals before and now, with their change."""
    before = comparison["previous_period"]
    old_customers = comparison["previous_total_customers"]
    old_revenue = comparison["previous_total_revenue"]
    text = Text()
    text.append("Compared with the previous window", style="bold")
    text.append(f" {before['start_date']} → {before['end_date']} ({before['days']} days)\n")
    text.append(f"Customers {old_customers:,} → {customers:,} ")
    text.append_text(change(change_pct(customers, old_customers), customers))
    text.append(f" · revenue {money(old_revenue)} → {money(revenue)} ")
    text.append_text(change(change_pct(revenue, old_revenue), revenue))
    return text


def change_table(comparison: Mapping[str, Any]) -> Table:
    """Per segment: customers and revenue before and now, and their change."""
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("Segment", no_wrap=True)
    for title in ("Customers before", "now", "change", "Revenue before", "now", "change"):
        table.add_column(title, justify="right", no_wrap=True)
    facet = None
    for i, row in enumerate(comparison["segments"]):
        if row.get("facet") != facet:
            facet = row.get("facet")
            if i:
                table.add_section()
            table.add_row(Text(FACET_TITLES.get(str(facet), str(facet)), style="bold magenta"))
        table.add_row(
            row["segment_name"],
            f"{row['previous_customer_count']:,}",
            f"{row['customer_count']:,}",
            change(row["customer_change_pct"], row["customer_count"]),
            money(row["previous_revenue"]),
            money(row["revenue"]),
            change(row["revenue_change_pct"], row["revenue"]),
        )
    return table


def matrix_table(matrix: Mapping[str, Any]) -> RenderableType:
    """Rows: segment before (and new); numbered columns: segment now (and lapsed); stayers in bold."""
    columns: list[str] = matrix["columns"][:-1]
    number = {name: str(i) for i, name in enumerate(columns, start=1)}
    rows = matrix["rows"]
    stayed = sum(
        r["customers"][columns.index(r["from_segment"])] for r in rows if r["from_segment"] in number
    )
    new = next((r["total"] for r in rows if r["from_segment"] == NEW), 0)
    lapsed = sum(r["customers"][-1] for r in rows)
    previous_total = sum(r["total"] for r in rows if r["from_segment"] != NEW)
    moved = previous_total - stayed - lapsed
    facet = matrix.get("facet")
    title = Text()
    title.append("Migration", style="bold")
    if facet is not None:
        title.append(f" · {FACET_TITLES.get(facet, facet)}", style="bold")
    title.append(
        f"  stayed {stayed:,} · moved {moved:,} · new {new:,} · lapsed {lapsed:,}"
        "\nrows: segment in the previous window · columns: segment now (by number)",
        style="dim",
    )
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("from ↓  to →", no_wrap=True)
    for name in columns:
        table.add_column(number[name], justify="right", no_wrap=True)
    table.add_column(LAPSED, justify="right", no_wrap=True, style="red")
    table.add_column("before", justify="right", no_wrap=True, style="dim")
    for row in rows:
        name = row["from_segment"]
        label = f"{number[name]} {name}" if name in number else ("  " + name if name == NEW else f"· {name}")
        cells = [
            Text(f"{n:,}", style="bold" if name == col else ("dim" if n == 0 else ""))
            for col, n in zip([*columns, LAPSED], row["customers"], strict=True)
        ]
        total = "" if name == NEW else f"{row['total']:,}"
        table.add_row(Text(label, style="cyan" if name == NEW else ""), *cells, total)
    now_totals = [sum(r["customers"][i] for r in rows) for i in range(len(columns))]
    table.add_section()
    table.add_row(Text("now", style="dim"), *(Text(f"{n:,}", style="dim") for n in now_totals), "", "")
    return Group(title, table)


def comparison_view(comparison: Mapping[str, Any], customers: int, revenue: Decimal) -> Group:
    """Everything the terminal shows of a comparison."""
    parts: list[RenderableType] = [
        summary_line(comparison, customers, revenue),
        change_table(comparison),
    ]
    parts.extend(matrix_table(m) for m in comparison["migration"])
    return Group(*parts)
