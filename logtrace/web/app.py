"""The Starlette application of ``logtrace ui``: pages, their JSON endpoints, the live stream.

Pages are one template filled with a page's body (:mod:`logtrace.web.pages`; HTML,
hand-written JS and CSS in ``logtrace/web/static/``, nothing from elsewhere); each page's
script asks the JSON endpoint behind it and puts every value in the page as text. The
endpoints (all ``GET``, read-only; see ``docs/web.md``):

====================================  ===========================================================
``/api/traces?since=&status=&q=…``    the Traces page: newest traces passing the filters
``/api/trace/{id}``                   the Trace page: summary, spans in tree order, log lines
``/api/trace/{id}/critical-path``     the critical path of a trace (``reader.critical_path``)
``/api/operations?since=…``           per span name: count, error rate, p50/p95/p99
``/api/operations/{name}/histogram``  one span name's latency histogram
``/api/operations/{name}/timeseries`` one span name's count, error rate, p50/p95 over time
``/api/compare?a=&b=``                two traces (or windows / values) side by side
``/api/live?service=&trace=``         server-sent events: spans in flight, then new lines
``/api/sql`` (POST, ``--allow-sql``)  SQL over the views, as ``logtrace sql``
====================================  ===========================================================

Errors are ``{"error": "one line"}`` with 400 (bad input: a value the CLI would refuse, or a
parameter the endpoint does not take), 404 (no such trace, no such endpoint), 405 (a method the
endpoint does not serve) or 501 (an analysis this logtrace does not have).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any

import anyio
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from logtrace.format.shown import short_repr

from ..read.files import ReadError
from ..read.reader import TraceNotFound
from ..read.trace import normalize_trace_id
from . import analytics, data, live
from .guard import Guard
from .pages import PAGES, Page, render, static_dir
from .source import Source, reading

_JSON = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


class JSONResponse(Response):
    """JSON by orjson: times as ISO 8601 UTC with ``Z``, NaN as null, anything else as text."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def create_app(
    directory: str, *, token: str | None = None, allow_sql: bool = False
) -> Callable[..., Any]:
    """The ASGI application over the files of ``directory``.

    Args:
        directory: a log directory, file or glob, as for ``logtrace.open``.
        token: required on every request when given (see :mod:`logtrace.web.guard`).
        allow_sql: serve ``POST /api/sql``; without it the endpoint answers 403.
    """
    handlers = _Handlers(directory, allow_sql)
    app = Starlette(
        routes=_routes(handlers),
        lifespan=handlers.lifespan,
        exception_handlers={HTTPException: _http_error},
    )
    return Guard(app, token)


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's own 404 and 405: under ``/api`` as every endpoint's errors are, one line of
    JSON saying what to do; elsewhere its plain text."""
    assert isinstance(error, HTTPException)
    path = request.url.path
    if not path.startswith("/api"):
        return PlainTextResponse(error.detail, status_code=error.status_code, headers=error.headers)
    shown = path if len(path) <= 200 else path[:200] + "…"
    if error.status_code == 405:
        message = f"{request.method} is not served at {shown}: see GET /api"
    elif error.status_code == 404:
        message = f"no endpoint {shown}: GET /api lists them"
    else:
        message = str(error.detail)
    return JSONResponse({"error": message}, status_code=error.status_code, headers=error.headers)


def _routes(h: _Handlers) -> list[BaseRoute]:
    """Every page and endpoint (the table in the module's docstring)."""
    source, endpoint, q = h.source, h.endpoint, _query

    def trace_id(request: Request) -> str:
        return str(request.path_params["trace_id"])

    def name(request: Request) -> str:
        return str(request.path_params["name"])

    return [
        *(Route(path, _page(which)) for path, which in PAGES.items()),
        Route("/api", endpoint(lambda r: api_index(h.allow_sql))),
        Route(
            "/api/traces",
            endpoint(
                lambda r: data.list_traces(source, q(r)),
                lambda r: _list_key(q(r)),
                data.TRACES_PARAMS,
            ),
        ),
        Route(
            "/api/trace/{trace_id}",
            endpoint(
                lambda r: data.trace_detail(source, trace_id(r)),
                lambda r: ("trace", trace_id(r).lower()),
            ),
        ),
        Route(
            "/api/trace/{trace_id}/critical-path",
            endpoint(
                lambda r: analytics.critical_path(source, trace_id(r)),
                lambda r: ("critical-path", trace_id(r).lower()),
            ),
        ),
        Route(
            "/api/operations",
            endpoint(lambda r: data.operations(source, q(r)), params=data.OPERATIONS_PARAMS),
        ),
        Route(
            "/api/operations/{name:path}/histogram",
            endpoint(lambda r: data.histogram(source, name(r), q(r)), params=data.HISTOGRAM_PARAMS),
        ),
        Route(
            "/api/operations/{name:path}/timeseries",
            endpoint(
                lambda r: analytics.timeseries(source, name(r), q(r)),
                params=analytics.TIMESERIES_PARAMS,
            ),
        ),
        Route(
            "/api/compare",
            endpoint(lambda r: analytics.compare(source, q(r)), params=analytics.COMPARE_PARAMS),
        ),
        Route("/api/live", h.live_stream),
        Route("/api/sql", h.sql_endpoint, methods=["POST"]),
        Mount("/static", StaticFiles(directory=static_dir()), name="static"),
    ]


class _Handlers:
    """What the application's requests share: the files (a :class:`Source`), whether SQL is
    allowed, and whether the server is stopping (open live streams then end)."""

    def __init__(self, directory: str, allow_sql: bool) -> None:
        self.directory = directory
        self.allow_sql = allow_sql
        self.source = Source(directory)
        self.stopping = False

    def endpoint(
        self,
        action: Callable[[Request], Any],
        kept: Callable[[Request], Hashable] | None = None,
        params: tuple[str, ...] = (),
    ) -> Callable[[Request], Awaitable[Response]]:
        """The JSON of ``action``; with ``kept`` (the question, as a key) the bytes are kept
        while the files are unchanged (see :mod:`logtrace.web.source`). ``params``: the
        query parameters it takes; any other is a 400."""
        source = self.source

        def answer(request: Request) -> bytes:
            _check_names(request, params)
            if kept is None:
                return dumps(action(request))
            return source.answer(kept(request), lambda: dumps(action(request)))

        async def handle(request: Request) -> Response:
            try:
                body = await anyio.to_thread.run_sync(answer, request)
                return Response(body, media_type="application/json")
            except TraceNotFound as error:
                return JSONResponse({"error": str(error)}, status_code=404)
            except analytics.Unavailable as error:
                return JSONResponse({"error": str(error)}, status_code=501)
            except ReadError as error:
                return JSONResponse({"error": str(error)}, status_code=400)

        return handle

    async def live_stream(self, request: Request) -> Response:
        trace = request.query_params.get("trace") or None
        try:
            _check_names(request, live.PARAMS)
            trace = None if trace is None else normalize_trace_id(trace)
        except ReadError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        wanted = live.line_filter(request.query_params.get("service") or None, trace)
        events = live.stream(self.directory, wanted, request.is_disconnected, lambda: self.stopping)
        headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)

    def sql(self, body: bytes) -> Any:
        try:
            given = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ReadError('give a JSON body: {"sql": "select …"}') from None
        if not isinstance(given, dict) or not isinstance(given.get("sql"), str):
            raise ReadError('give a JSON body: {"sql": "select …"}')
        params = given.get("params") or {}
        with reading(self.source) as reader:
            return {"rows": reader.execute(given["sql"], params)}

    async def sql_endpoint(self, request: Request) -> Response:
        refusal = _sql_refusal(request, self.allow_sql)
        if refusal is not None:
            return JSONResponse({"error": refusal}, status_code=403)
        body = await request.body()
        return await self.endpoint(lambda r: self.sql(body))(request)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # The Reader opens while the user's browser starts, not on the first page's request.
        threading.Thread(target=self.source.warm, name="logtrace-ui-warm", daemon=True).start()
        yield
        self.stopping = True  # open live streams end, so the server can stop
        self.source.close()


