"""`segcli customers`: the list a marketer acts on agrees exactly with `segcli segment`."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segcli.engine.compute import ReportRequest, compute_report, customer_table
from segcli.engine.segments import default_tables
from segcli.engine.sources import open_source
from tests.conftest import AS_OF, FIXTURES, SMALL_SALES
from tests.goldens import check_golden

COLUMNS = [
    "customer_id",
    "last_purchase_date",
    "days_since",
    "frequency",
    "monetary",
    "r",
    "f",
    "m",
    "segment_name",
    "segment_code",
]


def customers_args(source: Path | str, *extra: str) -> list[str]:
    return ["customers", "--source", str(source), "--as-of", AS_OF.isoformat(), *extra]


def segment_args(source: Path | str, *extra: str) -> list[str]:
    return ["segment", "--source", str(source), "--as-of", AS_OF.isoformat(), *extra]


def jsonl_rows(cli, source: Path | str, *extra: str) -> list[dict[str, Any]]:
    run = cli(*customers_args(source, "--format", "jsonl", *extra))
    assert run.exit_code == 0, run.stderr
    return [json.loads(line, parse_float=Decimal) for line in run.stdout.splitlines()]


def report_segments(cli, source: Path | str, *extra: str) -> list[dict[str, Any]]:
    run = cli(*segment_args(source, "--format", "json", *extra))
    assert run.exit_code == 0, run.stderr
    segments: list[dict[str, Any]] = json.loads(run.stdout, parse_float=Decimal)["data"]["segments"]
    return segments


def assert_list_agrees(rows: list[dict[str, Any]], segments: list[dict[str, Any]]) -> None:
    """Members per segment, their revenue and their sales match the report's figures."""
    counts: dict[str, int] = defaultdict(int)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        counts[row["segment_name"]] += 1
        revenue[row["segment_name"]] += Decimal(row["monetary"])
    for segment in segments:
        name = segment["segment_name"]
        assert counts.get(name, 0) == segment["customer_count"], name
        assert revenue.get(name, Decimal(0)).quantize(Decimal("0.01")) == segment["total_revenue"], name
    shown = {s["segment_name"] for s in segments}
    assert set(counts) <= shown


def test_fixture_list_agrees_with_segment(cli):
    rows = jsonl_rows(cli, SMALL_SALES, "--days", "30")
    segments = report_segments(cli, SMALL_SALES, "--days", "30")
    assert_list_agrees(rows, segments)
    # hand-computed (fixtures/small/README.md), 12 customers in all
    assert {s["segment_name"]: s["customer_count"] for s in segments} == {
        "Champions": 2,
        "Loyal Customers": 1,
        "Potential Loyalists": 2,
        "Promising": 2,
        "At Risk": 1,
        "Need Attention": 1,
        "New Customers": 1,
        "Hibernating": 2,
    }
    assert len(rows) == 12
    # c03: 10 + 10 + 10 + 14.98 = 44.98 over 4 sales, last on 2026-11-01 = 19 days before as-of
    c03 = next(r for r in rows if r["customer_id"] == "c03")
    assert c03 == {
        "customer_id": "c03",
        "last_purchase_date": "2026-11-01",
        "days_since": 19,
        "frequency": 4,
        "monetary": Decimal("44.98"),
        "r": 2,
        "f": 4,
        "m": 2,
        "segment_name": "Need Attention",
        "segment_code": "R2F3M3",
    }
    # ordered by segment (table order), then customer id
    order = [s["segment_name"] for s in segments]
    keys = [(order.index(r["segment_name"]), r["customer_id"]) for r in rows]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    "extra",
    [
        ("--segment-name", "Champions"),
        ("--segment-code", "R1F1M2"),
        ("--storefront-id", "10"),
        ("--method", "value"),
    ],
)
def test_filters_agree_with_segment(cli, extra):
    rows = jsonl_rows(cli, SMALL_SALES, "--days", "30", *extra)
    segments = report_segments(cli, SMALL_SALES, "--days", "30", *extra)
    assert_list_agrees(rows, segments)
    if extra[0] == "--segment-name":
        assert [r["customer_id"] for r in rows] == ["c01", "c02"]


