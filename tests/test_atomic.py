"""Safe writing: an output file is complete or absent, and an old one survives a failed run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

import pytest

from segcli.engine.atomic import atomic_write
from segcli.render.customers import LIST_WRITERS, ListWriter
from tests.conftest import AS_OF, SMALL_SALES, small_args

OLD = b"yesterday's report\n"


class Boom(RuntimeError):
    pass


def write_then_fail(out: IO[bytes]) -> None:
    out.write(b"half a report")
    out.flush()
    raise Boom("disk on fire")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty output folder (tmp_path also holds the test's home and work folders)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def test_atomic_write_replaces_on_success(folder: Path):
    target = folder / "r.csv"
    target.write_bytes(OLD)
    target.chmod(0o640)
    with atomic_write(target) as out:
        out.write(b"new")
        assert target.read_bytes() == OLD  # not replaced until complete
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640  # the old file's permissions are kept
    assert leftovers(folder) == ["r.csv"]


def test_atomic_write_failure_keeps_old_file(folder: Path):
    target = folder / "r.csv"
    target.write_bytes(OLD)
    with pytest.raises(Boom), atomic_write(target) as out:
        write_then_fail(out)
    assert target.read_bytes() == OLD
    assert leftovers(folder) == ["r.csv"]


@pytest.mark.parametrize(
    ("fmt", "module", "cls"), [("csv", "csv", "CsvRenderer"), ("pdf", "pdf", "PdfRenderer")]
)
@pytest.mark.parametrize("old_file", [True, False])
def test_failed_render_leaves_nothing(cli, folder: Path, monkeypatch, fmt, module, cls, old_file):
    import importlib

    renderer = getattr(importlib.import_module(f"segcli.render.{module}"), cls)

    def failing_write(self: Any, report: Any, params: Any, out: IO[bytes]) -> None:
        write_then_fail(out)

    monkeypatch.setattr(renderer, "write", failing_write)
    target = folder / f"report.{fmt}"
    if old_file:
        target.write_bytes(OLD)
    with pytest.raises(Boom):
        cli(*small_args("--days", "30", "--output", str(target)))
    assert leftovers(folder) == ([target.name] if old_file else [])
    if old_file:
        assert target.read_bytes() == OLD


def test_failed_parquet_leaves_old_file(cli, folder: Path, monkeypatch):
    monkeypatch.setitem(
        LIST_WRITERS,
        "parquet",
        ListWriter(True, "application/vnd.apache.parquet", "parquet", lambda _t, out: write_then_fail(out)),
    )
    target = folder / "customers.parquet"
    target.write_bytes(OLD)
    with pytest.raises(Boom):
        cli("customers", "--source", str(SMALL_SALES), "--as-of", AS_OF.isoformat(), "--output", str(target))
    assert target.read_bytes() == OLD
    assert leftovers(folder) == ["customers.parquet"]


def test_data_error_writes_nothing(cli, folder: Path):
    bad = folder / "bad.csv"
    bad.write_text("sale_id,customer_id,sale_date,total_amount,status\n1,c1,not-a-date,10,completed\n")
    target = folder / "report.pdf"
    target.write_bytes(OLD)
    run = cli("segment", "--source", str(bad), "--as-of", AS_OF.isoformat(), "--output", str(target))
    assert run.exit_code == 1
    assert "not-a-date" in run.stderr
    assert leftovers(folder) == ["bad.csv", "report.pdf"]
    assert target.read_bytes() == OLD


def test_written_files_are_complete(cli, folder: Path):
    for name in ("report.csv", "report.pdf", "report.json"):
        run = cli(*small_args("--days", "30", "--output", str(folder / name)))
        assert run.exit_code == 0, run.stderr
    run = cli(
        "customers", "--source", str(SMALL_SALES), "--as-of", AS_OF.isoformat(), "-o", str(folder / "c.jsonl")
    )
    assert run.exit_code == 0, run.stderr
    assert leftovers(folder) == ["c.jsonl", "report.csv", "report.json", "report.pdf"]
    assert (folder / "report.pdf").read_bytes().rstrip().endswith(b"%%EOF")
    assert (folder / "report.json").read_bytes().endswith(b"}}\n")
    assert len((folder / "c.jsonl").read_text().splitlines()) == 12  # c01..c12; b2x is of business 2


def test_missing_output_folder_is_refused_before_any_work(cli, folder: Path):
    target = folder / "nope" / "report.pdf"
    run = cli(*small_args("--output", str(target)))
    assert run.exit_code == 2
    assert run.stderr == f"Invalid output: folder {target.parent} does not exist (--output)\n"
    assert not os.path.exists(target.parent)
