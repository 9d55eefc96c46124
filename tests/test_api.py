"""The HTTP endpoint in-process: SPEC section 9 row by row, tenants, errors, logs, OpenAPI, schemathesis."""

from __future__ import annotations

import io
import json
import logging
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from segcli.api.app import ENDPOINT, create_app
from segcli.engine.cache import cache_for
from segcli.engine.compute import today_in
from segcli.engine.settings import Settings
from segcli.engine.tokens import TokenFile
from tests.conftest import AS_OF, SMALL_SALES, small_args

RFM_NAMES = "Champions, Loyal Customers, Potential Loyalists, Promising, At Risk, Need Attention, New Customers, Hibernating"
RFM_CODES = "R5F5M5, R4F4M4, R4F2M3, R3F2M2, R2F2M3, R2F3M3, R5F1M1, R1F1M2"


class Api:
    """An app on the small fixture (as of 2026-11-20) with a token for business 1 and one for business 2."""

    def __init__(
        self, tmp: Path, source: Path = SMALL_SALES, as_of: date | None = AS_OF, items: Path | None = None
    ) -> None:
        self.tokens = TokenFile(tmp / "tokens.json")
        self.token1, _ = self.tokens.create(1, "shop-one")
        self.token2, _ = self.tokens.create(2, "shop-two")
        self.settings = Settings(
            source=str(source),
            items=str(items) if items else None,
            tokens_file=str(self.tokens.path),
            cache_dir=str(tmp / "cache"),
        )
        self.app = create_app(self.settings, as_of=as_of)
        self.client = TestClient(self.app)

    def shut_down(self) -> None:
        """Run the app's shutdown (it closes the report cache, writing its hit and miss counts)."""
        with TestClient(self.app):
            pass

    def get(self, query: str = "", token: str | None = "1", path: str = ENDPOINT, **kw: Any) -> Any:
        headers = {}
        if token is not None:
            value = {"1": self.token1, "2": self.token2}.get(token, token)
            headers["Authorization"] = f"Bearer {value}"
        return self.client.get(path + (f"?{query}" if query else ""), headers=headers, **kw)


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return Api(tmp_path)


def body(response: Any) -> Any:
    return json.loads(response.content, parse_float=Decimal)


@pytest.mark.parametrize(
    ("query", "args"),
    [
        ("", []),
        ("days=30", ["--days", "30"]),
        ("days=30&segmentation_method=value", ["--days", "30", "--method", "value"]),
        ("days=30&storefront_id=20", ["--days", "30", "--storefront-id", "20"]),
        ("days=30&segment_name=Champions", ["--days", "30", "--segment-name", "Champions"]),
        ("days=30&segment_code=R2F2M3", ["--days", "30", "--segment-code", "R2F2M3"]),
        ("days=9999&segment_name=", ["--days", "9999"]),  # an empty filter counts as absent
    ],
)
def test_success_body_is_the_cli_json(api: Api, cli: Any, query: str, args: list[str]) -> None:
    response = api.get(query)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "content-disposition" not in response.headers
    run = cli(*small_args("--format", "json", *args))
    assert run.exit_code == 0
    assert response.content == run.stdout_bytes


def test_success_values_and_defaults(api: Api) -> None:
    data = body(api.get("days=30"))["data"]
    assert body(api.get("days=30"))["success"] is True
    assert data["method"] == "rfm"
    # 30 days ending 2026-11-20 start on 2026-10-22 (20 - 29 days)
    assert data["period"] == {
        "start_date": "2026-10-22",
        "end_date": "2026-11-20",
        "days": 30,
        "timezone": "UTC",
    }
    assert data["business_id"] == 1
    assert data["total_customers"] == 12
    assert [s["segment_name"] for s in data["segments"]] == RFM_NAMES.split(", ")
    champions = data["segments"][0]
    assert champions["customer_count"] == 2
    assert champions["total_revenue"] == Decimal("1000.00")
    assert (champions["recency_score"], champions["frequency_score"], champions["monetary_score"]) == (
        5,
        5,
        5,
    )
    assert set(data["insights"]) == {
        "highest_revenue_segment",
        "largest_segment",
        "fastest_growing_segment",
        "needs_attention",
    }
    default = body(api.get(""))["data"]  # SPEC defaults: rfm, 90 days
    assert (default["method"], default["period"]["days"]) == ("rfm", 90)
    assert default["period"]["start_date"] == "2026-08-23"  # 2026-11-20 - 89 days


def test_path_without_slash_answers_the_same_without_redirect(api: Api) -> None:
    with_slash = api.get("days=30")
    without = api.get("days=30", path=ENDPOINT.rstrip("/"), follow_redirects=False)
    assert without.status_code == 200
    assert without.content == with_slash.content


