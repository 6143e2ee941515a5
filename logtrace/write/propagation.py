"""W3C trace context across boundaries: ``traceparent``, ``tracestate`` and ``baggage``.

``inject`` writes the current span's context into a carrier (message headers, HTTP headers, a
child's environment); ``extract`` reads one back. Parsing is strict per the W3C spec: anything
malformed starts a new trace and writes a ``logtrace.bad_traceparent`` warning naming the value,
never an exception. A bad ``tracestate`` alone is dropped quietly (the spec's rule: the trace
continues, the vendor state does not), and so is a bad ``baggage``.

What is written is always version ``00`` with flags ``00`` or ``01``: the spec asks a
participant to downgrade a future version it understood, and to clear flags it does not know.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

from logtrace.format import fields as f
from logtrace.write.context import SpanContext, TraceContext, get_current
from logtrace.write.ids import is_valid_span_id, is_valid_trace_id
from logtrace.write.pipeline import emit
from logtrace.write.stamper import ORIGIN_KEY, Origin

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
BAGGAGE = "baggage"
# OpenTelemetry's environment carrier also names BAGGAGE.
ENV_BAGGAGE = "BAGGAGE"

_HEX = frozenset("0123456789abcdef")
_SHOWN = 64

# tracestate (W3C Trace Context, section 3.3): at most 32 members ``key=value``, keys unique.
_TRACESTATE_MEMBERS = 32
_TRACESTATE_PROPAGATED = 512  # what we pass on at most; longer lists lose members
_TRACESTATE_LONG_MEMBER = 128  # the first to go when a list is too long
_TRACESTATE_READ = 8192  # beyond this a header is not even parsed
_TRACESTATE_MEMBER = re.compile(
    r"(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})"
    r"=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
)
# baggage (W3C Baggage): passed through, not interpreted; bounded like the spec's limit.
_MAX_BAGGAGE = 8192


def format_traceparent(ctx: TraceContext) -> str:
    """``00-<trace id>-<span id>-<flags>`` for ``ctx``."""
    return f"00-{ctx.trace_id}-{ctx.span_id}-{ctx.trace_flags}"


def parse_traceparent(value: Any) -> SpanContext | None:
    """Parse a ``traceparent`` header strictly; ``None`` if it is not valid.

    Lowercase hex only; all-zero ids, version ``ff`` and wrong lengths are invalid. Future
    versions are accepted as the spec asks: their first four fields are read and anything
    after a ``-`` at position 55 is ignored. Only the sampled bit of the flags is kept.
    """
    if not isinstance(value, str):
        return None
    value = value.strip(" \t")
    if len(value) < 55 or value[2] != "-" or value[35] != "-" or value[52] != "-":
        return None
    version, trace_id, span_id, flags = value[:2], value[3:35], value[36:52], value[53:55]
    if not _HEX.issuperset(version) or version == "ff":
        return None
    if version == "00" and len(value) != 55:
        return None
    if len(value) > 55 and value[55] != "-":
        return None
    if not (is_valid_trace_id(trace_id) and is_valid_span_id(span_id) and _HEX.issuperset(flags)):
        return None
    return SpanContext(trace_id, span_id, sampled=bool(int(flags, 16) & 1), remote=True)


def parse_tracestate(value: Any) -> str | None:
    """The ``tracestate`` to carry on, normalised; ``None`` if absent or invalid.

    Members are checked against the spec's grammar; an invalid member, a duplicate key or more
    than 32 members invalidate the whole header. A list longer than 512 characters loses its
    members over 128 characters first, then members from the end, as the spec suggests.
    """
    if not isinstance(value, str) or len(value) > _TRACESTATE_READ:
        return None
    members: list[str] = []
    keys: set[str] = set()
    for raw in value.split(","):
        member = raw.strip(" \t")
        if not member:
            continue
        if _TRACESTATE_MEMBER.fullmatch(member) is None:
            return None
        key = member.split("=", 1)[0]
        if key in keys:
            return None
        keys.add(key)
        members.append(member)
    if not members or len(members) > _TRACESTATE_MEMBERS:
        return None
    joined = ",".join(members)
    if len(joined) > _TRACESTATE_PROPAGATED:
        members = [m for m in members if len(m) <= _TRACESTATE_LONG_MEMBER]
        while members and len(",".join(members)) > _TRACESTATE_PROPAGATED:
            members.pop()
        joined = ",".join(members)
    return joined or None


def _parse_baggage(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > _MAX_BAGGAGE:
        return None
    text = value.strip(" \t")
    if not text or not text.isascii() or not text.isprintable():
        return None
    return text


def _get(carrier: Mapping[Any, Any], key: str) -> Any:
    """The value of ``key`` in ``carrier``, whatever the case of the carrier's keys.

    Lists (a header given several times) come back as lists; bytes are decoded as latin-1, as
    HTTP header bytes are.
    """
    value = carrier.get(key)
    if value is None:
        value = carrier.get(key.upper())
    if value is None:
        for name, candidate in carrier.items():
            if isinstance(name, bytes):
                name = name.decode("latin-1")
            if isinstance(name, str) and name.lower() == key:
                value = candidate
                break
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, tuple):
        return list(value)
    return value


def _single(value: Any) -> Any:
    """A header that may be repeated joined into one, as HTTP combines them (``a,b``)."""
    if isinstance(value, list):
        parts: list[str] = []
        for v in value:
            if isinstance(v, bytes):
                v = v.decode("latin-1")
            if not isinstance(v, str):
                return None
            parts.append(v)
        return ",".join(parts) if parts else None
    return value


def extract(carrier: Mapping[Any, Any] | None) -> SpanContext | None:
    """Read the context in ``carrier``; ``None`` when there is none or it is malformed.

    Keys are matched case-insensitively (``traceparent``, ``Traceparent``, ``TRACEPARENT``).
    A present but malformed ``traceparent`` (including one given twice) is reported with a
    ``logtrace.bad_traceparent`` warning line, and the span that uses the result starts a new
    trace. Never raises.
    """
    context = extract_or_bad(carrier)
    return None if context is BAD else context  # type: ignore[return-value]


# What ``extract_or_bad`` returns for a present but malformed ``traceparent``.
BAD = object()


def extract_or_bad(carrier: Mapping[Any, Any] | None) -> SpanContext | object | None:
    """``extract``, telling a malformed ``traceparent`` (reported, ``BAD``) from none at all
    (``None``): ``span(parent=carrier)`` starts a new trace for the first and continues the
    current span for the second."""
    if not carrier:
        return None
    try:
        raw = _get(carrier, TRACEPARENT)
        if raw is None:
            return None
        if isinstance(raw, list) and len(raw) == 1:
            raw = raw[0].decode("latin-1") if isinstance(raw[0], bytes) else raw[0]
        ctx = parse_traceparent(raw)
        if ctx is None:
            _report_bad(_single(raw) if isinstance(raw, list) else raw)
            return BAD
        ctx.tracestate = parse_tracestate(_single(_get(carrier, TRACESTATE)))
        ctx.baggage = _parse_baggage(_single(_get(carrier, BAGGAGE)))
        return ctx
    except Exception:
        return None


def _report_bad(raw: Any) -> None:
    try:
        shown = raw if isinstance(raw, str) else repr(raw)
    except Exception:
        shown = f"<unprintable {type(raw).__name__}>"
    if len(shown) > _SHOWN:
        shown = shown[:_SHOWN] + "…"
    emit(
        "warning",
        {
            f.EVENT: f.BAD_TRACEPARENT_EVENT,
            "value": shown,
            "action": "started a new trace",
            ORIGIN_KEY: Origin(time.time_ns(), "logtrace"),
        },
    )


def inject(
    carrier: MutableMapping[Any, Any], context: TraceContext | None = None
) -> MutableMapping[Any, Any]:
    """Write the current span's ``traceparent`` (and ``tracestate``, ``baggage``) into ``carrier``.

    Outside any span nothing is written. Returns ``carrier``, so
    ``send(headers=logtrace.inject({}))`` works. Never raises.

    Args:
        carrier: a dict-like of message headers, HTTP headers or metadata.
        context: inject this context instead of the current one (a ``SpanContext`` or a
            ``Span``).
    """
    try:
        ctx = context if context is not None else get_current()
        if ctx is None:
            return carrier
        carrier[TRACEPARENT] = format_traceparent(ctx)
        if ctx.tracestate:
            carrier[TRACESTATE] = ctx.tracestate
        if ctx.baggage:
            carrier[BAGGAGE] = ctx.baggage
    except Exception:
        pass
    return carrier


def child_env(
    env: Mapping[str, str] | None = None, context: TraceContext | None = None
) -> dict[str, str]:
    """A copy of ``env`` (``os.environ`` by default) carrying the current context.

    ``subprocess.run(cmd, env=logtrace.child_env())``: a child that calls ``configure()``
    continues this trace (``TRACEPARENT``, ``TRACESTATE``, ``BAGGAGE``, the names of
    OpenTelemetry's environment carrier). Outside any span the variables are removed, so a
    child never continues a stale trace.
    """
    out = dict(os.environ if env is None else env)
    ctx = context if context is not None else get_current()
    for name in (f.ENV_TRACEPARENT, f.ENV_TRACESTATE, ENV_BAGGAGE):
        out.pop(name, None)
    if ctx is not None:
        out[f.ENV_TRACEPARENT] = format_traceparent(ctx)
        if ctx.tracestate:
            out[f.ENV_TRACESTATE] = ctx.tracestate
        if ctx.baggage:
            out[ENV_BAGGAGE] = ctx.baggage
    return out


def extract_env(env: Mapping[str, str] | None = None) -> SpanContext | None:
    """The context in ``TRACEPARENT``/``TRACESTATE``/``BAGGAGE`` of ``env`` (``os.environ``)."""
    source = os.environ if env is None else env
    if not str(source.get(f.ENV_TRACEPARENT) or "").strip():
        return None  # unset, or set empty (TRACEPARENT= ): no parent, as OpenTelemetry reads it
    return extract(
        {
            TRACEPARENT: source[f.ENV_TRACEPARENT],
            TRACESTATE: source.get(f.ENV_TRACESTATE),
            BAGGAGE: source.get(ENV_BAGGAGE),
        }
    )
