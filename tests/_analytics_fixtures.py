"""Generated histories for the analytics tests, written as real JSONL files."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from conftest import T0, iso, log_line, span_lines, write_jsonl

from logtrace.format import fields as f

# (span id, parent id or None, name, start ms, duration ms or None, status)
Spec = tuple[str, str | None, str, float, float | None, str]


def trace_lines(
    trace_id: str,
    spans: Iterable[Spec],
    *,
    service: str = "svc",
    attributes: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The lines of one trace; ``attributes`` go on its root span."""
    lines: list[dict[str, Any]] = []
    for span_id, parent, name, start, duration, status in spans:
        error = ("TimeoutError", "too slow") if status == "error" else None
        attrs = attributes if parent is None else None
        lines += span_lines(
            trace_id, span_id, parent, name, start, duration,
            status=status, service=service, attributes=attrs, error=error,
        )  # fmt: skip
    return lines


def trace_id(n: int, tag: int = 0) -> str:
    """A 32-hex trace id that is no time (so lookups read every file)."""
    return f"{tag:04x}{n:028x}"


def requests(
    count: int,
    *,
    seed: int,
    every_ms: float = 1000.0,
    start_ms: float = 0.0,
    slower: float = 1.0,
    error_rate: float = 0.02,
    tag: int = 0,
    version: str | None = None,
    service: str = "svc",
) -> list[dict[str, Any]]:
    """``count`` requests, one every ``every_ms``: request > fetch (log-normal, median 20 ms,
    times ``slower``) then store (median 50 ms); some fetches fail."""
    rng = random.Random(seed)
    lines: list[dict[str, Any]] = []
    for i in range(count):
        begin = start_ms + i * every_ms
        fetch = slower * 20 * math.exp(rng.gauss(0, 0.5))
        store = 50 * math.exp(rng.gauss(0, 0.5))
        status = "error" if rng.random() < error_rate else "ok"
        spans: list[Spec] = [
            ("a" * 15 + "1", None, "request", begin, fetch + store + 2, status),
            ("b" * 15 + "2", "a" * 15 + "1", "fetch", begin + 1, fetch, status),
            ("c" * 15 + "3", "a" * 15 + "1", "store", begin + 1 + fetch, store, "ok"),
        ]
        attrs = {"version": version} if version else None
        lines += trace_lines(trace_id(i, tag), spans, service=service, attributes=attrs)
    return lines


def write(directory: Path, name: str, lines: list[dict[str, Any]]) -> Path:
    """The lines into ``directory/name.jsonl``."""
    return write_jsonl(directory / f"{name}.jsonl", lines)


def at(ms: float) -> Any:
    """T0 plus ``ms``, as a datetime."""
    return T0 + timedelta(milliseconds=ms)


def dropped_line(at_ms: float, count: int) -> dict[str, Any]:
    """A logtrace.dropped report as the sink writes it."""
    return {
        f.TS: iso(at(at_ms)),
        f.LEVEL: "warning",
        f.EVENT: f.DROPPED_EVENT,
        f.LOGGER: "logtrace",
        f.SERVICE: "svc",
        f.PID: 100,
        f.DROPPED: count,
        f.REASON: f.REASON_QUEUE_FULL,
    }


__all__ = ["T0", "at", "dropped_line", "log_line", "requests", "trace_id", "trace_lines", "write"]