def test_unknown_parameters_are_ignored_and_cannot_widen_the_business(api: Api) -> None:
    plain = api.get("days=30")
    noisy = api.get("days=30&business_id=2&as_of=2020-01-01&foo=bar&page=3")
    assert noisy.status_code == 200
    assert noisy.content == plain.content


def test_a_repeated_parameter_counts_by_its_last_value(api: Api) -> None:
    assert api.get("days=7&days=30").content == api.get("days=30").content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("segmentation_method=kmeans", "Invalid segmentation_method. Must be one of: rfm, value, behavior"),
        ("segmentation_method=", "Invalid segmentation_method. Must be one of: rfm, value, behavior"),
        ("days=0", "Invalid days. Must be an integer between 1 and 9999"),
        ("days=10000", "Invalid days. Must be an integer between 1 and 9999"),
        ("days=abc", "Invalid days. Must be an integer between 1 and 9999"),
        ("days=1" + "0" * 5000, "Invalid days. Must be an integer between 1 and 9999"),
        ("storefront_id=x1", "Invalid storefront_id. Must be an integer"),
        ("storefront_id=1" + "0" * 30, "Invalid storefront_id. Must be an integer"),
        ("export_format=xlsx", "Invalid export_format. Must be one of: csv, pdf"),
        ("segment_name=Whales", f"Invalid segment_name. Must be one of: {RFM_NAMES}"),
        ("segment_code=R9F9M9", f"Invalid segment_code. Must be one of: {RFM_CODES}"),
        (
            "segmentation_method=value&segment_name=Champions",
            "Invalid segment_name. Must be one of: High Value, Medium Value, Low Value",
        ),
        (
            "segmentation_method=value&segment_code=R5F5M5",
            "Invalid segment_code. Must be one of: VALUE_HIGH, VALUE_MEDIUM, VALUE_LOW",
        ),
    ],
)
def test_invalid_parameters_are_400_with_the_replaced_api_text(api: Api, query: str, message: str) -> None:
    response = api.get(query)
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": message}


@pytest.mark.parametrize(
    ("query", "option"),
    [
        ("segmentation_method=kmeans", "--method=kmeans"),
        ("days=0", "--days=0"),
        ("storefront_id=x1", "--storefront-id=x1"),
        ("segment_code=R9F9M9", "--segment-code=R9F9M9"),
    ],
)
def test_400_text_is_the_cli_error_text_without_the_flag(api: Api, cli: Any, query: str, option: str) -> None:
    run = cli(*small_args("--format", "json", option))
    assert run.exit_code == 2
    flag = option.split("=")[0]
    assert run.stderr.strip() == f"{api.get(query).json()['error']} ({flag})"


NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
INVALID = {"detail": "Invalid token."}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, NOT_PROVIDED),
        ({"Authorization": ""}, NOT_PROVIDED),
        ({"Authorization": "Bearer"}, NOT_PROVIDED),
        ({"Authorization": "Token abc"}, NOT_PROVIDED),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, NOT_PROVIDED),
        ({"Authorization": "Bearer seg_not-a-real-token"}, INVALID),
        ({"Authorization": "Bearer " + "x" * 300}, INVALID),
    ],
)
def test_401_bodies_and_header(api: Api, headers: dict[str, str], expected: dict[str, str]) -> None:
    for query in ("days=30", "days=0&segmentation_method=nope"):  # auth comes before parameters
        response = api.client.get(f"{ENDPOINT}?{query}", headers=headers)
        assert response.status_code == 401
        assert response.json() == expected
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_token_revoked_while_serving_is_refused_at_once(api: Api) -> None:
    assert api.get("days=30").status_code == 200
    api.tokens.revoke("shop-one")
    response = api.get("days=30")
    assert (response.status_code, response.json()) == (401, INVALID)
    assert api.get("days=30", token="2").status_code == 200
    new_token, _ = api.tokens.create(1, "shop-one-again")  # and a new token works without restart
    assert api.get("days=30", token=new_token).status_code == 200


