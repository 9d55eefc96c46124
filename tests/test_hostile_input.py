"""Hostile input (issue 13): forged log lines, doubled headers, non-ASCII digits, usage errors, formulas."""

from __future__ import annotations

import csv
import io
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from segcli.api.app import ENDPOINT
from segcli.engine.errors import InvalidParameter
from segcli.engine.params import validate_params
from tests.conftest import AS_OF, small_args
from tests.test_api import Api


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return Api(tmp_path)


# case 17 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", ["\u0663\u0660", "\uff13\uff10", "1\u0663", "\u00a030"])
def test_only_ascii_digits_and_spaces_make_an_integer(days: str) -> None:
    with pytest.raises(InvalidParameter, match=r"^Invalid days\. Must be an integer between 1 and 9999$"):
        validate_params(days=days)
    assert validate_params(days=" 30 ").days == 30


def test_http_days_in_arabic_indic_digits_is_a_400(api: Api) -> None:
    response = api.get("days=%D9%A3%D9%A0")  # ٣٠
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid days. Must be an integer between 1 and 9999"


# case 16 ---------------------------------------------------------------------------------------


def test_two_authorization_headers_are_refused(api: Api) -> None:
    headers = [("Authorization", f"Bearer {api.token1}"), ("Authorization", f"Bearer {api.token2}")]
    response = api.client.get(ENDPOINT + "?days=30", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert api.get("days=30").status_code == 200  # one header still works


# case 10 ---------------------------------------------------------------------------------------


def test_control_characters_in_the_path_and_query_cannot_forge_log_lines(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    forged = "%0A2026-12-01 INFO segcli.access: GET / 200 0.1ms business=2%0D"
    with caplog.at_level(logging.INFO, logger="segcli"):
        api.client.get(ENDPOINT + forged + "?days=30")
        api.get("days=30" + forged + "&segment_name=x%1B[31m")
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("segcli")]
    assert len([m for m in messages if m.startswith("GET ")]) == 2
    for message in messages:
        assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in message), repr(message)
    assert "\\x0a2026-12-01 INFO" in messages[0]
    assert "segment_name=x%1B%5B31m 400 " in caplog.text  # query values stay percent-encoded


# case 13 ---------------------------------------------------------------------------------------


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("hostile", ["=1+2", "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_formula_cells_in_the_customer_list_are_neutralised(cli: Any, tmp_path: Path, hostile: str) -> None:
    source = tmp_path / "sales.csv"
    source.write_text(
        "sale_id,customer_id,sale_date,total_amount,status\n"
        f'1,"{hostile}",2026-11-01,10.00,completed\n'
        "2,c2,2026-11-02,-5.00,completed\n"
        "3,c2,2026-11-03,20.00,completed\n"
    )
    run = cli("customers", "--source", source, "--as-of", AS_OF.isoformat(), "--format", "csv")
    assert run.exit_code == 0, run.stderr
    rows = _csv_rows(run.stdout_bytes.decode())
    ids = {row[0] for row in rows[1:]}
    assert ids == {"'" + hostile, "c2"}
    monetary = rows[0].index("monetary")
    assert {row[monetary] for row in rows[1:]} == {"10.00", "15.00"}


def test_formula_cells_in_the_segment_csv_are_neutralised_and_negative_money_stays_a_number() -> None:
    from segcli.render.csv import cell, safe_text

    assert safe_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_text("-x") == "'-x"
    assert safe_text("Champions") == "Champions"
    assert safe_text("\rx") == "'\rx"
    from decimal import Decimal

    assert cell(Decimal("-5.00")) == "-5.00"
    assert cell(-3) == "-3"
    assert cell("@x") == "'@x"


def behavior_files(tmp_path: Path, category: str, channel: str = "web") -> list[str]:
    """Behavior sources whose one category and one channel are the given (hostile) strings."""
    sales, items = tmp_path / "bsales.csv", tmp_path / "bitems.csv"
    with sales.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sale_id", "customer_id", "sale_date", "total_amount", "status", "channel"])
        # on the as-of date: a report up to the last sale has no staleness warning (stderr stays empty)
        w.writerows([[1, "A", AS_OF.isoformat(), "10.00", "completed", channel]])
    with items.open("w", newline="") as f:
        csv.writer(f).writerows([["sale_id", "category", "line_total"], [1, category, "10.00"]])
    return ["--source", str(sales), "--items", str(items), "--method", "behavior"]


def test_segment_csv_neutralises_hostile_segment_names(cli: Any, tmp_path: Path) -> None:
    args = behavior_files(tmp_path, "=cmd|' /C calc'!A0", channel="-web")
    run = cli("segment", *args, "--as-of", AS_OF.isoformat(), "--format", "csv")
    assert run.exit_code == 0, run.stderr
    names = [row[0] for row in _csv_rows(run.stdout)[1:]]
    assert "'=cmd|' /C calc'!A0 Enthusiasts" in names
    assert "'-web Shoppers" in names
    for row in _csv_rows(run.stdout):
        assert all(not v or v[0] not in "=+-@\t\r" for v in row), row


# case 21 / 23 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--business-id", "abc"], "Invalid value for '--business-id' (env var: 'SEGCLI_BUSINESS_ID'): "),
        (["--cache-ttl", "abc"], "Invalid value for '--cache-ttl' (env var: 'SEGCLI_CACHE_TTL'): "),
    ],
)
def test_a_bad_option_value_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    from segcli.cli import run

    err = io.StringIO()
    code = run([*small_args(), *args], stderr=err)
    assert code == 2
    assert (
        err.getvalue() == message + "Input should be a valid integer, unable to parse string as an integer\n"
    )


