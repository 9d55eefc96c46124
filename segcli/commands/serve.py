"""`segcli serve`: the segmentation endpoint over HTTP (uvicorn), or one request in-process (--get)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from segcli.commands.common import parse_as_of
from segcli.commands.groups import CacheOptions, OptionGroup, SettingsOptions, option_groups
from segcli.commands.options import TokensFileOpt
from segcli.engine.errors import InvalidParameter, SegcliError
from segcli.engine.settings import Settings

if TYPE_CHECKING:
    from segcli.api.app import ServeOptions
    from segcli.engine.tokens import Tokens


class RequestFailed(SegcliError):
    """`serve --get` got an answer other than 200 (exit status 1)."""


def log_config() -> dict[str, Any]:
    """Logging for the server: uvicorn's and segcli's messages (the access log included) on stderr."""
    logger = {"handlers": ["stderr"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
        },
        "loggers": {"uvicorn": logger, "segcli": logger},
    }


@dataclass(frozen=True)
class ServerOptions(OptionGroup):
    """Where and how the server listens, and whose tokens it accepts."""

    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Address to listen on. \\[default: 127.0.0.1]",
            envvar="SEGCLI_HOST",
            show_default=False,
        ),
    ] = None
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            "-p",
            help="Port to listen on. \\[default: 8000]",
            envvar="SEGCLI_PORT",
            show_default=False,
        ),
    ] = None
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            help="Worker processes; each opens the source once. \\[default: 1]",
            envvar="SEGCLI_WORKERS",
            show_default=False,
        ),
    ] = None
    tokens_file: TokensFileOpt = None

    def values(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "workers": self.workers,
            "tokens_file": self.tokens_file,
        }


@option_groups
def serve(
    *,
    inputs: SettingsOptions,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Pin the report date YYYY-MM-DD (demos, checks). \\[default: today in --timezone, per request]",
            envvar="SEGCLI_AS_OF",
            show_default=False,
        ),
    ] = None,
    server: ServerOptions,
    get: Annotated[
        str | None,
        typer.Option(
            "--get",
            help="Run one GET request in-process (no server), print the body; exit 0 on HTTP 200, else 1.",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="With --get: send this token (checked against the token file). "
            "Without it --get is trusted to read --business-id.",
            envvar="SEGCLI_TOKEN",
            show_default=False,
        ),
    ] = None,
    cache: CacheOptions,
) -> None:
    """Serve GET /api/reports/customers/segmentation/ (the existing API's contract) with uvicorn."""
    from segcli.api.app import ServeOptions

    values = {**inputs.values(), **server.values(), **cache.values()}
    options = ServeOptions(inputs.config, inputs.columns(), values, parse_as_of(as_of))
    settings = options.settings()
    if get is not None:
        get_once(settings, options, get, token)
    else:
        run_server(settings, options)


def get_once(settings: Settings, options: ServeOptions, target: str, token: str | None) -> None:
    """One request through the whole app, in this process."""
    from segcli.api import local
    from segcli.api.app import create_app
    from segcli.engine.tokens import one_time

    provider: Callable[[], Tokens] | None = None  # None: the token file
    if token is None:
        token, trusted = one_time(settings.business_id)

        def provider() -> Tokens:
            return trusted

    app = create_app(settings, as_of=options.as_of, tokens=provider)
    status, body = local.get(app, target, {"Authorization": f"Bearer {token}"})
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
    if status != 200:
        raise RequestFailed(f"GET {target}: HTTP {status}")


def probe_listen(host: str, port: int) -> None:
    """Bind the address once, as uvicorn will, so a busy port fails with one line before it starts."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise SegcliError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def run_server(settings: Settings, options: ServeOptions) -> None:
    """Open everything once here (so a bad source fails with one line), then hand over to uvicorn."""
    import uvicorn

    from segcli.api.app import OPTIONS_ENV, create_app, options_file
    from segcli.engine.service import source_from_settings
    from segcli.engine.sources.pg_catalog import redact
    from segcli.engine.tokens import TokenFile

    if settings.workers < 1:
        raise InvalidParameter("Invalid workers. Must be an integer of at least 1")
    if not 1 <= settings.port <= 65535:
        raise InvalidParameter("Invalid port. Must be an integer between 1 and 65535")
    # a wrong password or an unreachable source fails here, not per request
    source_from_settings(settings).columns()
    app = create_app(settings, as_of=options.as_of)
    tokens_path = settings.resolved_tokens_file
    active = sum(r.active for r in TokenFile(tokens_path).current().records)
    probe_listen(settings.host, settings.port)
    when = options.as_of.isoformat() if options.as_of else f"today in {settings.timezone}"
    print(
        f"segcli serve: source {redact(settings.source or '')}, as of {when}, {active} active token(s) in {tokens_path}",
        file=sys.stderr,
    )
    if not active:
        print(
            "segcli serve: every request will get 401; create a token: segcli token create --business-id N",
            file=sys.stderr,
        )
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": log_config(),
        "access_log": False,  # uvicorn's access line holds the query string; segcli.access logs instead
        "server_header": False,
    }
    if settings.workers == 1:
        uvicorn.run(app, **common)
    else:
        with options_file(options) as path:  # the workers read it; a password never enters an environment
            os.environ[OPTIONS_ENV] = path
            uvicorn.run(
                "segcli.api.app:app_from_environment", factory=True, workers=settings.workers, **common
            )
