"""The stamper: the fields of every line, logtrace's in a fixed order, then the user's, scrubbed.

Log lines (structlog calls, stdlib records) and span lines (start, end, events) are all made
here. Span lines and stdlib records that go through the generic chain carry an ``Origin`` under
``ORIGIN_KEY``: the fields they fix themselves (their own ids, the record's time and logger).
Everything else in an event dict is the user's, so user fields named like ours are renamed,
never trusted.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from logtrace.format import fields as f
from logtrace.write.context import TraceContext, get_current
from logtrace.write.redact import PLAIN_VALUES, SCANNED_FROM, Scrubber

if TYPE_CHECKING:
    from structlog.types import EventDict, WrappedLogger

ORIGIN_KEY = "_logtrace_origin"

_LEVEL_OF_METHOD = {
    "debug": "debug",
    "info": "info",
    "msg": "info",
    "warning": "warning",
    "warn": "warning",
    "error": "error",
    "exception": "error",
    "critical": "critical",
    "fatal": "critical",
}


class Origin:
    """Fields a line fixes itself instead of taking them from the current context."""

    __slots__ = ("ctx", "logger", "span_fields", "ts_ns")

    def __init__(
        self,
        ts_ns: int,
        logger: str,
        ctx: TraceContext | None = None,
        span_fields: dict[str, Any] | None = None,
    ) -> None:
        self.ts_ns = ts_ns
        self.logger = logger
        self.ctx = ctx
        self.span_fields = span_fields


# "000Z" to "999Z": the last three digits of a time's µs, and its zone.
_MICROS_TEXT = tuple(f"{i:03d}Z" for i in range(1000))
# The millisecond formatted last: its first nanosecond, and its text up to the ms
# ("2026-01-01T00:00:00.123"); and the second formatted last, and its text up to the ".".
_ms_text: tuple[int, str] = (-(1 << 80), "")
_second_text: tuple[int, str] = (-(1 << 80), "")  # no real second: -1 is 1969-12-31T23:59:59


def format_ts(ns: int) -> str:
    """Format nanoseconds since the epoch as RFC 3339 UTC with microseconds."""
    # In the millisecond formatted last: a subtraction, a small division and a table, where
    # dividing the whole time and making its µs digits cost twice as much.
    start, text = _ms_text
    within = ns - start
    if 0 <= within < 1_000_000:
        return text + _MICROS_TEXT[within // 1000]
    return _format_new_ms(ns)


def _format_new_ms(ns: int) -> str:
    global _ms_text, _second_text
    ms = ns // 1_000_000
    sec, milli = divmod(ms, 1000)
    second = _second_text
    if second[0] != sec:
        second = (sec, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(sec)))
        _second_text = second
    start = ms * 1_000_000
    text = second[1] + _MICROS_TEXT[milli][:3]
    _ms_text = (start, text)
    return text + _MICROS_TEXT[(ns - start) // 1000]


def qualified_name(cls: type) -> str:
    """``ValueError`` for builtins, ``package.module.Error`` otherwise."""
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def error_fields(exc: BaseException) -> dict[str, str]:
    """The error fields of a line for ``exc``: type, message and formatted traceback."""
    try:
        message = str(exc)
    except Exception:
        message = f"<unprintable {type(exc).__name__}>"
    return {
        f.ERROR_TYPE: qualified_name(type(exc)),
        f.ERROR_MESSAGE: message,
        f.EXCEPTION: "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        # (type, value, traceback) as sys.exc_info() gives it; anything else there is no error.
        value = exc_info[1] if len(exc_info) > 1 else None
        return value if isinstance(value, BaseException) else None
    return sys.exc_info()[1]


def _event_text(scrubber: Scrubber, event: Any) -> str:
    """A message that is not a ``str`` as the text ``event`` always is: a structure scrubbed,
    then as JSON (``{"a": 1}``), a number as ``str()`` does (``nan``), None as ``""``."""
    if event is None:
        return ""
    try:
        if isinstance(event, (int, float)) and not isinstance(event, bool):
            from logtrace.write.render import int_text  # render imports this module

            return int_text(event) if isinstance(event, int) else str(event)
        value = scrubber.value(event)
        if isinstance(value, str):
            return value
        text: str = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        return scrubber.text(text)
    except Exception:
        return f"<unrepresentable {type(event).__name__}>"


# Bound once: the hot path reads module globals, not attributes of the fields module.
_TS, _LEVEL, _EVENT, _LOGGER, _SERVICE, _PID = f.TS, f.LEVEL, f.EVENT, f.LOGGER, f.SERVICE, f.PID
_TRACE_ID, _SPAN_ID, _TRACE_FLAGS, _NAME = f.TRACE_ID, f.SPAN_ID, f.TRACE_FLAGS, f.NAME
_SPAN, _SPAN_START, _SPAN_END, _PARENT_ID = f.SPAN, f.SPAN_START, f.SPAN_END, f.PARENT_ID
_DURATION_MS, _STATUS, _STATUS_OK = f.DURATION_MS, f.STATUS, f.STATUS_OK
_RESERVED = f.RESERVED
_ERROR_TEXT_FIELDS = (f.ERROR_MESSAGE, f.EXCEPTION)


class Stamper:
    """The processor that writes a line's fields: logtrace's, in order, then the user's, scrubbed.

    Args:
        service: the ``service`` of every line.
        clock: nanoseconds since the epoch, for lines that do not bring their own time.
        scrubber: redaction and limits, applied to the user's fields, the message and the
            error texts.
    """

    __slots__ = ("clock", "pid", "sample_logs", "scrubber", "service")
    # Lines the structlog processor could not make (``__call__``), in this process.
    failed: ClassVar[int] = 0

    def __init__(
        self,
        service: str,
        clock: Callable[[], int] = time.time_ns,
        scrubber: Scrubber | None = None,
    ) -> None:
        self.service = service
        self.clock = clock
        self.scrubber = scrubber if scrubber is not None else Scrubber()
        self.pid = os.getpid()
        self.sample_logs = False

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        """The structlog processor: never raises into the program's log call. A line it cannot
        make is dropped (structlog's ``DropEvent``) and counted in ``Stamper.failed``, which
        the files report as ``logtrace.dropped`` lines (reason ``render_error``)."""
        try:
            origin: Origin | None = event_dict.get(ORIGIN_KEY)
            if origin is None:
                ts_ns = self.clock()
                logger_name = getattr(logger, "name", None) or "structlog"
                ctx = get_current()
            elif origin.span_fields is not None:
                return self._span_event(method_name, origin, event_dict)
            else:
                ts_ns = origin.ts_ns
                logger_name = origin.logger
                ctx = get_current()
            if self.sample_logs and self.drops(ctx):
                raise _drop_event()
            return self.log_line(
                ts_ns,
                _LEVEL_OF_METHOD.get(method_name, method_name),
                event_dict.get(_EVENT),
                ctx,
                logger_name,
                event_dict,
                event_dict.get("exc_info"),
            )
        except Exception:
            Stamper.failed += 1
            raise _drop_event() from None

    def drops(self, ctx: TraceContext | None) -> bool:
        """Whether ``sample_logs`` drops a log line in ``ctx``: an unsampled trace, not kept."""
        return ctx is not None and not ctx.sampled and not (ctx.tail is not None and ctx.tail.keep)

    def log_line(
        self,
        ts_ns: int,
        level: str,
        event: Any,
        ctx: TraceContext | None,
        logger_name: str,
        fields: Mapping[str, Any] | None,
        exc_info: Any = None,
        formatted: bool = False,
        clean: bool = False,
        trace_id: str | None = None,
        span_id: str | None = None,
    ) -> EventDict:
        """The fields of a log line: logtrace's, in order, then the user's, scrubbed.

        ``formatted``: the message was made from a format and arguments (a stdlib record's),
        so the scrubber need not remember it. ``clean``: the scrubber would leave the message
        as it is (``Scrubber.int_format_is_clean``), so it is not searched. ``trace_id`` and
        ``span_id``: ``ctx``'s ids when the caller read them already (a sampled span's, from
        its slots); None reads them from ``ctx``.
        """
        scrubber = self.scrubber
        if type(event) is str:
            if len(event) >= SCANNED_FROM and not clean:
                event = scrubber.text(event, not formatted)
        else:  # structlog takes any object as the message: a dict, say
            event = _event_text(scrubber, event)
        if ctx is None:
            out: EventDict = {
                _TS: format_ts(ts_ns),
                _LEVEL: level,
                _EVENT: event,
                _LOGGER: logger_name,
                _SERVICE: self.service,
                _PID: self.pid,
            }
        else:
            out = {
                _TS: format_ts(ts_ns),
                _LEVEL: level,
                _EVENT: event,
                _TRACE_ID: ctx.trace_id if trace_id is None else trace_id,
                _SPAN_ID: ctx.span_id if span_id is None else span_id,
                _TRACE_FLAGS: "01" if ctx.sampled else "00",
                _LOGGER: logger_name,
                _SERVICE: self.service,
                _PID: self.pid,
            }
        if fields:
            scrubber.copy_fields(out, fields, rename=True)
        if exc_info:
            exc = _exception_of(exc_info)
            if exc is not None:
                for key, value in error_fields(exc).items():
                    out[key] = value if key == f.ERROR_TYPE else scrubber.text(value)
        return out

    def _span_event(self, level: str, origin: Origin, event_dict: EventDict) -> EventDict:
        """A span line that went through the generic chain (structlog-bound fields, say)."""
        name = event_dict.get(_EVENT)
        return self.span_line(
            level,
            origin.ctx,  # type: ignore[arg-type]
            origin.ts_ns,
            origin.span_fields,  # type: ignore[arg-type]
            name if type(name) is str else str(name),
            event_dict,
            event_dict=True,
        )

    def span_line(
        self,
        level: str,
        ctx: TraceContext,
        ts_ns: int,
        span_fields: Mapping[str, Any],
        name: str,
        attributes: Mapping[str, Any],
        event_dict: bool = False,
    ) -> EventDict:
        """The fields of a span line: the context's ids, ``span_fields``, then the attributes
        (an ``event_dict`` of the generic chain: its ``event`` is the name, not a field)."""
        scrubber = self.scrubber
        event = scrubber.text(name) if len(name) >= SCANNED_FROM else name
        out: EventDict = {
            _TS: format_ts(ts_ns),
            _LEVEL: level,
            _EVENT: event,
            _TRACE_ID: ctx.trace_id,
            _SPAN_ID: ctx.span_id,
            _TRACE_FLAGS: "01" if ctx.sampled else "00",
        }
        out.update(span_fields)
        if _NAME in span_fields:
            out[_NAME] = event
        if len(span_fields) > 5:  # only failed end lines carry error texts
            for key in _ERROR_TEXT_FIELDS:
                if key in span_fields:
                    out[key] = scrubber.text(span_fields[key])
        out[_LOGGER] = "logtrace"
        out[_SERVICE] = self.service
        out[_PID] = self.pid
        if attributes:
            scrubber.copy_fields(out, attributes, rename=True, skip=event_dict)
        return out

    def boundary_line(
        self,
        ctx: TraceContext,
        ts_ns: int,
        name: str,
        parent_id: str | None,
        duration_ms: float | None,
        attributes: Mapping[str, Any],
    ) -> EventDict:
        """A span's start line (no ``duration_ms``) or successful end line: the fields
        ``span_line`` makes of it, built in one go."""
        if duration_ms is not None:
            return self.end_line(
                ctx, ctx.trace_id, ctx.span_id, ts_ns, name, parent_id, duration_ms, attributes
            )
        scrubber = self.scrubber
        event = scrubber.text(name) if len(name) >= SCANNED_FROM else name
        out: EventDict = {
            _TS: format_ts(ts_ns),
            _LEVEL: "info",
            _EVENT: event,
            _TRACE_ID: ctx.trace_id,
            _SPAN_ID: ctx.span_id,
            _TRACE_FLAGS: "01" if ctx.sampled else "00",
            _SPAN: _SPAN_START,
            _NAME: event,
            _PARENT_ID: parent_id,
            _LOGGER: "logtrace",
            _SERVICE: self.service,
            _PID: self.pid,
        }
        if attributes:
            scrubber.copy_fields(out, attributes, rename=True, skip=False)
        return out

    def end_line(
        self,
        ctx: TraceContext,
        trace_id: str | None,
        span_id: str | None,
        ts_ns: int,
        name: str,
        parent_id: str | None,
        duration_ms: float,
        attributes: Mapping[str, Any],
    ) -> EventDict:
        """A successful end line of ``ctx``, whose ids the caller read (a span reads its
        slots, not its properties)."""
        scrubber = self.scrubber
        event = scrubber.text(name) if len(name) >= SCANNED_FROM else name
        # format_ts(ts_ns), its common case inline.
        start, text = _ms_text
        within = ts_ns - start
        ts = text + _MICROS_TEXT[within // 1000] if 0 <= within < 1_000_000 else format_ts(ts_ns)
        # One literal of every field: the dict is sized for them and the attributes at once
        # (built in two steps, it was resized once per line).
        out: EventDict = {
            _TS: ts,
            _LEVEL: "info",
            _EVENT: event,
            _TRACE_ID: trace_id,
            _SPAN_ID: span_id,
            _TRACE_FLAGS: "01" if ctx.sampled else "00",
            _SPAN: _SPAN_END,
            _NAME: event,
            _PARENT_ID: parent_id,
            _DURATION_MS: duration_ms,
            _STATUS: _STATUS_OK,
            _LOGGER: "logtrace",
            _SERVICE: self.service,
            _PID: self.pid,
        }
        if not attributes:
            return out
        if scrubber.redactor is not None or len(attributes) > scrubber.max_attributes:
            scrubber.copy_fields(out, attributes, rename=True, skip=False)
            return out
        # copy_fields(out, attributes, rename=True, skip=False), inline for the keys it judged
        # plain (not hidden, not logtrace's, not skipped: flags 0), whose values it copies as
        # here; every other key goes through copy_fields itself, in its turn (the order is kept).
        known = scrubber._key_flags
        for key, value in attributes.items():
            if (known.get(key) if type(key) is str else None) == 0:
                if type(value) is str:
                    if len(value) >= SCANNED_FROM:
                        value = scrubber.text(value)
                elif not isinstance(value, PLAIN_VALUES):
                    value = scrubber.value(value)
                out[key] = value
            else:
                scrubber.copy_fields(out, {key: value}, rename=True, skip=False)
        return out


def _drop_event() -> BaseException:
    # structlog's own exception, so that structlog's loggers drop the line quietly too; only
    # reached when sample_logs is on, after configure() has imported structlog.
    import structlog

    return structlog.DropEvent()
