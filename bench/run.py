"""`make bench`: segcli side by side with a pandas peer and a DuckDB floor, checked against targets.

    python -m bench.run                       # everything (a few minutes; data made once)
    python -m bench.run --sizes 100k,1m -r 2  # a quick look

The harness is a list of measurements (`measurements()`) and a list of targets (`TARGETS`).
A measurement that needs a feature not in this checkout says so in the table instead of failing;
one that fails is marked FAILED and the run goes on (exit status 1 at the end). The pandas peer
disagreeing with segcli stops the run at once. Writes bench/results.md and bench/results.png.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.datasets import DATASETS, Prepared, prepare
from bench.harness import (
    BenchError,
    CpuWatch,
    Sample,
    Stats,
    free_port,
    load_average,
    run_child,
    stop_and_measure,
    wait_for_http,
)
from bench.report import write_chart, write_results
from bench.serve_load import LoadResult, load, load_at_rate

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-20"
DAYS = 90
BUSINESS_ID = 1
SERVE_PATH = f"/api/reports/customers/segmentation/?days={DAYS}"
PG_URL = os.environ.get("SEGCLI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOT_MERGED = "not measured: feature not merged"


@dataclass
class Context:
    """What every measurement needs: data files, an isolated environment, the commands."""

    data: dict[str, Prepared]
    env: dict[str, str]
    home: Path
    segcli: list[str]
    python: str
    repeat: int | None  # overrides each measurement's own repeat count
    features: dict[str, str | None] = field(default_factory=dict)  # name -> None, or why missing

    def path(self, key: str) -> str:
        return str(self.data[key].path)

    def times(self, default: int) -> int:
        return self.repeat or default


@dataclass
class Result:
    """A measurement's outcome: repeated samples, a load test, or why it was not measured."""

    stats: Stats | None = None
    load: LoadResult | None = None
    server: Sample | None = None
    extra: dict[str, Sample] = field(default_factory=dict)  # one-off runs besides the samples (a load)
    note: str | None = None  # set when not measured, or a remark (e.g. a one-off load time)


@dataclass(frozen=True)
class Measurement:
    """One row: either a command repeated in fresh processes, or a `run` of its own (servers, loads)."""

    key: str  # e.g. "engine@5m"
    what: str  # the table's row label
    dataset: str
    command: Callable[[Context, Measurement], list[str]] | None = None
    run: Callable[[Context, Measurement], Result] | None = None
    json: bool = False  # the command prints JSON with its own "seconds"
    group: str | None = None  # commands of one group run in turns, so load changes hit them alike
    feature: str | None = None  # a feature this checkout may not have yet
    default_repeat: int = 5


def repeated(ctx: Context, m: Measurement, one: Callable[[], Sample]) -> Result:
    return Result(Stats([one() for _ in range(ctx.times(m.default_repeat))]))


def in_turns(ctx: Context, block: list[Measurement]) -> dict[str, Result]:
    """Repeat each command of the block, one run of each in turn (round-robin)."""
    samples: dict[str, list[Sample]] = {m.key: [] for m in block}
    for turn in range(max(ctx.times(m.default_repeat) for m in block)):
        for m in block:
            if turn < ctx.times(m.default_repeat) and m.command is not None:
                samples[m.key].append(run_child(m.command(ctx, m), ctx.env, parse_json=m.json))
    return {key: Result(Stats(found)) for key, found in samples.items()}


def segment_cmd(ctx: Context, source: str, *extra: str) -> list[str]:
    return [
        *ctx.segcli,
        "segment",
        "--source",
        source,
        "--as-of",
        AS_OF,
        "--days",
        str(DAYS),
        "--business-id",
        str(BUSINESS_ID),
        "--format",
        "json",
        *extra,
    ]


def no_cache(ctx: Context) -> list[str]:
    return ["--no-cache"] if ctx.features.get("cache") is None else []


