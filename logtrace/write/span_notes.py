"""What a span says about itself in band: drops, misuse, and the names it accepts.

Tracing never raises into the program: a wrong status or kind becomes one warning line per
misused call per process (``logtrace.misuse``), and lost spans a ``logtrace.dropped`` line.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any

from logtrace.format import fields as f
from logtrace.format.shown import short_repr
from logtrace.write.context import TraceContext, get_span, reset_span
from logtrace.write.pipeline import emit
from logtrace.write.stamper import ORIGIN_KEY, Origin
from logtrace.write.tracer import tracer

_MISUSE_EVENT = "logtrace.misuse"
_misuse_reported: set[str] = set()


def report_dropped(count: int, reason: str) -> None:
    """Write a ``logtrace.dropped`` line for ``count`` lost spans (none for zero)."""
    if count > 0:
        emit(
            "warning",
            {
                f.EVENT: f.DROPPED_EVENT,
                f.DROPPED: count,
                f.REASON: reason,
                ORIGIN_KEY: Origin(tracer.wall_ns(), "logtrace"),
            },
        )


def status_of(status: Any) -> str | None:
    """``ok``/``error`` for the status names logtrace and OpenTelemetry use; None otherwise."""
    name = getattr(status, "name", status)  # an enum member, OpenTelemetry's StatusCode say
    if not isinstance(name, str):
        return None
    lowered = name.lower()
    if lowered in (f.STATUS_OK, "unset"):
        return f.STATUS_OK
    return f.STATUS_ERROR if lowered == f.STATUS_ERROR else None


def warn_misuse(call: str, what: str) -> None:
    """One warning line per misused call per process: ``logtrace.misuse`` with the reason."""
    if call in _misuse_reported:
        return
    _misuse_reported.add(call)
    with contextlib.suppress(Exception):
        emit(
            "warning",
            {
                f.EVENT: _MISUSE_EVENT,
                f.REASON: f"span.{call}: {what}",
                ORIGIN_KEY: Origin(tracer.wall_ns(), "logtrace"),
            },
        )


def span_kind(kind: Any) -> str | None:
    """``kind`` as a span keeps it: None for internal.

    OpenTelemetry's names in any case (``"SERVER"``, a ``SpanKind``) are understood. Anything
    else makes an internal span and writes one warning line (once per process): tracing never
    raises into the program.
    """
    if kind is None:
        return None
    text = str(getattr(kind, "name", kind)).lower()
    if text == f.KIND_INTERNAL:
        return None
    if text not in f.KINDS:
        warn_misuse("kind", f"unknown span kind {short_repr(kind)}, taken as internal")
        return None
    return text


def text_of(value: object) -> str:
    """``value`` as text for a span's name or message: ``str()`` of it, or
    ``<unprintable T>`` when that raises (a name of 123 or an Enum member wrote no line)."""
    if type(value) is str:
        return value
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def ended_out_of_order(span: Any, token: contextvars.Token[TraceContext | None]) -> None:
    """A span ended while it was not the current span here: one ``logtrace.misuse`` line.

    Ended in this context with spans opened after it still current (a generator with a
    ``with span`` inside, left suspended), it takes them off, as its ``with`` would. Ended
    after something else took it off (a generator closed after its caller's span), or in
    another thread or task, it leaves the current span alone: restoring what was current when
    it opened would make a span that has ended current again, and every later span its child.
    """
    current = get_span()
    while current is not None and current is not span:
        above = getattr(current, "_token", None)
        if above is None:
            break
        current = above.old_value
    reason = "it was not the current span here"
    if current is span:
        try:
            reset_span(token)
            reason = "spans opened inside it were still current"
        except ValueError:
            reason = "it was opened in another thread or task"
    warn_misuse(
        "end",
        f"{short_repr(span.name)} ended out of order ({reason}); a span is closed in the "
        "thread or task that opened it, and a generator's span is @traced",
    )
