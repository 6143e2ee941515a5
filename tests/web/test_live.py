"""The Live page's stream (logtrace/web/live.py): server-sent events over a real server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

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

import pytest

pytest.importorskip("starlette", reason="needs the ui extra: pip install 'logtrace[ui]'")
logtrace.configure(service="late", directory=sys.argv[1], flush="always")
with logtrace.span("written after the page opened"):
    pass
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
    """?service= and ?trace= leave out the lines of other services and traces."""
    from logtrace.web.live import line_filter

    wanted = line_filter("api", "01ab")
    assert wanted({"service": "api", "trace_id": "01abcdef"})
    assert not wanted({"service": "worker", "trace_id": "01abcdef"})
    assert not wanted({"service": "api", "trace_id": "ffff"})
    assert not line_filter(None, None)({"event": "logtrace.file", "logger": "logtrace"})
