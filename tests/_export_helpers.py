"""Helpers of the export tests: traces written by real processes, OTLP checked with
opentelemetry-proto, and an OTLP/HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import copy
import gzip
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

# A coordinator whose request span has attributes of every JSON type, a log line, an event, a
# failing child, two spans in threads that overlap without nesting, and a worker process that
# continues the trace through TRACEPARENT. argv: directory, traces, [role].
WRITER = r"""
import logging, os, subprocess, sys, threading, time
import logtrace

directory, traces = sys.argv[1], int(sys.argv[2])
role = sys.argv[3] if len(sys.argv) > 3 else "coordinator"
logtrace.configure(service=role, directory=directory, flush="always", rotate_bytes=4000)
log = logging.getLogger("app")
if role == "worker":
    with logtrace.span("work", task=int(sys.argv[4])):
        log.info("working on it")
        time.sleep(0.002)
    logtrace.shutdown()
    sys.exit(0)
for n in range(traces):
    with logtrace.span("request", n=n, ratio=0.5, ok=True, path="/x", tags=["a", "b"],
                       meta={"k": 1}, big=2**40) as root:
        log.info("received", extra={"user": "ann"})
        root.event("checkpoint", step=1)
        try:
            with logtrace.span("validate"):
                raise ValueError("bad input")
        except ValueError:
            pass
        # side 0 starts first and ends first, side 1 starts inside it and ends after it: two
        # spans of one process that overlap without nesting.
        started, ended = threading.Event(), threading.Event()
        def side(i):
            if i == 1:
                started.wait()
            with logtrace.span(f"side {i}"):
                time.sleep(0.002)
                if i == 0:
                    started.set()
                    time.sleep(0.004)
                else:
                    ended.wait()
                    time.sleep(0.002)
            if i == 0:
                ended.set()
        threads = [threading.Thread(target=logtrace.wrap(side), args=(i,)) for i in range(2)]
        for t in threads: t.start()
        for t in threads: t.join()
        subprocess.run([sys.executable, "-c", sys.argv[0] if False else open(__file__).read()
                        if False else WRITER_SOURCE, directory, "0", "worker", str(n)],
                       env=logtrace.child_env(), check=True)
logtrace.shutdown()
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two traces written by real processes (a coordinator and a worker per trace), rotated."""
    directory = tmp_path_factory.mktemp("written") / "logtrace"
    write_traces(directory, 2)
    return directory


def write_traces(directory: Path, traces: int = 2) -> None:
    """Run the writer (a coordinator and one worker process per trace) into ``directory``."""
    source = "WRITER_SOURCE = " + repr(WRITER) + "\n" + WRITER
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.pop("TRACEPARENT", None)
    subprocess.run(
        [sys.executable, "-c", source, str(directory), str(traces)], env=env, check=True,
        timeout=120,
    )  # fmt: skip


# -- OTLP checked against opentelemetry-proto ----------------------------------------------

_ID_BYTES = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


def ids_to_base64(value: Any) -> Any:
    """A copy with every hex id as base64, each checked: right length, hex, not all zeros.

    ``json_format`` reads bytes fields as base64: a hex id given as-is would become 24 bytes
    of garbage without an error.
    """
    value = copy.deepcopy(value)

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for x in item:
                walk(x)
        elif isinstance(item, dict):
            for key, x in item.items():
                if key in _ID_BYTES and isinstance(x, str):
                    assert x == x.lower(), f"{key} not lowercase: {x}"
                    raw = bytes.fromhex(x)
                    assert len(raw) == _ID_BYTES[key], f"{key} {x}: {len(raw)} bytes"
                    assert any(raw), f"{key} all zeros"
                    item[key] = base64.b64encode(raw).decode()
                else:
                    walk(x)

    walk(value)
    return value


def parse_traces(request: dict[str, Any]) -> Any:
    """The ExportTraceServiceRequest of an OTLP JSON line, ids checked."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    message = ExportTraceServiceRequest()
    json_format.ParseDict(ids_to_base64(request), message, ignore_unknown_fields=True)
    return message


