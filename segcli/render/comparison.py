"""The terminal view of `data.comparison`: change per segment with arrows, and the migration matrices."""

from __future__ import annotations

from decimal import Decimal

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from segcli.engine.comparison import LAPSED, NEW, Comparison, MigrationMatrix, Mover
from segcli.engine.methods.behavior import FACET_TITLES
from segcli.engine.report import Report
from segcli.render.numbers import change as size
from segcli.render.numbers import count, money
from segcli.render.plain import clean, plain


def change(pct: Decimal | None, now: Decimal | int) -> Text:
    """▲/▼ and the percentage, green for a rise and red for a fall; "new" when there was nothing before."""
    if pct is None:
        return Text("new" if now > 0 else "—", style="cyan" if now > 0 else "dim")
    if pct > 0:
        return Text(f"▲ {size(pct)}", style="green")
    if pct < 0:
        return Text(f"▼ {size(pct)}", style="red")
    return Text(f"= {size(pct)}", style="dim")


def summary_line(comparison: Comparison, customers: int, revenue: Decimal, currency: str = "") -> Text:
    """Totals before and now, with their change (`currency`: " EUR" or "")."""
    before = comparison.previous_period
    old_customers = comparison.previous_total_customers
    old_revenue = comparison.previous_total_revenue
    text = Text()
    text.append("Compared with the previous window", style="bold")
    text.append(f" {before.start_date.isoformat()} → {before.end_date.isoformat()} ({before.days} days)\n")
    text.append(f"Customers {old_customers:,} → {customers:,} ")
    text.append_text(change(comparison.customer_change_pct, customers))
    text.append(f" · revenue {money(old_revenue)} → {money(revenue)}{currency} ")
    text.append_text(change(comparison.revenue_change_pct, revenue))
    return text


# below this width the change table leaves out the revenue amounts (keeping their change)
# and the migration matrix its row totals
WIDE = 110


def change_table(comparison: Comparison, width: int = 120) -> Table:
    """Per segment: customers and revenue before and now, and their change.

    Numbers are never cut; on a narrow terminal a long segment name wraps between words, whole.
    """
    wide = width >= WIDE
    every = ("Customers\nbefore", "Customers\nnow", "change", "Revenue\nbefore", "Revenue\nnow", "change")
    titles: tuple[str, ...] = every if wide else (*every[:3], "Revenue\nchange")
    rows: list[tuple[str, list[Text]]] = []
    for row in comparison.segments:
        revenue = [Text(money(row.previous_revenue)), Text(money(row.revenue))] if wide else []
        cells = [
            Text(count(row.previous_customer_count)),
            Text(count(row.customer_count)),
            change(row.customer_change_pct, row.customer_count),
            *revenue,
            change(row.revenue_change_pct, row.revenue),
        ]
        rows.append((row.segment_name, cells))
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("Segment", overflow="fold")
    for i, title in enumerate(titles):
        needed = max([len(line) for line in title.split("\n")] + [r[1][i].cell_len for r in rows])
        table.add_column(title, justify="right", no_wrap=True, min_width=needed)
    facet = None
    for i, (change_row, (name, cells)) in enumerate(zip(comparison.segments, rows, strict=True)):
        if change_row.facet != facet:
            facet = change_row.facet
            if i:
                table.add_section()
            table.add_row(Text(FACET_TITLES.get(str(facet), str(facet)), style="bold magenta"))
        table.add_row(plain(name), *cells)
    return table


FROM_TO = "from ↓  to →"
MIN_LABEL = 10


def _label(name: str, number: dict[str, str]) -> str:
    """A matrix row's label: the segment's column number and name; "new"; or a segment gone now."""
    if name in number:
        return f"{number[name]} {clean(name)}"
    return "  " + name if name == NEW else f"· {clean(name)}"


