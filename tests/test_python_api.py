"""The Python API: `segcli.segment` / `segcli.customers` over files and in-memory tables.

Every in-memory kind must give the report the same data gives from a file, byte for byte (as
JSON), and bad data the same one-line messages with the kind of table in place of the file.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import segcli
from segcli.engine.generate import generate
from tests.conftest import AS_OF, GOLDEN, SMALL_SALES, small_args
from tests.test_behavior import ITEMS, SALES

_WHY = "pandas/polars are test dependencies ([dev] extra): install them (CI must not skip)"


def _optional(name: str) -> Any:
    """pandas or polars; a skip only outside CI, where `make test` installs the [dev] extra."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=_WHY)


def _pd() -> Any:
    return _optional("pandas")


def _pl() -> Any:
    return _optional("polars")


def text_table(path: Path) -> pa.Table:
    """A CSV as an Arrow table of text columns (what a reader that guesses no types gives)."""
    con = duckdb.connect()
    try:
        return con.sql(
            "SELECT * FROM read_csv($p, all_varchar = true)", params={"p": str(path)}
        ).to_arrow_table()
    finally:
        con.close()


# each in-memory kind, made from an Arrow table
KINDS: dict[str, Callable[[pa.Table], Any]] = {
    "arrow": lambda t: t,
    "dataset": lambda t: ds.dataset(t),
    "reader": lambda t: pa.RecordBatchReader.from_batches(t.schema, t.to_batches()),
    "pandas": lambda t: t.to_pandas(),
    "polars": lambda t: _pl().from_arrow(t),
    "lazyframe": lambda t: _pl().from_arrow(t).lazy(),
    "relation": lambda t: duckdb.connect().from_arrow(t),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Synthetic sales and items (Parquet: ints, timestamps, exact decimals, text), 300 customers."""
    folder = tmp_path_factory.mktemp("generated")
    sales, items = folder / "sales.parquet", folder / "items.parquet"
    generate(300, 5, str(sales), str(items))
    return sales, items


@pytest.mark.parametrize("kind", list(KINDS))
def test_small_fixture_in_memory_equals_file(kind: str, cli: Any) -> None:
    run = cli(*small_args("--days", "30", "--format", "json", "--no-cache"))
    assert run.exit_code == 0, run.stderr
    from_file = segcli.segment(str(SMALL_SALES), as_of=AS_OF, days=30, cache=False)
    assert from_file.to_json() == run.stdout  # the library's JSON is the command line's, byte for byte
    report = segcli.segment(KINDS[kind](text_table(SMALL_SALES)), as_of=AS_OF, days=30)
    assert report.to_json() == run.stdout
    assert report.to_json().encode() == (GOLDEN / "report.json").read_bytes()


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("method", ["rfm", "value", "behavior"])
def test_generated_data_in_memory_equals_file(kind: str, method: str, generated: tuple[Path, Path]) -> None:
    sales, items = generated
    options: dict[str, Any] = {"as_of": "2026-11-20", "days": 365, "method": method, "compare": True}
    from_file = segcli.segment(sales, items=items, cache=False, **options)
    assert from_file.model.total_customers > 100  # a real report, not an empty one
    memory_items = KINDS[kind](pq.read_table(items)) if method == "behavior" else None
    report = segcli.segment(KINDS[kind](pq.read_table(sales)), items=memory_items, **options)
    assert report.to_json() == from_file.to_json()


def test_batches_outside_the_window_are_left_out(generated: tuple[Path, Path]) -> None:
    """Arrow batches are pruned by date like Parquet row groups, without a copy and without a changed report."""
    from segcli.engine.sources import Scope
    from segcli.engine.sources.memory import window_batches

    sales = pq.read_table(generated[0]).sort_by("sale_date")
    table = pa.Table.from_batches(sales.to_batches(max_chunksize=100))
    scope = Scope(1, date(2026, 8, 23), date(2026, 11, 20))
    kept = window_batches(table, "sale_date", scope)
    assert kept is not None
    assert 0 < kept.num_rows < table.num_rows / 2
    dates = [d.date() for d in kept.column("sale_date").to_pylist()]
    in_window = [
        d
        for d in (x.date() for x in table.column("sale_date").to_pylist())
        if date(2026, 8, 23) <= d <= date(2026, 11, 20)
    ]
    assert len([d for d in dates if date(2026, 8, 23) <= d <= date(2026, 11, 20)]) == len(in_window)
    # whole batches: those with a row in the window widened by a day each side (time zones)
    overlapping = [
        b for b in table.to_batches()
        if any(date(2026, 8, 22) <= x.date() <= date(2026, 11, 21) for x in b.column("sale_date").to_pylist())
    ]  # fmt: skip
    assert kept.num_rows == sum(b.num_rows for b in overlapping)
    assert min(dates) == min(x.date() for x in overlapping[0].column("sale_date").to_pylist())
    kept_buffer = kept.column("sale_id").chunk(0).buffers()[1]
    assert any(kept_buffer.address == b.column(0).buffers()[1].address for b in table.to_batches())  # no copy
    assert window_batches(table, "status", scope) is None  # not a date column: nothing to prune
    options: dict[str, Any] = {"as_of": "2026-11-20", "days": 90, "compare": True}
    assert (
        segcli.segment(table, **options).to_json()
        == segcli.segment(generated[0], cache=False, **options).to_json()
    )


def test_typed_pandas_frame_from_read_csv() -> None:
    """pandas' own CSV reader: float amounts, text dates with offsets; the same report as the file."""
    pd = _pd()
    frame = pd.read_csv(SMALL_SALES)
    assert frame["total_amount"].dtype == "float64"
    report = segcli.segment(frame, as_of=AS_OF, days=30)
    assert report.to_json() == segcli.segment(SMALL_SALES, as_of=AS_OF, days=30, cache=False).to_json()


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin"])
def test_timezone_aware_pandas_timestamps(timezone: str) -> None:
    """Timestamps with a zone are converted to the report's zone, as text with an offset is.

    (Dates without a time are local dates in a file; parsed as UTC midnights they equal the file's
    only in zones at or east of UTC, hence these two.)
    """
    pd = _pd()
    frame = pd.read_csv(SMALL_SALES)
    frame["sale_date"] = pd.to_datetime(frame["sale_date"], format="ISO8601", utc=True)
    assert str(frame["sale_date"].dtype).endswith(", UTC]")
    options: dict[str, Any] = {"as_of": AS_OF, "days": 30, "timezone": timezone}
    expected = segcli.segment(SMALL_SALES, cache=False, **options).to_json()
    assert segcli.segment(frame, **options).to_json() == expected


def test_categorical_columns_read_as_text() -> None:
    """pandas Categoricals (DuckDB sees ENUMs) and polars Categoricals give the file's report."""
    pd = _pd()
    frame = text_table(SALES).to_pandas()
    frame["status"] = frame["status"].astype("category")
    frame["channel"] = frame["channel"].astype("category")
    options: dict[str, Any] = {"as_of": AS_OF, "days": 365, "method": "behavior", "items": ITEMS}
    expected = segcli.segment(SALES, cache=False, **options).to_json()
    assert segcli.segment(frame, **options).to_json() == expected
    pl = _pl()
    lazy = pl.from_pandas(frame).with_columns(pl.col("status").cast(pl.Categorical))
    assert segcli.segment(lazy, **options).to_json() == expected
    assert isinstance(frame, pd.DataFrame)


def test_mapped_pandas_frame_with_other_column_names() -> None:
    pd = _pd()
    names = {
        "sale_id": "order_no",
        "customer_id": "client",
        "sale_date": "created_at",
        "total_amount": "gross",
    }
    frame = text_table(SMALL_SALES).to_pandas().rename(columns=names)
    report = segcli.segment(frame, as_of=AS_OF, days=30, columns={v: k for k, v in names.items()})
    assert report.to_json().encode() == (GOLDEN / "report.json").read_bytes()
    assert isinstance(frame, pd.DataFrame)


def test_in_memory_items_with_file_sales_and_file_items_with_memory_sales() -> None:
    expected = segcli.segment(SALES, items=ITEMS, as_of=AS_OF, method="behavior", days=365, cache=False)
    mixed = segcli.segment(SALES, items=text_table(ITEMS), as_of=AS_OF, method="behavior", days=365)
    assert mixed.to_json() == expected.to_json()
    other = segcli.segment(text_table(SALES), items=str(ITEMS), as_of=AS_OF, method="behavior", days=365)
    assert other.to_json() == expected.to_json()


HEADER = ["sale_id", "business_id", "customer_id", "sale_date", "total_amount", "status"]
GOOD = [
    ["1", "1", "a", "2026-11-20", "10.00", "completed"],
    ["2", "1", "b", "2026-11-19", "20.00", "completed"],
]


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (
            ["sale_id", "business_id", "sale_date", "total_amount", "status"],
            [["1", "1", "2026-11-20", "10.00", "completed"]],
            "missing required column 'customer_id' (columns found: sale_id, business_id, sale_date, "
            "total_amount, status; map one with --map SOURCE=customer_id)",
        ),
        (
            HEADER,
            [*GOOD, ["3", "1", "c", "2026-13-45", "5.00", "completed"]],
            "column 'sale_date' has a value that is not a date: '2026-13-45' (sale_id 3)",
        ),
        (
            HEADER,
            [*GOOD, ["3", "1", "c", "2026-11-18", "12;50", "completed"]],
            "column 'total_amount' has a value that is not a number: '12;50' (sale_id 3)",
        ),
        (
            HEADER,
            [*GOOD, ["3", "1", "c", "2026-11-18", "1.23456", "completed"]],
            "column 'total_amount' has more than 4 decimal places: '1.23456' (sale_id 3)",
        ),
        (
            HEADER,
            [*GOOD, ["2", "1", "c", "2026-11-18", "5.00", "completed"]],
            "column 'sale_id' has a duplicate value '2' (2 rows in the business)",
        ),
        (
            HEADER,
            [*GOOD, ["3", "x1", "c", "2026-11-18", "5.00", "completed"]],
            "column 'business_id' has a value that is not an integer: 'x1' (sale_id 3)",
        ),
        (
            [*HEADER, "currency"],
            [[*GOOD[0], "USD"], [*GOOD[1], "EUR"]],
            "column 'currency' holds more than one currency in scope (EUR, USD); report on one currency at a time",
        ),
    ],
    ids=[
        "missing-column",
        "bad-date",
        "bad-amount",
        "too-many-decimals",
        "duplicate",
        "business-id",
        "currencies",
    ],
)
def test_bad_data_in_a_dataframe_reads_like_a_bad_file(
    tmp_path: Path, header: list[str], rows: list[list[str]], message: str
) -> None:
    pd = _pd()
    path = tmp_path / "sales.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    with pytest.raises(segcli.DataError) as from_file:
        segcli.segment(path, as_of=AS_OF, cache=False)
    assert str(from_file.value) == f"{path}: {message}"
    frame = pd.DataFrame(rows, columns=header)
    with pytest.raises(segcli.DataError) as from_frame:
        segcli.segment(frame, as_of=AS_OF)
    assert str(from_frame.value) == f"pandas DataFrame: {message}"
    with pytest.raises(segcli.DataError) as from_polars:
        segcli.segment(_pl().DataFrame(rows, schema=header, orient="row"), as_of=AS_OF)
    assert str(from_polars.value) == f"polars DataFrame: {message}"