# --- the measurements -------------------------------------------------------------------


def engine(ctx: Context, m: Measurement) -> list[str]:
    window = ["--as-of", AS_OF, "--days", str(DAYS), "--business-id", str(BUSINESS_ID)]
    return [ctx.python, "-m", "bench.probe", "engine", ctx.path(m.dataset), *window]


def arrow_engine(ctx: Context, m: Measurement) -> list[str]:
    window = ["--as-of", AS_OF, "--days", str(DAYS), "--business-id", str(BUSINESS_ID)]
    return [ctx.python, "-m", "bench.probe", "arrow", ctx.path(m.dataset), *window]


def peer(ctx: Context, m: Measurement) -> list[str]:
    window = ["--as-of", AS_OF, "--days", str(DAYS), "--business-id", str(BUSINESS_ID)]
    return [ctx.python, str(ROOT / "bench" / "peer_pandas.py"), ctx.path(m.dataset), *window]


def peer_duckdb(ctx: Context, m: Measurement) -> list[str]:
    window = ["--as-of", AS_OF, "--days", str(DAYS), "--business-id", str(BUSINESS_ID)]
    return [ctx.python, str(ROOT / "bench" / "peer_duckdb.py"), ctx.path(m.dataset), *window]


def peer_polars(ctx: Context, m: Measurement) -> list[str]:
    window = ["--as-of", AS_OF, "--days", str(DAYS), "--business-id", str(BUSINESS_ID)]
    return [ctx.python, str(ROOT / "bench" / "peer_polars.py"), ctx.path(m.dataset), *window]


def floor(ctx: Context, m: Measurement) -> list[str]:
    return [ctx.python, "-m", "bench.probe", "floor", ctx.path(m.dataset), "--business-id", str(BUSINESS_ID)]


def process_uncached(ctx: Context, m: Measurement) -> list[str]:
    return segment_cmd(ctx, ctx.path(m.dataset), *no_cache(ctx))


def process_spark(ctx: Context, m: Measurement) -> list[str]:
    """The same report with --engine spark on local[2]: JVM start-up and Spark's own overheads included."""
    return segment_cmd(
        ctx, ctx.path(m.dataset), *no_cache(ctx), "--engine", "spark", "--spark-master", "local[2]"
    )


def help_startup(ctx: Context, m: Measurement) -> list[str]:
    return [*ctx.segcli, "--help"]


def process_cached(ctx: Context, m: Measurement) -> Result:
    cmd = segment_cmd(ctx, ctx.path(m.dataset))
    run_child(cmd, ctx.env)  # the first run computes and stores the report
    return repeated(ctx, m, lambda: run_child(cmd, ctx.env))


def csv_repeat(ctx: Context, m: Measurement) -> Result:
    """A report on an unchanged CSV with other parameters each time: read from its parsed columnar copy."""
    first = segment_cmd(ctx, ctx.path(m.dataset))
    made = run_child(first, ctx.env)  # parses the CSV and writes the copy
    days = iter(range(30, 90))

    def one() -> Sample:  # a new window each run: a report-cache miss, a columnar-copy hit
        cmd = [*first[: first.index("--days") + 1], str(next(days)), *first[first.index("--days") + 2 :]]
        return run_child(cmd, ctx.env)

    result = repeated(ctx, m, one)
    result.extra["first"] = made
    result.note = f"first run (parse + copy): {made.wall:.2f} s, {made.cpu:.2f} s CPU"
    return result


def warehouse(ctx: Context, m: Measurement) -> Result:
    """`segcli load` the Parquet file into a DuckDB warehouse once, then report from it."""
    db = ctx.home / f"sales_{m.dataset}.duckdb"
    loaded = run_child([*ctx.segcli, "load", ctx.path(m.dataset), "--db", str(db), "--replace"], ctx.env)
    cmd = segment_cmd(ctx, str(db), *no_cache(ctx))
    try:
        result = repeated(ctx, m, lambda: run_child(cmd, ctx.env))
    finally:
        db.unlink(missing_ok=True)
    result.note = f"load: {loaded.wall:.1f} s, {loaded.rss_mb:.0f} MB"
    result.extra["load"] = loaded
    return result


