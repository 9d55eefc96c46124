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
    message = f"{path}: column 'business_id' has a value that is not an integer: 'x1' (sale_id 30000)\n"
    for extra in (["--days", "90"], ["--days", "30"], ["--no-cache"]):
        run = report(cli, path, *extra)
        assert run.exit_code == 1
        assert run.stderr.endswith(message)
    assert len(copies()) == 1


LATE_ROWS = [f"{i},1,{i % 500},2026-11-{1 + i % 20:02d},1.00,completed" for i in range(1, 30_000)]


def test_a_late_fractional_id_fails_every_run_with_or_without_the_copy(cli: Any, tmp_path: Path) -> None:
    """Integer ids are read as text and parsed strictly in the copy too: 7.5 is never rounded to 8."""
    path = write(tmp_path / "late.csv", *LATE_ROWS, "30000,1,7.5,2026-11-05,1.00,completed")
    message = f"{path}: column 'customer_id' has a value that is not an integer: '7.5' (sale_id 30000)\n"
    for extra in (["--days", "90"], ["--days", "30"], ["--no-cache"]):
        run = report(cli, path, *extra)
        assert (run.exit_code, run.stdout, run.stderr) == (1, "", message)
    assert len(copies()) == 1


def test_late_text_ids_are_read_as_text_ids_from_the_copy(cli: Any, tmp_path: Path) -> None:
    """A sniffed-integer customer_id with text past the sample: text ids, the same report on every run."""
    path = write(tmp_path / "late.csv", *LATE_ROWS, "30000,1,abc,2026-11-05,1.00,completed")
    expected = report(cli, path, "--no-cache")
    assert expected.exit_code == 0, expected.stderr
    assert expected.json()["data"]["total_customers"] == 501
    first, again = report(cli, path), report(cli, path, "--days", "91")
    assert first.stdout == expected.stdout
    assert again.exit_code == 0, again.stderr
    assert again.json()["data"]["total_customers"] == 501
    assert len(copies()) == 1


def test_a_csv_dialect_is_read_from_its_copy(cli: Any, tmp_path: Path) -> None:
    """A cp1252 file with ';', decimal commas and a day/month format: the copy gives the same report."""
    path = tmp_path / "export.csv"
    lines = ["Verkauf;Kunde;Datum;Betrag;Status"]
    lines += [f"{i};Kö{i % 7};{1 + i % 20:02d}.11.2026;{i},50;completed" for i in range(1, 40)]
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    read = ["--encoding", "cp1252", "--delimiter", ";", "--decimal-separator", ","]
    names = ["--map", "Verkauf=sale_id", "--map", "Kunde=customer_id", "--map", "Datum=sale_date"]
    names += ["--map", "Betrag=total_amount"]
    args = [*read, "--date-format", "%d.%m.%Y", *names]
    expected = report(cli, path, *args, "--no-cache")
    assert customers(expected) == (7, sum(i + 0.5 for i in range(1, 40)))
    assert report(cli, path, *args).stdout == expected.stdout  # writes the copy
    [copy] = copies()
    for days in ("30", "10"):
        run = report(cli, path, *args, "--days", days)
        assert run.stdout == report(cli, path, *args, "--days", days, "--no-cache").stdout
    assert copies() == [copy]  # read, not rewritten
    other = report(cli, path, *read, "--date-format", "%m.%d.%Y", *names)  # another dialect: not this copy
    assert (other.exit_code, other.stdout) == (1, "")
    assert other.stderr == (
        f"{path}: column 'Datum' (mapped to sale_date) has a value that is not a date: '13.11.2026' "
        "(sale_id 12) (read as %m.%d.%Y)\n"
    )


def test_the_first_report_reads_the_copy_it_wrote_and_the_next_one_reads_nothing_else(tmp_path: Path) -> None:
    """The CSV is parsed (and transcoded) once: the first report reads its fresh copy, a later one
    (another process: a new source) reads the copy without sniffing or transcoding the CSV."""
    from dataclasses import replace
    from datetime import date

    from segcli.engine.compute import ReportRequest
    from segcli.engine.service import get_report, source_from_settings
    from segcli.engine.settings import Settings

    path = tmp_path / "latin.csv"
    lines = [HEADER.replace(",", ";")] + [r.replace(",", ";").replace(".", ",") for r in ROWS]
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    settings = replace(
        Settings(source=str(path), cache_dir=str(tmp_path / "cache")),
        delimiter=";",
        decimal_separator=",",
        encoding="cp1252",
    )
    request = ReportRequest(business_id=1, as_of=date(2026, 11, 20), days=90)
    totals = []
    for made in (1, 0):
        source = source_from_settings(settings)
        report = get_report(settings, request, source)
        totals.append(sum(s.customer_count for s in report.segments))
        assert source.sales.reads() == "parquet"  # type: ignore[attr-defined]
        assert source.sales._transcoder._made == made  # type: ignore[attr-defined]
    assert totals == [2, 2]


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
