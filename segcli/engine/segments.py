"""Segment tables: the data that names segments and assigns scores to them."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from segcli.engine.errors import InvalidParameter

ROLES = ("fastest_growing", "needs_attention")  # insights a tagged segment can answer
SCORE_RANGE = range(1, 6)
ALL_SCORES = tuple((r, f, m) for r in SCORE_RANGE for f in SCORE_RANGE for m in SCORE_RANGE)
_CODE_RE = re.compile(r"^R([1-5])F([1-5])M([1-5])$")

Scores = tuple[int, int, int]
Bounds = tuple[int, int]


@dataclass(frozen=True)
class Rule:
    """Inclusive score bounds; a customer matches when every score lies inside."""

    r: Bounds = (1, 5)
    f: Bounds = (1, 5)
    m: Bounds = (1, 5)

    def matches(self, scores: Scores) -> bool:
        return all(lo <= s <= hi for s, (lo, hi) in zip(scores, (self.r, self.f, self.m), strict=True))


@dataclass(frozen=True)
class SegmentDef:
    """One row of a segment table."""

    name: str
    code: str
    description: str
    actions: tuple[str, ...]
    rule: Rule | None = None
    facet: str | None = None
    role: str | None = None  # one of ROLES: the insight this segment answers when it has customers
    priority: int = 0  # among segments of one role, lower first (then table order)

    @property
    def scores(self) -> Scores | None:
        """The (R, F, M) digits of an `R<r>F<f>M<m>` code, else None."""
        match = _CODE_RE.match(self.code)
        if match is None:
            return None
        r, f, m = (int(g) for g in match.groups())
        return (r, f, m)


@dataclass(frozen=True)
class SegmentTable:
    """A method's segments in order, with the score-to-segment assignment."""

    method: str
    segments: tuple[SegmentDef, ...]
    _assignment: dict[Scores, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # computed once: fails early on a table that leaves a combination unplaced
        self._assignment.update({scores: _assign(self.segments, scores) for scores in ALL_SCORES})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.segments)

    def assign(self, scores: Scores) -> int:
        """Index of the segment a customer with these scores belongs to."""
        return self._assignment[scores]

    def assignment(self) -> dict[Scores, int]:
        """The segment index of each of the 125 score combinations."""
        return dict(self._assignment)

    def with_role(self, role: str) -> tuple[str, ...]:
        """Names of the segments tagged with `role`, by priority then table order."""
        tagged = [(s.priority, i, s.name) for i, s in enumerate(self.segments) if s.role == role]
        return tuple(name for _, _, name in sorted(tagged))

    def fingerprint(self) -> str:
        """A short hash of the table, so reports made with different tables never mix."""
        blob = json.dumps(
            [
                [
                    s.name,
                    s.code,
                    s.description,
                    list(s.actions),
                    s.rule and [s.rule.r, s.rule.f, s.rule.m],
                    *([s.role, s.priority] if s.role is not None else []),
                ]
                for s in self.segments
            ]
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _assign(segments: tuple[SegmentDef, ...], scores: Scores) -> int:
    for index, segment in enumerate(segments):
        if segment.rule is not None and segment.rule.matches(scores):
            return index
    best: tuple[int, int] | None = None
    for index, segment in enumerate(segments):
        code = segment.scores
        if code is None:
            continue
        distance = sum((a - b) ** 2 for a, b in zip(scores, code, strict=True))
        if best is None or distance < best[0]:
            best = (distance, index)
    if best is None:
        r, f, m = scores
        raise InvalidParameter(
            f"Segment table: no rule covers R{r}F{f}M{m} and no segment has an R<r>F<f>M<m> code"
        )
    return best[1]


def _bounds(value: Any, where: str, key: str) -> Bounds:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and 1 <= v <= 5 for v in value)
        or value[0] > value[1]
    ):
        raise InvalidParameter(f"{where}: '{key}' must be [min, max] with 1 <= min <= max <= 5")
    return (value[0], value[1])


def parse_table(method: str, entries: Sequence[Mapping[str, Any]], origin: str) -> SegmentTable:
    """Build a segment table from TOML entries, with errors that name the entry."""
    if not entries:
        raise InvalidParameter(f"{origin}: segments.{method} is empty")
    segments = []
    for position, entry in enumerate(entries, start=1):
        where = f"{origin}: segments.{method}[{position}]"
        for key in ("name", "code"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise InvalidParameter(f"{where}: '{key}' must be a non-empty string")
        actions = entry.get("actions", [])
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise InvalidParameter(f"{where}: 'actions' must be a list of strings")
        unknown = set(entry) - {"name", "code", "description", "actions", "r", "f", "m", "role", "priority"}
        if unknown:
            raise InvalidParameter(f"{where}: unknown key '{sorted(unknown)[0]}'")
        role = entry.get("role")
        if role is not None and role not in ROLES:
            raise InvalidParameter(f"{where}: 'role' must be one of: {', '.join(ROLES)}")
        priority = entry.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise InvalidParameter(f"{where}: 'priority' must be an integer")
        bounds = {k: _bounds(entry[k], where, k) for k in ("r", "f", "m") if k in entry}
        segments.append(
            SegmentDef(
                name=entry["name"],
                code=entry["code"],
                description=str(entry.get("description", "")),
                actions=tuple(actions),
                rule=Rule(**bounds) if bounds else None,
                role=role,
                priority=priority,
            )
        )
    for attr in ("name", "code"):
        seen = [getattr(s, attr) for s in segments]
        dupes = sorted({v for v in seen if seen.count(v) > 1})
        if dupes:
            raise InvalidParameter(f"{origin}: segments.{method} has duplicate {attr} '{dupes[0]}'")
    return SegmentTable(method, tuple(segments))


def shipped_entries() -> dict[str, Any]:
    """The entries of the tables segcli ships with (`segments.toml` next to this module), per method."""
    text = resources.files("segcli.engine").joinpath("segments.toml").read_text("utf-8")
    return tomllib.loads(text)


def default_tables() -> dict[str, SegmentTable]:
    """The default table of every registered method that has one (built anew: no module-level cache)."""
    from segcli.engine.methods import registered

    return {m.name: table for m in registered() if (table := m.default_table()) is not None}


def tables_from_config(config: Mapping[str, Any], origin: str) -> dict[str, SegmentTable]:
    """The default tables, with any method's table replaced by the config's `[[segments.X]]`."""
    tables = default_tables()
    section = config.get("segments", {})
    if not isinstance(section, dict):
        raise InvalidParameter(f"{origin}: 'segments' must be a table")
    for method, entries in section.items():
        if method not in tables:
            raise InvalidParameter(
                f"{origin}: segments.{method}: only {', '.join(tables)} tables can be replaced"
            )
        if not isinstance(entries, list):
            raise InvalidParameter(f"{origin}: segments.{method} must be an array of tables")
        tables[method] = parse_table(method, entries, origin)
    return tables
