"""Running ``logtrace ui``: uvicorn serving the app, its URL printed, a browser if asked.

On a loopback address (the default, 127.0.0.1) the URL is printed as it is. On any other
address a random token is made for this run and the URL printed with it, once: every request
without it is refused (see :mod:`logtrace.web.guard`). The socket is bound before uvicorn
starts, so a port in use is one line of error, and port 0 picks a free port.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import sys
import threading
import webbrowser
from collections.abc import Iterator
from typing import IO, Any

from logtrace.read.reader import open as open_reader

from ..read.files import ReadError
from .app import create_app
from .guard import is_loopback

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8321


def make_token(host: str) -> str | None:
    """A fresh token when ``host`` is reachable from other machines, else None."""
    return None if is_loopback(host) else secrets.token_urlsafe(24)


def url_of(host: str, port: int, token: str | None) -> str:
    """The address to open: ``http://127.0.0.1:8321/`` (``?token=…`` when there is one)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port).

    Raises:
        ReadError: the address cannot be used (in use, not this machine's, not allowed).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so, and without it
    # a response's body waits for the client's delayed ACK of its head (40 ms a request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise ReadError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock


def _server(directory: str, token: str | None, allow_sql: bool) -> Any:
    import uvicorn

    open_reader(directory).close()  # a missing directory: one line of error, before serving
    app = create_app(directory, token=token, allow_sql=allow_sql)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=2, lifespan="on"
    )
    return uvicorn.Server(config)


def serve(
    directory: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
    allow_sql: bool = False,
    out: IO[str] | None = None,
) -> None:
    """Serve the web view of ``directory`` until interrupted (Ctrl-C).

    Args:
        host, port: where to listen (port 0: any free port).
        open_browser: open the URL in the default browser once listening.
        allow_sql: let the page run SQL (``POST /api/sql``).
        out: where the URL is printed (default stdout).

    Raises:
        ReadError: the directory cannot be read, or the address cannot be used.
    """
    token = make_token(host)
    server = _server(directory, token, allow_sql)
    sock = listen(host, port)
    url = url_of(host, sock.getsockname()[1], token)
    stream = out or sys.stdout
    print(f"logtrace ui: serving {directory} at {url}", file=stream, flush=True)
    if token:
        print("  (a token for this run only: requests without it are refused)", file=stream)
    if allow_sql:
        print("  SQL from the page is on (--allow-sql)", file=stream)
    print("  press Ctrl-C to stop", file=stream, flush=True)
    if open_browser:
        webbrowser.open(url)
    with sock:
        server.run(sockets=[sock])


@contextlib.contextmanager
def background(
    directory: str, *, host: str = DEFAULT_HOST, port: int = 0, allow_sql: bool = False
) -> Iterator[str]:
    """Serve in a thread of this process while the block runs; yields the URL (with its token).

    For tests and benchmarks: ``with background(d) as url: httpx.get(url + "api/traces")``.
    """
    token = make_token(host)
    server = _server(directory, token, allow_sql)
    sock = listen(host, port)
    url = url_of(host, sock.getsockname()[1], token)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="logtrace-ui", daemon=True
    )
    thread.start()
    try:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
