"""Context into worker processes: ProcessPoolExecutor and wrap_for_process, fork and spawn."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from _core_fixtures import read_lines, traced_dir

import logtrace
from logtrace.integrations.process import ProcessPoolExecutor, wrap_for_process

__all__ = ["traced_dir"]

METHODS = ["fork", "spawn"]
UNSAMPLED = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}


@contextmanager
def pool_of(workers: int, method: str, **kwargs: Any) -> Iterator[ProcessPoolExecutor]:
    """A ProcessPoolExecutor whose shutdown is bounded: stuck workers are killed, not waited for."""
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method), **kwargs)
    try:
        yield pool
    finally:
        processes = list((pool._processes or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(60)
            if process.is_alive():
                process.kill()


def traced_task(n: int) -> tuple[int, str | None, str | None]:
    """What a worker sees: its pid and the context it runs in; it writes a span and a log line."""
    seen = (os.getpid(), logtrace.current_trace_id(), logtrace.current_span_id())
    with logtrace.span("task", n=n):
        logging.getLogger("worker").info("working", extra={"n": n})
    return seen


def current_ids(_: object = None) -> tuple[str | None, str | None]:
    """The trace and span id current in the worker."""
    return logtrace.current_trace_id(), logtrace.current_span_id()


@pytest.mark.parametrize("method", METHODS)
def test_pool_tasks_run_in_the_submitters_context(traced_dir: Path, method: str) -> None:
    """Each task runs inside the submitting span, and writes its lines to a file of its own."""
    with pool_of(2, method) as pool, logtrace.span("submit") as parent:
        seen = [f.result(timeout=60) for f in [pool.submit(traced_task, n) for n in range(4)]]
    assert {(trace, span) for _, trace, span in seen} == {(parent.trace_id, parent.span_id)}
    assert os.getpid() not in {pid for pid, _, _ in seen}
    logtrace.flush()
    lines = read_lines(traced_dir)
    starts = [e for e in lines if e.get("name") == "task" and e["span"] == "end"]
    assert sorted(e["n"] for e in starts) == [0, 1, 2, 3]
    assert {(e["trace_id"], e["parent_id"]) for e in starts} == {(parent.trace_id, parent.span_id)}
    assert {e["pid"] for e in starts} <= {pid for pid, _, _ in seen}
    assert {e["service"] for e in starts} == {"test"}
    working = [e for e in lines if e["event"] == "working"]
    task_spans = {e["span_id"] for e in starts}
    assert len(working) == 4 and {e["span_id"] for e in working} == task_spans
    worker_files = {p.name.split("_")[2] for p in traced_dir.rglob("*.jsonl")} - {str(os.getpid())}
    assert {str(pid) for pid, _, _ in seen} <= worker_files


@pytest.mark.parametrize("method", METHODS)
def test_task_submitted_outside_a_span_has_no_context(traced_dir: Path, method: str) -> None:
    """A task submitted outside any span sees none, even in a worker forked inside one."""
    with pool_of(1, method) as pool:
        with logtrace.span("first") as first:
            inside = pool.submit(current_ids).result(timeout=60)
        outside = pool.submit(current_ids).result(timeout=60)
    assert inside == (first.trace_id, first.span_id)
    assert outside == (None, None)


def test_worker_config_names_the_workers_service(traced_dir: Path) -> None:
    """worker_config={"service": ...} gives the workers' lines their own service name."""
    with pool_of(1, "fork", worker_config={"service": "resizer"}) as pool, logtrace.span("submit"):
        pool.submit(traced_task, 7).result(timeout=60)
    logtrace.flush()
    task = [e for e in read_lines(traced_dir) if e.get("name") == "task"]
    assert {e["service"] for e in task} == {"resizer"}


def test_unsampled_context_reaches_pool_workers(traced_dir: Path) -> None:
    """Inside an unsampled trace, workers write no span lines; their log lines carry flags 00."""
    with pool_of(1, "spawn") as pool:
        with logtrace.span("handle", parent=UNSAMPLED) as handle:
            pool.submit(traced_task, 1).result(timeout=60)
    logtrace.flush()
    lines = read_lines(traced_dir)
    assert not [e for e in lines if e.get("span")]
    (working,) = [e for e in lines if e["event"] == "working"]
    assert working["trace_id"] == handle.trace_id and working["trace_flags"] == "00"


def test_wrap_for_process_with_a_spawn_pool(traced_dir: Path) -> None:
    """multiprocessing.Pool(...).map(wrap_for_process(fn)) runs every item in the caller's span."""
    pool = multiprocessing.get_context("spawn").Pool(2)
    try:
        with logtrace.span("map") as parent:
            seen = pool.map_async(wrap_for_process(traced_task), range(3)).get(60)
    finally:
        # close() + join(), not terminate(): a second SIGTERM arriving while the sink's SIGTERM
        # handler runs can deadlock a worker (a sink issue, reported), and join() would wait.
        pool.close()
        pool.join()
    assert {(trace, span) for _, trace, span in seen} == {(parent.trace_id, parent.span_id)}
    logtrace.flush()
    starts = [e for e in read_lines(traced_dir) if e.get("name") == "task" and e["span"] == "end"]
    assert len(starts) == 3 and {e["parent_id"] for e in starts} == {parent.span_id}


def test_wrap_for_process_as_a_fork_process_target(traced_dir: Path) -> None:
    """multiprocessing.Process(target=wrap_for_process(fn)) writes its span under the caller's."""
    context = multiprocessing.get_context("fork")
    with logtrace.span("start process") as parent:
        process = context.Process(target=wrap_for_process(traced_task), args=(5,))
        process.start()
    process.join(60)
    assert process.exitcode == 0
    logtrace.flush()
    starts = [e for e in read_lines(traced_dir) if e.get("name") == "task" and e["span"] == "end"]
    assert [(e["n"], e["parent_id"]) for e in starts] == [(5, parent.span_id)]
    assert starts[0]["pid"] == process.pid
