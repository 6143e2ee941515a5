"""The Live page's stream: server-sent events over ``logtrace tail``'s follower.

``GET /api/live`` answers ``text/event-stream``. First one ``inflight`` event: the spans that
started in the last hour and have not ended (their start lines are in the files, their end
lines not), as rows of ``queries/unfinished_spans.sql``. Then one ``line`` event per line
written since the stream opened, by any process, as written (the JSON object of the line);
``logtrace.file`` header lines are left out. A comment every 15 s keeps idle connections open.
Filters: ``service`` (only its lines) and ``trace`` (a trace id or its first 8+ hex digits,
as ``logtrace tail --trace`` takes it).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import orjson

from logtrace.read.reader import open as open_reader

from ..format import fields as f
from ..read.tail import Follower

POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
INFLIGHT_WINDOW = timedelta(hours=1)
INFLIGHT_LIMIT = 500
# The parameters of the stream (any other is refused, as the CLI refuses an option).
PARAMS = ("service", "trace")
_JSON = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def event(kind: str, value: Any) -> bytes:
    """One server-sent event: ``event: <kind>`` and its JSON on one ``data:`` line."""
    data = orjson.dumps(value, option=_JSON, default=str)
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


def inflight(directory: str) -> list[dict[str, Any]]:
    """The spans started in the last hour that have no end line yet, newest first."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with open_reader(directory, since=now - INFLIGHT_WINDOW) as reader:
        rows = reader.query("unfinished_spans", now=now, limit=INFLIGHT_LIMIT)
    since = now - INFLIGHT_WINDOW
    return [row for row in rows if row.get("start_ts") is None or row["start_ts"] >= since]


def line_filter(service: str | None, trace: str | None) -> Callable[[dict[str, Any]], bool]:
    """Which lines the stream sends: not logtrace's file headers, and only the given ones."""

    def wanted(line: dict[str, Any]) -> bool:
        if line.get(f.EVENT) == f.FILE_EVENT and line.get(f.LOGGER) == "logtrace":
            return False
        if service is not None and line.get(f.SERVICE) != service:
            return False
        return trace is None or str(line.get(f.TRACE_ID) or "").startswith(trace)

    return wanted


async def stream(
    directory: str,
    wanted: Callable[[dict[str, Any]], bool],
    disconnected: Callable[[], Any],
    stopping: Callable[[], bool] = lambda: False,
) -> AsyncIterator[bytes]:
    """The events of one Live connection, until the client goes (or the server stops).

    The follower is made before the in-flight spans are read, so a span that starts in
    between is in one or the other (or both: the page keys spans by id).
    """
    follower = await anyio.to_thread.run_sync(Follower, directory)
    try:
        yield b"retry: 2000\n\n"
        yield event("inflight", await anyio.to_thread.run_sync(inflight, directory))
        quiet_since = time.monotonic()
        while not stopping() and not await disconnected():
            lines = await anyio.to_thread.run_sync(lambda: list(follower.poll()))
            sent = [line for line in lines if wanted(line)]
            for line in sent:
                yield event("line", line)
            if sent:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                yield b": keepalive\n\n"
                quiet_since = time.monotonic()
            await anyio.sleep(POLL_SECONDS)
    finally:
        follower.close()
