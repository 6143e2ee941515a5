"""The Live page's stream (logtrace/web/live.py): server-sent events over a real server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

pytest.importorskip("starlette", reason="needs the ui extra: pip install 'logtrace[ui]'")

from logtrace.web.server import background

# A process that starts a span, says so, and ends it when its stdin closes.
LONG_SPAN = r"""
import sys, logtrace
logtrace.configure(service="long", directory=sys.argv[1], flush="always")
with logtrace.span("long job", step=1):
    logtrace.flush()
    print("started", flush=True)
    sys.stdin.read()
logtrace.shutdown()
"""
ONE_SPAN = r"""
import sys, logtrace
service = sys.argv[2] if len(sys.argv) > 2 else "late"
name = sys.argv[3] if len(sys.argv) > 3 else "written after the page opened"
logtrace.configure(service=service, directory=sys.argv[1], flush="always")
with logtrace.span(name):
    logtrace.flush()
    print(logtrace.current_trace_id(), flush=True)
logtrace.shutdown()
"""


def events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """(event, data) pairs of a text/event-stream, as they arrive."""
    kind = "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield kind, orjson.loads(line[6:])
            kind = "message"


def test_live_sends_lines_written_after_it_opened(tmp_path: Path) -> None:
    """A span written by another process after the stream opened arrives as its lines."""
    directory = tmp_path / "logtrace"
    directory.mkdir()
    with (
        background(str(directory)) as url,
        httpx.stream("GET", url + "api/live", timeout=60) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        assert next(stream) == ("inflight", [])
        subprocess.run([sys.executable, "-c", ONE_SPAN, str(directory)], check=True, timeout=60)
        seen = []
        for kind, line in stream:
            assert kind == "line"
            seen.append((line.get("span"), line.get("name")))
            if line.get("span") == "end":
                break
    name = "written after the page opened"
    assert seen == [("start", name), ("end", name)]


def test_live_shows_spans_in_flight(tmp_path: Path) -> None:
    """A span that started before the stream opened and has not ended is sent as in flight;
    its end line follows when it ends."""
    directory = tmp_path / "logtrace"
    writer = subprocess.Popen(
        [sys.executable, "-c", LONG_SPAN, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "started"
        with (
            background(str(directory)) as url,
            httpx.stream("GET", url + "api/live?service=long", timeout=60) as response,
        ):
            stream = events(response)
            kind, inflight = next(stream)
            assert kind == "inflight"
            assert [(s["name"], s["status"]) for s in inflight] == [("long job", "unfinished")]
            assert writer.stdin is not None
            writer.stdin.close()
            kind, line = next(stream)
            assert (kind, line["span"], line["name"]) == ("line", "end", "long job")
            assert line["span_id"] == inflight[0]["span_id"]
    finally:
        writer.wait(timeout=60)


def test_live_filters_by_service_and_trace(tmp_path: Path) -> None:
    """?service= and ?trace= leave out the lines of other services and traces: of spans
    written by three processes after the streams opened, each stream gets only its own."""
    directory = tmp_path / "logtrace"
    directory.mkdir()

    def write(service: str, name: str) -> str:
        argv = [sys.executable, "-c", ONE_SPAN, str(directory), service, name]
        done = subprocess.run(argv, check=True, timeout=60, capture_output=True, text=True)
        return done.stdout.strip()

    with (
        background(str(directory)) as url,
        httpx.stream("GET", url + "api/live?service=api", timeout=60) as by_service,
    ):
        stream = events(by_service)
        assert next(stream) == ("inflight", [])
        write("worker", "other service")
        wanted = write("api", "api job")
        seen = [(line["service"], line["name"]) for _, line in _until_end(stream, "api job")]
        assert seen == [("api", "api job"), ("api", "api job")]
        with httpx.stream(
            "GET", url + f"api/live?trace={wanted[:12].upper()}", timeout=60
        ) as by_trace:
            stream = events(by_trace)
            assert next(stream) == ("inflight", [])
            write("api", "another trace")
            _more_of(directory, wanted)
            seen = [line for _, line in _until_end(stream, "again")]
            assert {line["trace_id"] for line in seen} == {wanted}


def _more_of(directory: Path, trace_id: str) -> None:
    """A span ``again`` of ``trace_id`` in a new file, as another process would write it."""
    now = datetime.now(timezone.utc)
    ts = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ids = {"trace_id": trace_id, "span_id": "1" * 16, "name": "again", "parent_id": None}
    head = {"ts": ts, "level": "info", "event": "again", "logger": "logtrace"}
    common = {**head, **ids, "service": "api", "pid": 1}
    start = {**common, "span": "start"}
    end = {**common, "span": "end", "duration_ms": 0.1, "status": "ok"}
    stamp = now.strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"
    day = directory / now.strftime("%Y-%m-%d")
    day.mkdir(exist_ok=True)
    (day / f"api_elsewhere_1_{stamp}.jsonl").write_bytes(
        orjson.dumps(start) + b"\n" + orjson.dumps(end) + b"\n"
    )


def _until_end(stream: Iterator[tuple[str, Any]], name: str) -> Iterator[tuple[str, Any]]:
    """The spans' lines of a stream (its file events left out) up to the end line of ``name``."""
    for kind, line in stream:
        if line.get("span") in ("start", "end"):
            yield kind, line
            if line.get("span") == "end" and line.get("name") == name:
                return
