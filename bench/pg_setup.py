"""PostgreSQL chores of the benchmark, run in a child process so the harness stays small.

A child's peak RSS as `wait4` reports it includes its parent's at the fork: a harness that had
imported pyarrow (or read a table) would inflate every figure measured after it.

    python -m bench.pg_setup ping URL
    python -m bench.pg_setup ingest URL sales.parquet   # into database segcli_bench; prints its URL
    python -m bench.pg_setup drop URL
"""

from __future__ import annotations

import sys

DB = "segcli_bench"


def main(argv: list[str]) -> None:
    import adbc_driver_postgresql.dbapi as pg

    what, url = argv[0], argv[1]
    with pg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        if what == "ping":
            cur.execute("SELECT 1")
            cur.fetchall()
            return
        if what == "drop":
            cur.execute(f"DROP DATABASE IF EXISTS {DB}")
            return
        cur.execute("SELECT 1 FROM pg_database WHERE datname = $1", parameters=(DB,))
        if not cur.fetchall():
            cur.execute(f"CREATE DATABASE {DB}")
    import pyarrow.parquet as pq

    bench_url = url.rsplit("/", 1)[0] + "/" + DB
    with pg.connect(bench_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.adbc_ingest("sales", pq.read_table(argv[2]), mode="replace")
        cur.execute("CREATE INDEX ON sales (business_id, sale_date)")
        cur.execute("ANALYZE sales")
    print(bench_url)


if __name__ == "__main__":
    main(sys.argv[1:])
