"""Reading files (issue 13: 4, 6, 15, 18, 19): globs expanded per report, every file checked, clear CSV errors."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AS_OF

HEADER = "sale_id,customer_id,sale_date,total_amount,status"


def write(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_server_sees_files_added_and_removed_from_a_glob(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from segcli.api.app import ENDPOINT, create_app
    from segcli.engine.settings import Settings
    from segcli.engine.tokens import TokenFile

    folder = tmp_path / "exports"
    folder.mkdir()
    write(folder / "a.csv", "1,a,2026-11-20,10.00,completed")
    tokens = TokenFile(tmp_path / "tokens.json")
    token, _ = tokens.create(1, "shop")
    settings = Settings(
        source=str(folder / "*.csv"), tokens_file=str(tokens.path), cache_dir=str(tmp_path / "cache")
    )
    client = TestClient(create_app(settings, as_of=AS_OF))

    def customers() -> int:
        response = client.get(ENDPOINT, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        total: int = response.json()["data"]["total_customers"]
        return total

    assert customers() == 1
    assert customers() == 1  # from the cache
    write(folder / "b.csv", "2,b,2026-11-19,20.00,completed")
    assert customers() == 2  # the new file is read, the cached report is not served
    (folder / "a.csv").unlink()
    assert customers() == 1  # the deleted file is no longer read (it was a 500 before)


def test_glob_identity_names_the_files_present_now(tmp_path: Path) -> None:
    from segcli.engine.sources import open_source

    write(tmp_path / "a.csv", "1,a,2026-11-20,10.00,completed")
    source = open_source(str(tmp_path / "*.csv"))
    before = source.identity()
    write(tmp_path / "b.csv", "2,b,2026-11-20,10.00,completed")
    assert source.identity() != before
    assert str((tmp_path / "b.csv").resolve()) in source.identity()
    (tmp_path / "b.csv").unlink()
    assert source.identity() == before
    (tmp_path / "a.csv").unlink()
    with pytest.raises(Exception, match=r"\*\.csv: no file matches"):
        source.identity()


@pytest.mark.parametrize("missing", ["customer_id", "status"])
def test_every_file_of_a_glob_has_the_required_columns(cli: Any, tmp_path: Path, missing: str) -> None:
    write(tmp_path / "a.csv", "1,a,2026-11-20,10.00,completed")
    columns = HEADER.split(",")
    keep = [i for i, name in enumerate(columns) if name != missing]
    row = ["2", "b", "2026-11-19", "20.00", "completed"]
    write(tmp_path / "b.csv", ",".join(row[i] for i in keep), header=",".join(columns[i] for i in keep))
    run = cli("segment", "--source", str(tmp_path / "*.csv"), "--as-of", "2026-11-20", "-f", "json")
    assert run.exit_code == 1  # was 0, counting b.csv's rows as anonymous / of unknown status
    found = ", ".join(columns[i] for i in keep)
    assert run.stderr == (
        f"{tmp_path / 'b.csv'}: missing required column '{missing}' "
        f"(columns found: {found}; map one with --map SOURCE={missing})\n"
    )


def test_every_parquet_file_of_a_glob_has_the_required_columns(cli: Any, tmp_path: Path) -> None:
    import duckdb

    write(tmp_path / "a.csv", "1,a,2026-11-20,10.00,completed")
    write(tmp_path / "b.csv", "2,2026-11-20,10.00,completed", header="sale_id,sale_date,total_amount,status")
    for name in ("a", "b"):
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{tmp_path / name}.csv')) TO '{tmp_path / name}.parquet'")
    run = cli("segment", "--source", str(tmp_path / "*.parquet"), "--as-of", "2026-11-20")
    assert run.exit_code == 1
    assert run.stderr.startswith(f"{tmp_path / 'b.parquet'}: missing required column 'customer_id'")


def test_ragged_row_names_its_line(cli: Any, tmp_path: Path) -> None:
    source = write(tmp_path / "sales.csv", "1,a,2026-11-20,10.00,completed", "2,b,2026-11-19,20.00")
    run = cli("segment", "--source", source, "--as-of", "2026-11-20")
    assert run.exit_code == 1  # was "missing required column 'sale_id'"
    assert run.stderr == f"{source}: line 3 has 4 fields where the header has 5 (delimiter ',', detected)\n"


def test_ragged_row_past_the_sniffed_sample(cli: Any, tmp_path: Path) -> None:
    rows = [f"{i},c{i % 50},2026-11-{1 + i % 20:02d},1.00,completed" for i in range(1, 30_001)]
    source = write(tmp_path / "sales.csv", *rows, "30001,c1,2026-11-02,1.00")
    run = cli("segment", "--source", source, "--as-of", "2026-11-20")
    assert run.exit_code == 1
    assert (
        run.stderr == f"{source}: line 30002 has 4 fields where the header has 5 (delimiter ',', detected)\n"
    )


def test_duplicate_column_name_in_header(cli: Any, tmp_path: Path) -> None:
    source = write(
        tmp_path / "sales.csv", "1,a,2026-11-20,10.00,completed,5.00", header=HEADER + ",total_amount"
    )
    run = cli("segment", "--source", source, "--as-of", "2026-11-20")
    assert run.exit_code == 1  # was read, the second column renamed total_amount_1 by DuckDB
    assert run.stderr == f"{source}: column 'total_amount' appears twice in the header; rename one\n"


def test_a_column_named_like_a_rename_is_fine(cli: Any, tmp_path: Path) -> None:
    source = write(tmp_path / "sales.csv", "1,a,2026-11-20,10.00,completed,x", header=HEADER + ",status_1")
    run = cli("segment", "--source", source, "--as-of", "2026-11-20", "-f", "json")
    assert run.exit_code == 0, run.stderr


def test_invalid_utf8_names_file_and_line(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "sales.csv"
    source.write_bytes(
        f"{HEADER}\n1,a,2026-11-20,10.00,completed\n2,caf\xe9,2026-11-20,1.00,completed\n".encode("latin-1")
    )
    run = cli("segment", "--source", source, "--as-of", "2026-11-20")
    assert run.exit_code == 1  # was "CSV Error on Line: 2" without the file
    assert run.stderr == (
        f"{source}: line 3 is not valid utf-8 text (give the file's encoding, e.g. --encoding cp1252 or utf-16)\n"
    )


def test_random_bytes_give_one_short_line(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "sales.csv"
    source.write_bytes(random.Random(13).randbytes(2048))
    run = cli("segment", "--source", source, "--as-of", "2026-11-20")
    assert run.exit_code == 1
    assert run.stderr.count("\n") == 1
    assert len(run.stderr) < 200 + len(str(source))
    assert run.stderr.startswith(f"{source}: ")
    assert "not valid utf-8" in run.stderr


def test_transcoded_copies_are_removed(tmp_path: Path) -> None:
    import gc

    from segcli.engine.sources.csvcheck import Transcoder

    source = tmp_path / "sales.csv"
    source.write_text("a,b\n1,Zoë €\n", encoding="cp1252")
    transcoder = Transcoder()
    copy = transcoder.utf8_copy(str(source), "cp1252")
    assert Path(copy).read_text("utf-8") == "a,b\n1,Zoë €\n"
    assert oct(os.stat(os.path.dirname(copy)).st_mode & 0o777) == "0o700"
    assert transcoder.utf8_copy(str(source), "cp1252") == copy  # reused while the file is unchanged
    source.write_text("a,b\n1,Zoë €\n2,x\n", encoding="cp1252")
    newer = transcoder.utf8_copy(str(source), "cp1252")
    assert newer != copy
    assert not os.path.exists(copy)  # the older version's copy is gone
    copy = newer
    del transcoder
    gc.collect()
    assert not os.path.exists(copy)
