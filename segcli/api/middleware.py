"""The outermost layer of the app: one access log line per request, and the generic 500."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segcli.engine.errors import SegcliError

access_log = logging.getLogger("segcli.access")
error_log = logging.getLogger("segcli.error")
INTERNAL_ERROR_BODY = {"success": False, "error": "Internal server error"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """A value for a log line: control characters as \\xNN escapes, so no value can start a new line."""
    return _CONTROL.sub(_escaped, str(value))


def loggable_target(scope: Scope, logged_params: tuple[str, ...]) -> str:
    """The request path with only the named query parameters (so a token in the query never reaches a log)."""
    kept = [
        (k, v)
        for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if k in logged_params
    ]
    path: str = scope["path"]
    return printable(path + ("?" + urlencode(kept) if kept else ""))


class AccessLog:
    """Log method, path, status, duration (and the token's name, never the token); turn a crash into a 500."""

    def __init__(self, app: ASGIApp, logged_params: tuple[str, ...]) -> None:
        self.app = app
        self.logged_params = logged_params

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500
        response_started = False

        async def send_logged(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
            await send(message)

        target = loggable_target(scope, self.logged_params)
        method = printable(scope["method"])
        try:
            await self.app(scope, receive, send_logged)
        except Exception as exc:
            if isinstance(exc, SegcliError):  # its one-line message says what is wrong
                error_log.error("%s %s failed: %s: %s", method, target, type(exc).__name__, printable(exc))
            else:
                error_log.exception("%s %s failed", method, target)
            if response_started:
                raise
            status = 500
            await send_json(send, 500, INTERNAL_ERROR_BODY)
        finally:
            ms = (time.perf_counter() - started) * 1000
            who = (
                f" business={state['business_id']} token={printable(state['token_name'])}"
                if "token_name" in state
                else ""
            )
            access_log.info("%s %s %d %.1fms%s", method, target, status, ms, who)


async def send_json(send: Send, status: int, body: Any) -> None:
    content = json.dumps(body).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