def parse_logs(request: dict[str, Any]) -> Any:
    """The ExportLogsServiceRequest of an OTLP JSON line, ids checked."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    message = ExportLogsServiceRequest()
    json_format.ParseDict(ids_to_base64(request), message, ignore_unknown_fields=True)
    return message


def spans_of(request: Any) -> Iterator[tuple[Any, Any, Any]]:
    """(resource, scope, span) of each span of a protobuf request."""
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield resource_spans.resource, scope_spans.scope, span


def logs_of(request: Any) -> Iterator[tuple[Any, Any, Any]]:
    """(resource, scope, record) of each log record of a protobuf request."""
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                yield resource_logs.resource, scope_logs.scope, record


# -- an OTLP/HTTP receiver ----------------------------------------------------------------


class Receiver:
    """An OTLP/HTTP receiver on 127.0.0.1 that decodes with opentelemetry-proto.

    ``failures``: statuses to answer (in order) before accepting, with ``Location: location``
    when given (a redirect); ``accepted_spans`` holds (trace_id, span_id, name) of each accepted
    span, ``accepted_logs`` the bodies of the log records, ``headers`` those of each request.
    """

    def __init__(self, failures: list[int] | None = None, retry_after: str | None = None,
                 location: str | None = None):  # fmt: skip
        self.failures = list(failures or [])
        self.retry_after = retry_after
        self.location = location
        self.accepted_spans: list[tuple[str, str, str]] = []
        self.accepted_logs: list[tuple[str, str, str]] = []
        self.requests: list[tuple[str, str]] = []  # (path, content type)
        self.headers: list[dict[str, str]] = []
        self.refused = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.handle(self, body)

            def do_GET(self) -> None:  # what a followed 301/302/303 turns a POST into
                with receiver.lock:
                    receiver.requests.append((self.path, "GET"))
                    receiver.headers.append(dict(self.headers.items()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, handler: Any, body: bytes) -> None:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
            ExportLogsServiceRequest,
            ExportLogsServiceResponse,
        )
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        kind = handler.headers.get("Content-Type", "")
        with self.lock:
            self.requests.append((handler.path, kind))
            self.headers.append(dict(handler.headers.items()))
            if self.failures:
                status = self.failures.pop(0)
                self.refused += 1
                handler.send_response(status)
                if self.retry_after is not None:
                    handler.send_header("Retry-After", self.retry_after)
                if self.location is not None:
                    handler.send_header("Location", self.location)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            traces = handler.path == "/v1/traces"
            if kind == "application/json":
                request = orjson.loads(body)
                message = parse_traces(request) if traces else parse_logs(request)
            else:
                message = (ExportTraceServiceRequest if traces else ExportLogsServiceRequest)()
                message.ParseFromString(body)
            if traces:
                for _, _, span in spans_of(message):
                    assert len(span.trace_id) == 16 and len(span.span_id) == 8
                    self.accepted_spans.append((span.trace_id.hex(), span.span_id.hex(), span.name))
                answer = ExportTraceServiceResponse()
            else:
                for _, _, record in logs_of(message):
                    self.accepted_logs.append(
                        (record.trace_id.hex(), record.span_id.hex(), record.body.string_value)
                    )
                answer = ExportLogsServiceResponse()
            data = answer.SerializeToString()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/x-protobuf")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)


@contextmanager
def receiving(failures: list[int] | None = None, retry_after: str | None = None,
              location: str | None = None) -> Iterator[Receiver]:  # fmt: skip
    """A running Receiver, shut down afterwards."""
    receiver = Receiver(failures, retry_after, location)
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def logtrace_cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``python -m logtrace ARGS`` (this tree), capturing text output."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.update(kwargs.pop("env", {}))
    return subprocess.run(
        [sys.executable, "-m", "logtrace", *args], capture_output=True, text=True, env=env,
        timeout=kwargs.pop("timeout", 120), **kwargs,
    )  # fmt: skip