def test_business_two_sees_only_its_own_figures_through_the_cache(api: Api) -> None:
    # same parameters, so the same cache key but for business_id: 1 first, then 2, then 1 again
    first = api.get("days=30")
    data2 = body(api.get("days=30", token="2"))["data"]
    assert api.get("days=30").content == first.content
    # business 2 in the window: c01 1000.00 on 2026-11-20 and b2x 20.00 on 2026-11-15, one sale each.
    # R = 5 - floor(5*0/30) = 5 and 5 - floor(5*5/30) = 5; F = 1 (a tie); M: n=2, so b2x 1 and c01 2.
    # R5F1M1 and R5F1M2 both match New Customers (R>=4, F=1): 2 customers, 1020.00, AOV 510.00.
    assert data2["business_id"] == 2
    assert data2["total_customers"] == 2
    assert data2["total_revenue"] == Decimal("1020.00")
    segments = {s["segment_name"]: s for s in data2["segments"]}
    assert segments["Champions"]["customer_count"] == 0
    new = segments["New Customers"]
    assert (new["customer_count"], new["total_revenue"], new["average_order_value"]) == (
        2,
        Decimal("1020.00"),
        Decimal("510.00"),
    )
    assert new["characteristics"] == {
        "avg_days_since_last_purchase": Decimal("2.5"),  # (0 + 5) / 2
        "avg_purchase_frequency": Decimal("1.0"),
        "avg_total_spend": Decimal("510.00"),
    }
    assert data2["insights"] == {
        "highest_revenue_segment": "New Customers",
        "largest_segment": "New Customers",
        "fastest_growing_segment": "New Customers",
        "needs_attention": None,
    }
    api.shut_down()
    info = cache_for(api.settings).info()
    assert (info.entries, info.misses, info.hits) == (2, 2, 1)  # one report per business; 1 again: a hit


def test_every_request_reads_current_data(tmp_path: Path) -> None:
    source = tmp_path / "sales.csv"
    shutil.copy(SMALL_SALES, source)
    api = Api(tmp_path, source=source)
    assert body(api.get("days=30"))["data"]["total_customers"] == 12
    with source.open("a") as out:  # a new customer of business 1 while the server runs
        out.write("42,1,10,c99,2026-11-20,5.00,,completed,web\n")
    data = body(api.get("days=30"))["data"]
    assert data["total_customers"] == 13
    assert data["total_revenue"] == Decimal("2129.98")  # 2124.98 + 5.00


def test_healthz_needs_no_token(api: Api) -> None:
    response = api.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_as_of_defaults_to_today_in_the_time_zone(tmp_path: Path) -> None:
    api = Api(tmp_path, as_of=None)
    before = today_in("UTC")
    end = body(api.get("days=7"))["data"]["period"]["end_date"]
    assert end in {before.isoformat(), today_in("UTC").isoformat()}


@pytest.mark.parametrize(("fmt", "media_type"), [("csv", "text/csv"), ("pdf", "application/pdf")])
def test_file_downloads(api: Api, cli: Any, fmt: str, media_type: str) -> None:
    response = api.get(f"days=30&export_format={fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="customer-segmentation-2026-10-22-to-2026-11-20.{fmt}"'
    )
    if fmt == "csv":
        run = cli(*small_args("--format", "csv", "--days", "30"))
        assert response.content == run.stdout_bytes
        assert "Champions" in response.text
    else:
        from pypdf import PdfReader

        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        assert "Champions" in text


def test_file_download_keeps_the_segment_filter(api: Api) -> None:
    response = api.get("days=30&export_format=csv&segment_name=Champions")
    assert "Champions" in response.text
    assert "Hibernating" not in response.text


def test_data_error_is_a_generic_500_with_the_detail_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "sales.csv"
    shutil.copy(SMALL_SALES, source)
    api = Api(tmp_path, source=source)
    assert api.get("days=30").status_code == 200
    # the file changes under the running server: an amount that is not a number
    source.write_text(SMALL_SALES.read_text().replace("2026-11-05,100.00", "2026-11-05,12abc"))
    with caplog.at_level(logging.INFO, logger="segcli"):
        response = api.get("days=30")
    assert response.status_code == 500
    assert response.json() == {"success": False, "error": "Internal server error"}
    errors = [r.getMessage() for r in caplog.records if r.name == "segcli.error"]
    assert len(errors) == 1
    assert "12abc" in errors[0]
    assert str(source) in errors[0]
    assert "12abc" not in response.text


def test_access_log_has_one_line_per_request_and_never_a_token(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="segcli"):
        api.get("days=30&token=" + api.token2)
        api.get("days=0")
        api.get("days=30", token=None)
        api.client.get("/healthz")
    lines = [r.getMessage() for r in caplog.records if r.name == "segcli.access"]
    assert len(lines) == 4
    assert lines[0].startswith(f"GET {ENDPOINT}?days=30 200 ")
    assert lines[0].endswith("ms business=1 token=shop-one")
    assert lines[1].startswith(f"GET {ENDPOINT}?days=0 400 ")
    assert lines[2].startswith(f"GET {ENDPOINT}?days=30 401 ")
    assert lines[3].startswith("GET /healthz 200 ")
    assert api.token1 not in caplog.text
    assert api.token2 not in caplog.text


