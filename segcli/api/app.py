"""The HTTP app factory: a token's business, raw query parameters -> the engine call -> the CLI's renderers."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from segcli import __version__
from segcli.api.middleware import AccessLog
from segcli.api.schema import RESPONSES, Health, query_parameters
from segcli.engine.cache import cache_for
from segcli.engine.compute import ReportRequest
from segcli.engine.errors import InvalidParameter
from segcli.engine.params import ReportParams, check_segment_filter, parse_compare, validate_params
from segcli.engine.report import Report
from segcli.engine.service import get_report, source_from_settings
from segcli.engine.settings import Settings, load_settings
from segcli.engine.tokens import TokenFile, TokenRecord, Tokens
from segcli.render import Renderer, RenderSettings, get_renderer

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
OPTIONS_ENV = "SEGCLI_SERVE_OPTIONS"


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

    def segmentation(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> Response:
        """Customer segmentation report of the token's business."""
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
        report = get_report(settings=settings, request=report_request, source=source, cache=cache)
        check_segment_filter(params, report.names, report.codes)  # behavior's segments come from the data
        content = rendered.get(report_request, params, report, renderer)
        headers = {}
        if params.export_format is not None:
            period = report.period
            filename = f"customer-segmentation-{period.start_date}-to-{period.end_date}.{renderer.extension}"
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Response(content, media_type=renderer.media_type, headers=headers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if cache is not None:
            cache.close()

    app = FastAPI(
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
        openapi_extra={"parameters": query_parameters()},
        operation_id="customer_segmentation",
        summary="Customer segmentation report",
    )
    app.add_api_route(ENDPOINT.rstrip("/"), segmentation, methods=["GET"], include_in_schema=False)

    @app.get("/healthz", operation_id="healthz", summary="Liveness check (no token needed)")
    async def healthz() -> Health:
        return Health(status="ok")

    app.add_middleware(AccessLog, logged_params=PARAM_NAMES)
    return app


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
    """What `segcli serve` hands to each worker: the inputs of its settings, as JSON in the environment."""

    config: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    as_of: date | None = None

    def settings(self) -> Settings:
        return load_settings(self.config, columns=self.columns, **self.values)

    def to_env(self) -> str:
        as_of = self.as_of.isoformat() if self.as_of else None
        return json.dumps(
            {"config": self.config, "columns": self.columns, "values": self.values, "as_of": as_of}
        )

    @classmethod
    def from_env(cls) -> ServeOptions:
        data = json.loads(os.environ[OPTIONS_ENV])
        as_of = date.fromisoformat(data["as_of"]) if data["as_of"] else None
        return cls(data["config"], data["columns"], data["values"], as_of)


def app_from_environment() -> FastAPI:
    """The factory each uvicorn worker calls (`segcli serve --workers N`)."""
    options = ServeOptions.from_env()
    return create_app(options.settings(), as_of=options.as_of)
