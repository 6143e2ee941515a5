"""Context across threads: the wrap() helper and the context-carrying ThreadPoolExecutor."""

from __future__ import annotations

import threading

import logtrace


def test_plain_thread_does_not_inherit_but_wrap_carries_context() -> None:
    """A thread started with wrap(fn) sees the span that was current when wrap was called."""
    seen: dict[str, str | None] = {}

    def work(key: str) -> None:
        seen[key] = logtrace.current_span_id()

    with logtrace.span("parent") as span:
        plain = threading.Thread(target=work, args=("plain",))
        wrapped = threading.Thread(target=logtrace.wrap(work), args=("wrapped",))
        plain.start(), wrapped.start()
        plain.join(), wrapped.join()
    assert seen == {"plain": None, "wrapped": span.span_id}


def test_executor_tasks_run_in_the_submitters_context() -> None:
    """logtrace.ThreadPoolExecutor runs each task in the context of the code that submitted it."""
    with logtrace.ThreadPoolExecutor(4) as pool:
        with logtrace.span("a") as a:
            fa = [pool.submit(logtrace.current_span_id) for _ in range(10)]
        with logtrace.span("b") as b:
            fb = list(pool.map(lambda _: logtrace.current_span_id(), range(10)))
    assert {f.result() for f in fa} == {a.span_id}
    assert set(fb) == {b.span_id}


def test_spans_opened_in_executor_tasks_are_children() -> None:
    """A span opened inside an executor task is a child of the submitting span."""
    from logtrace import testing

    def task() -> None:
        with logtrace.span("child"):
            pass

    with testing.capture_events() as events:
        with logtrace.ThreadPoolExecutor(2) as pool, logtrace.span("parent") as parent:
            for future in [pool.submit(task) for _ in range(4)]:
                future.result()
    children = [e for e in events if e["name"] == "child" and e["span"] == "start"]
    assert len(children) == 4 and {c["parent_id"] for c in children} == {parent.span_id}


def test_wrapped_callable_can_run_on_two_threads_at_once() -> None:
    """One wrapped callable used by several threads concurrently does not fail."""
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    with logtrace.span("p") as parent:

        def work() -> None:
            try:
                barrier.wait()
                assert logtrace.current_span_id() == parent.span_id
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        wrapped = logtrace.wrap(work)
    threads = [threading.Thread(target=wrapped) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
