"""Hostile data and dates (issue 13 cases 3, 5, 14, 19): exact ids, bounded windows, serialised loads."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import small_args

# case 14: a window (or the previous one) beyond the dates Python can hold is a parameter error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "9999-12-31"], "Invalid as_of. Must be before 9999-12-31"),
        (
            ["--as-of", "0001-01-01"],
            "Invalid as_of. The 90-day window ending 0001-01-01 would start before year 1",
        ),
        (
            ["--as-of", "0027-01-01", "--days", "9999"],
            "Invalid as_of. The 9999-day window ending 0027-01-01 would start before year 1",
        ),
        (
            ["--as-of", "0001-04-01", "--method", "value", "--days", "90"],  # value compares windows
            "Invalid as_of. The 90-day window ending 0001-04-01 and the previous one would start before year 1",
        ),
        (
            ["--as-of", "0001-02-01", "--days", "90"],
            "Invalid as_of. The 90-day window ending 0001-02-01 would start before year 1",
        ),
        (
            ["--as-of", "0001-04-01", "--days", "90", "--compare"],
            "Invalid as_of. The 90-day window ending 0001-04-01 and the previous one would start before year 1",
        ),
    ],
    ids=["last-day", "first-day", "long-window", "previous", "no-previous", "compare"],
)
def test_as_of_near_the_ends_of_the_calendar_is_one_line(cli: Any, args: list[str], message: str) -> None:
    run = cli(*small_args("--format", "json", *args))
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", message + "\n")


@pytest.mark.parametrize(
    "args",
    [
        ["--as-of", "9999-12-30", "--method", "value"],
        ["--as-of", "0001-03-31", "--days", "90"],  # rfm needs no previous window: it starts on 0001-01-01
        [
            "--as-of",
            "0001-06-29",
            "--method",
            "value",
            "--days",
            "90",
        ],  # the previous one starts on 0001-01-01
    ],
)
def test_as_of_at_the_edges_that_fit_reports(cli: Any, args: list[str]) -> None:
    run = cli(*small_args("--format", "json", *args))
    assert run.exit_code == 0, run.stderr
    assert run.json()["data"]["total_customers"] == 0


def test_as_of_overflow_over_http_is_a_400(tmp_path: Path) -> None:
    from tests.test_api import Api

    api = Api(tmp_path, as_of=date(9999, 12, 31))
    response = api.get()
    assert (response.status_code, response.json()) == (
        400,
        {"success": False, "error": "Invalid as_of. Must be before 9999-12-31"},
    )


def test_generate_before_year_three_is_one_line(cli: Any, tmp_path: Path) -> None:
    run = cli("generate", "--customers", "5", "--end-date", "0001-01-05", "--out", tmp_path / "g.csv")
    assert (run.exit_code, run.stderr) == (
        2,
        "Invalid --end-date. Must be 0002-12-31 or later (two years of sales end there)\n",
    )
    assert not (tmp_path / "g.csv").exists()
