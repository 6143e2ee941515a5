"""HTTP: httpx/requests clients inject, WSGI/ASGI middleware extract, against real local servers."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

import pytest

httpx = pytest.importorskip("httpx")
requests = pytest.importorskip("requests")
uvicorn = pytest.importorskip("uvicorn")

from _core_fixtures import traced_dir  # noqa: E402

import logtrace  # noqa: E402
from logtrace import testing  # noqa: E402
from logtrace.integrations.http import (  # noqa: E402
    ASGIMiddleware,
    WSGIMiddleware,
    _safe_url,
    httpx_async_transport,
    httpx_transport,
    requests_session,
)

__all__ = ["traced_dir"]
pytestmark = pytest.mark.usefixtures("traced_dir")  # the stdlib bridge, for the apps' logs

TIMEOUT = 10.0
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
log = logging.getLogger("app")


# -- the apps: /ok (a streamed body), /fail (503), /missing (404), /boom (raises) ---------------


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A plain WSGI app that logs inside the request."""
    path = environ["PATH_INFO"]
    log.warning("handling %s", path)
    if path == "/boom":
        raise RuntimeError("boom")
    status = {"/ok": "200 OK", "/fail": "503 Service Unavailable"}.get(path, "404 Not Found")
    start_response(status, [("Content-Type", "text/plain")])

    def body() -> Iterator[bytes]:
        log.warning("streaming")
        yield b"hello"

    return body()


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A raw ASGI app that logs inside the request."""
    path = scope["path"]
    log.warning("handling %s", path)
    if path == "/boom":
        raise RuntimeError("boom")
    status = {"/ok": 200, "/fail": 503}.get(path, 404)
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


class QuietHandler(WSGIRequestHandler):
    """wsgiref's handler without the access log on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def wsgi_url() -> Iterator[str]:
    """A wsgiref server on 127.0.0.1 serving the traced WSGI app."""
    server = make_server(
        "127.0.0.1", 0, WSGIMiddleware(wsgi_app), WSGIServer, handler_class=QuietHandler
    )
    server.timeout = TIMEOUT
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(TIMEOUT)


@pytest.fixture(scope="module")
def asgi_url() -> Iterator[str]:
    """A uvicorn server on 127.0.0.1 serving the traced ASGI app."""
    with serve_asgi(ASGIMiddleware(asgi_app)) as url:
        yield url


@contextlib.contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", log_level="critical", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(TIMEOUT)
    sock.close()


def settle(events: list[dict[str, Any]]) -> None:
    """Wait (bounded) until every server span has its end line; call it inside the capture.

    A server ends its span after the last byte is sent, so the client may have its response
    a moment before the server's end line exists.
    """
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        started = {e["span_id"] for e in events if e.get("span") == "start" and "http_path" in e}
        ended = {e["span_id"] for e in events if e.get("span") == "end"}
        if started <= ended:
            return
        time.sleep(0.01)


def spans_of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """End lines of client spans (kind "client") or server spans (kind "server")."""
    key = "http_url" if kind == "client" else "http_path"
    starts = {e["span_id"] for e in events if e.get("span") == "start" and key in e}
    return [e for e in events if e.get("span") == "end" and e["span_id"] in starts]


def assert_linked(events: list[dict[str, Any]], caller: logtrace.Span, status: int) -> None:
    """One client span under ``caller``, one server span under it, the app's logs in the latter."""
    (client,) = spans_of(events, "client")
    (server,) = spans_of(events, "server")
    assert client["trace_id"] == server["trace_id"] == caller.trace_id
    assert client["parent_id"] == caller.span_id and server["parent_id"] == client["span_id"]
    assert client["http_status"] == server["http_status"] == status
    handling = [e for e in events if str(e["event"]).startswith("handling")]
    assert [e["span_id"] for e in handling] == [server["span_id"]]


def get_with_httpx(url: str) -> int:
    """GET through a traced httpx client."""
    with httpx.Client(transport=httpx_transport(), timeout=TIMEOUT) as client:
        return int(client.get(url).status_code)


def test_httpx_to_wsgi_links_client_and_server_spans(wsgi_url: str) -> None:
    """httpx's client span carries traceparent; the WSGI server span is its child, body included."""
    with testing.capture_events() as events, logtrace.span("caller") as caller:
        assert get_with_httpx(wsgi_url + "/ok?token=secret") == 200
        settle(events)
    assert_linked(events, caller, 200)
    (client,) = spans_of(events, "client")
    assert client["name"] == "GET /ok" and "secret" not in str(events)
    (server,) = spans_of(events, "server")
    streaming = next(e for e in events if e["event"] == "streaming")
    assert streaming["span_id"] == server["span_id"] and server["status"] == "ok"


def test_requests_to_asgi_links_client_and_server_spans(asgi_url: str) -> None:
    """A traced requests session's span is the parent of the ASGI (uvicorn) server span."""
    with (
        testing.capture_events() as events,
        logtrace.span("caller") as caller,
        requests_session() as session,
    ):
        assert session.get(asgi_url + "/ok", timeout=TIMEOUT).status_code == 200
        settle(events)
    assert_linked(events, caller, 200)


