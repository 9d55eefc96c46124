"""The engine seam: the body and its OpenAPI models agree, and the gaps a mutation run found."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from segcli.api import schema
from segcli.engine import comparison as model
from segcli.engine.compute import ReportRequest, compute_report, today_in
from segcli.engine.engines.duckdb import duckdb_engine
from segcli.engine.errors import InvalidParameter, SourceError
from segcli.engine.methods import get_method
from segcli.engine.params import validate_params
from segcli.engine.segments import default_tables
from segcli.engine.sources import FileSource
from tests.conftest import AS_OF, small_args
from tests.test_behavior import ITEMS, SALES


def _keys(body: dict[str, Any]) -> set[str]:
    return set(body)


def _fields(cls: type[BaseModel]) -> set[str]:
    return set(cls.model_fields)


def test_comparison_body_and_openapi_models_have_the_same_keys() -> None:
    request = ReportRequest(business_id=1, as_of=AS_OF, method="behavior", days=365, compare=True)
    report = compute_report(FileSource(str(SALES), items=str(ITEMS)), request, default_tables())
    assert report.comparison is not None
    body = report.comparison.to_dict()
    assert _keys(body) == _fields(schema.Comparison)
    assert _keys(body["previous_period"]) == _fields(schema.PreviousPeriod)
    assert {k for row in body["segments"] for k in row} == _fields(schema.SegmentChange)
    assert {k for m in body["migration"] for k in m} == _fields(schema.Migration)
    assert {k for m in body["migration"] for r in m["rows"] for k in r} == _fields(schema.MigrationRow)
    # the dataclasses hold the same fields, besides the totals' change the views show
    view_only = {"customer_change_pct", "revenue_change_pct"}
    assert {f.name for f in dataclasses.fields(model.Comparison)} - view_only == _fields(schema.Comparison)
    assert {f.name for f in dataclasses.fields(model.SegmentChange)} == _fields(schema.SegmentChange)
    assert {f.name for f in dataclasses.fields(model.MigrationMatrix)} == _fields(schema.Migration)
    assert {f.name for f in dataclasses.fields(model.MigrationRow)} == _fields(schema.MigrationRow)
    whole = report.to_body()
    schema.SuccessBody.model_validate(whole)  # extra="forbid": no key the schema lacks
    assert _keys(whole["data"]) == _fields(schema.ReportData)
    assert {k for s in whole["data"]["segments"] for k in s} == _fields(schema.Segment)


def test_migration_summary_is_computed_in_the_model() -> None:
    matrix = model.MigrationMatrix(
        facet=None,
        columns=("A", "B", "lapsed"),
        rows=(
            model.MigrationRow("A", (3, 1, 2), 6),
            model.MigrationRow("B", (0, 4, 1), 5),
            model.MigrationRow("C", (1, 0, 1), 2),  # a segment gone now
            model.MigrationRow("new", (2, 5, 0), 7),
        ),
    )
    # stayed: A->A 3 + B->B 4; lapsed 2 + 1 + 1; before 13; moved 13 - 7 - 4 = 2 (A->B, C->A)
    assert matrix.summary == model.MigrationSummary(stayed=7, moved=2, new=7, lapsed=4)
    assert matrix.now_totals == (6, 10)


# Data quality: every count adds (a `+=` -> `=` mutant fails). As of 2026-11-20, 30 days.
QUALITY_SALES = """sale_id,customer_id,sale_date,total_amount,status
1,,2026-11-01,10.00,completed
2,,2026-11-02,10.00,completed
3,,2026-11-03,10.00,partial
4,c1,2026-11-04,10.00,completed
5,,2026-11-05,10.00,pending
6,c2,2026-11-06,10.00,pending
7,c2,2026-11-07,10.00,Pending
8,,2026-11-08,10.00,refunded
9,c3,2026-11-09,10.00,refunded
10,c3,2026-11-10,10.00,cancelled
11,c4,2026-11-11,10.00,partial
"""


def test_data_quality_counts_add_up(tmp_path: Path) -> None:
    sales = tmp_path / "sales.csv"
    sales.write_text(QUALITY_SALES)
    request = ReportRequest(business_id=1, as_of=AS_OF, days=30)
    quality = compute_report(FileSource(str(sales)), request, default_tables()).data_quality
    # anonymous: 2 completed + 1 partial (the statuses come as separate rows)
    assert quality.anonymous_sales == 3
    # in scope: c1 completed + c4 partial
    assert quality.rows_in_scope == 2
    # pending: one anonymous + two with a customer (separate rows); refunded likewise
    assert dict(quality.excluded_by_status) == {"cancelled": 1, "pending": 3}
    assert dict(quality.unknown_status) == {"refunded": 2}
    assert quality.rows_read == 11


# Apostrophes in a custom table's names and codes go through SQL as literals.
QUOTED = """
[[segments.rfm]]
name = "Bob's Best"
code = "BOB'S"
r = [4, 5]

