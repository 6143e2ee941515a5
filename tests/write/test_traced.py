"""@traced on functions, coroutines, generators and async generators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

import logtrace
from logtrace import testing


def test_function_span_named_after_the_function() -> None:
    """@traced wraps each call in a span named by the function's qualified name."""

    @logtrace.traced
    def compute(x: int) -> int:
        return x * 2

    with testing.capture_events() as events:
        assert compute(21) == 42
    assert [e["span"] for e in events] == ["start", "end"]
    assert events[0]["name"].endswith("compute")
    assert compute.__name__ == "compute"


def test_name_and_attributes_given_to_the_decorator() -> None:
    """@traced("name", key=value) sets the span name and start attributes."""

    @logtrace.traced("fetch page", source="http")
    def fetch() -> None:
        pass

    @logtrace.traced(name="other")
    def other() -> None:
        pass

    with testing.capture_events() as events:
        fetch()
        other()
    assert events[0]["name"] == "fetch page" and events[0]["source"] == "http"
    assert events[2]["name"] == "other"


def test_coroutine_span_covers_the_await() -> None:
    """An async function's span is current inside it and ends when it returns."""

    @logtrace.traced
    async def fetch(url: str) -> str | None:
        await asyncio.sleep(0)
        return logtrace.current_span_id()

    with testing.capture_events() as events:
        span_id = asyncio.run(fetch("x"))
    assert events[0]["span_id"] == span_id and events[-1]["span"] == "end"


def test_coroutine_exception_marks_error() -> None:
    """An exception from a traced coroutine marks its span and propagates."""

    @logtrace.traced
    async def fail() -> None:
        raise RuntimeError("nope")

    with testing.capture_events() as events, pytest.raises(RuntimeError):
        asyncio.run(fail())
    assert events[-1]["status"] == "error"


def test_generator_span_open_from_first_step_to_end() -> None:
    """A traced generator opens its span at the first next() and ends it when exhausted."""

    @logtrace.traced
    def numbers(n: int) -> Iterator[str | None]:
        for _ in range(n):
            yield logtrace.current_span_id()

    with testing.capture_events() as events:
        gen = numbers(3)
        assert events == []
        first = next(gen)
        assert [e["span"] for e in events] == ["start"]
        assert logtrace.current_span_id() is None  # between steps: the consumer's context
        rest = list(gen)
    assert [e["span"] for e in events] == ["start", "end"]
    assert {first, *rest} == {events[0]["span_id"]}


def test_generator_closed_early_ends_ok_and_failing_generator_ends_error() -> None:
    """Closing a traced generator ends its span ok; an exception inside ends it as an error."""

    @logtrace.traced
    def forever() -> Iterator[int]:
        while True:
            yield 1

    @logtrace.traced
    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("bad row")

    with testing.capture_events() as events:
        gen = forever()
        next(gen)
        gen.close()
        with pytest.raises(ValueError):
            list(broken())
    ends = [e for e in events if e["span"] == "end"]
    assert [e["status"] for e in ends] == ["ok", "error"]


def test_generator_send_and_throw_reach_the_generator() -> None:
    """send() values and thrown exceptions pass through the wrapper to the generator."""

    @logtrace.traced
    def echo() -> Iterator[object]:
        received: object = None
        while True:
            try:
                received = yield received
            except KeyError:
                received = "caught"

    gen = echo()
    next(gen)
    assert gen.send("hi") == "hi"
    assert gen.throw(KeyError("k")) == "caught"
    gen.close()


def test_generator_return_value_is_kept() -> None:
    """`yield from` a traced generator still gets its return value."""

    @logtrace.traced
    def inner() -> Iterator[int]:
        yield 1
        return 99

    def outer() -> Iterator[int]:
        result = yield from inner()
        yield result

    assert list(outer()) == [1, 99]


def test_async_generator_span() -> None:
    """A traced async generator's span is current in each step and ends when exhausted."""

    @logtrace.traced
    async def ticks(n: int) -> AsyncIterator[str | None]:
        for _ in range(n):
            await asyncio.sleep(0)
            yield logtrace.current_span_id()

    async def consume() -> list[str | None]:
        return [tick async for tick in ticks(3)]

    with testing.capture_events() as events:
        ids = asyncio.run(consume())
    assert [e["span"] for e in events] == ["start", "end"]
    assert set(ids) == {events[0]["span_id"]}


def test_traced_above_classmethod_and_staticmethod() -> None:
    """@traced written above @classmethod or @staticmethod traces the method (calling it
    raised TypeError: 'classmethod' object is not callable)."""

    class K:
        @logtrace.traced
        @classmethod
        def made(cls) -> str:
            return cls.__name__

        @logtrace.traced("static one")
        @staticmethod
        def plain(x: int) -> int:
            return x + 1

    with testing.capture_events() as events:
        assert K.made() == "K" and K().made() == "K" and K.plain(1) == 2
    names = [e["name"] for e in events if e.get("span") == "end"]
    assert names == [
        "test_traced_above_classmethod_and_staticmethod.<locals>.K.made",
    ] * 2 + ["static one"]
