"""Scaling of `--engine spark` on this machine: time and shuffle bytes per phase, from Spark's own metrics.

    python -m bench.spark_scale --customers 1000000,5000000 --master 'local[2]'

For each size: generate the data once (segcli generate, two years of sales), start a Spark
session (start-up timed), then run the report's phases one after another, reading the stages
each phase completed from Spark's status store (executor run time, shuffle read/write bytes).
A DuckDB run of the same report is timed for comparison and both JSON bodies are compared.
Prints a Markdown table (docs/scale.md holds the figures measured here).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

AS_OF = date(2026, 11, 20)
DAYS = 365


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f}"


def measure(customers: int, master: str, folder: Path) -> list[str]:
    from segcli.engine.compute import ReportRequest, compute_report
    from segcli.engine.service import source_from_settings
    from segcli.engine.settings import Settings
    from segcli.engine.spark.load import check_window, open_sales, window_frame, window_groups
    from segcli.engine.spark.plans import executed_plans, single_partition_gathers, stage_metrics
    from segcli.engine.spark.report import spark_report
    from segcli.engine.spark.score import quintile_cuts, score_columns, score_summary
    from segcli.engine.spark.session import spark_session

    sales = folder / f"sales-{customers}.parquet"
    if not sales.exists():
        subprocess.run(
            [sys.executable, "-m", "segcli", "generate", "--customers", str(customers), "--out", str(sales)],
            check=True,
        )
    settings = Settings(
        source=str(sales),
        engine="spark",
        spark_master=master,
        spark_conf={"spark.ui.enabled": "false", "spark.driver.memory": "2g"},
    )
    request = ReportRequest(business_id=1, as_of=AS_OF, method="rfm", days=DAYS)
    rows: list[str] = []
    started = time.perf_counter()
    spark = spark_session(settings)
    rows.append(f"| {customers:,} | session start-up | {time.perf_counter() - started:.1f} | | | |")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    seen = {s.stage_id for s in stage_metrics(spark)}
    state: dict[str, Any] = {}

    def phase(name: str, work: Callable[[], Any]) -> None:
        nonlocal seen
        t = time.perf_counter()
        work()
        wall = time.perf_counter() - t
        stages = [s for s in stage_metrics(spark) if s.stage_id not in seen]
        seen |= {s.stage_id for s in stages}
        read, write = sum(s.shuffle_read for s in stages), sum(s.shuffle_write for s in stages)
        run = sum(s.run_ms for s in stages) / 1000
        rows.append(f"| {customers:,} | {name} | {wall:.1f} | {run:.1f} | {_mib(read)} | {_mib(write)} |")

    window_params = request.window_params()

    def load() -> None:
        scan = open_sales(spark, str(sales), {})
        window = window_frame(scan, request.load_scope, 1)[0].persist()
        check_window(scan, window)
        window_groups(scan, window)
        state["window"] = window

    def aggregate() -> None:
        from segcli.engine.spark.score import customer_figures

        figures = customer_figures(state["window"], window_params["start"], window_params["end"]).persist()
        state["n"] = figures.count()
        state["figures"] = figures

    def cuts() -> None:
        state["cuts"] = quintile_cuts(state["figures"], state["n"])

    def summary() -> None:
        f_cuts, m_cuts = state["cuts"]
        score_summary(score_columns(state["figures"], AS_OF, DAYS, f_cuts, m_cuts))

    before = max(executed_plans(spark) or {-1: ""})
    phase("read + check sales (SPEC 1.4) + quality counts", load)
    phase("per-customer aggregate", aggregate)
    phase("exact quintile cuts (F histogram, M selection)", cuts)
    phase("scores + summary by combination", summary)
    state["figures"].unpersist()
    state["window"].unpersist()
    compared = replace(request, compare=True)
    phase(
        "whole report, --compare (end to end)", lambda: state.update(report=spark_report(settings, compared))
    )
    gathers = [g for p in executed_plans(spark, after=before).values() for g in single_partition_gathers(p)]
    t = time.perf_counter()
    duck = compute_report(source_from_settings(settings), compared, settings.tables)
    rows.append(f"| {customers:,} | DuckDB, same report (in process) | {time.perf_counter() - t:.1f} | | | |")
    same = duck.to_body() == state["report"].to_body()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    rows.append(
        f"| {customers:,} | identical JSON: {same}; single-partition gathers: {len(gathers)}; "
        f"{state['n']:,} customers in the window; load average {load} | | | | |"
    )
    spark.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", default="1000000")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--data", default="/tmp/segcli-scale")
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    folder = Path(args.data)
    folder.mkdir(parents=True, exist_ok=True)
    print("| customers | phase | wall s | executor run s | shuffle read MiB | shuffle write MiB |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.customers.split(","):
        for row in measure(int(size), args.master, folder):
            print(row, flush=True)


if __name__ == "__main__":
    main()
