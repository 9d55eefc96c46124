"""The parsed columnar copy of a CSV: reused while the CSV is unchanged, never stale, bounded, shared safely."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from segcli.engine.errors import InvalidParameter
from segcli.engine.settings import parse_size, user_cache_dir
from tests.conftest import SMALL_SALES

HEADER = "sale_id,business_id,customer_id,sale_date,total_amount,status"
ROWS = [
    "1,1,a,2026-11-20,10.00,completed",
    "2,1,b,2026-11-19,20.00,completed",
    "3,1,b,2026-11-02,5.50,completed",
    "4,1,c,2026-10-01,7.25,pending",
]


def write(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def report(cli: Any, path: Path, *extra: str) -> Any:
    return cli("segment", "--source", str(path), "--as-of", "2026-11-20", "--format", "json", *extra)


def copies() -> list[Path]:
    return sorted((user_cache_dir() / "columnar").glob("*.parquet"))


def customers(run: Any) -> tuple[int, float]:
    assert run.exit_code == 0, run.stderr
    data = run.json()["data"]
    return data["total_customers"], sum(float(s["total_revenue"]) for s in data["segments"])


def test_a_repeated_report_reads_the_copy(cli: Any) -> None:
    first = report(cli, SMALL_SALES, "--days", "30")
    assert first.exit_code == 0, first.stderr
    [copy] = copies()
    inode = copy.stat().st_ino
    # other parameters: a report-cache miss, read from the copy (the same file, not rewritten)
    for extra in (["--days", "90"], ["--method", "value"], ["--storefront-id", "1"]):
        run = report(cli, SMALL_SALES, *extra)
        assert run.exit_code == 0, run.stderr
        assert run.stdout == report(cli, SMALL_SALES, *extra, "--no-cache").stdout
    assert copies() == [copy]
    assert copy.stat().st_ino == inode
    info = cli("cache", "info", "--format", "json").json()
    assert info["columnar_copies"] == 1
    assert info["columnar_bytes"] == copy.stat().st_size


def test_no_cache_and_a_zero_size_read_the_csv_itself(cli: Any) -> None:
    assert report(cli, SMALL_SALES, "--no-cache").exit_code == 0
    assert not user_cache_dir().exists()
    assert report(cli, SMALL_SALES, "--cache-max-size", "0").exit_code == 0
    assert copies() == []


def test_a_changed_csv_is_never_read_from_an_old_copy(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "sales.csv", *ROWS)
    assert customers(report(cli, path)) == (2, 35.5)
    write(path, *ROWS[:-1], "4,1,d,2026-10-01,7.25,partial")  # the same size, new content
    assert customers(report(cli, path, "--days", "60")) == (3, 42.75)
    write(path, *ROWS[:-1], "4,1,e,2026-11-01,8.25,completed")
    assert customers(report(cli, path, "--days", "45")) == (3, 43.75)
    assert len(copies()) == 3


def test_copies_are_bounded_least_recently_used_first(cli: Any, tmp_path: Path) -> None:
    paths = [
        write(tmp_path / f"s{i}.csv", *ROWS, f"{9 + i},1,z,2026-11-1{i},1.00,completed") for i in range(3)
    ]
    assert report(cli, paths[0]).exit_code == 0
    [first] = copies()
    limit = str(2 * first.stat().st_size + first.stat().st_size // 2)  # room for two copies
    assert report(cli, paths[1], "--cache-max-size", limit).exit_code == 0
    [second] = [c for c in copies() if c != first]
    os.utime(first, ns=(1, 1))  # the first was used longest ago ...
    os.utime(second, ns=(2, 2))
    assert report(cli, paths[0], "--days", "30", "--cache-max-size", limit).exit_code == 0  # ... until now
    assert first.stat().st_mtime_ns > 2
    assert report(cli, paths[2], "--cache-max-size", limit).exit_code == 0
    left = copies()
    assert len(left) == 2
    assert first in left
    assert second not in left
    assert sum(c.stat().st_size for c in left) <= int(limit)


def test_a_csv_larger_than_the_bound_is_not_copied(cli: Any) -> None:
    assert report(cli, SMALL_SALES, "--cache-max-size", "100").exit_code == 0
    assert copies() == []


def test_two_processes_converting_at_once(tmp_path: Path) -> None:
    rows = [f"{i},1,c{i % 700},2026-11-{1 + i % 20:02d},{i % 90}.25,completed" for i in range(1, 60_000)]
    path = write(tmp_path / "big.csv", *rows)
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "segcli", "segment", "--source", str(path), "--as-of", "2026-11-20"]
    command += ["--format", "json", "--cache-dir", str(cache)]
    env = {**os.environ, "SEGCLI_CONFIG": ""}
    procs = [
        subprocess.Popen(
            [*command, "--days", str(days)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for days in (30, 31)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(b'"success": true' in out for out, _ in outs)
    assert len(list((cache / "columnar").glob("*.parquet"))) == 1
    assert list((cache / "columnar").glob("*.tmp")) == []
    again = subprocess.run([*command, "--days", "30", "--no-cache"], env=env, capture_output=True, check=True)
    assert again.stdout == outs[0][0]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ["3,1,c,2026-13-45,1.00,completed"],
            "column 'sale_date' has a value that is not a date: '2026-13-45' (sale_id 3)",
        ),
        (
            ["3,1,c,2026-11-01,12;50,completed"],
            "column 'total_amount' has a value that is not a number: '12;50' (sale_id 3)",
        ),
        (
            ["2,1,c,2026-11-01,1.00,completed"],
            "column 'sale_id' has a duplicate value '2' (2 rows in the business)",
        ),
    ],
)
def test_bad_data_gives_the_same_message_on_a_repeated_run(
    cli: Any, tmp_path: Path, rows: list[str], message: str
) -> None:
    path = write(tmp_path / "sales.csv", *ROWS[:2], *rows)
    for extra in (
        ["--days", "90"],
        ["--days", "60"],
        ["--days", "90"],
        ["--no-cache"],
        ["--cache-max-size", "0"],
    ):
        run = report(cli, path, *extra)
        assert (run.exit_code, run.stdout) == (1, "")
        assert run.stderr.endswith(f"{path}: {message}\n")


def test_a_late_value_the_sniffer_missed_is_read_as_text_in_the_copy(cli: Any, tmp_path: Path) -> None:
    rows = [f"{i},1,c{i % 500},2026-11-{1 + i % 20:02d},1.00,completed" for i in range(1, 30_000)]
    path = write(tmp_path / "late.csv", *rows, "30000,x1,cx,2026-11-05,1.00,completed")
    message = f"{path}: column 'business_id' has a value that is not an integer: 'x1'\n"
    for extra in (["--days", "90"], ["--days", "30"], ["--no-cache"]):
        run = report(cli, path, *extra)
        assert run.exit_code == 1
        assert run.stderr.endswith(message)
    assert len(copies()) == 1


@pytest.mark.parametrize(
    ("text", "size"),
    [("2GB", 2_000_000_000), ("500MiB", 500 * 1024**2), ("0", 0), ("1.5kb", 1500), (123, 123)],
)
def test_sizes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["-1", "2 GiBs", "lots", -5])
def test_bad_sizes(text: str | int) -> None:
    with pytest.raises(InvalidParameter, match="Invalid cache_max_size"):
        parse_size(text)
