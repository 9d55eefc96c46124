"""`segcli serve` on a PostgreSQL URL with a password (issue 13 case 2): no secret in any output,
log or child environment; a wrong password or an unreachable server fails before listening."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from segcli.api.app import ENDPOINT, OPTIONS_ENV
from tests.pg import execute, free_port, with_database
from tests.test_serve_process import SEGCLI, create_token, running_server

BOUND_S = 60


def family(pid: int) -> list[int]:
    """A process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").partition("=")[::2] for item in raw if item)


@pytest.fixture(scope="module")
def shop_url(pg_password_server: str) -> str:
    """A sales table in the password-protected throwaway cluster; the URL carries the password."""
    execute(
        pg_password_server,
        "DROP TABLE IF EXISTS sales",
        "CREATE TABLE sales (sale_id bigint, customer_id bigint, sale_date date, "
        "total_amount numeric(12,2), status text)",
        "INSERT INTO sales VALUES (1, 1, '2026-11-01', 10.00, 'completed'), "
        "(2, 2, '2026-11-10', 20.00, 'completed'), (3, 1, '2026-11-12', 5.00, 'completed')",
    )
    return pg_password_server


@pytest.mark.postgres
def test_serve_keeps_the_password_out_of_output_logs_and_worker_environments(
    cli: Any, tmp_path: Path, shop_url: str
) -> None:
    password = urlsplit(shop_url).password
    assert password
    tokens = tmp_path / "tokens.json"
    auth = {"Authorization": f"Bearer {create_token(cli, tokens, 1, 'one')}"}
    cache = tmp_path / "cache"
    args = ("--source", shop_url, "--workers", "2", "--tokens-file", str(tokens), "--cache-dir", str(cache))
    with running_server(tmp_path, *args) as server:
        response = httpx.get(f"{server.url}{ENDPOINT}?days=30", headers=auth, timeout=BOUND_S)
        assert response.status_code == 200, server.log.read_text()
        assert response.json()["data"]["total_customers"] == 2
        processes = family(server.proc.pid)
        assert len(processes) >= 3  # the supervisor and two workers
        files: set[str] = set()
        for pid in processes:
            env = environ(pid)
            assert not [k for k, v in env.items() if password in v], pid
            if OPTIONS_ENV in env:
                files.add(env[OPTIONS_ENV])
            if pid != server.proc.pid:  # the supervisor's own command line is what the user typed
                assert password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        (options,) = files
        assert oct(os.stat(options).st_mode & 0o777) == "0o600"
        assert oct(os.stat(os.path.dirname(options)).st_mode & 0o777) == "0o700"
    log = server.log.read_text()
    assert password not in log
    assert "postgres:***@" in log
    assert not os.path.exists(options)  # removed when the server stopped
    stored = b"".join(p.read_bytes() for p in cache.iterdir())
    assert b"completed" in stored or len(stored) > 10_000  # the report is in the cache...
    assert password.encode() not in stored  # ...the password is not


@pytest.mark.postgres
@pytest.mark.parametrize("broken", ["password", "port"])
def test_serve_fails_before_listening_on_a_wrong_password_or_an_unreachable_server(
    tmp_path: Path, shop_url: str, broken: str
) -> None:
    if broken == "password":
        url = with_database(shop_url, "postgres", user="postgres", password="Wr0ngPassw0rd")
    else:
        url = f"postgresql://postgres:Wr0ngPassw0rd@127.0.0.1:{free_port()}/postgres"
    port = free_port()
    run = subprocess.run(
        [
            str(SEGCLI),
            "serve",
            "--source",
            url,
            "--port",
            str(port),
            "--tokens-file",
            str(tmp_path / "t.json"),
        ],
        capture_output=True,
        timeout=BOUND_S,
    )
    assert run.returncode == 1
    assert run.stdout == b""
    err = run.stderr.decode()
    assert err.count("\n") == 1, err
    assert "Wr0ngPassw0rd" not in err
    assert err.startswith("postgresql://postgres:***@127.0.0.1:")
    assert ("authentication failed" in err) if broken == "password" else ("cannot connect" in err)
