"""One timed run in a fresh process, printed as JSON: the segcli engine or the DuckDB floor.

Imports happen before the clock starts, so `seconds` is the work alone; the parent process
measures the whole process (wall time, CPU time, peak RSS) around it.

    python -m bench.probe engine sales.parquet --as-of 2026-11-20 --days 90 --business-id 1
    python -m bench.probe floor sales.parquet --business-id 1
    python -m bench.probe arrow sales.parquet --as-of 2026-11-20   # the file read into Arrow first
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from typing import Any

# The scan no report can beat: every row of the business, two columns, no window.
FLOOR_SQL = "SELECT count(*), sum(total_amount) FROM {relation} WHERE business_id = $business_id"


def engine(path: str, as_of: date, days: int, business_id: int) -> dict[str, Any]:
    """segcli's uncached report, in-process: `compute_report` over a `FileSource`."""
    import duckdb  # noqa: F401  (imported before the clock starts)

    from segcli.engine.compute import ReportRequest, compute_report
    from segcli.engine.segments import default_tables
    from segcli.engine.sources import FileSource

    tables = default_tables()
    request = ReportRequest(business_id=business_id, as_of=as_of, days=days)
    started = time.perf_counter()
    report = compute_report(FileSource(path), request, tables)
    seconds = time.perf_counter() - started
    segments = {
        s.name: {"customers": s.customer_count, "sales": s.sales, "revenue_cents": int(s.revenue * 100)}
        for s in report.segments
    }
    return {"seconds": seconds, "segments": segments}


def arrow(path: str, as_of: date, days: int, business_id: int) -> dict[str, Any]:
    """segcli's uncached report from the same data as an in-memory Arrow table (read before the clock)."""
    import duckdb  # noqa: F401  (imported before the clock starts)
    import pyarrow.parquet as pq

    from segcli.engine.compute import ReportRequest, compute_report
    from segcli.engine.segments import default_tables
    from segcli.engine.sources.memory import MemorySource

    table = pq.read_table(path)
    loaded_mb = _rss_mb()  # the process with the table read, before the report
    tables = default_tables()
    request = ReportRequest(business_id=business_id, as_of=as_of, days=days)
    started = time.perf_counter()
    report = compute_report(MemorySource(table), request, tables)
    seconds = time.perf_counter() - started
    segments = {
        s.name: {"customers": s.customer_count, "sales": s.sales, "revenue_cents": int(s.revenue * 100)}
        for s in report.segments
    }
    return {
        "seconds": seconds,
        "segments": segments,
        "table_mb": table.nbytes / 2**20,
        "loaded_mb": loaded_mb,
    }


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def floor(path: str, business_id: int) -> dict[str, Any]:
    """DuckDB's count and sum over the business's rows of the file."""
    import duckdb

    relation = "read_csv($path)" if path.lower().endswith(".csv") else "read_parquet($path)"
    con = duckdb.connect()
    started = time.perf_counter()
    rows, total = con.execute(
        FLOOR_SQL.format(relation=relation), {"path": path, "business_id": business_id}
    ).fetchall()[0]
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "total": str(total)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["engine", "floor", "arrow"])
    parser.add_argument("path")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--business-id", type=int, default=1)
    args = parser.parse_args(argv)
    if args.what == "engine":
        out = engine(args.path, args.as_of, args.days, args.business_id)
    elif args.what == "arrow":
        out = arrow(args.path, args.as_of, args.days, args.business_id)
    else:
        out = floor(args.path, args.business_id)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
