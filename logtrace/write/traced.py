"""``@traced``: a span around each call of a function, coroutine or generator.

A generator's span is open from its first step to its end (exhausted, closed or failed); while
the generator runs a step its span is current, and between steps the consumer's context is.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, TypeVar, overload

from logtrace.write.context import reset_span, set_span
from logtrace.write.noop import NOOP_SPAN
from logtrace.write.span import Span, as_current, span_kind, tracer

F = TypeVar("F", bound=Callable[..., Any])


@overload
def traced(fn: F, /) -> F: ...


@overload
def traced(
    fn: str | None = None,
    /,
    *,
    name: str | None = None,
    kind: str | None = None,
    **attributes: Any,
) -> Callable[[F], F]: ...


def traced(
    fn: Any = None, /, *, name: str | None = None, kind: str | None = None, **attributes: Any
) -> Any:
    """Trace every call of the decorated function in a span named after it.

    ``@traced``, ``@traced("fetch page")`` or ``@traced(name="fetch", kind="client", db="main")``;
    works on functions, ``async def`` coroutines, generators and async generators.

    Args:
        name: the span name; the function's qualified name by default.
        kind: the span kind (see ``logtrace.span``); internal by default.
        attributes: fields written on every call's start line.
    """
    span_kind(kind)  # a wrong kind fails here, at decoration, not at each call
    if isinstance(fn, str):
        return functools.partial(_decorate, name=fn, attributes=attributes, kind=kind)
    if fn is None:
        return functools.partial(_decorate, name=name, attributes=attributes, kind=kind)
    return _decorate(fn, name=name, attributes=attributes, kind=kind)


def _decorate(fn: F, *, name: str | None, attributes: dict[str, Any], kind: str | None = None) -> F:
    if isinstance(fn, (classmethod, staticmethod)):
        # @traced above @classmethod: the function inside traced, wrapped again the same way.
        inner = _decorate(fn.__func__, name=name, attributes=attributes, kind=kind)
        return type(fn)(inner)
    # A partial or a callable object has no __qualname__: its type's, or its function's.
    span_name = name or getattr(fn, "__qualname__", None) or _callable_name(fn)
    wrapper: Callable[..., Any]
    if inspect.isasyncgenfunction(fn):
        wrapper = _async_generator_wrapper(fn, span_name, attributes, kind)
    elif inspect.iscoroutinefunction(fn):

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not tracer.enabled:
                return await fn(*args, **kwargs)
            with Span(span_name, dict(attributes), None, kind):
                return await fn(*args, **kwargs)

    elif inspect.isgeneratorfunction(fn):
        wrapper = _generator_wrapper(fn, span_name, attributes, kind)
    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not tracer.enabled:
                return fn(*args, **kwargs)
            with Span(span_name, dict(attributes), None, kind):
                return fn(*args, **kwargs)

    return functools.wraps(fn)(wrapper)  # type: ignore[return-value]


def _generator_wrapper(
    fn: Callable[..., Generator[Any, Any, Any]],
    name: str,
    attributes: dict[str, Any],
    kind: str | None = None,
) -> Callable[..., Generator[Any, Any, Any]]:
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        gen = fn(*args, **kwargs)
        span = Span(name, dict(attributes), None, kind) if tracer.enabled else NOOP_SPAN
        span.open()
        current = as_current(span)
        step: Callable[[Any], Any] = gen.send
        arg: Any = None
        try:
            while True:
                token = set_span(current)
                try:
                    value = step(arg)
                finally:
                    reset_span(token)
                try:
                    arg = yield value
                    step = gen.send
                except GeneratorExit:
                    token = set_span(current)
                    try:
                        gen.close()
                    finally:
                        reset_span(token)
                    raise
                except BaseException as exc:
                    step, arg = gen.throw, exc
        except StopIteration as stop:
            span.end()
            return stop.value
        except BaseException as exc:
            span.end(exc)
            raise

    return wrapper


def _async_generator_wrapper(
    fn: Callable[..., AsyncGenerator[Any, Any]],
    name: str,
    attributes: dict[str, Any],
    kind: str | None = None,
) -> Callable[..., AsyncGenerator[Any, Any]]:
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        agen = fn(*args, **kwargs)
        span = Span(name, dict(attributes), None, kind) if tracer.enabled else NOOP_SPAN
        span.open()
        current = as_current(span)
        step: Callable[[Any], Any] = agen.asend
        arg: Any = None
        try:
            while True:
                token = set_span(current)
                try:
                    value = await step(arg)
                finally:
                    reset_span(token)
                try:
                    arg = yield value
                    step = agen.asend
                except GeneratorExit:
                    token = set_span(current)
                    try:
                        await agen.aclose()
                    finally:
                        reset_span(token)
                    raise
                except BaseException as exc:
                    step, arg = agen.athrow, exc
        except StopAsyncIteration:
            span.end()
        except BaseException as exc:
            span.end(exc)
            raise

    return wrapper


def _callable_name(fn: Any) -> str:
    """A span name for a callable without ``__qualname__`` (``functools.partial``, an object
    with ``__call__``): what it wraps, else its type."""
    inner = getattr(fn, "func", None)
    if inner is not None and getattr(inner, "__qualname__", None):
        return str(inner.__qualname__)
    return type(fn).__qualname__
