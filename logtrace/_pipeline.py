"""The processor chain every line goes through, and where its output goes.

structlog calls, stdlib ``logging`` records and span lines all run the same chain:
``merge_contextvars`` (fields bound with structlog's contextvars; added by ``configure()``,
because importing structlog imports rich, and importing logtrace must stay light), ``Stamper``
(the reserved fields, in a fixed order, and the trace context), then ``render`` (one JSON line
as bytes). The bytes go to ``state.write``: the file sink once configured, a no-op before, a
list in tests.

Span lines and stdlib records reach the chain with an ``Origin`` under ``ORIGIN_KEY``: the
fields they fix themselves (their own ids, the record's time and logger). Everything else in an
event dict is the user's, so user fields named like ours are renamed, never trusted.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from types import FrameType
from typing import TYPE_CHECKING, Any

import orjson

from . import _fields as f
from ._context import SpanContext, get_current
from ._redact import Scrubber

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
        ctx: SpanContext | None = None,
        span_fields: dict[str, Any] | None = None,
    ) -> None:
        self.ts_ns = ts_ns
        self.logger = logger
        self.ctx = ctx
        self.span_fields = span_fields


_ts_cache: tuple[int, str] = (-1, "")


def format_ts(ns: int) -> str:
    """Format nanoseconds since the epoch as RFC 3339 UTC with microseconds."""
    global _ts_cache
    sec, rem = divmod(ns, 1_000_000_000)
    cached = _ts_cache
    if cached[0] != sec:
        cached = (sec, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(sec)))
        _ts_cache = cached
    # 1000000 + µs, less its leading 1: six digits, zero-padded, cheaper than a format spec.
    return cached[1] + str(1_000_000 + rem // 1000)[1:] + "Z"


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
        return exc_info[1] if len(exc_info) > 1 else None
    return sys.exc_info()[1]


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

    def drops(self, ctx: SpanContext | None) -> bool:
        """Whether ``sample_logs`` drops a log line in ``ctx``: an unsampled trace, not kept."""
        return ctx is not None and not ctx.sampled and not (ctx.tail is not None and ctx.tail.keep)

    def log_line(
        self,
        ts_ns: int,
        level: str,
        event: Any,
        ctx: SpanContext | None,
        logger_name: str,
        fields: Mapping[str, Any] | None,
        exc_info: Any = None,
    ) -> EventDict:
        """The fields of a log line: logtrace's, in order, then the user's, scrubbed."""
        scrubber = self.scrubber
        if type(event) is str:
            if len(event) >= 8:
                event = scrubber.text(event)
        elif event is not None:  # structlog takes any object as the message: a dict, say
            event = scrubber.value(event)
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
                _TRACE_ID: ctx.trace_id,
                _SPAN_ID: ctx.span_id,
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
        )

    def span_line(
        self,
        level: str,
        ctx: SpanContext,
        ts_ns: int,
        span_fields: Mapping[str, Any],
        name: str,
        attributes: Mapping[str, Any],
    ) -> EventDict:
        """The fields of a span line: the context's ids, ``span_fields``, then the attributes."""
        scrubber = self.scrubber
        event = scrubber.text(name) if len(name) >= 8 else name
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
            scrubber.copy_fields(out, attributes, rename=True)
        return out

    def start_line(
        self,
        ctx: SpanContext,
        ts_ns: int,
        name: str,
        parent_id: str | None,
        attributes: Mapping[str, Any],
    ) -> EventDict:
        """A span's start line; the same fields as ``span_line`` makes, built in one go."""
        scrubber = self.scrubber
        event = scrubber.text(name) if len(name) >= 8 else name
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
            scrubber.copy_fields(out, attributes, rename=True)
        return out

    def end_line(
        self,
        ctx: SpanContext,
        ts_ns: int,
        name: str,
        parent_id: str | None,
        duration_ms: float,
        attributes: Mapping[str, Any],
    ) -> EventDict:
        """A successful span's end line; the same fields as ``span_line`` makes."""
        scrubber = self.scrubber
        event = scrubber.text(name) if len(name) >= 8 else name
        out: EventDict = {
            _TS: format_ts(ts_ns),
            _LEVEL: "info",
            _EVENT: event,
            _TRACE_ID: ctx.trace_id,
            _SPAN_ID: ctx.span_id,
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
        if attributes:
            scrubber.copy_fields(out, attributes, rename=True)
        return out


class BoundFieldsMerger:
    """structlog's ``merge_contextvars``, skipped while nothing was ever bound.

    structlog's processor copies and walks the whole context on every line; its registry of
    bound keys tells us when there is nothing to find. Built by ``configure()``, which has
    imported structlog by then.
    """

    __slots__ = ("_bound", "_merge")

    def __init__(self) -> None:
        import structlog.contextvars

        self._merge = structlog.contextvars.merge_contextvars
        # Private to structlog: without it, always merge.
        self._bound: Mapping[str, Any] | None = getattr(
            structlog.contextvars, "_CONTEXT_VARS", None
        )

    def registry(self) -> Mapping[str, Any] | tuple[bool]:
        """structlog's registry of bound keys: empty while nothing was ever bound (never, if
        we cannot tell: then a non-empty stand-in)."""
        return (True,) if self._bound is None else self._bound

    def nothing_bound(self) -> bool:
        """Whether no key has a value now (structlog's unbound value is ``...``)."""
        if self._bound is None:
            return False
        # A copy: another thread may bind a new key while we look.
        return all(var.get() is ... for var in list(self._bound.values()))

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        if self._bound is not None and not self._bound:
            return event_dict
        return self._merge(logger, method_name, event_dict)


def _drop_event() -> BaseException:
    # structlog's own exception, so that structlog's loggers drop the line quietly too; only
    # reached when sample_logs is on, after configure() has imported structlog.
    import structlog

    return structlog.DropEvent()


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, BaseException):
        return f"{qualified_name(type(value))}: {value}"
    return repr(value)


