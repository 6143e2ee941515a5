"""A FastAPI service under a real uvicorn, called over httpx: server spans named by route with
kind server, client spans kind client, and uvicorn's own error log in the files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")

import logtrace  # noqa: E402

SERVER = r"""
import sys
import logtrace
import uvicorn
from fastapi import FastAPI

logtrace.configure("backend", directory=sys.argv[1])
app = FastAPI()

@app.get("/order/{n}")
async def order(n: int) -> dict[str, int]:
    return {"n": n}

@app.get("/fail/{n}")
async def fail(n: int) -> None:
    raise RuntimeError(f"kaput {n}")

uvicorn.run(logtrace.ASGIMiddleware(app), host="127.0.0.1", port=int(sys.argv[2]))
"""


def clean_env() -> dict[str, str]:
    """The environment without logtrace's and OpenTelemetry's settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("LOGTRACE_", "OTEL_"))}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The service running under uvicorn; (base URL, log directory). Stopped by SIGTERM."""
    directory, port = tmp_path / "logs", _free_port()
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    server = subprocess.Popen(
        [sys.executable, str(script), str(directory), str(port)],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/docs", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1].decode()
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.1)
        yield url, directory
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def test_fastapi_under_uvicorn_names_server_spans_by_route(
    backend: tuple[str, Path], tmp_path: Path
) -> None:
    """200 calls of /order/{n} and 3 of /fail/{n} give two server span names (the routes),
    kind server, while the calling side's httpx spans are kind client; uvicorn's "Exception
    in ASGI application" (a logger that does not propagate) is in the backend's files."""
    url, directory = backend
    logtrace.configure("frontend", directory=directory, environ={})
    try:
        with httpx.Client(transport=logtrace.httpx_transport(), timeout=30) as client:
            for n in range(200):
                assert client.get(f"{url}/order/{n}").json() == {"n": n}
        for n in range(3):
            # A connection each: uvicorn closes one whose app raised.
            with httpx.Client(transport=logtrace.httpx_transport(), timeout=30) as client:
                assert client.get(f"{url}/fail/{n}").status_code == 500
    finally:
        logtrace.shutdown()
    # The server writes its lines within its flush interval: read until they are all there.
    with logtrace.open(directory) as reader:
        pending = time.monotonic() + 30
        while True:
            rows = reader.execute(
                "SELECT name, kind, service, count(*) AS n,"
                " count(*) FILTER (WHERE status = 'error') AS errors"
                " FROM spans GROUP BY ALL ORDER BY service, kind, name"
            )
            # Less the readiness probe's request.
            servers = [r for r in rows if r["service"] == "backend" and r["name"] != "GET /docs"]
            errors = reader.execute(
                "SELECT count(*) AS n FROM logs WHERE logger LIKE 'uvicorn%'"
                " AND message LIKE 'Exception in ASGI application%' AND exception LIKE '%kaput%'"
            )
            # Spans and uvicorn's error lines alike (a loaded machine writes them later).
            done = sum(r["n"] for r in servers) >= 203 and errors == [{"n": 3}]
            if done or time.monotonic() > pending:
                break
            time.sleep(0.2)
            reader.refresh()
        assert [(r["name"], r["kind"], r["n"], r["errors"]) for r in servers] == [
            ("GET /fail/{n}", "server", 3, 3),
            ("GET /order/{n}", "server", 200, 0),
        ]
        clients = [r for r in rows if r["service"] == "frontend"]
        assert {r["kind"] for r in clients} == {"client"}
        assert sum(r["n"] for r in clients) == 203
        route = reader.execute(
            "SELECT DISTINCT attributes->>'http_route' AS route FROM spans"
            " WHERE kind = 'server' AND name <> 'GET /docs'"
        )
        assert sorted(r["route"] for r in route) == ["/fail/{n}", "/order/{n}"]
        assert errors == [{"n": 3}]
