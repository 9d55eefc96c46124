"""API tokens: shown once, stored as SHA-256 only, mode 0600, listed without secrets, revoked by name."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segcli.engine.errors import DataError, InvalidParameter
from segcli.engine.tokens import TokenFile, Tokens, hash_token, one_time

TOKEN_RE = re.compile(r"^seg_[A-Za-z0-9_-]{43}$")  # 32 random bytes in URL-safe base64


def test_create_prints_the_token_once_and_stores_only_its_hash(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    run = cli("token", "create", "--business-id", "7", "--name", "ci", "--tokens-file", path)
    assert run.exit_code == 0
    token = run.stdout.strip()
    assert TOKEN_RE.match(token)
    assert run.stderr.startswith(f"Created token 'ci' for business 7 in {path}.")
    text = path.read_text()
    assert token not in text
    entry = json.loads(text)["tokens"][0]
    assert entry["name"] == "ci"
    assert entry["business_id"] == 7
    assert entry["sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert entry["revoked"] is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TokenFile(path).current().lookup(token) is not None


def test_default_location_is_the_user_config_folder(cli: Any, isolated: Path) -> None:
    run = cli("token", "create", "--business-id", "1")
    assert run.exit_code == 0
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "segcli" / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["tokens"][0]["name"] == "token-1"


def test_tokens_file_from_the_environment(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "env-tokens.json"
    run = cli("token", "create", "--business-id", "3", env={"SEGCLI_TOKENS_FILE": str(path)})
    assert run.exit_code == 0
    assert TokenFile(path).current().lookup(run.stdout.strip()) is not None


def test_list_shows_names_businesses_dates_and_never_a_secret(cli: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "t.json")
    first = cli("token", "create", "--business-id", "1", "--tokens-file", path).stdout.strip()
    second = cli(
        "token", "create", "--business-id", "22", "--name", "shop-22", "--tokens-file", path
    ).stdout.strip()
    assert cli("token", "revoke", "token-1", "--tokens-file", path).exit_code == 0
    run = cli("token", "list", "--tokens-file", path)
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["NAME", "BUSINESS", "CREATED", "REVOKED"]
    name, business, created, revoked = lines[1].split()
    assert (name, business) == ("token-1", "1")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", created)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", revoked)
    assert lines[2].split()[0:2] == ["shop-22", "22"]
    assert lines[2].split()[3] == "-"
    for secret in (first, second, hash_token(first), hash_token(second)):
        assert secret not in run.stdout


def test_list_of_no_tokens(cli: Any, tmp_path: Path) -> None:
    run = cli("token", "list", "--tokens-file", tmp_path / "none.json")
    assert (run.exit_code, run.stdout) == (0, "")
    assert run.stderr == f"No tokens in {tmp_path / 'none.json'}\n"


def test_revoke_refuses_the_token_and_keeps_it_listed(tmp_path: Path) -> None:
    tokens = TokenFile(tmp_path / "t.json")
    token, _ = tokens.create(1, "a")
    other, _ = tokens.create(1, "b")
    revoked = tokens.revoke("a")
    assert revoked.revoked is not None
    assert tokens.current().lookup(token) is None
    assert tokens.current().lookup(other) is not None
    assert tokens.revoke("a").revoked == revoked.revoked  # twice: the first date stays
    assert [r.name for r in tokens.current().records] == ["a", "b"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["revoke", "nope"], "No token named 'nope' in {path}"),
        (
            ["create", "--business-id", "1", "--name", "taken"],
            "A token named 'taken' already exists in {path}",
        ),
        (
            ["create", "--business-id", "1", "--name", "has space"],
            "Invalid token name 'has space'. Must be 1-64 letters, digits, '.', '_' or '-'",
        ),
    ],
)
def test_user_errors_exit_2(cli: Any, tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "t.json"
    TokenFile(path).create(1, "taken")
    before = path.read_bytes()
    run = cli("token", *args, "--tokens-file", path)
    assert run.exit_code == 2
    assert run.stderr == message.format(path=path) + "\n"
    assert path.read_bytes() == before


def test_a_broken_token_file_is_a_data_error_naming_it(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"tokens": [')
    run = cli("token", "list", "--tokens-file", path)
    assert run.exit_code == 1
    assert run.stderr.startswith(f"{path}: not a token file (")
    path.write_text('{"tokens": [{"name": "x", "business_id": 1, "sha256": "abc", "created": "now"}]}')
    with pytest.raises(DataError, match="token 'x' has a bad business_id or sha256"):
        TokenFile(path).current()


def test_default_names_skip_taken_ones(tmp_path: Path) -> None:
    tokens = TokenFile(tmp_path / "t.json")
    tokens.create(1, "token-2")
    assert tokens.create(1)[1].name == "token-3"  # 1 record -> token-2, taken -> token-3
    assert tokens.create(1)[1].name == "token-4"


def test_the_file_is_reread_only_when_it_changes(tmp_path: Path) -> None:
    tokens = TokenFile(tmp_path / "t.json")
    assert tokens.current().records == ()
    tokens.create(1, "a")
    seen = tokens.current()
    assert [r.name for r in seen.records] == ["a"]
    assert tokens.current() is seen  # unchanged file: the same parsed set
    TokenFile(tokens.path).create(2, "b")  # another process's writer
    assert [r.name for r in tokens.current().records] == ["a", "b"]
    tokens.path.unlink()
    assert tokens.current().records == ()


def test_concurrent_creates_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    made: list[str] = []

    def create() -> None:
        made.append(TokenFile(path).create(1)[0])

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    current = TokenFile(path).current()
    assert len(current.records) == 8
    assert len({r.name for r in current.records}) == 8
    assert all(current.lookup(token) is not None for token in made)


def test_invalid_name_is_checked_before_touching_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter):
        TokenFile(tmp_path / "t.json").create(1, "-leading-dash")
    assert not (tmp_path / "t.json").exists()


@settings(max_examples=200)
@given(guess=st.text(max_size=60))
def test_only_the_exact_token_matches(guess: str) -> None:
    token, tokens = one_time(5)
    record = tokens.lookup(token)
    assert record is not None
    assert record.business_id == 5
    assert (tokens.lookup(guess) is not None) == (guess == token)
    assert tokens.lookup(token[:-1]) is None
    assert tokens.lookup(token + "x") is None


def test_lookup_of_an_empty_set() -> None:
    assert Tokens().lookup("seg_anything") is None
