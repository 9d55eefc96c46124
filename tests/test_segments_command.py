"""`segcli segments`: the segment table in use, with its rules as SPEC section 3 writes them."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from segcli.engine.catalog import bound_text, rule_text
from segcli.engine.segments import Rule

# SPEC section 3's table: name, code, rule.
SPEC_RFM = [
    ("Champions", "R5F5M5", "R≥4, F≥4, M≥4"),
    ("Loyal Customers", "R4F4M4", "R≥3, F≥3, M≥3"),
    ("Potential Loyalists", "R4F2M3", "R≥4, F 2–3, M≥2"),  # noqa: RUF001 (the SPEC's en dash)
    ("Promising", "R3F2M2", "R=3, F=2, M 2–3"),  # noqa: RUF001
    ("At Risk", "R2F2M3", "R≤2, F≥2, M≥3"),
    ("Need Attention", "R2F3M3", "R≤2, F≥3, M=2"),
    ("New Customers", "R5F1M1", "R≥4, F=1"),
    ("Hibernating", "R1F1M2", "R≤2, F≤2, M≤2"),
]
ROLES = {
    "Potential Loyalists": "fastest_growing",
    "Promising": "fastest_growing",
    "New Customers": "fastest_growing",
    "At Risk": "needs_attention",
    "Need Attention": "needs_attention",
    "Hibernating": "needs_attention",
}


def catalog_json(cli: Any, *args: str) -> dict[str, Any]:
    run = cli("segments", "--format", "json", *args)
    assert run.exit_code == 0, run.stderr
    data: dict[str, Any] = run.json()
    return data


def test_default_rfm_table_is_the_spec_table(cli: Any) -> None:
    data = catalog_json(cli)
    assert data["method"] == "rfm"
    assert data["table"] == "default"
    got = [(s["segment_name"], s["segment_code"], s["rule"]) for s in data["segments"]]
    assert got == SPEC_RFM
    assert {s["segment_name"]: s["role"] for s in data["segments"] if s["role"]} == ROLES
    champions = data["segments"][0]
    assert champions["description"] == "Recent, frequent, high spenders"
    assert champions["recommended_actions"] == [
        "Offer VIP loyalty perks",
        "Invite to referral programs",
        "Early access to new collections",
    ]
    # SPEC: the rules leave 38 of the 125 combinations uncovered
    assert data["notes"][0].startswith("38 of the 125 score combinations match no rule")
    assert (
        "fastest_growing_segment: the first of Potential Loyalists, Promising, New Customers"
        in data["notes"][1]
    )


def test_value_table(cli: Any) -> None:
    data = catalog_json(cli, "--method", "value")
    got = [(s["segment_name"], s["segment_code"], s["rule"], s["role"]) for s in data["segments"]]
    assert got == [
        ("High Value", "VALUE_HIGH", "M=5", None),
        ("Medium Value", "VALUE_MEDIUM", "M 2–4", None),  # noqa: RUF001
        ("Low Value", "VALUE_LOW", "M=1", None),
    ]
    assert data["notes"] == [
        "fastest_growing_segment and needs_attention are measured against the previous window: "
        "the largest rise in customers, the largest fall in revenue"
    ]


def test_behavior_lists_each_facet(cli: Any) -> None:
    data = catalog_json(cli, "--method", "behavior")
    codes = [(s["facet"], s["segment_code"], s["rule"]) for s in data["segments"]]
    assert codes == [
        ("category", "CATEGORY:<name>", "<name> takes ≥ 50% of item spend"),
        ("category", "CATEGORY_MIXED", "otherwise"),
        ("channel", "CHANNEL:<name>", "<name> takes ≥ 70% of orders"),
        ("channel", "CHANNEL_OMNI", "otherwise"),
        *(
            ("season", f"SEASON:Q{q}", f"Q{q} takes ≥ 60% of spend; windows of 180+ days")
            for q in (1, 2, 3, 4)
        ),
        ("season", "SEASON_STEADY", "otherwise"),
    ]
    assert data["segments"][4]["description"] == "At least 60% of their spend falls in Q1 (Jan-Mar)"


def test_a_config_table_is_shown_with_its_file(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "segcli.toml"
    config.write_text(
        """
[[segments.rfm]]
name = "Best"
code = "R5F5M5"
description = "The best"
actions = ["Thank them"]
r = [5, 5]
m = [3, 5]
role = "fastest_growing"
priority = 2

[[segments.rfm]]
name = "Everyone else"
code = "R1F1M1"
""",
        encoding="utf-8",
    )
    data = catalog_json(cli, "--config", str(config))
    assert data["table"] == str(config)
    assert data["segments"] == [
        {
            "segment_name": "Best",
            "segment_code": "R5F5M5",
            "rule": "R=5, M≥3",
            "description": "The best",
            "recommended_actions": ["Thank them"],
            "role": "fastest_growing",
            "priority": 2,
        },
        {
            "segment_name": "Everyone else",
            "segment_code": "R1F1M1",
            "rule": "nearest code only",
            "description": "",
            "recommended_actions": [],
            "role": None,
            "priority": 0,
        },
    ]
    assert data["notes"][-1] == "needs_attention: no segment has role needs_attention, so it is always null"
    # the value table is not replaced: shown as the default one
    assert catalog_json(cli, "--config", str(config), "--method", "value")["table"] == "default"


def test_csv_and_table_formats(cli: Any) -> None:
    run = cli("segments", "--format", "csv")
    assert run.exit_code == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert list(rows[0]) == [
        "segment_name",
        "segment_code",
        "rule",
        "description",
        "recommended_actions",
        "role",
        "priority",
    ]
    assert [(r["segment_name"], r["segment_code"], r["rule"]) for r in rows] == SPEC_RFM
    assert rows[0]["recommended_actions"] == (
        "Offer VIP loyalty perks; Invite to referral programs; Early access to new collections"
    )
    assert rows[2]["role"] == "fastest_growing"
    run = cli("segments", "--format", "table", env={"COLUMNS": "100"})
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Segments of rfm (segcli's default table)"
    assert max(len(line) for line in lines) <= 100
    champions = next(line for line in lines if line.lstrip().startswith("Champions "))
    assert "R5F5M5" in champions
    assert "R≥4, F≥4, M≥4" in champions
    at_risk = next(line for line in lines if line.lstrip().startswith("At Risk "))
    assert "needs attention" in at_risk
    assert any(line.startswith("Champions: Offer VIP loyalty perks;") for line in lines)


def test_output_suffix_and_errors(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "segments.csv"
    run = cli("segments", "--output", str(out))
    assert run.exit_code == 0, run.stderr
    assert out.read_text(encoding="utf-8").startswith("segment_name,segment_code,rule,")
    run = cli("segments", "--method", "kmeans")
    assert run.exit_code == 2
    assert run.stderr == "Invalid segmentation_method. Must be one of: rfm, value, behavior (--method)\n"
    run = cli("segments", "--format", "pdf")
    assert run.exit_code == 2
    assert run.stderr == "Invalid format. Must be one of: table, json, csv (--format)\n"


@pytest.mark.parametrize(
    ("bounds", "text"),
    [((1, 5), None), ((3, 3), "F=3"), ((1, 2), "F≤2"), ((4, 5), "F≥4"), ((2, 4), "F 2–4")],  # noqa: RUF001
)
def test_bound_text(bounds: tuple[int, int], text: str | None) -> None:
    assert bound_text("F", bounds) == text


def test_rule_text_of_an_open_rule() -> None:
    assert rule_text(Rule()) == "any scores"
    assert rule_text(None) == "nearest code only"
