"""What Spark ran, from its own status stores: executed physical plans and per-stage metrics.

Used by the plan test (no stage may gather customer-level rows into one partition) and by the
scaling measurements in docs/scale.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_TREE_RE = re.compile(r"^(?P<indent>[\s:+\-*]*?)(?:\* )?(?P<op>[A-Za-z]+) \((?P<id>\d+)\)")
# A single-partition exchange is harmless above these: partial aggregates (one row per task and
# group of a global aggregate) or a local limit (a bounded number of rows).
_BOUNDED_CHILDREN = ("HashAggregate", "ObjectHashAggregate", "SortAggregate", "LocalLimit")


def executed_plans(spark: SparkSession, after: int = -1) -> dict[int, str]:
    """Execution id -> formatted physical plan of every SQL execution after `after` (JVM sessions only)."""
    store = spark._jsparkSession.sharedState().statusStore()
    plans = {}
    iterator = store.executionsList().iterator()
    while iterator.hasNext():
        execution = iterator.next()
        if execution.executionId() > after:
            plans[int(execution.executionId())] = str(execution.physicalPlanDescription())
    return plans


def _details(plan: str, node: str) -> str:
    """The detail block of node `(node)` in a formatted plan."""
    match = re.search(rf"^\({node}\) .*?(?=^\(\d+\) |\Z)", plan, re.MULTILINE | re.DOTALL)
    return match.group(0) if match else ""


def single_partition_gathers(plan: str) -> list[str]:
    """Single-partition exchanges of a formatted plan that are not over a bounded input (should be none)."""
    tree = [m for m in (_TREE_RE.match(line) for line in plan.splitlines()) if m]
    problems = []
    for position, match in enumerate(tree):
        if match.group("op") != "Exchange":
            continue
        if "SinglePartition" not in _details(plan, match.group("id")).split("Arguments:", 1)[-1]:
            continue
        child = next(
            (m for m in tree[position + 1 :] if len(m.group("indent")) > len(match.group("indent"))), None
        )
        child_details = _details(plan, child.group("id")) if child else ""
        bounded = child is not None and child.group("op") in _BOUNDED_CHILDREN
        if bounded and child is not None and child.group("op") != "LocalLimit":
            bounded = "partial_" in child_details or "Keys: []" in child_details
        if not bounded:
            problems.append(f"Exchange ({match.group('id')}) over {child.group('op') if child else '?'}")
    return problems


@dataclass(frozen=True)
class StageMetrics:
    """One completed stage as Spark's status store records it."""

    stage_id: int
    name: str
    tasks: int
    run_ms: int  # executor run time, summed over tasks
    wall_ms: int  # submission to completion
    shuffle_read: int  # bytes
    shuffle_write: int  # bytes
    input_bytes: int


def stage_metrics(spark: SparkSession) -> list[StageMetrics]:
    """Every completed stage of this Spark application, oldest first."""
    context = spark.sparkContext
    store = context._jsc.sc().statusStore()
    empty = context._gateway.new_array(context._jvm.double, 0)  # type: ignore[union-attr]
    stages = store.stageList(None, False, False, empty, None)
    out = []
    for i in range(stages.size()):
        stage = stages.apply(i)
        if str(stage.status()) != "COMPLETE":
            continue
        start, end = stage.submissionTime(), stage.completionTime()
        wall = end.get().getTime() - start.get().getTime() if start.isDefined() and end.isDefined() else 0
        out.append(
            StageMetrics(
                int(stage.stageId()),
                str(stage.name()),
                int(stage.numTasks()),
                int(stage.executorRunTime()),
                int(wall),
                int(stage.shuffleReadBytes()),
                int(stage.shuffleWriteBytes()),
                int(stage.inputBytes()),
            )
        )
    return sorted(out, key=lambda s: s.stage_id)
