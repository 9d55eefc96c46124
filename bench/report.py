"""Writing the results: bench/results.md (machine, versions, targets, every measurement) and a chart."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.datasets import DATASETS

if TYPE_CHECKING:
    from bench.run import Measurement, Result, Target

CHART_SERIES = [  # (measurement prefix, label, style)
    ("engine", "segcli engine (in-process)", "o-"),
    ("process", "segcli segment (whole process)", "s--"),
    ("peer", "pandas peer (in-process)", "^-"),
    ("floor", "DuckDB floor: count + sum scan", "v:"),
]


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        ram = "RAM unknown"
    return f"{model}, {os.cpu_count()} cores, {ram}, {platform.system()} {platform.release()}"


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for name, label in (
        ("duckdb", "DuckDB"),
        ("pandas", "pandas"),
        ("numpy", "NumPy"),
        ("pyarrow", "PyArrow"),
    ):
        try:
            parts.append(f"{label} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{label} (not installed)")
    parts.append(f"segcli {metadata.version('segcli')} ({git_commit()})")
    return ", ".join(parts)


def git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "segcli"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {commit}" + (", engine modified" if dirty else "")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _time(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def measurement_rows(plan: list[Measurement], results: dict[str, Result]) -> list[str]:
    rows = [
        "| measurement | data | runs | time, median | spread (min-max) | CPU (whole process), median | peak RSS, median | timed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in plan:
        result = results.get(m.key)
        if result is None or m.key.startswith("serve"):  # in the serve table
            continue
        data = DATASETS[m.dataset].label if m.dataset in DATASETS else "-"
        if result.stats is None:
            rows.append(f"| {m.what} | {data} | - | {result.note} | | | | |")
            continue
        stats = result.stats
        low, high = stats.seconds_spread
        timed = "work in the process" if stats.values("inner") else "whole process"
        note = f" ({result.note})" if result.note else ""
        rows.append(
            f"| {m.what}{note} | {data} | {len(stats.samples)} | {_time(stats.seconds)} | "
            f"{_time(low)} - {_time(high)} | {_time(stats.median('cpu'))} | "
            f"{stats.median('rss_mb'):.0f} MB | {timed} |"
        )
    return rows


def serve_rows(plan: list[Measurement], results: dict[str, Result]) -> list[str]:
    rows = [
        "| measurement | data | req/s | p50 | p99 | max | server peak RSS | server CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in plan:
        result = results.get(m.key)
        if result is None or not m.key.startswith("serve"):
            continue
        data = DATASETS[m.dataset].label
        if result.load is None or result.server is None:
            rows.append(f"| {m.what} | {data} | {result.note} | | | | | |")
            continue
        lr = result.load
        rows.append(
            f"| {m.what} | {data} | {lr.rps:.0f} | {_ms(lr.percentile(50))} | {_ms(lr.percentile(99))} | "
            f"{_ms(max(lr.latencies))} | {result.server.rss_mb:.0f} MB | {result.server.cpu:.1f} s |"
        )
    return rows


def write_results(
    path: Path,
    plan: list[Measurement],
    results: dict[str, Result],
    targets: list[Target],
    meta: dict[str, Any],
) -> None:
    """Write results.md: where and what was measured, the targets, then every measurement."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    before, after = meta["load_before"], meta["load_after"]
    lines = [
        "# segcli benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench` in {meta['elapsed']:.0f} s. "
        "Report: RFM, business 1, as of 2026-11-20, 90 days (file sources, uncached unless stated).",
        "",
        f"- Machine: {machine()}",
        f"- Versions: {versions()}",
        f"- Load average (1/5/15 min): {before[0]:.1f} / {before[1]:.1f} / {before[2]:.1f} before, "
        f"{after[0]:.1f} / {after[1]:.1f} / {after[2]:.1f} after",
    ]
    others, steal = meta["others"]
    lines.append(
        f"- Other work on the machine during the run: {others:.0%} of the {cores} cores busy with other "
        f"processes, {steal:.0%} stolen by the hypervisor"
    )
    if others + steal > 0.1:
        lines.append(
            "- **Contention**: the measured processes shared the CPUs, so wall times here are inflated; "
            "CPU times (per process, all threads) are the steadier figure. Re-run on a quiet machine "
            "for the final numbers."
        )
    lines += ["", "| data | sales rows | file size | made |", "|---|---|---|---|"]
    for prepared in meta["datasets"]:
        made = (
            "reused"
            if prepared.generated_seconds is None
            else f"generated in {prepared.generated_seconds:.0f} s"
        )
        lines.append(
            f"| `{prepared.path.name}`: {prepared.dataset.label} | {prepared.sales_rows:,} | "
            f"{prepared.bytes / 1e6:.0f} MB | {made} |"
        )
    lines += [
        "",
        "## Targets (medians; 5M customers / 25M sales Parquet unless stated)",
        "",
        "| target | goal | measured | status | detail |",
        "|---|---|---|---|---|",
    ]
    for target in targets:
        v = target.evaluate(results)
        status = f"**{v.status}**" if v.status in ("MISSED", "FAILED") else v.status
        lines.append(f"| {target.what} | {target.goal} | {v.measured} | {status} | {v.reason} |")
    lines += ["", "## Every measurement", "", *measurement_rows(plan, results)]
    lines += ["", "## segcli serve (one worker, loopback)", "", *serve_rows(plan, results)]
    lines += [
        "",
        "Each run is a fresh process: wall time, CPU time (user + system, all threads) and peak RSS "
        "come from `wait4` on that process. *Work in the process* is the time the process measured "
        "around the work itself, after imports: `compute_report` for the engine, read + compute for "
        "the peer, the query for the floor. See docs/bench.md for what each row means.",
        "",
    ]
    path.write_text("\n".join(lines))


def write_chart(path: Path, sizes: list[str], results: dict[str, Result]) -> None:
    """Time versus customers, log-log, for segcli, the pandas peer and the DuckDB floor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=100)
    for prefix, label, style in CHART_SERIES:
        xs, ys, lows, highs = [], [], [], []
        for size in sizes:
            result = results.get(f"{prefix}@{size}")
            if result is None or result.stats is None:
                continue
            low, high = result.stats.seconds_spread
            xs.append(DATASETS[size].customers)
            ys.append(result.stats.seconds)
            lows.append(result.stats.seconds - low)
            highs.append(high - result.stats.seconds)
        if xs:
            ax.errorbar(xs, ys, yerr=[lows, highs], fmt=style, capsize=3, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("customers (about 5 sales each; Parquet)")
    ax.set_ylabel("seconds (median; bars: min-max)")
    ax.set_title("RFM report, 90-day window: time versus data size")
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
