"""The HTTP app factory: a token's business, raw query parameters -> the engine call -> the CLI's renderers."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline

from segcli import __version__
from segcli.api.middleware import AccessLog
from segcli.api.schema import RESPONSES, Health, query_parameters
from segcli.engine.cache import cache_for
from segcli.engine.compute import ReportRequest
from segcli.engine.errors import InvalidParameter, SegcliError
from segcli.engine.methods import registered
from segcli.engine.params import ReportParams, check_segment_filter, parse_compare, validate_params
from segcli.engine.report import Report
from segcli.engine.service import cached_report, get_report, source_from_settings
from segcli.engine.settings import Settings, load_settings
from segcli.engine.sources import Source
from segcli.engine.tokens import TokenFile, TokenRecord, Tokens
from segcli.render import Renderer, RenderSettings, get_renderer

if TYPE_CHECKING:
    from segcli.engine.methods.base import Method

ENDPOINT = "/api/reports/customers/segmentation/"
PARAM_NAMES = (
    "segmentation_method",
    "days",
    "storefront_id",
    "segment_name",
    "segment_code",
    "export_format",
    "compare",
)
NOT_PROVIDED = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token."
OPTIONS_ENV = "SEGCLI_SERVE_OPTIONS_FILE"  # the path of the workers' options, never the options
COLD_THREADS = 8  # threads of a worker that compute reports (or wait for one); cache hits use the others


def create_app(
    settings: Settings,
    *,
    as_of: date | None = None,
    tokens: Callable[[], Tokens] | None = None,
) -> FastAPI:
    """The app for one worker: opens the source and the report cache once; every request reads current data.

    `as_of` pins the report date (default: today in the settings' time zone, per request);
    `tokens` gives the current tokens (default: the token file, re-read when it changes).
    """
    source = source_from_settings(settings) if settings.engine == "duckdb" else None  # Spark opens its own
    cache = (
        cache_for(settings, warn=logging.getLogger("segcli.cache").warning) if settings.use_cache else None
    )
    current_tokens = tokens if tokens is not None else TokenFile(settings.resolved_tokens_file).current
    rendered = RenderedResponses()
    render_settings = RenderSettings.from_environ(os.environ, to_terminal=False)
    bearer = HTTPBearer(auto_error=False, description="A token made by `segcli token create`.")

    def authenticate(credentials: HTTPAuthorizationCredentials | None) -> TokenRecord:
        if credentials is None:
            raise HTTPException(401, NOT_PROVIDED, headers={"WWW-Authenticate": "Bearer"})
        record = current_tokens().lookup(credentials.credentials)
        if record is None:
            raise HTTPException(401, INVALID_TOKEN, headers={"WWW-Authenticate": "Bearer"})
        return record

    def answer(
        request: Request, credentials: HTTPAuthorizationCredentials | None, cold: bool
    ) -> Response | None:
        """The response; with `cold` False only from the cache (None on a miss), so it never waits for a lock."""
        if len(request.headers.getlist("authorization")) > 1:  # which one counts is ambiguous: neither
            raise HTTPException(401, INVALID_TOKEN, headers={"WWW-Authenticate": "Bearer"})
        record = authenticate(credentials)  # before the parameters: a bad parameter without a token is 401
        request.state.business_id, request.state.token_name = record.business_id, record.name
        # unknown parameters are ignored; a repeated one counts by its last value
        query = request.query_params
        params = validate_params(
            segmentation_method=query.get("segmentation_method"),
            days=query.get("days"),
            storefront_id=query.get("storefront_id"),
            segment_name=query.get("segment_name"),
            segment_code=query.get("segment_code"),
            export_format=query.get("export_format"),
            tables=settings.tables,
        )
        compare = parse_compare(query.get("compare"))
        renderer = get_renderer(params.export_format or "json", render_settings)
        report_request = ReportRequest.from_params(
            params, business_id=record.business_id, as_of=as_of, timezone=settings.timezone, compare=compare
        )
        if cold:
            report = get_report(settings=settings, request=report_request, source=source, cache=cache)
        else:
            cached = cached_report(settings=settings, request=report_request, source=source, cache=cache)
            if cached is None:
                return None
            report = cached
        check_segment_filter(params, report.names, report.codes)  # behavior's segments come from the data
        content = rendered.get(report_request, params, report, renderer)
        headers = {}
        if params.export_format is not None:
            period = report.period
            filename = f"customer-segmentation-{period.start_date}-to-{period.end_date}.{renderer.extension}"
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Response(content, media_type=renderer.media_type, headers=headers)

    cold_threads = anyio.CapacityLimiter(COLD_THREADS)

    async def segmentation(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> Response:
        """Customer segmentation report of the token's business."""
        # cached reports are answered by the shared thread pool; computations (and waits for another
        # process's computation of the same key) queue for their own few threads, so they never starve it
        if cache is not None:
            hot = await run_in_threadpool(answer, request, credentials, False)
            if hot is not None:
                return hot
        response = await anyio.to_thread.run_sync(answer, request, credentials, True, limiter=cold_threads)
        assert response is not None
        return response

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if cache is not None:
            cache.close()

    # Swagger UI and ReDoc from assets shipped in fastapi-offline: /docs works without a CDN
    app = FastAPIOffline(
        lifespan=lifespan,
        title="segcli",
        version=__version__,
        description="Customer segmentation reports (RFM, value, behaviour) of the token's business.",
    )

    @app.exception_handler(InvalidParameter)
    def invalid_parameter(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"success": False, "error": str(exc)}, status_code=400)

    app.add_api_route(
        ENDPOINT,
        segmentation,
        methods=["GET"],
        response_class=Response,
        responses=RESPONSES,
        openapi_extra={"parameters": query_parameters(settings.tables, served_methods(source))},
        operation_id="customer_segmentation",
        summary="Customer segmentation report",
    )
    app.add_api_route(ENDPOINT.rstrip("/"), segmentation, methods=["GET"], include_in_schema=False)

    @app.get("/healthz", operation_id="healthz", summary="Liveness check (no token needed)")
    async def healthz() -> Health:
        return Health(status="ok")

    app.add_middleware(AccessLog, logged_params=PARAM_NAMES)
    return app