def postgres(ctx: Context, m: Measurement) -> Result:
    """The same sales in a PostgreSQL table (indexed on business and date), reported from directly."""
    setup = [ctx.python, "-m", "bench.pg_setup"]
    started = time.perf_counter()
    try:
        url = subprocess.run(
            [*setup, "ingest", PG_URL, ctx.path(m.dataset)],
            env=ctx.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        ingest = time.perf_counter() - started
        cmd = segment_cmd(ctx, url, "--sales-table", "sales", *no_cache(ctx))
        result = repeated(ctx, m, lambda: run_child(cmd, ctx.env))
    finally:  # the server is shared: leave nothing behind
        subprocess.run([*setup, "drop", PG_URL], env=ctx.env, check=False, capture_output=True)
    result.note = f"ingest into PostgreSQL: {ingest:.1f} s"
    return result


def serve(
    cached: bool, requests: int, connections: int, rate: float | None = None
) -> Callable[[Context, Measurement], Result]:
    """`segcli serve` with one worker under a bounded loopback load: closed loop, or open at `rate`."""

    def run(ctx: Context, m: Measurement) -> Result:
        token = subprocess.run(
            [*ctx.segcli, "token", "create", "--business-id", str(BUSINESS_ID)],
            env=ctx.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port = free_port()
        cmd = [
            *ctx.segcli,
            "serve",
            "--source",
            ctx.path(m.dataset),
            "--as-of",
            AS_OF,
            "--business-id",
            str(BUSINESS_ID),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            *([] if cached else ["--no-cache"]),
        ]
        log = ctx.home / f"serve-{port}.log"
        started = time.perf_counter()
        with log.open("wb") as err:
            proc = subprocess.Popen(cmd, env=ctx.env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            wait_for_http(port, proc, log)
            load("127.0.0.1", port, SERVE_PATH, token, 1, 1)  # warm: imports, first computation
            if rate is None:
                result = load("127.0.0.1", port, SERVE_PATH, token, requests, connections)
            else:
                result = load_at_rate("127.0.0.1", port, SERVE_PATH, token, requests, rate, connections)
        finally:
            server = stop_and_measure(proc, time.perf_counter() - started)
        return Result(load=result, server=server)

    return run


def measurements(sizes: list[str]) -> list[Measurement]:
    """Every measurement, cheapest first; the per-size rows make the chart."""
    out = [Measurement("help", "`segcli --help` (start-up)", "-", help_startup, default_repeat=7)]
    for size in [*sizes, *(["1m-csv"] if "1m" in sizes else [])]:
        repeat = 3 if size in ("5m", "1m-csv") else 5
        out += [
            Measurement(f"floor@{size}", "DuckDB floor (count + sum, business filter)", size, floor,
                        json=True, group=size, default_repeat=repeat),
            Measurement(f"engine@{size}", "segcli engine, in-process, uncached", size, engine,
                        json=True, group=size, default_repeat=repeat),
            Measurement(f"process@{size}", "segcli segment, whole process, uncached", size,
                        process_uncached, group=size, default_repeat=repeat),
            Measurement(f"duckdb@{size}", "hand-written DuckDB query (one statement, NTILE)", size,
                        peer_duckdb, json=True, group=size, default_repeat=repeat),
            Measurement(f"polars@{size}", "polars peer (lazy)", size, peer_polars, json=True, group=size,
                        default_repeat=repeat),
            Measurement(f"peer@{size}", "pandas peer", size, peer, json=True, group=size,
                        default_repeat=repeat),
        ]  # fmt: skip
        if DATASETS[size].fmt == "parquet":  # the Arrow probe reads the Parquet file into memory first
            out.append(
                Measurement(f"arrow@{size}", "segcli engine, in-process, from an Arrow table", size,
                            arrow_engine, json=True, group=size, default_repeat=repeat)
            )  # fmt: skip
    spark_size = "1m" if "1m" in sizes else sizes[-1]
    out.append(
        Measurement(f"spark@{spark_size}", "segcli segment --engine spark (local[2]), whole process, uncached",
                    spark_size, process_spark, feature="spark", default_repeat=2)
    )  # fmt: skip
    if "1m" in sizes:
        out.append(
            Measurement(
                "csv-repeat@1m-csv",
                "segcli segment on the CSV again, another window (columnar copy)",
                "1m-csv",
                run=csv_repeat,
                feature="cache",
            )
        )
    cached_size = "5m" if "5m" in sizes else sizes[-1]
    out.append(
        Measurement(
            f"cached@{cached_size}",
            "segcli segment, whole process, cached",
            cached_size,
            run=process_cached,
            feature="cache",
        )
    )
    serve_size = "1m" if "1m" in sizes else sizes[-1]
    out += [
        Measurement(
            f"serve-cached@{serve_size}",
            "segcli serve, cached: most req/s (2000 requests, closed loop, 8 connections)",
            serve_size,
            run=serve(True, 2000, 8),
            feature="serve",
        ),
        Measurement(
            f"serve-cached-500@{serve_size}",
            "segcli serve, cached: 500 req/s for 4 s (open loop)",
            serve_size,
            run=serve(True, 2000, 32, rate=500),
            feature="serve",
        ),
        Measurement(
            f"serve-uncached@{serve_size}",
            "segcli serve, uncached (20 requests, one at a time)",
            serve_size,
            run=serve(False, 20, 1),
            feature="serve",
        ),
        Measurement(
            f"warehouse@{cached_size}",
            "segcli segment from a `segcli load` DuckDB file, uncached",
            cached_size,
            run=warehouse,
            feature="warehouse",
        ),
        Measurement(
            f"postgres@{serve_size}",
            "segcli segment from PostgreSQL, uncached",
            serve_size,
            run=postgres,
            feature="postgres",
            default_repeat=3,
        ),
    ]
    return out


# --- the targets (SPEC's benchmark issue), read from the results -----------------------


@dataclass(frozen=True)
class Verdict:
    status: str  # "MET", "MISSED", "FAILED" or "not measured"
    measured: str
    reason: str


@dataclass(frozen=True)
class Target:
    what: str
    goal: str
    evaluate: Callable[[dict[str, Result]], Verdict]


def _need(results: dict[str, Result], *keys: str) -> Verdict | None:
    """A 'not measured' verdict if any of the measurements is missing."""
    for key in keys:
        result = results.get(key)
        if result is None:
            return Verdict("not measured", "-", f"{key} not run (see --sizes/--only)")
        if result.stats is None and result.load is None:
            failed = (result.note or "").startswith("FAILED")
            return Verdict("FAILED" if failed else "not measured", "-", f"{key}: {result.note}")
    return None


def _stats(results: dict[str, Result], key: str) -> Stats:
    stats = results[key].stats
    if stats is None:
        raise BenchError(f"{key}: no samples")
    return stats


def _load(results: dict[str, Result], key: str) -> LoadResult:
    lr = results[key].load
    if lr is None:
        raise BenchError(f"{key}: no load test")
    return lr


def _verdict(ok: bool, measured: str, detail: str) -> Verdict:
    return Verdict("MET" if ok else "MISSED", measured, detail)


def time_at_most(key: str, limit: float) -> Callable[[dict[str, Result]], Verdict]:
    def evaluate(results: dict[str, Result]) -> Verdict:
        if (missing := _need(results, key)) is not None:
            return missing
        stats = _stats(results, key)
        value, (low, high) = stats.seconds, stats.seconds_spread
        return _verdict(
            value <= limit,
            f"{value:.3f} s",
            f"{key}: {low:.3f}-{high:.3f} s over {len(stats.samples)} runs; CPU {stats.median('cpu'):.2f} s "
            f"per process{'' if value <= limit else f'; {value / limit:.1f}x the goal'}",
        )

    return evaluate


def arrow_vs_parquet(results: dict[str, Result]) -> Verdict:
    if (missing := _need(results, "arrow@5m", "engine@5m")) is not None:
        return missing
    arrow_s, parquet_s = _stats(results, "arrow@5m"), _stats(results, "engine@5m")
    ratio = arrow_s.seconds / parquet_s.seconds
    return _verdict(
        ratio <= 1.1, f"{ratio:.2f}x", f"Arrow {arrow_s.seconds:.3f} s / Parquet {parquet_s.seconds:.3f} s"
    )


def arrow_memory(results: dict[str, Result]) -> Verdict:
    """The report over an Arrow table adds no more memory than a whole report over Parquet: no copy."""
    if (missing := _need(results, "arrow@5m", "engine@5m")) is not None:
        return missing
    arrow_s = _stats(results, "arrow@5m")
    output = arrow_s.samples[0].output
    added = arrow_s.median("rss_mb") - output["loaded_mb"]
    parquet_rss = _rss(results["engine@5m"])
    return _verdict(
        added <= parquet_rss,
        f"+{added:.0f} MB",
        f"peak {arrow_s.median('rss_mb'):.0f} MB, {output['loaded_mb']:.0f} MB with the {output['table_mb']:.0f} MB "
        f"table read; a whole Parquet report peaks at {parquet_rss:.0f} MB",
    )


def serve_rps(key: str, minimum: float) -> Callable[[dict[str, Result]], Verdict]:
    def evaluate(results: dict[str, Result]) -> Verdict:
        if (missing := _need(results, key)) is not None:
            return missing
        lr = _load(results, key)
        return _verdict(
            lr.rps >= minimum,
            f"{lr.rps:.0f} req/s",
            f"{lr.requests} requests over {lr.concurrency} connections in {lr.seconds:.1f} s",
        )

    return evaluate


def serve_latency(key: str, percentile: float, limit: float) -> Callable[[dict[str, Result]], Verdict]:
    def evaluate(results: dict[str, Result]) -> Verdict:
        if (missing := _need(results, key)) is not None:
            return missing
        lr = _load(results, key)
        value = lr.percentile(percentile)
        shape = (
            f"due at {lr.rate:.0f}/s (open loop; {lr.rps:.0f} req/s done)"
            if lr.rate
            else f"closed loop, {lr.concurrency} connection(s)"
        )
        return _verdict(
            value <= limit,
            f"{value * 1000:.1f} ms",
            f"{lr.requests} requests {shape}; max {max(lr.latencies) * 1000:.0f} ms",
        )

    return evaluate


def _rss(result: Result) -> float:
    if result.server is not None:
        return result.server.rss_mb
    if result.stats is None:
        raise BenchError("no samples to read the memory from")
    return result.stats.median("rss_mb")


def peak_rss(results: dict[str, Result]) -> Verdict:
    keys = [
        "engine@5m",
        "process@5m",
        "cached@5m",
        "serve-cached@1m",
        "serve-cached-500@1m",
        "serve-uncached@1m",
    ]
    if (missing := _need(results, "engine@5m", "process@5m")) is not None:
        return missing
    measured = {k: _rss(results[k]) for k in keys if k in results and (results[k].stats or results[k].server)}
    worst = max(measured, key=lambda k: measured[k])
    skipped = [k for k in keys if k not in measured]
    return _verdict(
        measured[worst] <= 600,
        f"{measured[worst]:.0f} MB",
        f"largest is {worst}" + (f"; not measured: {', '.join(skipped)}" if skipped else ""),
    )


def _wall(results: dict[str, Result], key: str) -> float:
    return _stats(results, key).median("wall")


def ratio_at_most(key: str, other: str, limit: float) -> Callable[[dict[str, Result]], Verdict]:
    """Whole-process wall time of `key` over that of `other` (medians of runs in turns)."""

    def evaluate(results: dict[str, Result]) -> Verdict:
        if (missing := _need(results, key, other)) is not None:
            return missing
        ours, theirs = _wall(results, key), _wall(results, other)
        cpu = (
            f"CPU {_stats(results, key).median('cpu'):.2f} s vs {_stats(results, other).median('cpu'):.2f} s"
        )
        return _verdict(
            ours / theirs <= limit, f"{ours / theirs:.2f}x", f"{ours:.2f} s / {theirs:.2f} s; {cpu}"
        )

    return evaluate


def faster_by(key: str, other: str, factor: float) -> Callable[[dict[str, Result]], Verdict]:
    """`other`'s whole-process wall time over `key`'s."""

    def evaluate(results: dict[str, Result]) -> Verdict:
        if (missing := _need(results, key, other)) is not None:
            return missing
        ours, theirs = _wall(results, key), _wall(results, other)
        return _verdict(
            theirs / ours >= factor, f"{theirs / ours:.1f}x", f"{other} {theirs:.2f} s / {ours:.2f} s"
        )

    return evaluate


def beyond_startup(key: str, limit: float) -> Callable[[dict[str, Result]], Verdict]:
    """Whole-process wall time of `key` minus `segcli --help`'s (the start-up)."""

    def evaluate(results: dict[str, Result]) -> Verdict:
        if (missing := _need(results, key, "help")) is not None:
            return missing
        ours, start = _wall(results, key), _wall(results, "help")
        return _verdict(
            ours - start <= limit,
            f"{ours - start:.3f} s",
            f"{ours:.3f} s - start-up {start:.3f} s; {results[key].note}",
        )

    return evaluate


def rss_at_most(
    key: str, limit_mb: float, extra: str | None = None
) -> Callable[[dict[str, Result]], Verdict]:
    """Peak RSS of `key`'s runs (or of its one-off `extra` run, e.g. the load)."""

    def evaluate(results: dict[str, Result]) -> Verdict:
        if (missing := _need(results, key)) is not None:
            return missing
        result = results[key]
        sample = result.extra.get(extra) if extra else None
        if extra and sample is None:
            return Verdict("not measured", "-", f"{key}: no {extra} run")
        value = sample.rss_mb if sample is not None else _rss(result)
        seconds = f"{sample.wall:.1f} s, CPU {sample.cpu:.1f} s" if sample is not None else ""
        return _verdict(
            value <= limit_mb, f"{value:,.0f} MB", f"{key}{f' ({extra})' if extra else ''} {seconds}"
        )

    return evaluate


TARGETS = [
    Target("Parquet, 25M sales: segcli vs the hand-written DuckDB query", "<= 1.0x",
           ratio_at_most("process@5m", "duckdb@5m", 1.0)),
    Target("Parquet, 25M sales: segcli vs the DuckDB scan floor", "<= 2.5x",
           ratio_at_most("process@5m", "floor@5m", 2.5)),
    Target("CSV, 5M sales: segcli vs the hand-written DuckDB query", "<= 1.2x",
           ratio_at_most("process@1m-csv", "duckdb@1m-csv", 1.2)),
    Target("CSV, 5M sales: segcli vs pandas", ">= 2x faster", faster_by("process@1m-csv", "peer@1m-csv", 2.0)),
    Target("CSV, 5M sales, repeated with another window (columnar copy)", "<= 0.3 s beyond start-up",
           beyond_startup("csv-repeat@1m-csv", 0.3)),
    Target("`segcli load` of 25M sales: peak RSS", "<= 1 GB", rss_at_most("warehouse@5m", 1000, "load")),
    Target("PostgreSQL source, 1M customers: peak RSS", "<= 400 MB", rss_at_most("postgres@1m", 400)),
    Target("`segcli --help` (start-up)", "<= 0.2 s", time_at_most("help", 0.2)),
    Target("segcli segment, whole process, cached", "<= 0.25 s", time_at_most("cached@5m", 0.25)),
    Target("segcli engine from an Arrow table vs Parquet (5M)", "<= 1.1x", arrow_vs_parquet),
    Target("segcli engine from an Arrow table: memory the report adds", "<= the Parquet report's peak",
           arrow_memory),
    Target("serve, 1M customers, cached: throughput", ">= 500 req/s", serve_rps("serve-cached@1m", 500)),
    Target("serve, 1M customers, cached: p99 latency at 500 req/s", "<= 50 ms",
           serve_latency("serve-cached-500@1m", 99, 0.050)),
    Target("serve, 1M customers, uncached: p50 latency", "<= 1 s", serve_latency("serve-uncached@1m", 50, 1.0)),
    Target("segcli peak RSS (5M; serve at 1M)", "<= 600 MB", peak_rss),
]  # fmt: skip


def print_targets(results: dict[str, Result]) -> None:
    """The targets as met or missed, on stdout."""
    print("\ntargets (whole process unless stated; noisy if the machine was busy):")
    for target in TARGETS:
        v = target.evaluate(results)
        print(f"  {v.status:12s} {target.what}: {v.measured} (goal {target.goal}) - {v.reason}")


# --- features this checkout has ---------------------------------------------------------


def _help(ctx: Context, *args: str) -> str | None:
    done = subprocess.run([*ctx.segcli, *args, "--help"], env=ctx.env, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def _postgres_reachable(ctx: Context) -> str | None:
    ping = [ctx.python, "-m", "bench.pg_setup", "ping", PG_URL]  # a child: pyarrow stays out of the harness
    done = subprocess.run(ping, env=ctx.env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no answer"])[-1][:120]
        return f"not measured: PostgreSQL at {PG_URL} not reachable ({reason})"
    return None


def detect_features(ctx: Context) -> dict[str, str | None]:
    """Each optional feature: None when present, else why its rows are not measured."""
    segment_help = _help(ctx, "segment") or ""
    features: dict[str, str | None] = {
        "cache": None if "--no-cache" in segment_help else NOT_MERGED,
        "serve": None if _help(ctx, "serve") is not None and _help(ctx, "token") is not None else NOT_MERGED,
        "warehouse": None if _help(ctx, "load") is not None else NOT_MERGED,
        "spark": None if "--engine" in segment_help else NOT_MERGED,
    }
    features["postgres"] = (
        (_postgres_reachable(ctx) if "--sales-table" in segment_help else NOT_MERGED)
        if features["warehouse"] is None
        else NOT_MERGED
    )
    return features


# --- checks ------------------------------------------------------------------------------


def check_agreement(results: dict[str, Result]) -> None:
    """The peer must find exactly segcli's segments (customers, sales, revenue) on the same data."""
    for key, result in results.items():
        if not key.startswith(("peer@", "duckdb@", "polars@")) or result.stats is None:
            continue
        engine_result = results.get("engine@" + key.split("@", 1)[1])
        if engine_result is None or engine_result.stats is None:
            continue
        expected = engine_result.stats.samples[0].output["segments"]
        for sample in result.stats.samples + engine_result.stats.samples:
            if sample.output["segments"] != expected:
                raise BenchError(
                    f"{key}: the peer and segcli disagree on the segments:\n"
                    f"  segcli: {expected}\n  peer:   {sample.output['segments']}"
                )


def isolated_env(home: Path) -> dict[str, str]:
    """The environment of every child: no user config, cache or tokens; UTC; this checkout importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGCLI_")}
    # An installed segcli has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE=1
    # would compile ~60 modules from source in every child (~70 ms CPU of each start-up).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        SEGCLI_CONFIG="",
        TZ="UTC",
        PYTHONPATH=str(ROOT),
    )
    return env


def segcli_command() -> list[str]:
    script = Path(sys.executable).parent / "segcli"
    return [str(script)] if script.exists() else [sys.executable, "-m", "segcli"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m,5m", help="Parquet sizes to measure (100k, 1m, 5m).")
    parser.add_argument("-r", "--repeat", type=int, help="Runs per measurement (default: 3 to 7 each).")
    parser.add_argument("--only", help="Comma-separated measurement keys to run (e.g. engine@5m,help).")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "bench")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in DATASETS or DATASETS[s].fmt != "parquet"]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose from 100k, 1m, 5m")
    wanted = [DATASETS[s] for s in sizes] + ([DATASETS["1m-csv"]] if "1m" in sizes else [])

    started = time.perf_counter()
    load_before = load_average()
    watch = CpuWatch()
    watch.start()
    home = Path(tempfile.mkdtemp(prefix="segcli-bench-"))
    try:
        env = isolated_env(home)
        compileall.compile_dir(ROOT / "segcli", quiet=1)
        segcli = segcli_command()
        prepared = prepare(wanted, args.data_dir, segcli, env)
        ctx = Context({p.dataset.key: p for p in prepared}, env, home, segcli, sys.executable, args.repeat)
        ctx.features = detect_features(ctx)
        only = set(args.only.split(",")) if args.only else None
        results: dict[str, Result] = {}
        plan = [m for m in measurements(sizes) if only is None or m.key in only]
        done: set[str] = set()
        failed = False
        for m in plan:
            if m.key in done:
                continue
            missing = ctx.features.get(m.feature) if m.feature else None
            if missing:
                results[m.key] = Result(note=missing)
                print(f"{m.key:24s} {missing}", flush=True)
                continue
            block = [x for x in plan if x.group is not None and x.group == m.group] or [m]
            print(f"{', '.join(x.key for x in block)} ...", flush=True)
            try:
                results.update({m.key: m.run(ctx, m)} if m.run is not None else in_turns(ctx, block))
            except Exception as error:  # one broken row must not lose the others
                if m.feature is None and not isinstance(error, BenchError):
                    raise
                failed = True
                results.update({x.key: Result(note=f"FAILED: {error}") for x in block})
            for x in block:
                done.add(x.key)
                print(f"  {x.key:22s} {summary_line(results[x.key])}", flush=True)
            check_agreement(results)
        elapsed = time.perf_counter() - started
        meta: dict[str, Any] = {
            "load_before": load_before,
            "load_after": load_average(),
            "others": watch.others(),
            "elapsed": elapsed,
            "datasets": prepared,
        }
        write_results(args.out_dir / "results.md", plan, results, TARGETS, meta)
        write_chart(args.out_dir / "results.png", sizes, results)
        print_targets(results)
        print(f"wrote {args.out_dir / 'results.md'} and results.png in {elapsed:.0f} s")
        if failed:
            print("benchmark FAILED: some rows could not be measured (see results.md)", file=sys.stderr)
            return 1
    except BenchError as error:
        print(f"\nbenchmark FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


def summary_line(result: Result) -> str:
    if result.load is not None:
        lr = result.load
        return f"{lr.rps:.0f} req/s, p50 {lr.percentile(50) * 1000:.1f} ms, p99 {lr.percentile(99) * 1000:.1f} ms"
    if result.stats is not None:
        low, high = result.stats.seconds_spread
        return (
            f"{result.stats.seconds:.3f} s ({low:.3f}-{high:.3f}), "
            f"{result.stats.median('rss_mb'):.0f} MB" + (f"; {result.note}" if result.note else "")
        )
    return result.note or ""


if __name__ == "__main__":
    sys.exit(main())