@pytest.fixture(scope="module")
def generated_sales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 2000 customers of synthetic sales (all businesses and storefronts), items alongside."""
    path = tmp_path_factory.mktemp("generated") / "sales.parquet"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "segcli",
            "generate",
            "--customers",
            "2000",
            "--seed",
            "7",
            "--out",
            str(path),
            "--items",
            str(path.parent / "items.parquet"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


@pytest.mark.parametrize(
    "extra",
    [
        ("--days", "90"),
        ("--days", "365", "--storefront-id", "2"),
        ("--days", "30", "--method", "value"),
        ("--days", "180", "--business-id", "2"),
    ],
)
def test_generated_list_agrees_with_segment(cli, generated_sales: Path, extra):
    run = cli(*customers_args(generated_sales, "--format", "csv", *extra))
    assert run.exit_code == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout, newline="")))
    segments = report_segments(cli, generated_sales, *extra)
    assert len(rows) == sum(s["customer_count"] for s in segments) > 50
    assert_list_agrees(rows, segments)


def test_parquet_read_back(cli, tmp_path: Path):
    out = tmp_path / "customers.parquet"
    run = cli(*customers_args(SMALL_SALES, "--days", "30", "--output", str(out)))
    assert run.exit_code == 0, run.stderr
    assert run.stdout == ""
    table = pq.read_table(out)
    assert table.column_names == COLUMNS
    assert table.schema.field("monetary").type == pa.decimal128(38, 2)
    assert table.schema.field("last_purchase_date").type == pa.date32()
    assert table.schema.field("frequency").type == pa.int32()
    assert table.to_pylist() == [
        {**row, "last_purchase_date": date.fromisoformat(row["last_purchase_date"])}
        for row in jsonl_rows(cli, SMALL_SALES, "--days", "30")
    ]


def test_parquet_needs_output(cli):
    run = cli(*customers_args(SMALL_SALES, "--days", "30", "--format", "parquet"))
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr == "Refusing to write Parquet to stdout without --output; use --output FILE (or '-')\n"
    run = cli(*customers_args(SMALL_SALES, "--days", "30", "--format", "parquet", "--output", "-"))
    assert run.exit_code == 0, run.stderr
    assert pq.read_table(pa.BufferReader(run.stdout_bytes)).num_rows == 12


def test_csv_is_the_default_in_a_pipe_and_matches_golden(cli):
    run = cli(*customers_args(SMALL_SALES, "--days", "30"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines()[0] == ",".join(COLUMNS)
    assert "c03,2026-11-01,19,4,44.98,2,4,2,Need Attention,R2F3M3" in run.stdout.splitlines()
    check_golden("customers.csv", run.stdout_bytes)


def test_table_preview_shows_first_rows_and_count(cli, generated_sales: Path):
    run = cli(*customers_args(SMALL_SALES, "--days", "30", "--format", "table"))
    assert run.exit_code == 0, run.stderr
    assert "Need Attention" in run.stdout
    assert run.stdout.rstrip().endswith("12 customers")
    run = cli(*customers_args(generated_sales, "--days", "90", "--format", "table"))
    assert run.exit_code == 0, run.stderr
    total = sum(s["customer_count"] for s in report_segments(cli, generated_sales, "--days", "90"))
    assert f"First 20 of {total:,} customers; all of them: --format csv|jsonl|parquet" in run.stdout
    data_lines = [line for line in run.stdout.splitlines() if re.search(r" R\dF\dM\d ", line)]
    assert len(data_lines) == 20


def test_table_preview_fits_narrow_terminals(cli):
    wide = cli(*customers_args(SMALL_SALES, "--days", "30", "--format", "table"), env={"COLUMNS": "120"})
    assert wide.stdout.splitlines()[1].split() == [
        "Customer",
        "Last",
        "purchase",
        "Days",
        "Orders",
        "Monetary",
        "Scores",
        "Segment",
        "Code",
    ]
    c03 = next(line for line in wide.stdout.splitlines() if "c03" in line)
    assert c03.split() == ["c03", "2026-11-01", "19", "4", "44.98", "R2F4M2", "Need", "Attention", "R2F3M3"]
    narrow = cli(*customers_args(SMALL_SALES, "--days", "30", "--format", "table"), env={"COLUMNS": "70"})
    # Code, Days and Last purchase give way; segment names stay whole
    assert narrow.stdout.splitlines()[1].split() == ["Customer", "Orders", "Monetary", "Scores", "Segment"]
    assert "Potential Loyalists" in narrow.stdout
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 70


def test_empty_list(cli):
    # no Hibernating customer in a 7-day window: every customer is recent (R >= 4)
    args = customers_args(SMALL_SALES, "--days", "7", "--segment-name", "Hibernating")
    assert cli(*args, "--format", "table").stdout == "0 customers\n"
    assert cli(*args, "--format", "csv").stdout == ",".join(COLUMNS) + "\n"
    assert cli(*args, "--format", "jsonl").stdout == ""


def test_invalid_segment_filter_and_format(cli):
    run = cli(*customers_args(SMALL_SALES, "--segment-name", "Whales"))
    assert run.exit_code == 2
    assert run.stderr.startswith("Invalid segment_name. Must be one of: Champions, Loyal Customers,")
    run = cli(*customers_args(SMALL_SALES, "--format", "xlsx"))
    assert run.exit_code == 2
    assert run.stderr == "Invalid format. Must be one of: table, csv, jsonl, json, parquet (--format)\n"


def write_sales(path: Path, amounts: list[str]) -> None:
    lines = ["sale_id,customer_id,sale_date,total_amount,status"]
    lines += [
        f"{i},c{i % 3},2026-11-{10 + i % 10:02d},{amount},completed" for i, amount in enumerate(amounts)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_monetary_is_exact(cli, tmp_path: Path):
    sales = tmp_path / "sales.csv"
    # c0: 0.10 + 0.20 = 0.30 exactly (floats would give 0.30000000000000004)
    write_sales(sales, ["0.10", "5", "7", "0.20", "1", "2"])
    rows = {r["customer_id"]: r for r in csv.DictReader(io.StringIO(cli(*customers_args(sales)).stdout))}
    assert rows["c0"]["monetary"] == "0.30"
    # a value with 4 decimals keeps them all (the column is never rounded)
    write_sales(sales, ["0.1234", "5", "7", "0.2000", "1", "2"])
    rows = {r["customer_id"]: r for r in csv.DictReader(io.StringIO(cli(*customers_args(sales)).stdout))}
    assert rows["c0"]["monetary"] == "0.3234"
    assert rows["c1"]["monetary"] == "6.0000"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 30),  # customer
            st.integers(0, 59),  # days before as-of
            st.decimals(min_value=-50, max_value=500, places=2, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=80,
    ),
    st.sampled_from([7, 30, 60]),
)
def test_list_always_sums_to_the_report(sales, days):
    """For any sales, the list's members per segment add up to the report's segments."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sales.csv"
        lines = ["sale_id,customer_id,sale_date,total_amount,status"]
        for i, (customer, back, amount) in enumerate(sales):
            lines.append(f"{i},k{customer},{AS_OF - timedelta(days=back)},{amount},completed")
        path.write_text("\n".join(lines) + "\n")
        source = open_source(str(path), default_business_id=1)
        request = ReportRequest(business_id=1, as_of=AS_OF, days=days)
        tables = default_tables()
        report = compute_report(source, request, tables)
        rows = customer_table(source, request, tables).to_pylist()
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        members[row["segment_name"]].append(row)
    for segment in report.segments:
        group = members.get(segment.name, [])
        assert len(group) == segment.customer_count
        assert sum((r["monetary"] for r in group), Decimal(0)) == segment.revenue
        assert sum(r["frequency"] for r in group) == segment.sales