_DUMPS_OPTIONS = orjson.OPT_NON_STR_KEYS


def _sanitize(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy: strings made valid UTF-8, huge ints and the unknown as text."""
    if depth > 32:
        return "<nested too deep>"
    try:
        if isinstance(value, str):
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if isinstance(value, int):
            return value if -(2**63) <= value < 2**64 else _int_text(value)
        if isinstance(value, Mapping):
            return {str(_sanitize(k, depth + 1)): _sanitize(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [_sanitize(v, depth + 1) for v in value]
        return _sanitize(_default(value), depth + 1)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def _int_text(value: int) -> str:
    """``str(value)``; past Python's limit on the digits ``str()`` makes (4300 by default),
    the value rounded to 20 significant digits, in E notation, with a note saying so."""
    try:
        return str(value)
    except ValueError:
        pass
    import decimal  # rarely needed: not on import

    context = decimal.Context(prec=20, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    # From the top 96 bits and a power of two: all the digits would take quadratic time.
    size = abs(value)
    shift = max(0, size.bit_length() - 96)
    rounded = context.multiply(decimal.Decimal(size >> shift), context.power(2, shift))
    sign = "-" if value < 0 else ""
    return f"{sign}{rounded:E} (rounded: too many digits for str)"


def render(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> bytes:
    """The last processor: one JSON line as bytes, whatever the values are, within max_line."""
    return to_line(event_dict)


def to_line(event_dict: EventDict) -> bytes:
    """One JSON line as bytes, whatever the values are, within ``max_line``."""
    try:
        line = orjson.dumps(event_dict, default=_default, option=_DUMPS_OPTIONS)
    except Exception:
        state.render_fallbacks += 1
        line = _render_sanitized(event_dict)
    if len(line) > state.max_line:
        line = _render_cut(event_dict, len(line))
    return line


def _render_sanitized(event_dict: EventDict) -> bytes:
    try:
        return orjson.dumps(_sanitize(event_dict), option=_DUMPS_OPTIONS)
    except Exception:
        return orjson.dumps(
            {
                f.TS: event_dict.get(f.TS),
                f.LEVEL: "error",
                f.EVENT: "logtrace.render_error",
                f.LOGGER: "logtrace",
            }
        )


_KEPT_WHEN_CUT = frozenset(f.RESERVED - {f.EXCEPTION, f.ERROR_MESSAGE}) | {f.EVENT}


def _render_cut(event_dict: EventDict, size: int) -> bytes:
    """A line over ``max_line``: logtrace's fields kept, user fields dropped, the size noted."""
    state.lines_cut += 1
    kept = {k: v for k, v in event_dict.items() if k in _KEPT_WHEN_CUT}
    for key in (f.EVENT, f.NAME, f.ERROR_MESSAGE):
        value = event_dict.get(key)
        if isinstance(value, str):
            kept[key] = value[:1024]
    kept[f.LINE_TRUNCATED] = size
    return _render_sanitized(kept)


def _drop_line(line: bytes) -> None:
    """Where lines go before ``configure()``: nowhere."""


class _State:
    """What the chain is and where its lines go; rebuilt by ``configure()``."""

    __slots__ = (
        "bound",
        "errors",
        "lines_cut",
        "max_line",
        "merger",
        "processors",
        "render_fallbacks",
        "stamper",
        "standard_length",
        "write",
    )

    def __init__(self) -> None:
        self.stamper = Stamper(service="unknown")
        # configure() puts structlog's bound fields first when it sets structlog up.
        self.merger: BoundFieldsMerger | None = None
        self.processors: list[Callable[..., Any]] = [self.stamper, render]
        # The length of [merger?, stamper, render]: while the chain has it, nobody has added a
        # processor, and span lines and stdlib records may skip the generic chain (``direct``).
        self.standard_length = 2
        # structlog's registry of bound fields (``BoundFieldsMerger``): lines skip the chain
        # while it is empty.
        self.bound: Mapping[str, Any] | tuple[bool] = {}
        self.write: Callable[[bytes], None] = _drop_line
        self.max_line = 256 * 1024
        self.errors = 0
        self.render_fallbacks = 0
        self.lines_cut = 0


state = _State()


def use_chain(merger: BoundFieldsMerger | None) -> None:
    """Make the chain [merger?, stamper, render], in place (structlog's cached loggers hold it)."""
    state.merger = merger
    state.processors[:] = [p for p in (merger, state.stamper, render) if p is not None]
    state.standard_length = len(state.processors)
    state.bound = {} if merger is None else merger.registry()


def emit(method_name: str, event_dict: EventDict) -> None:
    """Run ``event_dict`` through the chain and hand the line to the sink; never raises."""
    try:
        line: Any = event_dict
        for processor in state.processors:
            line = processor(None, method_name, line)
        state.write(line)
    except Exception:
        state.errors += 1
    except BaseException as exc:
        # structlog.DropEvent (a BaseException) from a processor of the user's: not an error.
        if type(exc).__name__ != "DropEvent":
            raise


def direct() -> bool:
    """Whether lines may skip the generic chain: it is the standard one, nothing is bound."""
    if len(state.processors) != state.standard_length:
        return False
    return not state.bound or state.merger is None or state.merger.nothing_bound()


def emit_span(
    level: str,
    ctx: SpanContext,
    ts_ns: int,
    span_fields: dict[str, Any],
    name: str,
    attributes: Mapping[str, Any],
) -> None:
    """Write a span line; never raises.

    With the standard chain and no structlog-bound fields, the stamper builds the line
    directly; otherwise it goes through ``emit`` like any event. Both write the same line.
    """
    try:
        if direct():
            state.write(
                to_line(state.stamper.span_line(level, ctx, ts_ns, span_fields, name, attributes))
            )
            return
        event_dict = dict(attributes)
        event_dict[_EVENT] = name
        event_dict[ORIGIN_KEY] = Origin(ts_ns, "logtrace", ctx, span_fields)
        emit(level, event_dict)
    except Exception:
        state.errors += 1


def emit_span_start(
    ctx: SpanContext, ts_ns: int, name: str, parent_id: str | None, attributes: Mapping[str, Any]
) -> None:
    """Write a span's start line (``emit_span``'s line, made in fewer steps); never raises."""
    try:
        if direct():
            state.write(to_line(state.stamper.start_line(ctx, ts_ns, name, parent_id, attributes)))
        else:
            span_fields = {_SPAN: _SPAN_START, _NAME: name, _PARENT_ID: parent_id}
            emit_span("info", ctx, ts_ns, span_fields, name, attributes)
    except Exception:
        state.errors += 1


def emit_span_end(
    ctx: SpanContext,
    ts_ns: int,
    name: str,
    parent_id: str | None,
    duration_ms: float,
    attributes: Mapping[str, Any],
) -> None:
    """Write a successful span's end line (``emit_span``'s line, in fewer steps); never raises."""
    try:
        if direct():
            stamper = state.stamper
            line = stamper.end_line(ctx, ts_ns, name, parent_id, duration_ms, attributes)
            state.write(to_line(line))
        else:
            span_fields = {
                _SPAN: _SPAN_END,
                _NAME: name,
                _PARENT_ID: parent_id,
                _DURATION_MS: duration_ms,
                _STATUS: _STATUS_OK,
            }
            emit_span("info", ctx, ts_ns, span_fields, name, attributes)
    except Exception:
        state.errors += 1


def report(level: str, event: str, fields: Mapping[str, Any]) -> bytes:
    """Render a line logtrace writes about itself (drops, write errors, file headers)."""
    stamper = state.stamper
    out: dict[str, Any] = {
        f.TS: format_ts(stamper.clock()),
        f.LEVEL: level,
        f.EVENT: event,
        f.LOGGER: "logtrace",
        f.SERVICE: stamper.service,
        f.PID: os.getpid(),
    }
    # Through the scrubber: a file header's argv, say, may hold a secret.
    stamper.scrubber.copy_fields(out, fields, rename=False)
    return render(None, level, out)


class SinkLogger:
    """The logger structlog hands rendered lines to; every level method writes the line."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def msg(self, line: bytes) -> None:
        """Hand a rendered line to the sink."""
        state.write(line)

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def sink_logger_factory(*args: Any) -> SinkLogger:
    """structlog's logger factory: ``structlog.get_logger("name")`` names the logger."""
    if args and isinstance(args[0], str):
        return SinkLogger(args[0])
    return SinkLogger(_caller_module())


def _caller_module() -> str:
    # Runs once per logger (structlog caches it), so walking the stack here is affordable.
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(("structlog", "logtrace.")) and module != "logtrace":
            return str(module)
        frame = frame.f_back
    return "structlog"


_PLAIN_RECORD = vars(logging.LogRecord("", 0, "", 0, "", (), None))
_RECORD_ATTRS = frozenset(_PLAIN_RECORD.keys() | {"message", "asctime", "taskName"})
# The number of attributes a record has when nobody added any.
_PLAIN_RECORD_SIZE = len(_PLAIN_RECORD)


def _level_of_record(levelno: int) -> str:
    if levelno <= logging.DEBUG:
        return "debug"
    if levelno <= logging.INFO:
        return "info"
    if levelno <= logging.WARNING:
        return "warning"
    if levelno <= logging.ERROR:
        return "error"
    return "critical"


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception as exc:
        return _unformattable(record, exc)


def _extra_fields(record: logging.LogRecord) -> dict[str, Any] | None:
    """The record's ``extra=`` fields, in order; ``None`` when there are none (most calls)."""
    attrs = record.__dict__
    # Most records are plain: same size, nothing to look for (a record whose size is that of
    # a plain one but which lost an attribute and gained an extra is taken as plain).
    if len(attrs) == _PLAIN_RECORD_SIZE or not (attrs.keys() - _RECORD_ATTRS):
        return None
    return {key: value for key, value in attrs.items() if key not in _RECORD_ATTRS}


def record_to_event(record: logging.LogRecord) -> tuple[str, EventDict]:
    """The level and event dict of a stdlib record, ``extra=`` fields included."""
    event_dict: EventDict = {f.EVENT: _message(record)}
    extra = _extra_fields(record)
    if extra:
        event_dict.update(extra)
    if record.exc_info:
        event_dict["exc_info"] = record.exc_info
    event_dict[ORIGIN_KEY] = Origin(int(record.created * 1e9), record.name)
    return _level_of_record(record.levelno), event_dict


def _unformattable(record: logging.LogRecord, exc: Exception) -> str:
    """For a record whose ``getMessage()`` raised ``exc``: the best text there is, and what
    failed (never dropped: the line still tells that something was logged, where, when)."""
    failed = qualified_name(type(exc))
    msg = record.msg
    try:
        return f"{msg!r} % {record.args!r}"
    except Exception:
        pass
    if type(msg) is str:
        return f"{msg} [logtrace: formatting its arguments raised {failed}]"
    if type(msg) is int:
        return _int_text(msg)  # past str()'s digit limit
    return f"[logtrace: the message, a {qualified_name(type(msg))}, raised {failed} in str()]"


class StdlibHandler(logging.Handler):
    """Sends stdlib log records through logtrace's chain into its files."""

    def handle(self, record: logging.LogRecord) -> bool:
        """Emit without the handler lock: the chain and the sink are thread-safe."""
        if record.levelno >= self.level and self.filter(record):
            self.emit(record)
            return True
        return False

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` as one JSON line; never raises.

        With the standard chain and nothing bound, the stamper makes the line at once: the
        same line ``emit`` would, without the event dict in between.
        """
        try:
            if not direct():
                level, event_dict = record_to_event(record)
                emit(level, event_dict)
                return
            stamper = state.stamper
            ctx = get_current()
            if stamper.sample_logs and stamper.drops(ctx):
                return
            line = stamper.log_line(
                int(record.created * 1e9),
                _level_of_record(record.levelno),
                _message(record),
                ctx,
                record.name,
                _extra_fields(record),
                record.exc_info,
            )
            state.write(to_line(line))
        except Exception:
            state.errors += 1


def add_trace_context(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """A structlog processor that adds ``trace_id``, ``span_id`` and ``trace_flags``.

    For structlog setups of your own: put it in your processor chain, before the renderer.
    """
    ctx = get_current()
    if ctx is not None:
        event_dict.setdefault(f.TRACE_ID, ctx.trace_id)
        event_dict.setdefault(f.SPAN_ID, ctx.span_id)
        event_dict.setdefault(f.TRACE_FLAGS, ctx.trace_flags)
    return event_dict


class TraceContextFilter(logging.Filter):
    """A ``logging.Filter`` that sets ``trace_id``, ``span_id`` and ``trace_flags`` on records.

    For stdlib setups of your own: add it to a handler and use ``%(trace_id)s`` in the format.
    Outside a span the attributes are empty strings, so formats never fail.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record``; always lets it through."""
        ctx = get_current()
        record.trace_id = ctx.trace_id if ctx is not None else ""
        record.span_id = ctx.span_id if ctx is not None else ""
        record.trace_flags = ctx.trace_flags if ctx is not None else ""
        return True
