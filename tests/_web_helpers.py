"""Helpers of the web view's tests (and of benchmarks/bench_web.py): big hand-made traces."""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

# How the tests and the benchmark start Debian's Chromium (see RECIPES.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_big_trace(
    directory: Path, batches: int, items: int, seed: int = 3, start: datetime | None = None
) -> str:
    """One trace of 1 + batches + batches*items spans, in the documented format: a root
    ``import``, ``batches`` spans ``batch`` under it, ``items`` spans ``item`` under each (the
    very last one failed: ``ValueError: last item failed``), one log line per batch.
    ``start``: when the root starts (UTC, naive; default five minutes ago). Returns the trace id."""
    rng = random.Random(seed)
    if start is None:
        start = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=5)
    trace_id = f"{int(start.timestamp() * 1000):012x}{rng.getrandbits(80):020x}"
    pid = 4242
    lines: list[tuple[datetime, bytes]] = []
    common = {"trace_id": trace_id, "trace_flags": "01", "service": "importer", "pid": pid}

    def span(name: str, parent: str | None, at: datetime, ms: float, **extra: Any) -> str:
        span_id = f"{rng.getrandbits(64) | 1:016x}"
        ids = {**common, "span_id": span_id, "name": name, "parent_id": parent}
        head = {"ts": _iso(at), "level": "info", "event": name, "logger": "logtrace"}
        lines.append((at, orjson.dumps({**head, **ids, "span": "start"})))
        end_at = at + timedelta(milliseconds=ms)
        error = extra.pop("error", None)
        end = {**head, "ts": _iso(end_at), **ids, "span": "end", "duration_ms": ms}
        end["status"] = "error" if error else "ok"
        if error:
            end.update(level="error", error_type="ValueError", error_message=error)
        lines.append((end_at, orjson.dumps({**end, **extra})))
        return span_id

    item_ms = 0.5
    batch_ms = items * item_ms
    root = span("import", None, start, batches * batch_ms + 1, rows=batches * items)
    for b in range(batches):
        batch_at = start + timedelta(milliseconds=0.5 + b * batch_ms)
        batch = span("batch", root, batch_at, batch_ms, batch=b)
        log = {"ts": _iso(batch_at), "level": "info", "event": f"batch {b} read", "logger": "app"}
        lines.append((batch_at, orjson.dumps({**log, **common, "span_id": batch})))
        for i in range(items):
            last = b == batches - 1 and i == items - 1
            at = batch_at + timedelta(milliseconds=i * item_ms)
            error = "last item failed" if last else None
            span("item", batch, at, item_ms * 0.9, item=i, error=error)
    day = directory / start.strftime("%Y-%m-%d")
    day.mkdir(parents=True, exist_ok=True)
    stamp = start.strftime("%Y%m%dT%H%M%S.") + f"{start.microsecond // 1000:03d}Z"
    lines.sort(key=lambda item: item[0])
    path = day / f"importer_testhost_{pid}_{stamp}.jsonl"
    path.write_bytes(b"".join(line + b"\n" for _, line in lines))
    last = lines[-1][0].replace(tzinfo=timezone.utc).timestamp()
    os.utime(path, (last, last))  # as the sink leaves it: modified at its last line
    return trace_id
