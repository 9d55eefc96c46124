"""80 columns: the legend names only columns shown, lines wrap indented, segment names stay whole."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console

from segcli.engine.report import DataQuality
from segcli.render.table import quality_lines
from tests.conftest import small_args
from tests.goldens import check_golden

NARROW = {"COLUMNS": "80"}
LONG_NAMES = """
[[segments.rfm]]
name = "Recent High-Spending Frequent Buyers"
code = "R5F5M5"
r = [4, 5]
description = "Top"
actions = ["Thank"]

[[segments.rfm]]
name = "Everybody Else In The Customer Base"
code = "R1F1M1"
description = "Rest"
actions = ["Nudge"]
"""


def test_golden_at_80_columns_with_a_comparison(cli: Any) -> None:
    run = cli(*small_args("--days", "30", "--format", "table", "--compare"), env=NARROW)
    assert run.exit_code == 0, run.stderr
    assert max(len(line) for line in run.stdout.splitlines()) <= 80
    check_golden("report-80-compare.txt", run.stdout_bytes)


def test_the_legend_names_only_columns_shown(cli: Any) -> None:
    narrow = cli(*small_args("--days", "30", "--format", "table"), env=NARROW).stdout
    header = next(line for line in narrow.splitlines() if line.startswith("Segment"))
    assert "Days" not in header
    assert "Orders" not in header
    assert "average days since last purchase" not in narrow
    wide = cli(*small_args("--days", "30", "--format", "table")).stdout  # 120 columns
    assert "Days: average days since last purchase · Orders: average orders per customer" in wide


def test_the_data_quality_line_wraps_indented() -> None:
    quality = DataQuality(
        rows_read=1_234_567,
        rows_in_scope=1_200_000,
        excluded_by_status={"cancelled": 12_345, "pending": 6_789},
        unknown_status={"on hold": 1, "refunded": 2, "awaiting payment": 3, "partially shipped": 4},
        anonymous_sales=9_999,
    )
    console = Console(width=60, record=True, file=io.StringIO())
    console.print(quality_lines(quality, 60))
    lines = console.export_text().splitlines()
    assert lines == [
        "Data quality: 1,234,567 rows in the window, 1,200,000 in",
        "  scope, 9,999 anonymous",
        "  excluded cancelled 12,345, pending 6,789 · unknown status",
        "    'on hold' 1, 'refunded' 2, 'awaiting payment' 3,",
        "    'partially shipped' 4",
    ]


def test_compare_keeps_segment_names_whole(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "long.toml"
    config.write_text(LONG_NAMES)
    run = cli(
        *small_args("--days", "30", "--compare", "--format", "table", "--config", str(config)), env=NARROW
    )
    assert run.exit_code == 0, run.stderr
    assert "…" not in run.stdout  # nothing cut with an ellipsis: names wrap between words
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    matrix = lines[lines.index("Migration") :]
    assert any("1 Recent High-Spending Frequent Buyers" in line for line in matrix)
    # the change table's numbers are whole too
    assert any(line.rstrip().endswith("▲ 500.0%   ▲ 70.2%") for line in lines)
