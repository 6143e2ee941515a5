"""The processor chain every line goes through, and where its output goes.

structlog calls, stdlib ``logging`` records and span lines all run the same chain:
``merge_contextvars`` (fields bound with structlog's contextvars; added by ``configure()``,
because importing structlog imports rich, and importing logtrace must stay light), the
``Stamper`` (``_stamper``: the reserved fields, in a fixed order, and the trace context), then
``render`` (one JSON line as bytes). The bytes go to ``state.write``: the file sink once
configured, a no-op before, a list in tests.

While the chain is the standard one and no structlog field is bound, span lines and stdlib
records skip it (``direct``): the stamper makes the same line without the event dict between.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

import orjson

from logtrace.format import fields as f
from logtrace.write.context import TraceContext, get_current
from logtrace.write.redact_keys import SKIPPED_AND_EVENT
from logtrace.write.render import cut_line, limits, render_any, to_line
from logtrace.write.stamper import ORIGIN_KEY, Origin, Stamper, format_ts

if TYPE_CHECKING:
    from structlog.types import EventDict, WrappedLogger


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


def render(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> bytes:
    """The last processor: one JSON line as bytes, whatever the values are, within max_line."""
    return to_line(event_dict)


def _drop_line(line: bytes) -> None:
    """Where lines go before ``configure()``: nowhere."""


# No tail yet: a context no line has (see _State.line_tail).
NO_TAIL: tuple[Any, ...] = (object(),) * 5


class _State:
    """What the chain is and where its lines go; rebuilt by ``configure()``."""

    __slots__ = (
        "bound",
        "errors",
        "line_tail",
        "merger",
        "processors",
        "stamper",
        "standard_length",
        "write",
        "write_ended",
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
        # The same for a line that ends with its newline, in an object of its own size (the
        # sink queues it without a copy): see ``write_to``.
        self.write_ended: Callable[[bytes], None] = _drop_line
        # The stdlib handler's tail of the last plain line (stdlib.py: its context, logger,
        # service, pid and rendered end), shared by its instances. It holds the context it was
        # made for, so that stays itself (compared by identity), and a sampled span that ends
        # lets go of it (span.py): nothing of a finished span outlives it here.
        self.line_tail: tuple[Any, ...] = NO_TAIL
        self.errors = 0


state = _State()


def write_to(
    write: Callable[[bytes], None], write_ended: Callable[[bytes], None] | None = None
) -> None:
    """Send the lines to ``write`` (bytes without the newline). ``write_ended`` takes those
    made with their newline (``state.write_ended``); by default they go to ``write`` without it."""
    state.write = write
    state.write_ended = write_ended or (lambda line: write(line[:-1]))


@contextmanager
def writing_to(write: Callable[[bytes], None]) -> Iterator[None]:
    """Every line to ``write`` (bytes without the newline) for the block, then back."""
    saved = state.write, state.write_ended
    write_to(write)
    try:
        yield
    finally:
        state.write, state.write_ended = saved


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
    ctx: TraceContext,
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
        # An attribute named event (or like another key of the event dict) is the user's:
        # event_, as the direct path writes it, in its place.
        event_dict = {(f"{k}_" if k in SKIPPED_AND_EVENT else k): v for k, v in attributes.items()}
        event_dict[f.EVENT] = name
        event_dict[ORIGIN_KEY] = Origin(ts_ns, "logtrace", ctx, span_fields)
        emit(level, event_dict)
    except Exception:
        state.errors += 1


def end_fields(
    name: str, parent_id: str | None, duration_ms: float, status: str, kind: str | None = None
) -> dict[str, Any]:
    """The span fields of an end line, for ``emit_span`` (errors are added by the caller);
    ``kind`` only when the span is not internal."""
    if kind is None:
        return {
            f.SPAN: f.SPAN_END,
            f.NAME: name,
            f.PARENT_ID: parent_id,
            f.DURATION_MS: duration_ms,
            f.STATUS: status,
        }
    return {
        f.SPAN: f.SPAN_END,
        f.NAME: name,
        f.PARENT_ID: parent_id,
        f.KIND: kind,
        f.DURATION_MS: duration_ms,
        f.STATUS: status,
    }


def emit_span_boundary(
    ctx: TraceContext,
    ts_ns: int,
    name: str,
    parent_id: str | None,
    duration_ms: float | None,
    attributes: Mapping[str, Any],
) -> None:
    """Write a span's start line (``duration_ms`` None) or successful end line: ``emit_span``'s
    line, made in fewer steps; never raises."""
    if duration_ms is not None:
        try:
            trace_id, span_id = ctx.trace_id, ctx.span_id
        except Exception:
            state.errors += 1
            return
        emit_span_end(ctx, trace_id, span_id, ts_ns, name, parent_id, duration_ms, attributes)
        return
    try:
        # direct(), its common case inline.
        if len(state.processors) == state.standard_length and (not state.bound or direct()):
            out = state.stamper.boundary_line(ctx, ts_ns, name, parent_id, None, attributes)
            state.write(to_line(out))
            return
        span_fields = {f.SPAN: f.SPAN_START, f.NAME: name, f.PARENT_ID: parent_id}
        emit_span("info", ctx, ts_ns, span_fields, name, attributes)
    except Exception:
        state.errors += 1


def emit_span_end(
    ctx: TraceContext,
    trace_id: str | None,
    span_id: str | None,
    ts_ns: int,
    name: str,
    parent_id: str | None,
    duration_ms: float,
    attributes: Mapping[str, Any],
) -> None:
    """Write the successful end line of ``ctx``, whose ids the caller read; never raises."""
    try:
        # direct(), its common case inline.
        if len(state.processors) == state.standard_length and (not state.bound or direct()):
            out = state.stamper.end_line(
                ctx, trace_id, span_id, ts_ns, name, parent_id, duration_ms, attributes
            )
            # to_line(out), inline: the most frequent line of all.
            try:
                line = orjson.dumps(out)
            except Exception:
                line = render_any(out)
            if len(line) > limits.max_line:
                line = cut_line(out, len(line))
            state.write(line)
            return
        span_fields = end_fields(name, parent_id, duration_ms, f.STATUS_OK)
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
    argv = fields.get(f.ARGV)
    if isinstance(argv, (list, tuple)):
        fields = {**fields, f.ARGV: stamper.scrubber.argv(argv)}
    stamper.scrubber.own_fields(out, fields)
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