def served_methods(source: Source | None) -> tuple[str, ...]:
    """The registered methods the source can answer (e.g. not one that needs sale items the source lacks)."""
    return tuple(m.name for m in registered() if source is None or _serves(m, source))


def _serves(method: Method, source: Source) -> bool:
    try:
        method.check_source(source)
    except InvalidParameter:
        return False
    except SegcliError:  # the source's own error shows on the first request
        return True
    return True


class RenderedResponses:
    """The bytes of recent responses, reused while the cache hands back the very same report object."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], tuple[Report, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, request: ReportRequest, params: ReportParams, report: Report, renderer: Renderer) -> bytes:
        key = (request, params, renderer.media_type)
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] is report:
            return entry[1]
        out = io.BytesIO()
        renderer.write(report, params, out)
        content = out.getvalue()
        with self._lock:
            self._entries[key] = (report, content)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return content


@dataclass(frozen=True)
class ServeOptions:
    """What `segcli serve` hands to each worker: the inputs of its settings, as JSON in a private file."""

    config: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    as_of: date | None = None

    def settings(self) -> Settings:
        return load_settings(self.config, columns=self.columns, **self.values)

    def to_json(self) -> str:
        as_of = self.as_of.isoformat() if self.as_of else None
        return json.dumps(
            {"config": self.config, "columns": self.columns, "values": self.values, "as_of": as_of}
        )

    @classmethod
    def from_json(cls, text: str) -> ServeOptions:
        data = json.loads(text)
        as_of = date.fromisoformat(data["as_of"]) if data["as_of"] else None
        return cls(data["config"], data["columns"], data["values"], as_of)


@contextmanager
def options_file(options: ServeOptions) -> Iterator[str]:
    """The options in a 0600 file of a fresh 0700 folder (they may hold a password), removed on exit."""
    folder = tempfile.mkdtemp(prefix="segcli-serve-")
    path = os.path.join(folder, "options.json")
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(options.to_json())
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def app_from_environment() -> FastAPI:
    """The factory each uvicorn worker calls (`segcli serve --workers N`): options from the file the env names."""
    with open(os.environ[OPTIONS_ENV], encoding="utf-8") as handle:
        options = ServeOptions.from_json(handle.read())
    return create_app(options.settings(), as_of=options.as_of)