def test_async_httpx_to_asgi_links_client_and_server_spans(asgi_url: str) -> None:
    """An httpx AsyncClient with the async transport links its span to the ASGI server span."""

    async def call() -> tuple[logtrace.Span, int]:
        async with (
            httpx.AsyncClient(transport=httpx_async_transport(), timeout=TIMEOUT) as client,
            logtrace.span("caller") as caller,
        ):
            response = await client.get(asgi_url + "/ok")
        return caller, response.status_code

    with testing.capture_events() as events:
        caller, status = asyncio.run(call())
        settle(events)
    assert status == 200
    assert_linked(events, caller, 200)


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_server_errors_mark_the_server_span(server: str, request: pytest.FixtureRequest) -> None:
    """5xx and exceptions make the server span an error; 404 only the client span."""
    url = request.getfixturevalue(f"{server}_url")
    with testing.capture_events() as events:
        statuses = [get_with_httpx(url + path) for path in ("/fail", "/boom", "/missing")]
        settle(events)
    assert statuses == [503, 500, 404]
    servers = {e["http_path"]: e for e in events if e.get("span") == "start" and "http_path" in e}
    ends = {e["span_id"]: e for e in events if e.get("span") == "end"}
    status = {path: ends[start["span_id"]]["status"] for path, start in servers.items()}
    assert status == {"/fail": "error", "/boom": "error", "/missing": "ok"}
    assert ends[servers["/boom"]["span_id"]]["error_type"] == "RuntimeError"
    assert {e["status"] for e in spans_of(events, "client")} == {"error"}


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_malformed_traceparent_starts_a_new_trace(
    server: str, request: pytest.FixtureRequest
) -> None:
    """A bad incoming traceparent: the server span starts a new trace and a warning names it."""
    url = request.getfixturevalue(f"{server}_url")
    bad = "00-" + TRACE.upper() + "-00f067aa0ba902b7-01"
    with testing.capture_events() as events:
        httpx.get(url + "/ok", headers={"traceparent": bad}, timeout=TIMEOUT)
        settle(events)
    (warning,) = [e for e in events if e["event"] == "logtrace.bad_traceparent"]
    assert warning["value"] == bad
    (server_span,) = spans_of(events, "server")
    assert server_span["parent_id"] is None and server_span["trace_id"] != TRACE.lower()


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_unsampled_request_writes_logs_but_no_spans(
    server: str, request: pytest.FixtureRequest
) -> None:
    """An incoming unsampled traceparent: no span lines; the app's log lines carry flags 00."""
    url = request.getfixturevalue(f"{server}_url")
    header = f"00-{TRACE}-00f067aa0ba902b7-00"
    with testing.capture_events() as events:
        httpx.get(url + "/ok", headers={"traceparent": header}, timeout=TIMEOUT)
    assert not [e for e in events if e.get("span")]
    handling = next(e for e in events if str(e["event"]).startswith("handling"))
    assert handling["trace_id"] == TRACE and handling["trace_flags"] == "00"


def test_failed_connection_ends_the_client_span_with_the_error() -> None:
    """A request that cannot connect ends its client span as an error and raises as usual."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with testing.capture_events() as events, pytest.raises(httpx.ConnectError):
        get_with_httpx(f"http://127.0.0.1:{port}/")
    (client,) = spans_of(events, "client")
    assert client["status"] == "error" and client["error_type"] == "httpx.ConnectError"


def test_inject_only_mode_sends_the_callers_context(wsgi_url: str) -> None:
    """spans=False adds no client span: the server span is the caller's child directly."""
    with testing.capture_events() as events, logtrace.span("caller") as caller:
        with requests_session(spans=False) as session:
            session.get(wsgi_url + "/ok", timeout=TIMEOUT)
        settle(events)
    assert spans_of(events, "client") == []
    (server,) = spans_of(events, "server")
    assert server["parent_id"] == caller.span_id


def test_mounted_apps_name_spans_by_the_full_route() -> None:
    """Under Starlette's Mount and FastAPI's app.mount the route is the mount's path and the
    inner route: /v1/items/{i} and /v2/items/{i}, not both /items/{i}."""
    pytest.importorskip("fastapi")
    from fastapi import FastAPI
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    async def item(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["i"])

    inner = [Route("/items/{i}", item)]
    plain = Starlette(routes=[Mount("/v1", routes=inner), Mount("/v2", routes=inner),
                              Route("/top/{i}", item)])  # fmt: skip
    api, v1 = FastAPI(), FastAPI()
    v1.get("/items/{i}")(lambda i: i)
    api.mount("/v1", v1)
    with testing.capture_events() as events:
        with serve_asgi(ASGIMiddleware(plain)) as url:
            bodies = [httpx.get(url + p, timeout=TIMEOUT).text for p in
                      ("/v1/items/1", "/v2/items/2", "/top/3")]  # fmt: skip
            settle(events)
        with serve_asgi(ASGIMiddleware(api)) as url:
            bodies.append(httpx.get(url + "/v1/items/4", timeout=TIMEOUT).json())
            settle(events)
    assert bodies == ["1", "2", "3", "4"]
    servers = [(e["name"], e["http_route"]) for e in spans_of(events, "server")]
    assert servers == [
        ("GET /v1/items/{i}", "/v1/items/{i}"), ("GET /v2/items/{i}", "/v2/items/{i}"),
        ("GET /top/{i}", "/top/{i}"), ("GET /v1/items/{i}", "/v1/items/{i}")]  # fmt: skip


