"""`segcli serve` as a real process on a loopback port: start, answer, revoke, many clients, stop cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from segcli.api.app import ENDPOINT
from tests.conftest import AS_OF, SMALL_SALES, small_args

SEGCLI = Path(sys.executable).parent / "segcli"
START_DEADLINE_S = 60  # a failure bound on a busy machine, not a speed assertion


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path  # the server's stderr


@contextmanager
def running_server(tmp_path: Path, *args: str, stop: int = signal.SIGTERM) -> Iterator[Server]:
    """Start `segcli serve` on a free port, wait for /healthz, yield it; stop it with `stop`."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                str(SEGCLI),
                "serve",
                "--source",
                str(SMALL_SALES),
                "--as-of",
                AS_OF.isoformat(),
                "--port",
                str(port),
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            assert proc.poll() is None, f"segcli serve exited early: {proc.returncode}: {log.read_text()}"
            try:
                if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "segcli serve did not answer /healthz"
            time.sleep(0.1)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(stop)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def create_token(cli: Any, tokens: Path, business_id: int, name: str) -> str:
    run = cli("token", "create", "--business-id", str(business_id), "--name", name, "--tokens-file", tokens)
    assert run.exit_code == 0
    token: str = run.stdout.strip()
    return token


@pytest.mark.slow
def test_serve_with_two_workers_answers_revokes_and_stops_cleanly(cli: Any, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    token = create_token(cli, tokens, 1, "one")
    expected = cli(*small_args("--format", "json", "--days", "30")).stdout_bytes
    with (
        running_server(tmp_path, "--workers", "2", "--tokens-file", str(tokens)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        auth = {"Authorization": f"Bearer {token}"}
        response = client.get(f"{ENDPOINT}?days=30", headers=auth)
        assert response.status_code == 200
        assert response.content == expected
        response = client.get(ENDPOINT.rstrip("/") + "?days=30", headers=auth)
        assert (response.status_code, response.content) == (200, expected)
        response = client.get(f"{ENDPOINT}?days=30")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert cli("token", "revoke", "one", "--tokens-file", tokens).exit_code == 0
        for _ in range(4):  # whichever worker answers, the revoked token is refused
            response = client.get(f"{ENDPOINT}?days=30", headers=auth)
            assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})
    assert server.proc.returncode == 0
    log = server.log.read_text()
    assert f"GET {ENDPOINT}?days=30 200 " in log
    assert token not in log


@pytest.mark.slow
def test_eight_clients_fifty_requests_each_get_identical_bodies(cli: Any, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    token = create_token(cli, tokens, 1, "load")
    with running_server(tmp_path, "--tokens-file", str(tokens), stop=signal.SIGINT) as server:

        def client_run(_: int) -> list[tuple[int, bytes]]:
            with httpx.Client(
                base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
            ) as client:
                return [
                    (r.status_code, r.content) for r in (client.get(f"{ENDPOINT}?days=30") for _ in range(50))
                ]

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = [item for batch in pool.map(client_run, range(8)) for item in batch]
    assert server.proc.returncode == 0
    assert len(results) == 400
    assert {status for status, _ in results} == {200}
    assert len({content for _, content in results}) == 1
    assert results[0][1] == cli(*small_args("--format", "json", "--days", "30")).stdout_bytes
