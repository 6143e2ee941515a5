"""Which span a forked process starts in: none for multiprocessing workers, the forking one
for a bare ``os.fork()``."""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
from pathlib import Path

from _core_fixtures import read_lines, traced_dir

import logtrace


def current_ids(_: object = None) -> tuple[str | None, str | None]:
    """The trace and span id current in the worker."""
    return logtrace.current_trace_id(), logtrace.current_span_id()


def test_a_stdlib_fork_pool_made_inside_a_span_does_not_keep_it(traced_dir: Path) -> None:
    """A stdlib ProcessPoolExecutor (fork) whose workers were forked inside span A runs later
    tasks, inside span B or outside any span, with no current span, not under A's trace."""
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        with logtrace.span("A"):
            first = pool.submit(current_ids).result(timeout=60)
        with logtrace.span("B"):
            inside_b = pool.submit(current_ids).result(timeout=60)
        outside = pool.submit(current_ids).result(timeout=60)
    assert first == inside_b == outside == (None, None)


def test_a_fork_pool_with_wrap_for_process_still_gets_the_callers_span(traced_dir: Path) -> None:
    """Tasks bound with wrap_for_process run in the span that bound them, after the reset."""
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        with logtrace.span("A"):
            pool.apply(logtrace.wrap_for_process(current_ids))
        with logtrace.span("B") as b:
            seen = pool.apply(logtrace.wrap_for_process(current_ids))
    assert seen == (b.trace_id, b.span_id)


def test_a_bare_os_fork_child_keeps_the_forking_span(traced_dir: Path) -> None:
    """A bare os.fork() child goes on with the code that forked, inside the same span."""
    read_fd, write_fd = os.pipe()
    with logtrace.span("parent") as parent:
        pid = os.fork()
        if pid == 0:
            os.write(write_fd, f"{logtrace.current_span_id()}".encode())
            os._exit(0)
    os.close(write_fd)
    os.waitpid(pid, 0)
    assert os.read(read_fd, 100).decode() == parent.span_id
    os.close(read_fd)


def test_a_span_a_forked_child_leaves_has_one_end_line_the_parents(traced_dir: Path) -> None:
    """A child that returns through the forking span's ``with`` writes no end line for it (the
    parent does, with its duration): one end line per span id. The child's own spans are its
    children, its log lines carry its ids."""
    with logtrace.span("forking") as forking:
        pid = os.fork()
        if pid == 0:
            try:
                with logtrace.span("in the child"):
                    logging.getLogger("child").info("working")
            except BaseException:
                os._exit(1)
    if pid == 0:
        try:
            logtrace.flush()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    logtrace.flush()
    lines = read_lines(traced_dir)
    ends = [line for line in lines if line.get("span") == "end"]
    assert [(e["name"], e["pid"]) for e in ends if e["span_id"] == forking.span_id] == [
        ("forking", os.getpid())
    ]
    (child,) = [e for e in ends if e["name"] == "in the child"]
    assert child["pid"] == pid and child["parent_id"] == forking.span_id
    (working,) = [line for line in lines if line.get("event") == "working"]
    assert working["span_id"] == child["span_id"] and working["trace_id"] == forking.trace_id
