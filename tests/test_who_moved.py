"""Who moved (`segcli customers --compare`, `--moved-from`, `--moved-to`): counts equal the migration matrix."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections import Counter
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segcli.engine.compute import ReportRequest, compute_report, customer_table
from segcli.engine.generate import generate
from segcli.engine.segments import default_tables
from segcli.engine.sources import FileSource
from tests.conftest import AS_OF
from tests.test_behavior import ITEMS, QUICK, SALES, VALUE, sale_strategy, write_dataset

PREVIOUS = ["previous_segment_name", "previous_segment_code"]
FACETS = ("category", "channel", "season")


def value_args(*extra: str | Path) -> list[str | Path]:
    return ["customers", "--source", VALUE, "--method", "value", "--days", "30", "--as-of", AS_OF.isoformat(), *extra]  # fmt: skip


def jsonl(cli: Any, *args: str | Path) -> list[dict[str, Any]]:
    run = cli(*args, "--format", "jsonl")
    assert run.exit_code == 0, run.stderr
    return [json.loads(line, parse_float=Decimal) for line in run.stdout.splitlines()]


# Value, 30 days (see test_compare.test_value_comparison_by_hand). Now (2026-10-22 .. 2026-11-20):
# High {c10}, Medium {c04..c09}, Low {c01, c02, c03}. Before (2026-09-22 .. 2026-10-21): High {c01},
# Medium {c04, c05, c11}, Low {c10}. So c01 fell High -> Low, c10 rose Low -> High, c04 and c05 stayed
# Medium, c11 lapsed (Medium -> none) and c02, c03, c06..c09 are new.
VALUE_MOVES = [
    ("c10", "High Value", "Low Value"),
    ("c04", "Medium Value", "Medium Value"),
    ("c05", "Medium Value", "Medium Value"),
    ("c06", "Medium Value", None),
    ("c07", "Medium Value", None),
    ("c08", "Medium Value", None),
    ("c09", "Medium Value", None),
    ("c01", "Low Value", "High Value"),
    ("c02", "Low Value", None),
    ("c03", "Low Value", None),
    ("c11", None, "Medium Value"),  # lapsed: listed last
]


def test_value_moves_by_hand(cli: Any) -> None:
    rows = jsonl(cli, *value_args("--compare"))
    assert [(r["customer_id"], r["segment_name"], r["previous_segment_name"]) for r in rows] == VALUE_MOVES
    assert list(rows[0])[-2:] == PREVIOUS
    codes = {r["customer_id"]: (r["previous_segment_code"], r["segment_code"]) for r in rows}
    assert codes["c01"] == ("VALUE_HIGH", "VALUE_LOW")
    assert codes["c02"] == (None, "VALUE_LOW")
    lapsed = rows[-1]
    # no sale now: no figures, scores or segment; the last purchase is c11's 120.00 in the previous window
    assert lapsed["frequency"] is None
    assert lapsed["monetary"] is None
    assert lapsed["m"] is None
    assert lapsed["segment_code"] is None
    assert lapsed["previous_segment_code"] == "VALUE_MEDIUM"
    assert lapsed["days_since"] == (AS_OF - date_of(lapsed["last_purchase_date"])).days
    assert lapsed["days_since"] >= 30
    # a customer who stayed keeps every figure of the plain list
    plain = {r["customer_id"]: r for r in jsonl(cli, *value_args())}
    for row in rows[:-1]:
        assert {k: v for k, v in row.items() if k not in PREVIOUS} == plain[row["customer_id"]]


def date_of(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--moved-from", "High Value", "--moved-to", "Low Value"], ["c01"]),
        (["--moved-from", "VALUE_HIGH"], ["c01"]),  # by code; the whole row of the matrix
        (["--moved-to", "lapsed"], ["c11"]),
        (["--moved-from", "new", "--moved-to", "VALUE_LOW"], ["c02", "c03"]),
        (["--moved-from", "Medium Value"], ["c04", "c05", "c11"]),  # stayers and the lapsed one
        (["--moved-from", "Medium Value", "--moved-to", "Medium Value"], ["c04", "c05"]),
        (["--moved-from", "Low Value", "--moved-to", "lapsed"], []),
        (["--compare", "--segment-name", "Low Value"], ["c01", "c02", "c03"]),  # current segment only
        (["--segment-code", "VALUE_HIGH", "--moved-from", "Low Value"], ["c10"]),
    ],
)
def test_filters_pick_the_movers(cli: Any, filters: list[str], expected: list[str]) -> None:
    rows = jsonl(cli, *value_args(*filters))
    assert [r["customer_id"] for r in rows] == expected


def test_every_format_carries_the_previous_segment(cli: Any, tmp_path: Path) -> None:
    expected = [(c, now or "", before or "") for c, now, before in VALUE_MOVES]
    run = cli(*value_args("--compare", "--format", "csv"))
    assert run.exit_code == 0, run.stderr
    table = list(csv.DictReader(io.StringIO(run.stdout)))
    assert list(table[0])[-2:] == PREVIOUS
    assert [(r["customer_id"], r["segment_name"], r["previous_segment_name"]) for r in table] == expected
    assert table[-1]["frequency"] == ""  # lapsed
    run = cli(*value_args("--compare", "--format", "json"))
    assert run.exit_code == 0, run.stderr
    array = json.loads(run.stdout, parse_float=Decimal)
    assert array == jsonl(cli, *value_args("--compare"))
    out = tmp_path / "moved.parquet"
    assert cli(*value_args("--compare", "--output", out)).exit_code == 0  # the suffix picks Parquet
    parquet = pq.read_table(out)
    assert parquet.column_names[-2:] == PREVIOUS
    got = [(r["customer_id"], r["segment_name"], r["previous_segment_name"]) for r in parquet.to_pylist()]
    assert got == [(c, now, before) for c, now, before in VALUE_MOVES]
    assert str(parquet.schema.field("monetary").type) == "decimal128(38, 2)"


def test_the_preview_marks_new_and_lapsed(cli: Any) -> None:
    run = cli(*value_args("--compare", "--format", "table"))
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    header = next(line for line in lines if "Customer" in line)
    assert header.split()[-1] == "Before"
    c01 = next(line for line in lines if line.split()[:1] == ["c01"])
    assert "Low Value" in c01
    assert c01.rstrip().endswith("High Value")
    c11 = next(line for line in lines if line.split()[:1] == ["c11"])
    assert "(lapsed)" in c11
    assert c11.rstrip().endswith("Medium Value")
    c02 = next(line for line in lines if line.split()[:1] == ["c02"])
    assert c02.rstrip().endswith("(new)")
    assert "11 customers" in run.stdout


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            ["--moved-from", "Whales"],
            "Invalid moved_from. Must be new or a segment name or code: High Value (VALUE_HIGH), "
            "Medium Value (VALUE_MEDIUM), Low Value (VALUE_LOW) (--moved-from)",
        ),
        (
            ["--moved-to", "new"],  # new is where customers come from, lapsed where they go
            "Invalid moved_to. Must be lapsed or a segment name or code: High Value (VALUE_HIGH), "
            "Medium Value (VALUE_MEDIUM), Low Value (VALUE_LOW) (--moved-to)",
        ),
    ],
)
def test_an_unknown_move_is_a_usage_error(cli: Any, filters: list[str], message: str) -> None:
    run = cli(*value_args(*filters))
    assert run.exit_code == 2
    assert run.stderr == message + "\n"
    assert run.stdout == ""


def behavior_args(*extra: str) -> list[str | Path]:
    return ["customers", "--source", SALES, "--items", ITEMS, "--method", "behavior", "--days", "365", "--as-of", AS_OF.isoformat(), *extra]  # fmt: skip


def test_behavior_has_a_previous_segment_per_facet(cli: Any) -> None:
    # Before (2024-11-21 .. 2025-11-20): A (web, Apparel, Q3) and P (store, Beauty, Q2); now A is
    # Apparel / web / Q1 and B..F are new (see test_compare.test_behavior_migration_per_facet).
    rows = jsonl(cli, *behavior_args("--compare"))
    for facet in FACETS:
        assert f"previous_{facet}_segment" in rows[0]
        assert f"previous_{facet}_code" in rows[0]
    by_id = {r["customer_id"]: r for r in rows}
    assert [r["customer_id"] for r in rows] == ["A", "B", "C", "D", "E", "F", "P"]
    assert (by_id["A"]["previous_season_segment"], by_id["A"]["season_segment"]) == (
        "Q3 Seasonal Buyers",
        "Q1 Seasonal Buyers",
    )
    assert by_id["P"]["previous_category_code"] == "CATEGORY:Beauty"
    assert by_id["P"]["category_code"] is None
    assert by_id["B"]["previous_channel_code"] is None
    moved = jsonl(cli, *behavior_args("--moved-from", "CATEGORY:Beauty", "--moved-to", "lapsed"))
    assert [r["customer_id"] for r in moved] == ["P"]
    moved = jsonl(cli, *behavior_args("--moved-from", "Q3 Seasonal Buyers"))
    assert [r["customer_id"] for r in moved] == ["A"]
    moved = jsonl(cli, *behavior_args("--moved-from", "new", "--moved-to", "Year-round"))
    assert [r["customer_id"] for r in moved] == ["B", "C", "D"]


# --- counts equal the migration matrix -----------------------------------------------------


def matrix_counts(report: Any) -> list[tuple[str | None, str, str, int]]:
    """Every cell of every migration matrix: (facet, from, to, customers)."""
    cells = []
    for matrix in report.comparison.to_dict()["migration"]:
        for row in matrix["rows"]:
            for to, count in zip(matrix["columns"], row["customers"], strict=True):
                cells.append((matrix.get("facet"), row["from_segment"], to, count))
    return cells


def pair_columns(facet: str | None) -> tuple[str, str]:
    if facet is None:
        return ("previous_segment_name", "segment_name")
    return (f"previous_{facet}_segment", f"{facet}_segment")


def list_pairs(table: Any, facet: str | None) -> Counter[tuple[str, str]]:
    """Customers per (previous, current) segment name of a compare list, as the matrix labels them."""
    before, now = pair_columns(facet)
    return Counter((r[before] or "new", r[now] or "lapsed") for r in table.to_pylist())


def check_cells(source: FileSource, request: ReportRequest, every_cell: bool, most: int = 1000) -> int:
    """The compare list agrees with each matrix cell; a filtered list's length equals its cell.

    Filtered lists are made for every cell (`every_cell`) or the non-empty ones, at most `most`.
    """
    tables = default_tables()
    report = compute_report(source, replace(request, compare=True), tables)
    listed = customer_table(source, request, tables, compare=True)
    cells = matrix_counts(report)
    checked = 0
    for facet, was, now, count in cells:
        assert list_pairs(listed, facet)[(was, now)] == count, (facet, was, now)
        if (every_cell or count) and (was, now) != ("new", "lapsed") and checked < most:
            moved = customer_table(source, request, tables, moved_from=was, moved_to=now)
            assert moved.num_rows == count, (facet, was, now)
            checked += 1
    assert listed.num_rows == sum(c for f, _, _, c in cells if f == cells[0][0])
    return checked


@pytest.fixture(scope="module")
def generated() -> Any:
    with tempfile.TemporaryDirectory() as folder:
        sales = Path(folder) / "sales.parquet"
        generate(300, 7, str(sales))
        yield FileSource(str(sales))


@pytest.mark.parametrize(
    ("method", "days", "every_cell", "cells"), [("rfm", 90, False, 20), ("value", 60, True, 15)]
)
def test_each_matrix_cell_is_a_filtered_list(
    generated: FileSource, method: str, days: int, every_cell: bool, cells: int
) -> None:
    request = ReportRequest(business_id=1, as_of=AS_OF, method=method, days=days)
    # value: all 4 x 4 cells but new -> lapsed (empty by definition); rfm: its non-empty cells
    assert check_cells(generated, request, every_cell=every_cell) >= cells


def test_behavior_matrix_cells_are_filtered_lists() -> None:
    request = ReportRequest(business_id=1, as_of=AS_OF, method="behavior", days=365)
    assert check_cells(FileSource(str(SALES), items=str(ITEMS)), request, every_cell=False) >= 12


@pytest.mark.parametrize("seed", [1, 2])
def test_matrix_cells_on_other_seeds(seed: int, tmp_path: Path) -> None:
    sales = tmp_path / "sales.csv"
    generate(60, seed, str(sales))
    request = ReportRequest(business_id=1, as_of=AS_OF, method="rfm", days=45)
    assert check_cells(FileSource(str(sales)), request, every_cell=False, most=8) > 0


@settings(QUICK, max_examples=20)
@given(
    sales=st.lists(sale_strategy, min_size=1, max_size=25),
    method=st.sampled_from(("rfm", "value", "behavior")),
    days=st.sampled_from((30, 200)),
)
def test_compare_list_equals_the_matrix(sales: list[Any], method: str, days: int) -> None:
    request = ReportRequest(business_id=1, as_of=AS_OF, method=method, days=days)
    with tempfile.TemporaryDirectory() as folder:
        sales_path, items_path = write_dataset(Path(folder), sales)
        check_cells(FileSource(str(sales_path), items=str(items_path)), request, every_cell=False, most=2)
