"""API tokens: each belongs to one business; only a SHA-256 hash of it is ever stored.

The token file is JSON, written atomically with mode 0600:
`{"version": 1, "tokens": [{"name", "business_id", "sha256", "created", "revoked"}]}`.
A server re-reads it whenever it changes, so a revocation takes effect at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from segcli.engine.atomic import atomic_write
from segcli.engine.errors import DataError, InvalidParameter
from segcli.engine.private import check_private, private_folder

TOKEN_PREFIX = "seg_"
FILE_VERSION = 1
TOKENS_WHAT = "token file"
MAX_BUSINESS_ID = 2**63 - 1  # a signed 64-bit id, what every engine stores
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 as hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (256 bits of randomness)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TokenRecord:
    """What the token file knows about one token (never the token itself)."""

    name: str
    business_id: int
    sha256: str
    created: str
    revoked: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None


class Tokens:
    """An immutable set of token records with a constant-time lookup."""

    def __init__(self, records: Sequence[TokenRecord] = ()) -> None:
        self.records = tuple(records)

    def lookup(self, token: str) -> TokenRecord | None:
        """The active record whose hash matches `token`, else None."""
        digest = hash_token(token)
        found = None
        for record in self.records:  # every record is compared: the time does not depend on the match
            if hmac.compare_digest(record.sha256, digest) and record.active:
                found = record
        return found

    def by_name(self, name: str) -> TokenRecord | None:
        return next((r for r in self.records if r.name == name), None)

    def next_default_name(self) -> str:
        """The first free name of the form token-<n>."""
        taken = {r.name for r in self.records}
        n = len(self.records) + 1
        while f"token-{n}" in taken:
            n += 1
        return f"token-{n}"


def one_time(business_id: int) -> tuple[str, Tokens]:
    """A token valid only for this process (trusted local calls), and the set holding it."""
    token = new_token()
    return token, Tokens([TokenRecord("local", business_id, hash_token(token), _now())])


def _record(item: Any, where: str) -> TokenRecord:
    try:
        record = TokenRecord(
            name=item["name"],
            business_id=item["business_id"],
            sha256=item["sha256"],
            created=item["created"],
            revoked=item.get("revoked"),
        )
    except (TypeError, KeyError) as exc:
        raise DataError(f"{where}: token entry without {exc}") from None
    if not isinstance(record.business_id, int) or not _SHA256_RE.match(str(record.sha256)):
        raise DataError(f"{where}: token '{record.name}' has a bad business_id or sha256")
    return record


def parse_tokens(text: str, where: str) -> Tokens:
    """Token records from the token file's text, or a DataError naming the file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not a token file ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
        raise DataError(f"{where}: not a token file (no 'tokens' list)")
    return Tokens([_record(item, where) for item in data["tokens"]])


class TokenFile:
    """The token file at `path`: read (cached until the file changes), and changed atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._tokens = Tokens()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> Tokens:
        """The tokens as the file holds them now (re-read only when the file changed)."""
        stamp = self._stat()
        with self._lock:
            if stamp != self._stamp:
                self._tokens = self._read() if stamp is not None else Tokens()
                self._stamp = stamp
            return self._tokens

    def _read(self) -> Tokens:
        check_private(self.path.parent, TOKENS_WHAT)  # others could add a token of their own
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return Tokens()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{self.path}: cannot read token file: {exc}") from None
        return parse_tokens(text, str(self.path))

    @contextlib.contextmanager
    def _editing(self) -> Iterator[list[TokenRecord]]:
        """Yield the records to change; they are written back atomically (one writer at a time)."""
        private_folder(self.path.parent, TOKENS_WHAT)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with os.fdopen(os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = list(self._read().records)
            yield records
            body = {"version": FILE_VERSION, "tokens": [asdict(r) for r in records]}
            with atomic_write(self.path, mode=0o600) as out:
                out.write((json.dumps(body, indent=2) + "\n").encode("utf-8"))

    def create(self, business_id: int, name: str | None = None) -> tuple[str, TokenRecord]:
        """Store a new token's hash; return the token (to show once) and its record."""
        if isinstance(business_id, bool) or not 1 <= business_id <= MAX_BUSINESS_ID:
            raise InvalidParameter(f"Invalid business_id. Must be an integer between 1 and {MAX_BUSINESS_ID}")
        if name is not None and not _NAME_RE.match(name):
            raise InvalidParameter(
                f"Invalid token name '{name}'. Must be 1-64 letters, digits, '.', '_' or '-'"
            )
        token = new_token()
        with self._editing() as records:
            tokens = Tokens(records)
            chosen = name if name is not None else tokens.next_default_name()
            if tokens.by_name(chosen) is not None:
                raise InvalidParameter(f"A token named '{chosen}' already exists in {self.path}")
            record = TokenRecord(chosen, business_id, hash_token(token), _now())
            records.append(record)
        return token, record

    def revoke(self, name: str) -> TokenRecord:
        """Mark a token revoked (it stays listed); revoking twice keeps the first date."""
        with self._editing() as records:
            for i, record in enumerate(records):
                if record.name == name:
                    if record.active:
                        records[i] = replace(record, revoked=_now())
                    return records[i]
            raise InvalidParameter(f"No token named '{name}' in {self.path}")
