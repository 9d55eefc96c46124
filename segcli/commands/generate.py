"""`segcli generate`: deterministic synthetic sales for demos, tests and benchmarks."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from segcli.commands.common import parse_as_of


def generate(
    out: Annotated[str, typer.Option("--out", help="Sales file to write (.csv or .parquet).")],
    customers: Annotated[int, typer.Option("--customers", "-n", help="Number of customers.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same data.")] = 42,
    items: Annotated[
        str | None, typer.Option("--items", help="Also write sale items here (.csv or .parquet).")
    ] = None,
    end_date: Annotated[
        str | None,
        typer.Option("--end-date", help="Last day of the two years of sales. \\[default: 2026-11-20]"),
    ] = None,
) -> None:
    """Write deterministic synthetic sales (and items) that look like a real shop."""
    from segcli.engine.generate import DEFAULT_END_DATE
    from segcli.engine.generate import generate as run

    result = run(customers, seed, out, items, parse_as_of(end_date) or DEFAULT_END_DATE)
    message = f"wrote {result.sales_rows:,} sales to {out}"
    if items is not None:
        message += f" and {result.item_rows:,} items to {items}"
    print(message, file=sys.stderr)