def matrix_table(matrix: MigrationMatrix, width: int = 120) -> RenderableType:
    """Rows: segment before (and new); numbered columns: segment now (and lapsed); stayers in bold."""
    columns = list(matrix.columns[:-1])
    number = {name: str(i) for i, name in enumerate(columns, start=1)}
    rows = matrix.rows
    facet = matrix.facet
    title = Text()
    title.append("Migration", style="bold")
    if facet is not None:
        title.append(f" · {FACET_TITLES.get(facet, facet)}", style="bold")
    title.append("\n" + " · ".join(f"{key} {n:,}" for key, n in matrix.summary.items()))
    title.append("\nrows: segment in the previous window · columns: segment now (by number)", style="dim")
    wide = width >= WIDE
    now_totals = list(matrix.now_totals)
    headers = [*(number[c] for c in columns), LAPSED] + (["before"] if wide else [])
    grid = [[*r.customers, r.total] for r in rows] + [[*now_totals, 0, 0]]
    widths = [max(len(h), *(len(count(line[i])) for line in grid)) for i, h in enumerate(headers)]
    labels = [_label(r.from_segment, number) for r in rows]
    # a rich table takes 3 characters per column besides the content, less 1
    room = width - sum(widths) - 3 * (len(widths) + 1) + 1
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    # the label gives way (ellipsis) on a narrow terminal; numbers never do
    label_width = max(MIN_LABEL, min(room, max(len(label) for label in [*labels, FROM_TO])))
    # a narrow terminal wraps a label between words: a segment name is never cut
    table.add_column(FROM_TO, overflow="fold", width=label_width)
    for header, column_width in zip(headers, widths, strict=True):
        style = {LAPSED: "red", "before": "dim"}.get(header)
        table.add_column(header, justify="right", no_wrap=True, width=column_width, style=style)
    for row, label in zip(rows, labels, strict=True):
        name = row.from_segment
        cells = [
            Text(count(n), style="bold" if name == col else ("dim" if n == 0 else ""))
            for col, n in zip([*columns, LAPSED], row.customers, strict=True)
        ]
        total = ["" if name == NEW else count(row.total)] if wide else []
        table.add_row(Text(label, style="cyan" if name == NEW else ""), *cells, *total)
    table.add_section()
    table.add_row(
        Text("now", style="dim"),
        *(Text(count(n), style="dim") for n in now_totals),
        "",
        *([""] if wide else []),
    )
    return Group(title, table)


def _mover(mover: Mover | None, money_change: bool, currency: str) -> Text:
    if mover is None:
        return Text("—", style="dim")
    sign = "+" if mover.change > 0 else "\N{MINUS SIGN}"
    amount = money(abs(Decimal(mover.change))) + currency if money_change else count(abs(int(mover.change)))
    text = Text(clean(mover.segment_name))
    if mover.facet is not None:
        text.append(f" ({FACET_TITLES.get(mover.facet, mover.facet)})", style="dim")
    text.append(f" {sign}{amount}", style="green" if mover.change > 0 else "red")
    return text


def movers_table(comparison: Comparison, currency: str = "") -> Table:
    """The segments that measurably grew and fell most, by customers and by revenue."""
    movers = comparison.movers
    grid = Table(box=None, header_style="dim", pad_edge=False, show_edge=False)
    grid.add_column("", style="bold", no_wrap=True)
    grid.add_column("by customers")
    grid.add_column("by revenue")
    grid.add_row(
        "Grew most",
        _mover(movers.grew_most_customers, False, currency),
        _mover(movers.grew_most_revenue, True, currency),
    )
    grid.add_row(
        "Fell most",
        _mover(movers.fell_most_customers, False, currency),
        _mover(movers.fell_most_revenue, True, currency),
    )
    return grid


def comparison_view(comparison: Comparison, report: Report, width: int = 120) -> Group:
    """Everything the terminal shows of a comparison."""
    currency = f" {clean(report.currency)}" if report.currency else ""
    parts: list[RenderableType] = [
        summary_line(comparison, report.total_customers, report.total_revenue, currency),
        movers_table(comparison, currency),
        change_table(comparison, width),
    ]
    parts.extend(matrix_table(m, width) for m in comparison.migration)
    return Group(*parts)