def _page(which: Page) -> Callable[[Request], Any]:
    async def serve(request: Request) -> Response:
        html = render(which, request.query_params)
        return HTMLResponse(html, headers={"cache-control": "no-cache"})

    return serve


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _check_names(request: Request, params: tuple[str, ...]) -> None:
    """Refuse a parameter the endpoint does not take, as the CLI refuses an unknown option:
    a misspelt filter (``stauts=error``) must not answer as if none were given."""
    unknown = [name for name in request.query_params if name not in params]
    if unknown:
        takes = f"give {', '.join(params)}" if params else "it takes no parameters"
        raise ReadError(f"{request.url.path}: unknown parameter {short_repr(unknown[0])}; {takes}")


def dumps(content: Any) -> bytes:
    """JSON by orjson, as :class:`JSONResponse` renders it."""
    return orjson.dumps(content, option=_JSON, default=str)


def _list_key(query: dict[str, str]) -> Hashable:
    """The trace list's question with its times resolved: ``since=1h`` (a time that moves)
    never asks the same twice; a bad filter raises here, as the list itself would."""
    search = data.trace_query(query)
    return ("traces", repr(sorted(search.params.items())), search.limit)


def _sql_refusal(request: Request, allow_sql: bool) -> str | None:
    """Why a POST /api/sql is refused, or None: started without --allow-sql, a body that is
    not JSON (a form of another site could send one), or another site's Origin."""
    if not allow_sql:
        return "SQL from the page is off: start logtrace ui with --allow-sql"
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return "send the SQL as application/json"
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host')}":
        return "SQL only from the page itself"
    return None


def api_index(allow_sql: bool) -> dict[str, Any]:
    """``GET /api``: the endpoints, what each gives (as in docs/web.md)."""
    return {
        "endpoints": {
            "/api/traces": "newest traces; filters since, until, service, name, status, kind, "
            "min_duration, attr (KEY=VALUE), text, q (trace id prefix), limit",
            "/api/trace/{id}": "one trace: trace (summary), spans (tree order), logs, files",
            "/api/trace/{id}/critical-path": "the spans and parts of spans on the critical path",
            "/api/operations": "per span name: count, errors, error_rate, p50/p95/p99/max (ms)",
            "/api/operations/{name}/histogram": "latency buckets of one span name",
            "/api/operations/{name}/timeseries": "count, error rate, p50/p95 per time bucket",
            "/api/compare": "a and b: two trace ids; or by (an attribute) and a, b (its values);"
            " or windows a_since, a_until, b_since, b_until; with name, service, threshold_pct,"
            " alpha, min_samples",
            "/api/live": "text/event-stream: inflight (spans started, not ended), then line;"
            " filters service, trace (8+ hex digits)",
            "/api/sql": "POST {sql, params}: rows" + ("" if allow_sql else " (off: --allow-sql)"),
        }
    }
