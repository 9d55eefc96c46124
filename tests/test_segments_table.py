"""Segment assignment over all 125 (R, F, M) combinations, against SPEC section 3 written out again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segcli.engine.errors import InvalidParameter
from segcli.engine.segments import ALL_SCORES, default_tables, tables_from_config
from tests.conftest import small_args
from tests.reference import SPEC_RULES, spec_segment


def test_all_125_combinations_match_spec() -> None:
    table = default_tables()["rfm"]
    for scores in ALL_SCORES:
        assert table.segments[table.assign(scores)].name == spec_segment(scores), scores


def test_38_combinations_are_uncovered_and_none_is_hibernating_by_default() -> None:
    uncovered = [s for s in ALL_SCORES if not any(rule(*s) for _, _, rule in SPEC_RULES)]
    assert len(uncovered) == 38
    table = default_tables()["rfm"]
    # the replaced system put R5F5M1 (recent and frequent) in Hibernating; nearest code is Loyal (1+1+9 = 11
    # vs Champions 16, New Customers 16+0 = 16, Potential Loyalists 1+9+4 = 14)
    assert table.segments[table.assign((5, 5, 1))].name == "Loyal Customers"


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # R3F1M3: Potential Loyalists 1+1+0, Promising 0+1+1, At Risk 1+1+0 all 2 -> first listed
        ((3, 1, 3), "Potential Loyalists"),
        # R4F2M1: Promising 1+0+1 = 2 and New Customers 1+1+0 = 2 -> Promising comes first
        ((4, 2, 1), "Promising"),
        # R1F3M1: Need Attention 1+0+4 = 5, Hibernating 0+4+1 = 5 -> Need Attention
        ((1, 3, 1), "Need Attention"),
        # R5F4M1: Potential Loyalists 1+4+4 = 9, Promising 4+4+1 = 9, New 0+9+0 = 9 -> Potential Loyalists
        ((5, 4, 1), "Potential Loyalists"),
    ],
)
def test_distance_ties_go_to_the_segment_listed_first(scores: tuple[int, int, int], expected: str) -> None:
    table = default_tables()["rfm"]
    assert table.segments[table.assign(scores)].name == expected


def test_value_table_by_monetary_score() -> None:
    table = default_tables()["value"]
    assert [table.segments[table.assign((1, 1, m))].code for m in range(1, 6)] == [
        "VALUE_LOW",
        "VALUE_MEDIUM",
        "VALUE_MEDIUM",
        "VALUE_MEDIUM",
        "VALUE_HIGH",
    ]


CUSTOM = """
[[segments.rfm]]
name = "Best"
code = "R5F5M5"
description = "Top"
actions = ["Thank them"]
r = [5, 5]
f = [4, 5]

[[segments.rfm]]
name = "Everyone else"
code = "R1F1M1"
description = "The rest"
actions = ["Newsletter"]

[[segments.rfm]]
name = "Middle"
code = "R3F3M3"
description = "Reached through its code only"
"""


def test_custom_table_from_config(tmp_path: Path, cli: Any) -> None:
    config = tmp_path / "segcli.toml"
    config.write_text(CUSTOM)
    run = cli(*small_args("--days", "30", "--config", str(config), "--format", "json"))
    assert run.exit_code == 0, run.stderr
    seg = {s["segment_name"]: s["customer_count"] for s in run.json()["data"]["segments"]}
    # Best (R5, F>=4): c01, c02. The rest have no rule: nearest of R1F1M1 / R3F3M3 / R5F5M5.
    # c07 R1F2M2: 0+1+1 = 2 vs 4+1+1 = 6 -> else; c10 R1F1M1: 0 -> else; c12 R3F1M1: 4 vs 0+4+4 -> else.
    # c03 R2F4M2 (11 vs 3), c04 R3F3M4 (1), c05 R2F3M4 (2), c06 R5F2M3 (21 vs 5 vs 13),
    # c08 R3F2M2 (6 vs 2), c09 R5F1M1 (16 vs 12 vs 32), c11 R3F1M3 (8 vs 4) -> Middle.
    assert seg == {"Best": 2, "Everyone else": 3, "Middle": 7}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[segments.rfm]]\nname = "A"\ncode = "X"\nr = [4, 5]\n', "no rule covers R1F1M1"),
        ('[[segments.rfm]]\nname = "A"\ncode = "R5F5M5"\nr = [0, 5]\n', "'r' must be [min, max]"),
        ('[[segments.behavior]]\nname = "A"\ncode = "R5F5M5"\n', "only rfm, value tables can be replaced"),
        (
            '[[segments.rfm]]\nname = "A"\ncode = "R5F5M5"\n[[segments.rfm]]\nname = "A"\ncode = "R1F1M1"\n',
            "duplicate name 'A'",
        ),
    ],
)
def test_bad_custom_tables(text: str, message: str) -> None:
    import tomllib

    with pytest.raises(InvalidParameter, match=message.replace("[", r"\[").replace("]", r"\]")):
        tables_from_config(tomllib.loads(text), "segcli.toml")
