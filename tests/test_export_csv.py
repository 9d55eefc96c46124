"""`segment --format csv`: one row per shown segment, the JSON's figures, SPEC column order."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from segcli.engine.params import ReportParams
from segcli.engine.report import DataQuality, Insights, Period, Report, SegmentResult
from segcli.render.csv import COLUMNS, CsvRenderer
from tests.conftest import small_args
from tests.goldens import check_golden

SPEC_COLUMNS = [
    "segment_name",
    "segment_code",
    "description",
    "customer_count",
    "total_revenue",
    "average_order_value",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "avg_days_since_last_purchase",
    "avg_purchase_frequency",
    "avg_total_spend",
    "recommended_actions",
]


def parse_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def json_segments(cli, *extra: str) -> list[dict[str, Any]]:
    run = cli(*small_args("--days", "30", "--format", "json", *extra))
    assert run.exit_code == 0, run.stderr
    segments: list[dict[str, Any]] = json.loads(run.stdout, parse_float=Decimal)["data"]["segments"]
    return segments


def test_header_is_spec_order():
    assert list(COLUMNS) == SPEC_COLUMNS


def test_csv_rows_equal_the_json(cli):
    run = cli(*small_args("--days", "30", "--format", "csv"))
    assert run.exit_code == 0, run.stderr
    header, rows = parse_csv(run.stdout)
    assert header == SPEC_COLUMNS
    segments = json_segments(cli)
    assert len(rows) == len(segments) == 8
    for row, body in zip(rows, segments, strict=True):
        flat = {**body, **body["characteristics"]}
        for column in SPEC_COLUMNS[:-1]:
            # the JSON's literal text: same rounded decimals (no float, no exponent), same ints
            assert row[column] == str(flat[column]), column
        assert row["recommended_actions"] == "; ".join(body["recommended_actions"])


def test_csv_hand_computed_figures(cli):
    _, rows = parse_csv(cli(*small_args("--days", "30", "--format", "csv")).stdout)
    by_name = {r["segment_name"]: r for r in rows}
    # Champions: c01 (600.00) + c02 (400.00) = 1000.00 over 11 sales -> AOV 90.909.. -> 90.91
    assert by_name["Champions"]["customer_count"] == "2"
    assert by_name["Champions"]["total_revenue"] == "1000.00"
    assert by_name["Champions"]["average_order_value"] == "90.91"
    # Need Attention: c03, 10 + 10 + 10 + 14.98 = 44.98 over 4 sales = 11.245 -> 11.25 (half away from zero)
    assert by_name["Need Attention"]["total_revenue"] == "44.98"
    assert by_name["Need Attention"]["average_order_value"] == "11.25"
    # a description with commas is quoted and comes back whole
    assert by_name["Champions"]["description"] == "Recent, frequent, high spenders"
    assert by_name["Champions"]["recommended_actions"] == (
        "Offer VIP loyalty perks; Invite to referral programs; Early access to new collections"
    )
    assert sum(int(r["customer_count"]) for r in rows) == 12


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--segment-name", "At Risk", "At Risk"),
        ("--segment-code", "R1F1M2", "Hibernating"),
    ],
)
def test_segment_filters_apply(cli, option, value, expected):
    run = cli(*small_args("--days", "30", "--format", "csv", option, value))
    assert run.exit_code == 0, run.stderr
    _, rows = parse_csv(run.stdout)
    assert [r["segment_name"] for r in rows] == [expected]


def test_value_method_has_empty_score_cells(cli):
    run = cli(*small_args("--days", "30", "--format", "csv", "--method", "value"))
    assert run.exit_code == 0, run.stderr
    _, rows = parse_csv(run.stdout)
    assert [r["segment_code"] for r in rows] == ["VALUE_HIGH", "VALUE_MEDIUM", "VALUE_LOW"]
    assert all(r[c] == "" for r in rows for c in ("recency_score", "frequency_score", "monetary_score"))


def test_csv_golden(cli):
    run = cli(*small_args("--days", "30", "--format", "csv"))
    assert run.exit_code == 0, run.stderr
    check_golden("report.csv", run.stdout_bytes)


def test_output_file_by_suffix_is_utf8(cli, tmp_path: Path):
    config = tmp_path / "segcli.toml"
    config.write_text(
        """
[[segments.rfm]]
name = "Kunden München — 東京"
code = "R5F5M5"
description = "Alle, \\"überall\\""
actions = ["Danke sagen", "Rabatt; 10%"]
""",
        encoding="utf-8",
    )
    out = tmp_path / "report.csv"
    run = cli(*small_args("--days", "30", "--config", str(config), "--output", str(out)))
    assert run.exit_code == 0, run.stderr
    assert run.stdout == ""
    header, rows = parse_csv(out.read_bytes().decode("utf-8"))
    assert header == SPEC_COLUMNS
    assert rows[0]["segment_name"] == "Kunden München — 東京"
    assert rows[0]["description"] == 'Alle, "überall"'
    assert rows[0]["customer_count"] == "12"
    assert rows[0]["recommended_actions"] == "Danke sagen; Rabatt; 10%"


def _report(facets: list[str | None]) -> Report:
    segments = tuple(
        SegmentResult(name=f"S{i}", code=f"C{i}", description="", actions=(), facet=facet).add(
            1, 2, Decimal("10.005"), 3
        )
        for i, facet in enumerate(facets)
    )
    return Report(
        method="behavior",
        business_id=1,
        storefront_id=None,
        timezone="UTC",
        period=Period(date(2026, 11, 1), date(2026, 11, 20), 20),
        segments=segments,
        insights=Insights(),
        data_quality=DataQuality(),
    )


def render(report: Report) -> str:
    out = io.BytesIO()
    CsvRenderer().write(report, ReportParams(), out)
    return out.getvalue().decode("utf-8")


def test_facet_column_only_when_a_segment_has_one():
    header, rows = parse_csv(render(_report(["category", "channel"])))
    assert header == [*SPEC_COLUMNS, "facet"]
    assert [r["facet"] for r in rows] == ["category", "channel"]
    # 10.005 rounds half away from zero to 10.01; AOV 10.005 / 2 = 5.0025 -> 5.00
    assert rows[0]["total_revenue"] == "10.01"
    assert rows[0]["average_order_value"] == "5.00"
    header, _ = parse_csv(render(_report([None, None])))
    assert header == SPEC_COLUMNS
