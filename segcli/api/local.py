"""One GET request to an ASGI app inside this process (for `segcli serve --get`): no server, no socket."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from starlette.applications import Starlette
from starlette.types import Message


async def _call(app: Starlette, target: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
    parts = urlsplit(target)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(parts.path),
        "raw_path": quote(parts.path, safe="/%").encode("ascii"),
        "query_string": quote(parts.query, safe="=&+%;").encode("ascii"),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    requested = False
    status = 500
    body: list[bytes] = []

    async def receive() -> Message:
        nonlocal requested
        if requested:  # a client that stays connected until the response is complete
            await asyncio.Future()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    return status, b"".join(body)


def get(app: Starlette, target: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
    """GET `target` (a path with an optional query string) from `app`, inside its lifespan; status and body."""
    if not target.startswith("/"):
        target = "/" + target
    return asyncio.run(_call(app, target, headers))
