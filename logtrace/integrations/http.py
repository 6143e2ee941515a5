"""HTTP: context into outgoing requests (httpx, requests), out of incoming ones (WSGI, ASGI).

Clients: each request gets a client span (``GET /path``; ``http_method``, ``http_url`` without
query or credentials, ``http_status``) and carries its ``traceparent``, so the server's span is
its child. The span is an error when the request fails or the status is 4xx/5xx.

Servers: the middleware extracts ``traceparent``/``tracestate``/``baggage`` and runs the
request inside a server span (``GET /path``; ``http_method``, ``http_path``, ``http_status``,
``http_route`` when the framework names one), an error when the app raises or answers 5xx.
A malformed ``traceparent`` starts a new trace and writes a ``logtrace.bad_traceparent`` line.

httpx and requests are imported when a client helper is first called; the middleware needs
neither. Without any helper, ``headers=logtrace.inject({})`` works with every client.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from logtrace.format import fields as f
from logtrace.write.context import SpanContext, reset_span, set_span
from logtrace.write.propagation import BAGGAGE, TRACEPARENT, TRACESTATE, inject
from logtrace.write.span import Span, span

if TYPE_CHECKING:
    import httpx
    import requests
    from requests.adapters import HTTPAdapter

SpanName = Callable[[str, str], str]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HEADERS = (TRACEPARENT, TRACESTATE, BAGGAGE)
_HEADER_BYTES = frozenset(h.encode() for h in _HEADERS)
_WSGI_KEYS = {"HTTP_" + h.upper(): h for h in _HEADERS}


def _default_name(method: str, path: str) -> str:
    return f"{method} {path}"


def _safe_url(url: str) -> tuple[str, str]:
    """The URL without query, fragment and credentials (they may hold secrets), and its path."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"  # an IPv6 address: its brackets keep the port apart
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
        path = parts.path or "/"
        return urlunsplit((parts.scheme, netloc, path, "", "")), path
    except Exception:
        return "<unparsable url>", "/"


def _client_span(method: str, url: str) -> Span:
    safe, path = _safe_url(url)
    return span(f"{method} {path}", kind="client", http_method=method, http_url=safe)


def _client_status(s: Span, status: int) -> None:
    s.set(http_status=status)
    if status >= 400:
        s.set_status(f.STATUS_ERROR, f"HTTP {status}")


def _server_status(s: Span, status: int) -> None:
    s.set(http_status=status)
    if status >= 500:
        s.set_status(f.STATUS_ERROR, f"HTTP {status}")


# -- clients ----------------------------------------------------------------------------------


@functools.cache
def _httpx_transports() -> tuple[type[httpx.BaseTransport], type[httpx.AsyncBaseTransport]]:
    import httpx

    class TracingTransport(httpx.BaseTransport):
        """Wraps a transport: a client span per request, its ``traceparent`` in the headers."""

        def __init__(self, transport: httpx.BaseTransport, spans: bool) -> None:
            self.transport = transport
            self.spans = spans

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if not self.spans:
                inject(request.headers)
                return self.transport.handle_request(request)
            with _client_span(request.method, str(request.url)) as s:
                inject(request.headers)
                response = self.transport.handle_request(request)
                _client_status(s, response.status_code)
                return response

        def close(self) -> None:
            self.transport.close()

    class AsyncTracingTransport(httpx.AsyncBaseTransport):
        """Wraps an async transport: a client span per request, its ``traceparent`` sent."""

        def __init__(self, transport: httpx.AsyncBaseTransport, spans: bool) -> None:
            self.transport = transport
            self.spans = spans

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if not self.spans:
                inject(request.headers)
                return await self.transport.handle_async_request(request)
            async with _client_span(request.method, str(request.url)) as s:
                inject(request.headers)
                response = await self.transport.handle_async_request(request)
                _client_status(s, response.status_code)
                return response

        async def aclose(self) -> None:
            await self.transport.aclose()

    return TracingTransport, AsyncTracingTransport


def httpx_transport(
    transport: httpx.BaseTransport | None = None, *, spans: bool = True
) -> httpx.BaseTransport:
    """An httpx transport that traces each request: ``httpx.Client(transport=...)``.

    Args:
        transport: the transport to wrap (default ``httpx.HTTPTransport()``).
        spans: open a client span per request; ``False`` only injects the current context.
    """
    import httpx

    cls = _httpx_transports()[0]
    return cls(transport if transport is not None else httpx.HTTPTransport(), spans)  # type: ignore[call-arg]


