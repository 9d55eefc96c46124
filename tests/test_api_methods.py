"""The endpoint with value, behavior and `compare`: the same bytes as the CLI, and the 400s of each."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

import pytest

from segcli.api.app import ENDPOINT
from tests.conftest import AS_OF, SMALL_SALES, small_args
from tests.test_api import Api, body
from tests.test_behavior import ITEMS, SALES, VALUE

COMPARE_ERROR = {"success": False, "error": "Invalid compare. Must be true or false"}


@pytest.fixture
def shop(tmp_path: Path) -> Api:
    """The behavior fixture (channels and items), as of 2026-11-20."""
    return Api(tmp_path, source=SALES, items=ITEMS)


def cli_bytes(cli: Any, *args: str | Path) -> bytes:
    run = cli(*args)
    assert run.exit_code == 0, run.stderr
    return bytes(run.stdout_bytes)


def behavior_args(*extra: str) -> list[str | Path]:
    return ["segment", "--source", SALES, "--items", ITEMS, "--method", "behavior", "--as-of", AS_OF.isoformat(), *extra]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "args"),
    [
        ("segmentation_method=behavior&days=365", ["--days", "365"]),
        ("segmentation_method=behavior&days=365&compare=true", ["--days", "365", "--compare"]),
        ("segmentation_method=behavior&days=90", ["--days", "90"]),
        ("segmentation_method=behavior&days=365&segment_code=CHANNEL:web", ["--days", "365", "--segment-code", "CHANNEL:web"]),
        ("segmentation_method=behavior&days=365&segment_name=Year-round&compare=1", ["--days", "365", "--segment-name", "Year-round", "--compare"]),
        ("segmentation_method=rfm&days=365&compare=true", ["--days", "365", "--method", "rfm", "--compare"]),
    ],
)  # fmt: skip
def test_behavior_body_is_the_cli_json(shop: Api, cli: Any, query: str, args: list[str]) -> None:
    response = shop.get(query)
    assert response.status_code == 200, response.text
    assert response.content == cli_bytes(cli, *behavior_args("--format", "json", *args))


def test_behavior_segments_carry_their_facet_and_null_scores(shop: Api) -> None:
    data = body(shop.get("segmentation_method=behavior&days=365"))["data"]
    # (see test_behavior) 4 category, 4 channel and 5 season segments, each facet 6 customers
    assert [s["facet"] for s in data["segments"]] == ["category"] * 4 + ["channel"] * 4 + ["season"] * 5
    assert all(
        s[k] is None for s in data["segments"] for k in ("recency_score", "frequency_score", "monetary_score")
    )
    assert data["total_customers"] == 6


@pytest.mark.parametrize(
    ("query", "extra"),
    [
        ("segmentation_method=value&days=30", ["--method", "value"]),
        ("days=30&segment_name=Champions", ["--segment-name", "Champions"]),
    ],
)
def test_compare_true_is_the_cli_compare_json(tmp_path: Path, cli: Any, query: str, extra: list[str]) -> None:
    api = Api(tmp_path, source=VALUE)
    args: list[str | Path] = ["segment", "--source", VALUE, "--as-of", AS_OF.isoformat(), "--format", "json"]
    args += ["--days", "30", *extra]
    response = api.get(query + "&compare=true")
    assert response.status_code == 200
    assert response.content == cli_bytes(cli, *args, "--compare")
    assert "comparison" in body(response)["data"]
    assert api.get(query).content == cli_bytes(cli, *args)  # the cached compare report serves it


def test_value_comparison_over_http(tmp_path: Path) -> None:
    # the hand-computed matrix of test_compare.test_value_comparison_by_hand
    api = Api(tmp_path, source=VALUE)
    comparison = body(api.get("segmentation_method=value&days=30&compare=true"))["data"]["comparison"]
    assert comparison["previous_total_customers"] == 5
    assert [r["customers"] for r in comparison["migration"][0]["rows"]] == [
        [0, 0, 1, 0],
        [0, 2, 0, 1],
        [1, 0, 0, 0],
        [0, 4, 2, 0],
    ]


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1"])
def test_compare_spellings_of_true(api: Api, value: str) -> None:
    assert api.get(f"days=30&compare={value}").content == api.get("days=30&compare=true").content
    assert "comparison" in body(api.get(f"days=30&compare={value}"))["data"]


@pytest.mark.parametrize("value", ["false", "FALSE", "False", "0", ""])
def test_compare_spellings_of_false(api: Api, value: str) -> None:
    response = api.get(f"days=30&compare={value}")
    assert response.status_code == 200
    assert "comparison" not in body(response)["data"]
    assert response.content == api.get("days=30").content


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return Api(tmp_path)


@pytest.mark.parametrize("value", ["yes", "no", "2", "-1", "tru", " true", "true ", "on", "t", "1.0", "null"])
def test_invalid_compare_is_400(api: Api, value: str) -> None:
    response = api.get("days=30&compare=" + value.replace(" ", "%20"))
    assert (response.status_code, response.json()) == (400, COMPARE_ERROR)


def test_other_parameters_are_checked_first(api: Api) -> None:
    response = api.get("days=0&compare=maybe")
    assert response.json()["error"] == "Invalid days. Must be an integer between 1 and 9999"


@pytest.mark.parametrize(
    ("source", "items", "option_args"),
    [
        (SMALL_SALES, None, []),  # a channel column, no items
        (VALUE, None, []),  # neither
        (VALUE, ITEMS, ["--items", ITEMS]),  # items, no channel
    ],
)
def test_behavior_without_its_data_is_400_with_the_cli_text_less_its_flags(
    tmp_path: Path, cli: Any, source: Path, items: Path | None, option_args: list[Path]
) -> None:
    api = Api(tmp_path, source=source, items=items)
    for query in (
        "segmentation_method=behavior",
        "segmentation_method=behavior&compare=true&export_format=pdf",
    ):
        response = api.get(query)
        run = cli(
            "segment", "--source", source, *option_args, "--method", "behavior", "--as-of", "2026-11-20"
        )
        assert run.exit_code == 2
        assert response.status_code == 400
        error = response.json()["error"]
        assert response.json() == {"success": False, "error": error}
        assert error.startswith("Invalid segmentation_method. behavior needs ")
        # the same text; the command line adds the flags that fix it, HTTP never names a flag
        assert run.stderr.strip().startswith(error + " (")
        assert "--" not in error
        assert ("sale items" in error) == (items is None)
        assert ("--items" in run.stderr) == (items is None)


def test_behavior_segment_filter_lists_the_actual_segments(shop: Api, cli: Any) -> None:
    # 90 days (2026-08-23 ..): only E's sale of 2026-10-05 (mobile, one Apparel item); see test_behavior
    response = shop.get("segmentation_method=behavior&days=90&segment_code=CHANNEL:fax")
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Invalid segment_code. Must be one of: CATEGORY:Apparel, CATEGORY_MIXED, CHANNEL:mobile, CHANNEL_OMNI"
    )
    response = shop.get("segmentation_method=behavior&days=90&segment_name=Champions&export_format=csv")
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Invalid segment_name. Must be one of: Apparel Enthusiasts, Explorers, mobile Shoppers, Omnichannel"
    )
    run = cli(*behavior_args("--days", "90", "--segment-name", "Champions"))
    assert run.exit_code == 2
    assert run.stderr.strip() == response.json()["error"] + " (--segment-name)"


def test_compare_csv_download_is_the_cli_migration_table(shop: Api, cli: Any) -> None:
    response = shop.get("segmentation_method=behavior&days=365&compare=true&export_format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content == cli_bytes(cli, *behavior_args("--days", "365", "--compare", "--format", "csv"))
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["from_segment", "to_segment", "customers", "facet"]
    # the season matrix is 6 x 6 (Q1..Q4, Year-round plus new / lapsed); see test_compare
    assert sum(1 for r in rows if r["facet"] == "season") == 36


def test_compare_pdf_download(shop: Api) -> None:
    from pypdf import PdfReader

    response = shop.get("segmentation_method=behavior&days=365&compare=true&export_format=pdf")
    assert response.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "How customers moved" in text


def test_access_log_shows_compare(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="segcli"):
        api.get("days=30&compare=true")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "segcli.access"]
    assert line.startswith(f"GET {ENDPOINT}?days=30&compare=true 200 ")


def test_serve_get_with_items_answers_behavior(cli: Any) -> None:
    query = f"{ENDPOINT}?segmentation_method=behavior&days=365&compare=true"
    run = cli("serve", "--source", SALES, "--items", ITEMS, "--as-of", AS_OF.isoformat(), "--get", query)
    assert run.exit_code == 0, run.stderr
    assert run.stdout_bytes == cli_bytes(
        cli, *behavior_args("--days", "365", "--compare", "--format", "json")
    )


def test_small_fixture_compare_matches_cli_through_serve_get(cli: Any) -> None:
    run = cli(
        "serve", "--source", SMALL_SALES, "--as-of", "2026-11-20", "--get", f"{ENDPOINT}?days=30&compare=TRUE"
    )
    assert run.exit_code == 0
    assert run.stdout_bytes == cli_bytes(cli, *small_args("--format", "json", "--days", "30", "--compare"))


@pytest.mark.parametrize(
    "query",
    [
        "segmentation_method=behavior&days=365&compare=true",
        "segmentation_method=behavior&days=90&compare=true&segment_name=Explorers",
        "segmentation_method=value&days=365&compare=true",
        "days=365&compare=true",
        "segmentation_method=behavior&days=365",
    ],
)
def test_bodies_match_the_openapi_schema_exactly(shop: Api, query: str) -> None:
    import jsonschema_rs  # the validator schemathesis checks responses with

    spec = shop.client.get("/openapi.json").json()
    success = spec["paths"][ENDPOINT]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    validator = jsonschema_rs.Draft202012Validator({**success, "components": spec["components"]})
    data = shop.get(query).json()
    validator.validate(data)
    # and a key the schema does not name is caught (additionalProperties: false)
    changes = data["data"].get("comparison", {}).get("segments") or data["data"]["segments"]
    changes[0]["surprise"] = 1
    assert not validator.is_valid(data)
