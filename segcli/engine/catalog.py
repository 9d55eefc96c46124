"""The segment table in use, as a person reads it (`segcli segments`): names, codes, rules, roles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from segcli.engine.errors import InvalidParameter
from segcli.engine.methods import get_method
from segcli.engine.segments import ALL_SCORES, Bounds, Rule, SegmentTable

_LOW, _HIGH = 1, 5
NAME_PLACEHOLDER = "<name>"
EN_DASH = "\u2013"  # score ranges as the SPEC writes them


@dataclass(frozen=True)
class CatalogEntry:
    """One segment as `segcli segments` lists it."""

    segment_name: str
    segment_code: str
    rule: str
    description: str
    recommended_actions: tuple[str, ...]
    role: str | None = None  # the insight the segment answers when it has customers (rfm tables)
    priority: int = 0
    facet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"segment_name": self.segment_name, "segment_code": self.segment_code}
        if self.facet is not None:
            body["facet"] = self.facet
        body.update(
            rule=self.rule,
            description=self.description,
            recommended_actions=list(self.recommended_actions),
            role=self.role,
            priority=self.priority,
        )
        return body


@dataclass(frozen=True)
class Catalog:
    """A method's segments in order, where the table came from, and how the insights pick them."""

    method: str
    origin: str  # "default" or the config file that replaced the table
    entries: tuple[CatalogEntry, ...]
    notes: tuple[str, ...]

    @property
    def faceted(self) -> bool:
        return any(e.facet is not None for e in self.entries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "table": self.origin,
            "segments": [e.to_dict() for e in self.entries],
            "notes": list(self.notes),
        }


def bound_text(letter: str, bounds: Bounds) -> str | None:
    """One score's bounds as the SPEC writes them: R≥4, F=1, M≤2, F 2-3 with an en dash (None when unconstrained)."""
    low, high = bounds
    if (low, high) == (_LOW, _HIGH):
        return None
    if low == high:
        return f"{letter}={low}"
    if low == _LOW:
        return f"{letter}≤{high}"
    if high == _HIGH:
        return f"{letter}≥{low}"
    return f"{letter} {low}{EN_DASH}{high}"


def rule_text(rule: Rule | None) -> str:
    """A rule as text, e.g. "R≥4, F≥4, M≥4"; a segment without a rule is reached by its code only."""
    if rule is None:
        return "nearest code only"
    parts = [bound_text(letter, b) for letter, b in (("R", rule.r), ("F", rule.f), ("M", rule.m))]
    return ", ".join(p for p in parts if p is not None) or "any scores"


def _uncovered(table: SegmentTable) -> int:
    """How many of the 125 score combinations no rule covers."""
    return sum(not any(s.rule is not None and s.rule.matches(c) for s in table.segments) for c in ALL_SCORES)


def table_catalog(method: str, table: SegmentTable, origin: str, compares: bool) -> Catalog:
    """The catalog of a segment table (rfm, value or a user's)."""
    entries = tuple(
        CatalogEntry(s.name, s.code, rule_text(s.rule), s.description, s.actions, s.role, s.priority)
        for s in table.segments
    )
    notes = []
    uncovered = _uncovered(table)
    if uncovered:
        notes.append(
            f"{uncovered} of the 125 score combinations match no rule: "
            "those customers join the segment whose code is nearest their scores"
        )
    if compares:
        notes.append(
            "fastest_growing_segment and needs_attention are measured against the previous window: "
            "the largest rise in customers, the largest fall in revenue"
        )
    else:
        for role in ("fastest_growing", "needs_attention"):
            key = "fastest_growing_segment" if role == "fastest_growing" else role
            tagged = table.with_role(role)
            if tagged:
                notes.append(f"{key}: the first of {', '.join(tagged)} with customers")
            else:
                notes.append(f"{key}: no segment has role {role}, so it is always null")
    return Catalog(method, origin, entries, tuple(notes))


def behavior_catalog() -> Catalog:
    """Behavior's segments: per facet, a named segment per category / channel / quarter, then the catch-all."""
    from segcli.engine.methods.behavior import CATEGORY, CHANNEL, QUARTER_MONTHS, SEASON

    entries = []
    for facet in (CATEGORY, CHANNEL, SEASON):
        keys = tuple(QUARTER_MONTHS) if facet is SEASON else (NAME_PLACEHOLDER,)
        for key in keys:
            segment = facet.named(key)
            rule = facet.rule.format(name=key)
            entries.append(
                CatalogEntry(
                    segment.name, segment.code, rule, segment.description, segment.actions, facet=facet.name
                )
            )
        rest = facet.rest()
        entries.append(
            CatalogEntry(rest.name, rest.code, "otherwise", rest.description, rest.actions, facet=facet.name)
        )
    notes = (
        "Each facet is a partition of the customers; <name> is a category or channel met in the data",
        "fastest_growing_segment and needs_attention are measured against the previous window: "
        "the largest rise in customers, the largest fall in revenue",
    )
    return Catalog("behavior", "default", tuple(entries), notes)


def catalog(method: str, tables: Mapping[str, SegmentTable], config_path: str | None = None) -> Catalog:
    """The segments `method` uses with these tables (a table from the config file names that file)."""
    found = get_method(method)
    table = tables.get(found.name)
    if table is None:
        if found.name == "behavior":
            return behavior_catalog()
        raise InvalidParameter(f"Invalid segmentation_method. {method} has no segment table to show")
    default = found.default_table()
    origin = "default" if table == default or config_path is None else config_path
    return table_catalog(found.name, table, origin, found.needs_previous)
