"""PostgreSQL for the tests: the server on 127.0.0.1:5432 (or SEGCLI_TEST_PG_URL), else a throwaway cluster.

Each test session works in its own database with a random name, dropped at the end.
Without any server the tests skip, except under CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from segcli.engine.sources.pg_catalog import redact

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def connect(url: str, autocommit: bool = True) -> Any:
    import adbc_driver_postgresql.dbapi as pg

    return pg.connect(url, autocommit=autocommit)


def execute(url: str, *statements: str) -> None:
    """Run statements (no parameters) on a fresh autocommit connection."""
    with connect(url) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)


def query(url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, parameters=tuple(params) or None)
        rows: list[tuple[Any, ...]] = cur.fetchall()
        return rows


def reachable(url: str) -> bool:
    try:
        query(url, "SELECT 1")
    except Exception:
        return False
    return True


def with_database(url: str, database: str, user: str | None = None, password: str | None = None) -> str:
    """The same server, another database (and optionally another user and password)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{host}:{parts.port}" if parts.port else host
    user = user if user is not None else parts.username
    if user:
        netloc = f"{user}:{password}@{netloc}" if password else f"{user}@{netloc}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, ""))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@contextlib.contextmanager
def throwaway_cluster(password: str | None = None) -> Iterator[str]:
    """A new cluster on a free loopback port (scram-sha-256 when a password is given); its admin URL."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise RuntimeError("no initdb in /usr/lib/postgresql/*/bin")
    bindir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="segcli-pg-"))
    data, port = root / "data", free_port()
    args = ["-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-sync"]
    if password:
        (root / "pw").write_text(password)
        args += ["--auth=scram-sha-256", f"--pwfile={root / 'pw'}"]
    else:
        args += ["--auth=trust"]
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        if password:
            shutil.chown(root / "pw", "postgres")
    try:
        subprocess.run(_as_postgres(str(bindir / "initdb"), *args), check=True, capture_output=True)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"
            ),
            check=True,
            capture_output=True,
        )
        try:
            auth = f"postgres:{password}@" if password else "postgres@"
            yield f"postgresql://{auth}127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                _as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"),
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _missing(why: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI: {why}")
    pytest.skip(f"no PostgreSQL: {why}")


@dataclass(frozen=True)
class PgServer:
    admin_url: str  # the maintenance database, for CREATE/DROP DATABASE and roles
    url: str  # this test session's own database

    def database(self, name: str, user: str | None = None, password: str | None = None) -> str:
        return with_database(self.admin_url, name, user, password)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server with a fresh database for this test session."""
    with contextlib.ExitStack() as stack:
        admin = os.environ.get("SEGCLI_TEST_PG_URL") or DEFAULT_URL
        if not reachable(admin):
            try:
                admin = stack.enter_context(throwaway_cluster())
            except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
                _missing(f"{redact(admin)} unreachable and no throwaway cluster: {exc}")
        name = f"segcli_test_{secrets.token_hex(6)}"
        execute(admin, f'CREATE DATABASE "{name}"')
        try:
            yield PgServer(admin, with_database(admin, name))
        finally:
            execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_password_server() -> Iterator[str]:
    """A throwaway cluster that requires a password (the machine's server trusts everyone); its admin URL."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_cluster(password=secrets.token_hex(12)))
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            _missing(f"cannot start a cluster with password authentication: {exc}")
        yield url


def ingest(url: str, table: str, ddl: str, data: Any) -> None:
    """Create `table` with `ddl` (column definitions) and COPY an Arrow table into it."""
    schema, _, name = table.rpartition(".")
    with connect(url) as conn, conn.cursor() as cur:
        if schema:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} ({ddl})")
        if data.num_rows:
            cur.adbc_ingest(name, data, mode="append", db_schema_name=schema or None)