def httpx_async_transport(
    transport: httpx.AsyncBaseTransport | None = None, *, spans: bool = True
) -> httpx.AsyncBaseTransport:
    """An async httpx transport that traces each request: ``httpx.AsyncClient(transport=...)``.

    Args:
        transport: the transport to wrap (default ``httpx.AsyncHTTPTransport()``).
        spans: open a client span per request; ``False`` only injects the current context.
    """
    import httpx

    cls = _httpx_transports()[1]
    return cls(transport if transport is not None else httpx.AsyncHTTPTransport(), spans)  # type: ignore[call-arg]


@functools.cache
def _requests_adapter_class() -> type[HTTPAdapter]:
    from requests.adapters import HTTPAdapter

    class TracingAdapter(HTTPAdapter):
        """A requests adapter: a client span per request, its ``traceparent`` in the headers."""

        def __init__(self, *args: Any, spans: bool = True, **kwargs: Any) -> None:
            self.spans = spans
            super().__init__(*args, **kwargs)

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            if not self.spans:
                inject(request.headers)
                return super().send(request, *args, **kwargs)
            with _client_span(str(request.method), str(request.url)) as s:
                inject(request.headers)
                response = super().send(request, *args, **kwargs)
                _client_status(s, int(response.status_code))
                return response

    return TracingAdapter


def requests_adapter(*, spans: bool = True, **kwargs: Any) -> HTTPAdapter:
    """A ``requests`` adapter that traces each request (``HTTPAdapter`` arguments pass through).

    ``session.mount("https://", logtrace.requests_adapter(max_retries=3))``.
    """
    return _requests_adapter_class()(spans=spans, **kwargs)  # type: ignore[call-arg]


def requests_session(
    session: requests.Session | None = None, *, spans: bool = True
) -> requests.Session:
    """``session`` (a new ``requests.Session`` by default) tracing every http(s) request."""
    if session is None:
        import requests

        session = requests.Session()
    session.mount("http://", requests_adapter(spans=spans))
    session.mount("https://", requests_adapter(spans=spans))
    return session


# -- servers ----------------------------------------------------------------------------------


class WSGIMiddleware:
    """WSGI middleware: each request runs in a server span continuing the caller's trace.

    ``app = logtrace.WSGIMiddleware(app)``. The span ends when the server closes the response
    body, so streamed bodies are inside it.

    Args:
        app: the WSGI application.
        span_name: ``(method, path) -> name`` of the span; default ``"GET /path"``. Give one
            that maps paths to routes when paths hold ids (``/items/{id}``).
    """

    def __init__(self, app: WSGIApp, *, span_name: SpanName | None = None) -> None:
        self.app = app
        self.span_name = span_name or _default_name

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        carrier = {h: environ[k] for k, h in _WSGI_KEYS.items() if k in environ}
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")) or "/"
        s = span(
            self.span_name(method, path),
            parent=carrier or None,
            kind="server",
            http_method=method,
            http_path=path,
        )
        s.open()
        ctx = s.context

        def traced_start_response(status: str, headers: Any, *exc_info: Any) -> Any:
            with contextlib.suppress(ValueError, TypeError):
                _server_status(s, int(str(status).split(" ", 1)[0]))
            return start_response(status, headers, *exc_info)

        token = set_span(ctx)
        try:
            body = self.app(environ, traced_start_response)
        except BaseException as exc:
            s.end(exc)
            raise
        finally:
            reset_span(token)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            return _file_body(body, s, ctx)
        if hasattr(body, "__len__"):
            return _SizedTracedBody(body, s, ctx)
        return _TracedBody(body, s, ctx)


def _file_body(body: Iterable[bytes], s: Span, ctx: SpanContext | None) -> Iterable[bytes]:
    """A ``wsgi.file_wrapper`` body, itself (so the server still sends it as a file), its
    ``close`` ending the span; wrapped as any body when its ``close`` cannot be replaced."""
    close = getattr(body, "close", None)

    def traced_close() -> None:
        token = set_span(ctx)
        try:
            if close is not None:
                close()
        finally:
            reset_span(token)
            s.end()

    try:
        body.close = traced_close  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        return _TracedBody(body, s, ctx)
    return body


