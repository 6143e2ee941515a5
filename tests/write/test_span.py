"""Spans: start and end lines, nesting, attributes, events, status and errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from _core_fixtures import read_lines, traced_dir

import logtrace
from logtrace import sampling, testing
from logtrace.write import span_notes
from logtrace.write.span import tracer


def test_span_writes_start_then_end_with_duration() -> None:
    """A span writes a start line when it opens and an end line with duration when it closes."""
    with testing.capture_events() as events, logtrace.span("dispatch", task_id=42) as span:
        assert [e["span"] for e in events] == ["start"]
    start, end = events
    assert start["event"] == start["name"] == "dispatch"
    assert start["task_id"] == 42 and start["parent_id"] is None
    assert end["span"] == "end" and end["status"] == "ok" and end["duration_ms"] >= 0
    assert start["trace_id"] == end["trace_id"] == span.trace_id
    assert start["span_id"] == end["span_id"] == span.span_id
    assert start["logger"] == "logtrace" and start["level"] == "info"


def test_nested_spans_link_to_their_parent() -> None:
    """A span opened inside another has its parent's id and the same trace id."""
    with testing.capture_events() as events:
        with logtrace.span("outer") as outer, logtrace.span("middle") as middle:
            with logtrace.span("inner") as inner:
                pass
    starts = {e["name"]: e for e in events if e["span"] == "start"}
    assert starts["middle"]["parent_id"] == outer.span_id
    assert starts["inner"]["parent_id"] == middle.span_id
    assert {e["trace_id"] for e in events} == {outer.trace_id}
    assert inner.span_id not in (outer.span_id, middle.span_id)


def test_current_ids_follow_the_innermost_span() -> None:
    """current_trace_id()/current_span_id() name the innermost open span, None outside."""
    assert logtrace.current_span_id() is None and logtrace.current_trace_id() is None
    with logtrace.span("a") as a:
        assert logtrace.current_span_id() == a.span_id
        with logtrace.span("b") as b:
            assert logtrace.current_span_id() == b.span_id
            assert logtrace.current_trace_id() == a.trace_id
        assert logtrace.current_span_id() == a.span_id
    assert logtrace.current_span_id() is None


def test_set_after_start_goes_on_the_end_line() -> None:
    """Attributes set after the start line appear on the end line, which carries them all."""
    with testing.capture_events() as events, logtrace.span("work", a=1) as span:
        span.set(attempt=2)
    start, end = events
    assert start["a"] == 1 and "attempt" not in start
    assert end["attempt"] == 2 and end["a"] == 1
    assert span.attributes == {"a": 1, "attempt": 2}


def test_span_event_is_a_point_in_time_line_of_the_span() -> None:
    """span.event() writes one line marked span=event with the span's ids."""
    with testing.capture_events() as events, logtrace.span("work") as span:
        span.event("retry", attempt=3)
    (event,) = [e for e in events if e["span"] == "event"]
    assert event["event"] == "retry" and event["attempt"] == 3
    assert event["span_id"] == span.span_id and "name" not in event


def test_attributes_called_name_or_self_are_taken_as_attributes() -> None:
    """span.event("e", name=...) and span.set(name=..., self=...) never raise: they are
    attributes, and ``name`` is written as ``name_`` like every reserved field name."""
    with testing.capture_events() as events, logtrace.span("work") as span:
        span.event("retry", name="x", self=1)
        span.set(name="y", self=2)
    _, event, end = events
    assert event["event"] == "retry" and event["name_"] == "x" and event["self"] == 1
    assert end["name"] == "work" and end["name_"] == "y" and end["self"] == 2


def test_an_attribute_called_event_is_written_event_underscore() -> None:
    """span("a", event=...), span.set(event=...) and span.event("x", event=...) keep the value
    as ``event_`` (it was left off every line: ``event`` is the line's own name)."""
    with testing.capture_events() as events, logtrace.span("signup", event="form") as span:
        span.event("clicked", event="button")
        span.set(event="submitted")
    point, end = [e for e in events if e["span"] in ("event", "end")]
    assert (point["event"], point["event_"]) == ("clicked", "button")
    assert (end["event"], end["event_"]) == ("signup", "submitted")
    starts = [e for e in events if e["span"] == "start"]
    assert all(e["event_"] == "form" for e in starts)