def test_help_imports_no_heavy_modules():
    code = (
        "import sys; from segcli.cli import app; "
        "heavy = [m for m in ('pyarrow', 'fpdf', 'duckdb', 'fastapi') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# --- behavior: one row per customer, their segment in each facet -------------------------------

BEHAVIOR_SALES = FIXTURES / "methods" / "behavior_sales.csv"
BEHAVIOR_ITEMS = FIXTURES / "methods" / "behavior_items.csv"


def behavior_args(*extra: str) -> list[str]:
    return ["--items", str(BEHAVIOR_ITEMS), "--method", "behavior", *extra]


def test_behavior_list_by_hand(cli):
    # the preferences of test_behavior.test_each_facet_threshold_is_inclusive, with each customer's
    # figures of test_behavior_segments_by_hand; ordered by customer id
    run = cli(*customers_args(BEHAVIOR_SALES, *behavior_args("--days", "365", "--format", "csv")))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines() == [
        "customer_id,last_purchase_date,days_since,frequency,monetary,category_segment,category_code,"
        "channel_segment,channel_code,season_segment,season_code",
        "A,2026-06-20,153,10,100.00,Apparel Enthusiasts,CATEGORY:Apparel,web Shoppers,CHANNEL:web,Q1 Seasonal Buyers,SEASON:Q1",
        "B,2026-05-25,179,13,100.00,Explorers,CATEGORY_MIXED,Omnichannel,CHANNEL_OMNI,Year-round,SEASON_STEADY",
        "C,2026-07-15,128,1,0.00,Explorers,CATEGORY_MIXED,Omnichannel,CHANNEL_OMNI,Year-round,SEASON_STEADY",
        "D,2026-08-01,111,1,-20.00,Explorers,CATEGORY_MIXED,store Shoppers,CHANNEL:store,Year-round,SEASON_STEADY",
        "E,2026-10-05,46,2,50.00,Apparel Enthusiasts,CATEGORY:Apparel,Omnichannel,CHANNEL_OMNI,Q4 Seasonal Buyers,SEASON:Q4",
        "F,2026-05-03,201,3,100.00,Explorers,CATEGORY_MIXED,mobile Shoppers,CHANNEL:mobile,Q2 Seasonal Buyers,SEASON:Q2",
    ]  # fmt: skip
    # under 180 days there is no season facet: 2026-08-23 .. only E's sale of 2026-10-05 (mobile, Apparel)
    run = cli(*customers_args(BEHAVIOR_SALES, *behavior_args("--days", "90", "--format", "csv")))
    assert run.stdout.splitlines() == [
        "customer_id,last_purchase_date,days_since,frequency,monetary,category_segment,category_code,"
        "channel_segment,channel_code",
        "E,2026-10-05,46,1,25.00,Apparel Enthusiasts,CATEGORY:Apparel,mobile Shoppers,CHANNEL:mobile",
    ]


@pytest.mark.parametrize("extra", [(), ("--segment-code", "CHANNEL:web"), ("--segment-name", "Year-round")])
def test_behavior_list_agrees_with_segment_in_every_facet(cli, generated_sales: Path, extra):
    items = generated_sales.parent / "items.parquet"
    args = ["--items", str(items), "--method", "behavior", "--days", "365", *extra]
    rows = jsonl_rows(cli, generated_sales, *args)
    segments = report_segments(cli, generated_sales, *args)
    assert rows
    for facet in ("category", "channel", "season"):
        shown = [s for s in segments if s["facet"] == facet]
        if shown:  # a filter shows one segment: the rows are its members
            assert_list_agrees([{**r, "segment_name": r[f"{facet}_segment"]} for r in rows], shown)
        codes = {s["segment_name"]: s["segment_code"] for s in shown}
        assert all(codes.get(r[f"{facet}_segment"], r[f"{facet}_code"]) == r[f"{facet}_code"] for r in rows)
    if extra:
        column = "channel_code" if extra[0] == "--segment-code" else "season_segment"
        assert {r[column] for r in rows} == {extra[1]}


def test_behavior_list_errors(cli):
    run = cli(
        *customers_args(BEHAVIOR_SALES, *behavior_args("--days", "90", "--segment-code", "CHANNEL:fax"))
    )
    assert run.exit_code == 2
    assert run.stderr == (
        "Invalid segment_code. Must be one of: CATEGORY:Apparel, CATEGORY_MIXED, CHANNEL:mobile, CHANNEL_OMNI"
        " (--segment-code)\n"
    )
    run = cli(*customers_args(BEHAVIOR_SALES, "--method", "behavior"))
    assert run.exit_code == 2
    assert run.stderr == "Invalid segmentation_method. behavior needs sale items (--items)\n"