def _raw_get(port: int, path: str) -> tuple[list[tuple[str, str]], bytes]:
    """A GET's headers (but Date) and body, as the server sent them."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        headers = [(k, v) for k, v in response.getheaders() if k != "Date"]
        return headers, response.read()
    finally:
        connection.close()


@contextlib.contextmanager
def serve_wsgi(app: Any, handler_class: type[WSGIRequestHandler] = QuietHandler) -> Iterator[int]:
    """``app`` served by wsgiref on 127.0.0.1 in a thread; its port."""
    server = make_server("127.0.0.1", 0, app, WSGIServer, handler_class=handler_class)
    server.timeout = TIMEOUT
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def test_wsgi_responses_are_byte_identical_with_content_length() -> None:
    """A body of one chunk keeps its len(): wsgiref still sets Content-Length, so the response
    is the one the app gives untraced (it lost Content-Length)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    with serve_wsgi(app) as port:
        untraced = _raw_get(port, "/x")
    with testing.capture_events() as events:
        with serve_wsgi(WSGIMiddleware(app)) as port:
            traced = _raw_get(port, "/x")
            settle(events)
    assert ("Content-Length", "5") in untraced[0]
    assert traced == untraced
    (server,) = spans_of(events, "server")
    assert server["status"] == "ok" and server["http_status"] == 200


sent_as_file: list[bytes] = []


class FileServerHandler(ServerHandler):
    """wsgiref's handler with a ``sendfile``: a ``wsgi.file_wrapper`` body is sent as a file."""

    def sendfile(self) -> bool:
        data = self.result.filelike.read()  # type: ignore[union-attr]
        sent_as_file.append(data)
        self.write(data)
        return True


class FileRequestHandler(QuietHandler):
    """wsgiref's request handler serving through ``FileServerHandler``."""

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.parse_request():
            return
        handler = FileServerHandler(
            self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=False
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


def test_wsgi_file_wrapper_bodies_stay_files() -> None:
    """A wsgi.file_wrapper body reaches the server as itself (sent as a file, the same bytes),
    and closing it ends the span and closes the file."""
    files: list[io.BytesIO] = []
    sent_as_file.clear()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        files.append(io.BytesIO(b"file body"))
        return environ["wsgi.file_wrapper"](files[-1])  # type: ignore[no-any-return]

    with serve_wsgi(app, FileRequestHandler) as port:
        untraced = _raw_get(port, "/f")
    with testing.capture_events() as events:
        with serve_wsgi(WSGIMiddleware(app), FileRequestHandler) as port:
            traced = _raw_get(port, "/f")
            settle(events)
    assert traced == untraced and traced[1] == b"file body"
    assert sent_as_file == [b"file body", b"file body"]
    assert all(f.closed for f in files)
    (server,) = spans_of(events, "server")
    assert server["status"] == "ok" and server["http_path"] == "/f"


def test_safe_url_keeps_ipv6_brackets() -> None:
    """An IPv6 host keeps its brackets (``http://::1:8080/x`` is not a URL); credentials and
    the query are still left out."""
    assert _safe_url("http://u:p@[::1]:8080/x?q=1") == ("http://[::1]:8080/x", "/x")
    assert _safe_url("http://[fe80::1]/") == ("http://[fe80::1]/", "/")
    assert _safe_url("http://127.0.0.1:80/a") == ("http://127.0.0.1:80/a", "/a")


def test_a_malformed_asgi_scope_never_raises_into_the_server() -> None:
    """Header lists a server got wrong (``str`` values, a 1-tuple, a non-pair): the app still
    runs and answers, in a span; a ``str`` traceparent is still read (the middleware raised
    TypeError: string argument without an encoding, and ValueError)."""
    import asyncio

    calls: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    scopes = [
        [("traceparent", parent)],
        [(b"traceparent",)],
        [b"traceparent"],
        None,
        [(b"x", 5), (b"traceparent", parent.encode())],
    ]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        pass

    with testing.capture_events() as events:
        for i, headers in enumerate(scopes):
            scope = {"type": "http", "method": "GET", "path": f"/{i}", "headers": headers}
            asyncio.run(ASGIMiddleware(app)(scope, receive, send))
    assert calls == [f"/{i}" for i in range(len(scopes))]
    ends = [e for e in events if e.get("span") == "end"]
    assert len(ends) == len(scopes)
    assert [e["trace_id"] for e in ends].count("4bf92f3577b34da6a3ce929d0e0e4736") == 2