def test_an_unknown_option_is_one_line_and_exit_2() -> None:
    from segcli.cli import run

    err = io.StringIO()
    assert run(["segment", "--nope"], stderr=err) == 2
    assert err.getvalue().startswith("No such option: --nope")
    assert err.getvalue().count("\n") == 1


@pytest.mark.parametrize("port", ["0", "99999", "-1"])
def test_serve_port_out_of_range_is_one_line(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    from segcli.cli import run

    code = run(["serve", *small_args()[1:], "--port", port])
    assert code == 2
    assert capsys.readouterr().err == "Invalid port. Must be an integer between 1 and 65535\n"


def test_serve_on_a_busy_port_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from segcli.cli import run

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = run(["serve", *small_args()[1:], "--port", str(port)])
    assert code == 1
    err = capsys.readouterr().err
    assert err == f"Cannot listen on 127.0.0.1:{port}: Address already in use\n"


@pytest.mark.parametrize("business", ["0", "-1", str(2**63), "99999999999999999999999"])
def test_token_create_refuses_a_business_id_out_of_range(cli: Any, tmp_path: Path, business: str) -> None:
    tokens = tmp_path / "t" / "tokens.json"
    run = cli("token", "create", "--business-id", business, "--tokens-file", tokens)
    assert run.exit_code == 2
    assert run.stderr == f"Invalid business_id. Must be an integer between 1 and {2**63 - 1}\n"
    assert not tokens.exists()
    ok = cli("token", "create", "--business-id", str(2**63 - 1), "--tokens-file", tokens)
    assert ok.exit_code == 0, ok.stderr


# case 8 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["[/]", "[bold]loud[/bold]", "\x1b[31mred"])
def test_data_values_are_printed_as_they_are_in_the_table_view(
    cli: Any, tmp_path: Path, category: str
) -> None:
    args = behavior_files(tmp_path, category, channel="[/]web")
    run = cli("segment", *args, "--as-of", AS_OF.isoformat(), "--format", "table")
    assert run.exit_code == 0, run.stderr
    assert "\x1b" not in run.stdout
    shown = category.replace("\x1b", "\\x1b")
    assert f"{shown} Enthusiasts" in run.stdout
    assert "[/]web Shoppers" in run.stdout


def test_customer_ids_and_statuses_are_printed_as_they_are(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "sales.csv"
    source.write_text(
        "sale_id,customer_id,sale_date,total_amount,status\n"
        "1,[/],2026-11-01,10.00,completed\n"
        "2,[bold]x,2026-11-02,10.00,\x1b[2Jwiped\n"
    )
    base = ("--source", source, "--as-of", AS_OF.isoformat(), "--format", "table")
    report = cli("segment", *base)
    assert report.exit_code == 0, report.stderr
    assert "'\\x1b[2jwiped' 1" in report.stdout  # statuses are compared lower-cased
    assert "\x1b" not in report.stdout
    listed = cli("customers", *base)
    assert listed.exit_code == 0, listed.stderr
    assert "[/]" in listed.stdout


# case 20 ---------------------------------------------------------------------------------------


def test_a_pdf_of_a_name_with_a_newline_writes_nothing_on_stderr(cli: Any, tmp_path: Path) -> None:
    args = behavior_files(tmp_path, "Home\nGarden")
    out = tmp_path / "report.pdf"
    segcli = Path(sys.executable).parent / "segcli"  # a real process: pytest's log capture hides the warning
    command = [str(segcli), "segment", *args, "--as-of", AS_OF.isoformat(), "--output", str(out)]
    run = subprocess.run(command, capture_output=True, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, b"", b"")
    assert out.read_bytes().startswith(b"%PDF-")


# case 22 ---------------------------------------------------------------------------------------


def _valid(value: str, schema: dict[str, Any]) -> bool:
    """Whether a string satisfies an anyOf of an enum and a pattern (the segment parameters' shape)."""
    enum, pattern = schema["anyOf"]
    return value in enum["enum"] or re.search(pattern["pattern"], value) is not None


def test_openapi_lists_the_segments_the_server_accepts(api: Api, tmp_path: Path) -> None:
    from segcli.engine.segments import default_tables

    spec = api.client.get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in spec["paths"][ENDPOINT]["get"]["parameters"]}
    assert params["segmentation_method"]["enum"] == ["rfm", "value"]  # the small fixture has no items
    for name, attr in (("segment_name", "names"), ("segment_code", "codes")):
        schema = params[name]
        for table in default_tables().values():
            assert all(_valid(value, schema) for value in getattr(table, attr))
        assert not _valid("Nobody", schema)
    assert all(
        _valid(v, params["segment_name"]) for v in ("Apparel Enthusiasts", "web Shoppers", "Explorers")
    )
    assert _valid("CATEGORY:Apparel", params["segment_code"])
    assert api.get("segment_name=Nobody").status_code == 400


@pytest.mark.parametrize("name", ["export_format", "segment_name", "segment_code", "storefront_id"])
def test_only_an_empty_value_counts_as_absent(api: Api, name: str) -> None:
    """The OpenAPI allows "" (absent), not blanks: a blank value (a space, U+0085) is a 400, as it says."""
    assert api.get(f"days=30&{name}=").status_code == 200
    for blank in ("%20", "%C2%85"):
        response = api.get(f"days=30&{name}={blank}")
        assert response.status_code == 400, blank
        assert response.json()["error"].startswith(f"Invalid {name}"), blank


# case 9 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("compare", [False, True])
@pytest.mark.parametrize("category", ["A" * 250, " ".join(["Word"] * 60), "\u0416" * 300])
def test_a_pdf_takes_a_category_of_any_length(cli: Any, tmp_path: Path, category: str, compare: bool) -> None:
    args = behavior_files(tmp_path, category, channel="C" * 220)
    out = tmp_path / "report.pdf"
    extra = ["--compare"] if compare else []
    run = cli("segment", *args, "--as-of", AS_OF.isoformat(), *extra, "--output", out)
    assert (run.exit_code, run.stderr) == (0, "")
    assert out.read_bytes().startswith(b"%PDF-")