def test_exception_marks_error_and_is_reraised_unchanged() -> None:
    """An exception leaving a span marks it as an error and propagates as the same object."""
    boom = KeyError("missing")
    with testing.capture_events() as events:
        with pytest.raises(KeyError) as caught, logtrace.span("lookup"):
            raise boom
    assert caught.value is boom
    end = events[-1]
    assert end["status"] == "error" and end["level"] == "error"
    assert end["error_type"] == "KeyError" and end["error_message"] == "'missing'"
    assert "Traceback" in end["exception"] and "KeyError" in end["exception"]


def test_custom_exception_type_is_module_qualified() -> None:
    """Non-builtin exception types are written with their module."""

    class Timeout(Exception):
        pass

    with testing.capture_events() as events, pytest.raises(Timeout), logtrace.span("call"):
        raise Timeout("slow")
    assert (
        events[-1]["error_type"]
        == f"{__name__}.test_custom_exception_type_is_module_qualified.<locals>.Timeout"
    )


def test_set_status_error_with_message() -> None:
    """set_status('error', message) marks the span failed without an exception."""
    with testing.capture_events() as events, logtrace.span("check") as span:
        span.set_status("error", "quota exceeded")
    assert events[-1]["status"] == "error" and events[-1]["error_message"] == "quota exceeded"


def test_record_exception_keeps_running() -> None:
    """record_exception() marks the span as failed by a handled exception."""
    with testing.capture_events() as events, logtrace.span("retrying") as span:
        try:
            raise TimeoutError("first try")
        except TimeoutError as exc:
            span.record_exception(exc)
    assert events[-1]["error_type"] == "TimeoutError"


def test_system_exit_zero_is_not_an_error() -> None:
    """A clean sys.exit() through a span leaves it ok."""
    with testing.capture_events() as events, pytest.raises(SystemExit), logtrace.span("main"):
        raise SystemExit(0)
    assert events[-1]["status"] == "ok"


def test_async_with_and_concurrent_tasks_keep_separate_spans() -> None:
    """asyncio tasks running concurrently each see their own span; lines carry the right ids."""
    import logging

    seen: dict[str, tuple[str | None, str | None]] = {}

    async def task(name: str) -> None:
        async with logtrace.span(name) as span:
            await asyncio.sleep(0.01)
            logging.getLogger("t").warning("in %s", name)
            await asyncio.sleep(0.01)
            seen[name] = (logtrace.current_span_id(), span.span_id)

    async def main() -> None:
        with logtrace.span("root"):
            await asyncio.gather(*(task(f"t{i}") for i in range(5)))

    from logtrace.write.stdlib import StdlibHandler

    handler = StdlibHandler()
    logging.getLogger("t").addHandler(handler)
    try:
        with testing.capture_events() as events:
            asyncio.run(main())
    finally:
        logging.getLogger("t").removeHandler(handler)
    assert all(current == own for current, own in seen.values())
    starts = {e["name"]: e for e in events if e.get("span") == "start"}
    for e in events:
        if e.get("span") is None:
            assert e["span_id"] == starts[e["event"].split()[-1]]["span_id"]
    assert {starts[f"t{i}"]["parent_id"] for i in range(5)} == {starts["root"]["span_id"]}


def test_disabled_spans_are_one_shared_object_without_ids() -> None:
    """With tracing off, span() and @traced hand out one no-op span: no ids, no context, no
    lines; its methods accept their usual arguments and do nothing."""

    @logtrace.traced
    def work(n: int) -> int:
        assert logtrace.current_span_id() is None
        return n + 1

    tracer.enabled = False
    try:
        with testing.capture_events() as events:
            with logtrace.span("quiet", a=1) as span, logtrace.span("inner") as inner:
                assert span is inner and span.span_id is None and span.trace_id is None
                assert logtrace.current_span_id() is None
                span.set(b=2)
                span.event("e", x=1)
                span.set_status("error", "no")
                span.rename("other")
            assert work(1) == 2
        assert events == []
    finally:
        tracer.enabled = True


def test_spans_deeper_than_the_limit_keep_context_and_write_nothing() -> None:
    """Past max_depth spans nest but write nothing; the count is reported in the stream."""
    saved, tracer.max_depth = tracer.max_depth, 3
    dropped_before = tracer.depth_dropped
    try:
        with testing.capture_events() as events:

            def recurse(n: int) -> None:
                if n:
                    with logtrace.span(f"level{n}"):
                        recurse(n - 1)

            recurse(6)
    finally:
        tracer.max_depth = saved
    assert sorted({e["name"] for e in events if "span" in e}) == ["level4", "level5", "level6"]
    assert tracer.depth_dropped - dropped_before == 3
    (report,) = [e for e in events if e["event"] == "logtrace.dropped"]
    assert report["dropped"] == 3 and report["reason"] == "max_depth"