class _TracedBody:
    """A WSGI response body that runs in its request's context and ends its span on close."""

    def __init__(self, body: Iterable[bytes], span: Span, ctx: SpanContext | None) -> None:
        self.body = body
        self.span = span
        self.ctx = ctx

    def __iter__(self) -> Iterator[bytes]:
        token = set_span(self.ctx)
        try:
            chunks = iter(self.body)
        finally:
            reset_span(token)
        while True:
            token = set_span(self.ctx)
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except BaseException as exc:
                self.span.record_exception(exc)
                raise
            finally:
                reset_span(token)
            yield chunk

    def close(self) -> None:
        token = set_span(self.ctx)
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            reset_span(token)
            self.span.end()


class _SizedTracedBody(_TracedBody):
    """A traced body whose body has a ``len()``: it keeps it, so a server that sets
    ``Content-Length`` for a one-chunk body (wsgiref) still does."""

    def __len__(self) -> int:
        return len(self.body)  # type: ignore[arg-type]


def _asgi_carrier(scope: Scope) -> dict[str, list[bytes]]:
    """The trace headers of an ASGI scope; a header list a server got wrong (``str`` values,
    a pair that is not one) gives none of its malformed headers, never an error: the app
    still runs, in a new trace."""
    carrier: dict[str, list[bytes]] = {}
    try:
        headers = scope.get("headers") or ()
        for header in headers:
            try:
                name, value = header
                key = _header_bytes(name).lower()
                if key in _HEADER_BYTES:
                    carrier.setdefault(key.decode(), []).append(_header_bytes(value))
            except (TypeError, ValueError):
                continue
    except Exception:
        return {}
    return carrier


def _header_bytes(value: Any) -> bytes:
    """A header's name or value as bytes (ASGI's); ``str`` (a server's mistake) as latin-1."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("latin-1")
    raise TypeError("not a header")


class ASGIMiddleware:
    """ASGI middleware: each HTTP request runs in a server span continuing the caller's trace.

    ``app = logtrace.ASGIMiddleware(app)``; other scopes (lifespan, websocket) pass through.
    When the framework leaves a route with a ``path`` in the scope (Starlette, FastAPI), the
    span gets ``http_route`` and, unless ``span_name`` is given, is named by it at its end:
    ``GET /order/{n}``, not ``GET /order/57``.

    Args:
        app: the ASGI application.
        span_name: ``(method, path) -> name`` of the span; default ``"GET /path"``, renamed
            ``"GET /route"`` when the route is known.
    """

    def __init__(self, app: ASGIApp, *, span_name: SpanName | None = None) -> None:
        self.app = app
        self.span_name = span_name or _default_name
        self._by_route = span_name is None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        carrier = _asgi_carrier(scope)
        method = str(scope.get("method", "GET"))
        path = str(scope.get("path", "")) or "/"
        root_path = scope.get("root_path", "")
        async with span(
            self.span_name(method, path),
            parent=carrier or None,
            kind="server",
            http_method=method,
            http_path=path,
        ) as s:

            async def traced_send(message: Message) -> None:
                if message.get("type") == "http.response.start":
                    with contextlib.suppress(KeyError, ValueError, TypeError):
                        _server_status(s, int(message["status"]))
                await send(message)

            try:
                await self.app(scope, receive, traced_send)
            finally:
                self._routed(s, scope, method, root_path)

    def _routed(self, s: Span, scope: Scope, method: str, root_path: Any) -> None:
        """Note the route the framework chose, and name the span by it (at its end, as
        OpenTelemetry's instrumentations do: it is known only once the request was routed).

        Under a mounted app (Starlette's ``Mount``, FastAPI's ``app.mount("/v1", v1)``) the
        route is relative to its mount, whose path the router added to ``root_path``: the
        template is that prefix, then the route (``/v1/items/{i}``, not ``/items/{i}``).
        """
        route = getattr(scope.get("route"), "path", None)
        if isinstance(route, str):
            mounted = scope.get("root_path", "")
            if (
                isinstance(mounted, str)
                and isinstance(root_path, str)
                and mounted.startswith(root_path)
            ):
                route = mounted[len(root_path) :].rstrip("/") + route
            s.set(http_route=route)
            if self._by_route:
                s.rename(f"{method} {route}")