[[segments.rfm]]
name = "O'Brien's Rest"
code = "O'REST"
r = [1, 5]
"""


def test_apostrophes_in_segment_names_and_codes(tmp_path: Path, cli: Any) -> None:
    config = tmp_path / "segcli.toml"
    config.write_text(QUOTED)
    # 30 days, small fixture: R >= 4 are c01, c02, c06, c09 (customers.csv golden); the other 8 rest
    run = cli(*small_args("--days", "30", "--config", str(config), "--format", "json", "--compare"))
    assert run.exit_code == 0, run.stderr
    data = run.json()["data"]
    assert [(s["segment_code"], s["customer_count"]) for s in data["segments"]] == [
        ("BOB'S", 4),
        ("O'REST", 8),
    ]
    assert data["comparison"]["migration"][0]["columns"] == ["Bob's Best", "O'Brien's Rest", "lapsed"]
    listed = cli(
        "customers", "--source", small_args()[2], "--as-of", AS_OF.isoformat(), "--days", "30",
        "--config", str(config), "--segment-code", "BOB'S", "--format", "csv",
    )  # fmt: skip
    assert listed.exit_code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["c01", "c02", "c06", "c09"]
    assert all(line.endswith(",Bob's Best,BOB'S") for line in lines[1:])


def _local_today(offset_hours: int) -> date:
    return (datetime.now(UTC) + timedelta(hours=offset_hours)).date()


@pytest.mark.parametrize(("zone", "offset"), [("Pacific/Kiritimati", 14), ("Etc/GMT+12", -12)])
def test_default_as_of_is_today_in_the_report_zone(zone: str, offset: int, cli: Any) -> None:
    # computed from UTC plus the zone's fixed offset (neither zone has daylight saving time)
    before = _local_today(offset)
    run = cli("segment", "--source", small_args()[2], "--timezone", zone, "--format", "json")
    after = _local_today(offset)
    assert run.exit_code == 0, run.stderr
    assert date.fromisoformat(run.json()["data"]["period"]["end_date"]) in (before, after)
    assert today_in(zone) in (before, _local_today(offset))


def test_the_far_zones_never_share_a_date() -> None:
    # UTC+14 and UTC-12 are 26 hours apart: their dates always differ, so a zone mix-up shows
    assert today_in("Pacific/Kiritimati") != today_in("Etc/GMT+12")


def test_a_duckdb_error_during_scoring_is_one_line() -> None:
    method = get_method("rfm")
    window = {"start": date(2026, 11, 1), "end": AS_OF, "days": 20}
    table = default_tables()["rfm"]
    with duckdb_engine("UTC", "broken.csv") as ex:
        # a window table whose amounts are text: the scoring query's sum() fails in DuckDB
        ex.con.execute(
            "CREATE TEMP TABLE window_sales AS SELECT 'c1' AS customer_id, DATE '2026-11-02' AS sale_date, "
            "'ten' AS amount, 'completed' AS status"
        )
        with pytest.raises(SourceError) as caught:
            method.window_segments(ex, window, table, "now", members=False)
    message = str(caught.value)
    assert message.startswith("broken.csv: ")
    assert "\n" not in message
    assert "sum" in message.lower()


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0" * 39 + "7", True),  # 40 characters
        ("0" * 40 + "7", False),  # 41
        (" " * 38 + "12", True),
        (" " * 39 + "12", False),
    ],
)
def test_integer_parameters_are_at_most_40_characters(value: str, ok: bool) -> None:
    if ok:
        assert validate_params(days=value).days == int(value)
        assert validate_params(storefront_id=value).storefront_id == int(value)
    else:
        with pytest.raises(InvalidParameter, match="Invalid days"):
            validate_params(days=value)
        with pytest.raises(InvalidParameter, match="Invalid storefront_id"):
            validate_params(storefront_id=value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(2**63 - 1, True), (2**63, False), (-(2**63), True), (-(2**63) - 1, False)],
)
def test_integer_parameters_fit_64_bits(value: int, ok: bool) -> None:
    for given in (value, str(value)):
        if ok:
            assert validate_params(storefront_id=given).storefront_id == value
        else:
            with pytest.raises(InvalidParameter, match=r"Invalid storefront_id\. Must be an integer"):
                validate_params(storefront_id=given)