def test_openapi_documents_exactly_200_400_401(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "422" not in json.dumps(spec)
    operation = spec["paths"][ENDPOINT]["get"]
    assert set(operation["responses"]) == {"200", "400", "401"}
    assert set(operation["responses"]["200"]["content"]) == {
        "application/json",
        "text/csv",
        "application/pdf",
    }
    assert [p["name"] for p in operation["parameters"]] == [
        "segmentation_method",
        "days",
        "storefront_id",
        "segment_name",
        "segment_code",
        "export_format",
        "compare",
    ]
    assert operation["security"] == [{"HTTPBearer": []}]
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token made by `segcli token create`.",
    }
    assert ENDPOINT.rstrip("/") not in spec["paths"]


@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize("dataset", ["small", "behavior"])
def test_schemathesis_with_every_check_finds_nothing(tmp_path: Path, mode: str, dataset: str) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    from tests.test_behavior import ITEMS, SALES

    # the small fixture has no items (its OpenAPI offers no behavior); the behavior fixture answers every method
    # (given a storefront_id column: a storefront filter on a source without one is a data error, a 500)
    if dataset == "small":
        api = Api(tmp_path)
    else:
        sales = tmp_path / "sales.csv"
        header, *lines = SALES.read_text().splitlines()
        sales.write_text("\n".join([header + ",storefront_id", *(line + ",1" for line in lines)]) + "\n")
        api = Api(tmp_path, source=sales, items=ITEMS)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    strategy = schema.as_strategy(
        generation_mode=GenerationMode(mode), headers={"Authorization": f"Bearer {api.token1}"}
    )

    load_all_checks()
    every_check = CHECKS.get_all()

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call()
        # which segment names are valid depends on segmentation_method, which a parameter's schema cannot
        # say (the schema lists every method's): only that documented 400 is exempt from positive acceptance
        error = response.json().get("error", "") if response.status_code == 400 else ""
        method_dependent = error.startswith(("Invalid segment_name.", "Invalid segment_code."))
        case.validate_response(
            response,
            checks=every_check,
            excluded_checks=[positive_data_acceptance] if method_dependent else [],
        )

    check()


def test_serve_get_prints_the_body(cli: Any) -> None:
    run = cli("serve", "--source", SMALL_SALES, "--as-of", "2026-11-20", "--get", f"{ENDPOINT}?days=30")
    assert run.exit_code == 0
    assert run.stdout_bytes == cli(*small_args("--format", "json", "--days", "30")).stdout_bytes


def test_serve_get_reads_business_id_or_checks_a_token(cli: Any, tmp_path: Path) -> None:
    base = ["serve", "--source", SMALL_SALES, "--as-of", "2026-11-20"]
    run = cli(*base, "--business-id", "2", "--get", f"{ENDPOINT}?days=30")
    assert run.exit_code == 0
    assert run.json()["data"]["total_revenue"] == 1020.00
    tokens = TokenFile(tmp_path / "t.json")
    token, _ = tokens.create(2)
    with_token = ["--tokens-file", str(tokens.path), "--get", f"{ENDPOINT}?days=30"]
    run = cli(*base, *with_token, "--token", token)
    assert run.exit_code == 0
    assert run.json()["data"]["business_id"] == 2
    run = cli(*base, *with_token, "--token", "seg_wrong")
    assert run.exit_code == 1
    assert run.json() == INVALID
    assert run.stderr == f"GET {ENDPOINT}?days=30: HTTP 401\n"


def test_serve_get_exits_1_on_400(cli: Any) -> None:
    run = cli("serve", "--source", SMALL_SALES, "--get", f"{ENDPOINT}?days=0")
    assert run.exit_code == 1
    assert run.json() == {"success": False, "error": "Invalid days. Must be an integer between 1 and 9999"}


def test_serve_fails_early_on_a_missing_source(cli: Any) -> None:
    run = cli("serve", "--source", "missing.csv", "--port", "1")
    assert run.exit_code == 1
    assert run.stderr == "missing.csv: file not found\n"


@pytest.mark.parametrize("command", ["serve", "token"])
def test_help_of_serve_and_token_imports_no_heavy_module(command: str) -> None:
    from tests.test_import_hygiene import HEAVY, loaded_after

    modules = loaded_after(  # the help text (it names uvicorn) is kept out of the printed module list
        f"import io, sys\nfrom segcli.cli import app\nsys.argv = ['segcli', '{command}', '--help']\n"
        "stdout, sys.stdout = sys.stdout, io.StringIO()\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\nsys.stdout = stdout"
    )
    assert "typer" in modules
    assert not modules & {*HEAVY, "starlette"}  # (pydantic: typer itself imports it)