def _micros(ts: str) -> int:
    from datetime import datetime, timezone

    when = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return (when - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


@pytest.mark.parametrize("step_ns", [100, 333, 729, 766, 877, 1499, 250_001])
def test_end_ts_less_duration_is_the_start_ts_exactly(step_ns: int) -> None:
    """The end line's ts less its duration_ms is the start line's ts, to the µs, whatever the
    nanoseconds of the start and of the duration (clocks off the µs: a step that is not one)."""
    with testing.frozen_clock(1_767_225_600_000_000_000 + 7 * step_ns, step_ns):
        with testing.capture_events() as events:
            for _ in range(5):
                with logtrace.span("outer"), logtrace.span("inner"):
                    pass
    starts = {e["span_id"]: e for e in events if e.get("span") == "start"}
    ends = [e for e in events if e.get("span") == "end"]
    assert len(ends) == 10
    for end in ends:
        duration_us = round(end["duration_ms"] * 1000)
        assert _micros(end["ts"]) - duration_us == _micros(starts[end["span_id"]]["ts"])


@pytest.mark.parametrize("kind", [None, "client"])
def test_span_makes_the_same_object_as_the_class(kind: str | None) -> None:
    """``span()`` builds its Span without calling the class (a speed-up): every slot that
    ``Span.__init__`` sets holds the same value, so a field added to one is not missed by the
    other."""
    from logtrace.write.context import SpanContext
    from logtrace.write.span import Span

    parent = SpanContext("ab" * 16, "cd" * 8)
    made = logtrace.span("work", parent=parent, kind=kind, n=1)
    built = Span("work", {"n": 1}, parent, kind)
    missing = object()
    slots = [slot for cls in type(built).__mro__ for slot in getattr(cls, "__slots__", ())]
    assert slots
    for slot in slots:
        assert getattr(made, slot, missing) == getattr(built, slot, missing), slot


def test_the_adaptive_sampler_is_charged_for_each_line_of_a_short_span(traced_dir: Path) -> None:
    """With the adaptive sampler, every span line written, the end line of a span that wrote
    only its end line included, adds its cost to the sampler's meter."""

    class Counted(sampling.Adaptive):
        __slots__ = ("charged",)

        def record_cost(self, cost_ns: int) -> None:
            self.charged.append(cost_ns)

    sampler = Counted(clock=lambda: 0)  # a frozen clock: the ratio stays 1
    sampler.charged = []
    logtrace.configure(service="test", directory=traced_dir, sampler=sampler, environ={})
    with logtrace.span("outer", a=1), logtrace.span("inner", b="x"):
        pass
    logtrace.flush()
    ends = [line for line in read_lines(traced_dir) if line.get("span") == "end"]
    assert [line["name"] for line in ends] == ["inner", "outer"]
    assert len(sampler.charged) == 2 and all(cost > 0 for cost in sampler.charged)


def test_a_name_that_is_not_text_is_written_as_its_text() -> None:
    """span(123), span(None), an Enum member, rename(None), event(7): their lines are written,
    named by str() (they were lost: rendering the line raised, and was only counted)."""
    import enum

    class Colour(enum.Enum):
        RED = 1

    with testing.capture_events() as events:
        for name in (123, None, Colour.RED):
            with logtrace.span(name) as span:  # type: ignore[arg-type]
                span.event(7)  # type: ignore[arg-type]
        with logtrace.span("before") as span:
            span.rename(None)  # type: ignore[arg-type]
    ends = [e["event"] for e in events if e["span"] == "end"]
    assert ends == ["123", "None", "Colour.RED", "None"]
    assert [e["event"] for e in events if e["span"] == "event"] == ["7", "7", "7"]


def test_a_short_span_named_by_a_number_reaches_the_files(traced_dir: Path) -> None:
    """span(123) and @traced(name=123) ending at once, written to files: their one end line
    each, named "123" (the end line's bytes path gave up on the name and its dict path
    failed on it too: both lines were lost, counted as render_error)."""
    logtrace.configure(service="test", directory=traced_dir, environ={})
    with logtrace.span(123):  # type: ignore[arg-type]
        pass
    logtrace.traced(name=123)(lambda: None)()  # type: ignore[arg-type]
    logtrace.flush()
    lines = read_lines(traced_dir)
    assert [line["name"] for line in lines if line.get("span") == "end"] == ["123", "123"]
    assert not [line for line in lines if line["event"] == "logtrace.dropped"]


def test_an_unprintable_status_message_does_not_raise() -> None:
    """set_status("error", obj) whose str() raises marks the span failed, message shown as
    unprintable (the error reached the program)."""

    class Unprintable:
        def __str__(self) -> str:
            raise ValueError("no")

    with testing.capture_events() as events, logtrace.span("work") as span:
        span.set_status("error", Unprintable())
    (end,) = [e for e in events if e["span"] == "end"]
    assert end["status"] == "error" and end["error_message"] == "<unprintable Unprintable>"


def test_traced_takes_a_partial_and_a_callable_object() -> None:
    """@traced on functools.partial or an object with __call__ (no __qualname__) names the
    span after what it wraps, or its type (it raised AttributeError at decoration)."""
    import functools

    def add(a: int, b: int) -> int:
        return a + b

    class Double:
        def __call__(self, x: int) -> int:
            return 2 * x

    with testing.capture_events() as events:
        assert logtrace.traced(functools.partial(add, 1))(2) == 3
        assert logtrace.traced(Double())(3) == 6
    names = [e["event"] for e in events if e["span"] == "end"]
    assert names[0].endswith("add") and names[1].endswith("Double")


@pytest.fixture
def misuse_unsaid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Misuse is said once per process: as if no earlier test had said any."""
    monkeypatch.setattr(span_notes, "_misuse_reported", set())


def test_a_generator_closed_after_its_callers_span_leaves_later_traces_alone(
    traced_dir: Path, misuse_unsaid: None
) -> None:
    """A generator's ``with span`` ended after the caller's span (closed late) does not make
    that ended span current again: the next request is a trace of its own."""
    import gc
    import logging

    def rows() -> Iterator[int]:
        with logtrace.span("query rows"):
            yield 1
            yield 2

    with logtrace.span("first request"):
        pending = rows()
        next(pending)
    del pending
    gc.collect()
    assert logtrace.current_span_id() is None
    with logtrace.span("second request"):
        pass
    logging.getLogger("app").warning("after both")
    logtrace.flush()
    lines = read_lines(traced_dir)
    ends = {line["name"]: line for line in lines if line.get("span") == "end"}
    assert set(ends) == {"first request", "query rows", "second request"}
    assert ends["query rows"]["parent_id"] == ends["first request"]["span_id"]
    assert ends["second request"]["parent_id"] is None
    assert ends["second request"]["trace_id"] != ends["first request"]["trace_id"]
    (after,) = [line for line in lines if line["event"] == "after both"]
    assert "span_id" not in after
    misuse = [line for line in lines if line["event"] == "logtrace.misuse"]
    assert len(misuse) == 1 and "'first request' ended out of order" in misuse[0]["reason"]


def test_spans_ended_in_the_wrong_order_leave_no_ended_span_current(traced_dir: Path) -> None:
    """An outer span ended before the inner one takes the inner off; the inner's end later
    does not bring the ended outer back."""
    outer = logtrace.span("outer").start()
    inner = logtrace.span("inner").start()
    outer.end()
    assert logtrace.current_span_id() is None
    inner.end()
    assert logtrace.current_span_id() is None
    logtrace.flush()
    ends = [line["name"] for line in read_lines(traced_dir) if line.get("span") == "end"]
    assert sorted(ends) == ["inner", "outer"]


def test_a_span_ended_in_another_thread_writes_a_misuse_line_not_an_exception(
    traced_dir: Path, misuse_unsaid: None
) -> None:
    """Ending a span in a thread other than the one that opened it raises nothing there,
    writes its one end line and one ``logtrace.misuse`` line, and leaves that thread's
    current span alone."""
    import contextvars
    import threading

    # Opened in a copy of this context: it stays current there (nothing else can take it
    # off), not in the tests that come after.
    opened = contextvars.copy_context().run(logtrace.span("opened here").start)
    errors: list[BaseException] = []

    def end_it() -> None:
        try:
            with logtrace.span("the thread's own"):
                opened.end()
                assert logtrace.current_span_id() is not None
        except BaseException as exc:  # pragma: no cover - the failure being tested
            errors.append(exc)

    thread = threading.Thread(target=end_it)
    thread.start()
    thread.join()
    assert errors == []
    logtrace.flush()
    lines = read_lines(traced_dir)
    ends = [line["name"] for line in lines if line.get("span") == "end"]
    assert sorted(ends) == ["opened here", "the thread's own"]
    misuse = [line["reason"] for line in lines if line["event"] == "logtrace.misuse"]
    assert len(misuse) == 1 and "'opened here' ended out of order" in misuse[0]
