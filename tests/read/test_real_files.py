"""The tracing core's promises, checked in the files the sink really writes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from _core_fixtures import read_lines, traced_dir

import logtrace


def test_every_core_promise_holds_in_the_written_files(traced_dir: Path) -> None:
    """Nesting, async tasks, threads, generators and errors, read back from the real file."""
    log = logging.getLogger("thirdparty.client")

    async def task(n: int) -> None:
        async with logtrace.span("task", n=n):
            await asyncio.sleep(0.001 * (5 - n))
            log.info("task %d working", n)

    async def gather() -> None:
        await asyncio.gather(*(task(n) for n in range(5)))

    @logtrace.traced
    def rows() -> Iterator[int]:
        yield from range(3)
        structlog.get_logger("gen").info("rows done")

    def in_thread(n: int) -> None:
        log.info("thread %d", n)

    with logtrace.span("root") as root:
        asyncio.run(gather())
        with logtrace.ThreadPoolExecutor(2) as pool:
            list(pool.map(in_thread, range(3)))
        assert sum(rows()) == 3
        with pytest.raises(KeyError), logtrace.span("fails"):
            raise KeyError("missing")
    logtrace.flush()

    lines = [x for x in read_lines(traced_dir) if x.get("trace_id") == root.trace_id]
    # Short spans write their end line alone: it has the name, parent and attributes.
    starts = {(x["name"], x.get("n")): x for x in lines if x.get("span") == "end"}
    ends = {x["span_id"]: x for x in lines if x.get("span") == "end"}
    root_id = root.span_id
    for n in range(5):
        start = starts[("task", n)]
        assert start["parent_id"] == root_id
        (log_line,) = [x for x in lines if x["event"] == f"task {n} working"]
        assert log_line["span_id"] == start["span_id"]  # each task kept its own span
    threads = [x for x in lines if x["event"].startswith("thread ")]
    assert len(threads) == 3 and {x["span_id"] for x in threads} == {root_id}
    gen_start = next(x for x in lines if x.get("name", "").endswith("rows") and x["span"] == "end")
    (done,) = [x for x in lines if x["event"] == "rows done"]
    assert done["span_id"] == gen_start["span_id"] and ends[gen_start["span_id"]]["status"] == "ok"
    fails = next(x for x in lines if x.get("name") == "fails" and x["span"] == "end")
    assert fails["status"] == "error" and fails["error_type"] == "KeyError"
    assert ends[root_id]["status"] == "ok" and len(ends) == len(starts)