def test_typed_bad_values_name_the_kind_column_and_value() -> None:
    pd = _pd()
    frame = pd.DataFrame(
        {
            "sale_id": [1, 2],
            "customer_id": ["a", "b"],
            "sale_date": pd.to_datetime(["2026-11-20", "2026-11-19"]),
            "total_amount": [10.0, float("inf")],
            "status": ["completed", "completed"],
        }
    )
    with pytest.raises(
        segcli.DataError,
        match=r"^pandas DataFrame: column 'total_amount' has a value that is not a number: 'inf' \(sale_id 2\)$",
    ):
        segcli.segment(frame, as_of=AS_OF)
    items = pd.DataFrame({"sale_id": [1], "category": ["x"], "line_total": ["n/a"]})
    with pytest.raises(segcli.DataError) as bad_items:
        segcli.segment(SALES, items=items, as_of=AS_OF, method="behavior", days=365)
    assert str(bad_items.value) == (
        "pandas DataFrame of items: column 'line_total' has a value that is not a number: 'n/a' (sale_id 1)"
    )


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"days": 0}, segcli.InvalidParameter, "Invalid days. Must be an integer between 1 and 9999"),
        ({"days": 30.5}, segcli.InvalidParameter, "Invalid days. Must be an integer between 1 and 9999"),
        ({"days": True}, segcli.InvalidParameter, "Invalid days. Must be an integer between 1 and 9999"),
        ({"method": "x"}, segcli.InvalidParameter, "Invalid segmentation_method. Must be one of: rfm, value, behavior"),
        ({"storefront_id": "a"}, segcli.InvalidParameter, "Invalid storefront_id. Must be an integer"),
        ({"segment_name": "Nope"}, segcli.InvalidParameter, "Invalid segment_name. Must be one of: Champions, "
         "Loyal Customers, Potential Loyalists, Promising, At Risk, Need Attention, New Customers, Hibernating"),
        ({"as_of": "20-11-2026"}, segcli.InvalidParameter, "Invalid as_of. Must be a date YYYY-MM-DD"),
        ({"timezone": "Mars/Base"}, segcli.InvalidParameter,
         "Invalid timezone 'Mars/Base'. Must be an IANA time zone name such as Europe/Berlin"),
        ({"engine": "pandas"}, segcli.InvalidParameter, "Invalid engine. Must be one of: duckdb, spark"),
        ({"business_id": "1"}, segcli.InvalidParameter, "Invalid business_id. Must be an integer"),
        ({"columns": {"created_at": "date"}}, segcli.InvalidParameter, "Invalid column in columns: 'created_at': "
         "'date'. Must map a source column to one of: sale_id, business_id, customer_id, sale_date, total_amount, "
         "amount_refunded, status, storefront_id, channel, currency, category, line_total"),
    ],
)  # fmt: skip
def test_parameters_are_checked_like_the_command_line(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        segcli.segment(text_table(SMALL_SALES), **{"as_of": AS_OF, **options})
    assert str(raised.value) == message
    assert isinstance(raised.value, segcli.SegcliError)


def test_other_objects_and_missing_files_are_segcli_errors(tmp_path: Path) -> None:
    with pytest.raises(segcli.InvalidParameter, match=r"^Invalid source\. Must be a path, glob or URL, or one of: "
                       r"Arrow table, .*\(got builtins\.list\)$"):  # fmt: skip
        segcli.segment([1, 2], as_of=AS_OF)
    with pytest.raises(segcli.SourceError, match="file not found"):
        segcli.segment(tmp_path / "none.csv", as_of=AS_OF, cache=False)


def test_segment_filter_and_the_segments_table() -> None:
    report = segcli.segment(text_table(SMALL_SALES), as_of=AS_OF, days=30, segment_name="Champions")
    assert [s["segment_name"] for s in report.to_dict()["data"]["segments"]] == ["Champions"]
    table = report.segments
    assert table.column_names[:6] == [
        "segment_name", "segment_code", "description", "customer_count", "total_revenue", "average_order_value",
    ]  # fmt: skip
    row = table.to_pylist()[0]
    # tests/test_rfm_fixture.py: c01 (600.00, 6 sales, 0 days) and c02 (400.00, 5 sales, 2 days)
    assert row["customer_count"] == 2
    assert row["total_revenue"] == Decimal("1000.00")
    assert row["average_order_value"] == Decimal("90.91")
    assert row["avg_days_since_last_purchase"] == Decimal("1.0")
    assert (row["recency_score"], row["frequency_score"], row["monetary_score"]) == (5, 5, 5)
    assert row["recommended_actions"][0] == "Offer VIP loyalty perks"
    assert report.model.segments[0].name == "Champions"  # the engine's model keeps its tuple


def test_to_dict_is_the_json_body_with_exact_decimals() -> None:
    report = segcli.segment(text_table(SMALL_SALES), as_of=AS_OF)
    body = report.to_dict()
    assert body["success"] is True
    assert isinstance(body["data"]["total_revenue"], Decimal)
    assert body == json.loads(report.to_json(), parse_float=Decimal)


def test_csv_and_pdf_files_are_the_command_lines(tmp_path: Path, cli: Any) -> None:
    out = tmp_path / "out"
    out.mkdir()
    report = segcli.segment(text_table(SMALL_SALES), as_of=AS_OF, days=30)
    report.to_csv(out / "r.csv")
    assert (out / "r.csv").read_bytes() == (GOLDEN / "report.csv").read_bytes()
    assert report.to_json(out / "r.json") == (out / "r.json").read_text(encoding="utf-8")
    assert (out / "r.json").read_bytes() == (GOLDEN / "report.json").read_bytes()
    moment = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    report.to_pdf(out / "r.pdf", generated_at=moment)
    run = cli(*small_args("--days", "30", "--format", "pdf", "--output", str(out / "cli.pdf"), "--no-cache"),
              env={"SOURCE_DATE_EPOCH": str(int(moment.timestamp()))})  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert (out / "r.pdf").read_bytes() == (out / "cli.pdf").read_bytes()
    with pytest.raises(segcli.InvalidParameter, match=r"folder .* does not exist"):
        report.to_csv(out / "no" / "r.csv")
    assert sorted(p.name for p in out.iterdir()) == [
        "cli.pdf",
        "r.csv",
        "r.json",
        "r.pdf",
    ]  # no temporary left


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.open: list[str] = []
        self.rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("br",):
            self.open.append(tag)
        self.rows += tag == "tr"

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open[-1] == tag, f"</{tag}> closes <{self.open[-1]}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_repr_html_parses_and_holds_every_segment() -> None:
    report = segcli.segment(text_table(SMALL_SALES), as_of=AS_OF, days=30)
    html = report._repr_html_()
    parser = _Cells()
    parser.feed(html)
    parser.close()
    assert parser.open == []  # every tag closed, in order
    text = "".join(parser.text)
    for s in report.model.segments:
        assert s.name in text
        assert s.code in text
    assert "Window 2026-10-22 → 2026-11-20" in text
    assert "Highest revenue" in text
    assert "Champions" in text
    assert parser.rows == 4 + 1 + len(report.model.segments)  # insights, header, one per segment


def test_repr_html_shows_the_comparison() -> None:
    report = segcli.segment(text_table(SMALL_SALES), as_of=AS_OF, days=30, compare=True)
    assert report.comparison is not None
    parser = _Cells()
    parser.feed(report._repr_html_())
    assert parser.open == []
    text = "".join(parser.text)
    before = report.comparison.previous_period
    assert f"Compared with {before.start_date.isoformat()} → {before.end_date.isoformat()}" in text
    summary = report.comparison.migration[0].summary
    assert f"Migration: stayed {summary.stayed} · moved {summary.moved} · new {summary.new}" in text


def test_repr_html_escapes_data_values() -> None:
    pd = _pd()
    frame = pd.DataFrame(
        {
            "sale_id": [1, 2],
            "customer_id": ["a", "b"],
            "sale_date": ["2026-11-20", "2026-11-19"],
            "total_amount": ["1.00", "2.00"],
            "status": ["completed", "<b>odd</b>"],
        }
    )
    html = segcli.segment(frame, as_of=AS_OF)._repr_html_()
    assert "<b>odd</b>" not in html
    assert "&#x27;&lt;b&gt;odd&lt;/b&gt;&#x27; 1" in html  # the unknown status, counted and escaped


def test_customers_from_a_dataframe_equal_the_files(cli: Any) -> None:
    run = cli("customers", "--source", str(SMALL_SALES), "--as-of", AS_OF.isoformat(), "--format", "csv")
    assert run.exit_code == 0, run.stderr
    table = segcli.customers(_pd().read_csv(SMALL_SALES), as_of=AS_OF)
    assert isinstance(table, pa.Table)
    assert table.num_rows == run.stdout.count("\n") - 1
    from_file = segcli.customers(SMALL_SALES, as_of=AS_OF)
    assert table.equals(from_file)
    champions = segcli.customers(text_table(SMALL_SALES), as_of=AS_OF, days=30, segment_name="Champions")
    assert sorted(champions.column("customer_id").to_pylist()) == ["c01", "c02"]


def test_cache_is_off_for_memory_sources_unless_a_key_is_given(tmp_path: Path) -> None:
    pd = _pd()
    cache = tmp_path / "cache"
    first = pd.DataFrame(
        {
            "sale_id": [1],
            "customer_id": ["a"],
            "sale_date": ["2026-11-20"],
            "total_amount": ["10"],
            "status": ["completed"],
        }
    )
    second = first.assign(total_amount=["99"])
    revenue = lambda r: r.to_dict()["data"]["total_revenue"]  # noqa: E731
    assert revenue(segcli.segment(first, as_of=AS_OF, cache_dir=cache)) == Decimal("10.00")
    assert revenue(segcli.segment(second, as_of=AS_OF, cache_dir=cache)) == Decimal("99.00")
    assert not cache.exists()  # no key: nothing stored
    assert revenue(segcli.segment(first, as_of=AS_OF, cache_dir=cache, cache_key="v1")) == Decimal("10.00")
    # the key promises the data: the same key serves the stored report, a new key computes
    assert revenue(segcli.segment(second, as_of=AS_OF, cache_dir=cache, cache_key="v1")) == Decimal("10.00")
    assert revenue(segcli.segment(second, as_of=AS_OF, cache_dir=cache, cache_key="v2")) == Decimal("99.00")


def test_public_names() -> None:
    assert set(segcli.__all__) == {
        "DataError", "InvalidParameter", "Report", "SegcliError", "SourceError", "__version__", "customers",
        "segment",
    }  # fmt: skip
    for name in segcli.__all__:
        assert getattr(segcli, name) is not None
    assert isinstance(segcli.segment(text_table(SMALL_SALES), as_of=date(2026, 11, 20)), segcli.Report)
    with pytest.raises(AttributeError):
        _ = segcli.nothing
    assert (Path(segcli.__file__).parent / "py.typed").is_file()
