"""A sampled span's successful end line, made of bytes: the most frequent line of all.

``Span.__exit__`` hands a sampled internal span that ended well to ``emit_sampled_end``, which
writes the line ``Stamper.end_line``'s dict and ``orjson.dumps`` would, byte for byte, without
the dict: the fields logtrace fixes are joined as text, and orjson renders only the
attributes. What is the same from line to line is rendered once: per name, the pieces with
``event`` and ``name`` (the name scrubbed as ``end_line`` scrubs it); per stamper (its
scrubber, service and pid: a fork's pid makes them anew), the fields after the duration.

Only what renders as orjson would is joined as it is: ids of letters and digits only (one
another process gave us may hold anything), a duration of whole µs below 10**15 (orjson and
Python write such a float's shortest digits alike), plain ``str`` keys. Anything else (a
redactor, more attributes than ``max_attributes``, values orjson refuses, a line over
``max_line``, a chain of the user's) takes ``emit_span_end``'s dict, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from logtrace.format import fields as f
from logtrace.write import stamper as _stamper
from logtrace.write.pipeline import direct, emit_span_end, state
from logtrace.write.redact import PLAIN_VALUES, SCANNED_FROM, Scrubber
from logtrace.write.render import limits
from logtrace.write.stamper import format_ts

# The µs of a duration_ms past the ms, as the float's shortest digits end: ".0", ".001"…
_FRACTIONS = tuple(("%.3f" % (i / 1000))[1:].rstrip("0") or ".0" for i in range(1000))
_FRACTIONS = (".0", *_FRACTIONS[1:])
_MICROS_TEXT = _stamper._MICROS_TEXT
# Below 10**15 µs, a duration has at most 15 significant digits: the shortest that give its
# float back are its own, and orjson writes them as Python's repr does (no exponent below 1e16).
_DURATION_LIMIT = 10**15
_NAMES_LIMIT = 1024
_PLAIN_KEYS_LIMIT = 4096
# The values the attributes' copy leaves as they are, whatever they hold (strings may not be).
_PLAIN_TYPES = frozenset({int, float, bool, type(None)})
_TS_LABEL = f'{{"{f.TS}":"'
_SPAN_ID_LABEL = f'","{f.SPAN_ID}":"'
# What follows the parent id up to the duration's digits: after null, after an id.
_AFTER_NULL = f',"{f.DURATION_MS}":'
_AFTER_ID = f'","{f.DURATION_MS}":'

# The pieces of the last stamper seen: its scrubber, service and pid (checked by identity), the
# line's end after the duration (with attributes to follow, and without), and the name pieces.
_parts: tuple[Any, ...] = (None, None, None, None, None, {}, set())
# The last trace id found to be of letters and digits (checked by identity).
_plain_trace_id: Any = None


def _new_parts(stamper: _stamper.Stamper) -> tuple[Any, ...]:
    """``_parts`` for ``stamper`` as it is now, remembered; its ends None when orjson refuses
    its service."""
    global _parts
    scrubber, service, pid = stamper.scrubber, stamper.service, stamper.pid
    parts: tuple[Any, ...]
    try:
        fixed = orjson.dumps({f.LOGGER: "logtrace", f.SERVICE: service, f.PID: pid})
        end = f',"{f.STATUS}":"{f.STATUS_OK}",{fixed[1:-1].decode()}'
        parts = (scrubber, service, pid, end + ",", end + "}\n", {}, set())
    except Exception:
        parts = (scrubber, service, pid, None, None, {}, set())
    _parts = parts
    return parts


def _name_pieces(
    names: dict[str, tuple[str, str, str]], scrubber: Scrubber, name: str
) -> tuple[str, str, str]:
    """The pieces of an end line around its trace id and parent id, for ``name``: up to the
    trace id, then up to the parent id of a root (``null``) and of a child (its quote).
    Remembered in ``names``; raises if orjson refuses the name."""
    event = scrubber.text(name) if len(name) >= SCANNED_FROM else name
    rendered = orjson.dumps(event).decode()
    head = f'","{f.LEVEL}":"info","{f.EVENT}":{rendered},"{f.TRACE_ID}":"'
    middle = f'","{f.TRACE_FLAGS}":"01","{f.SPAN}":"{f.SPAN_END}","{f.NAME}":{rendered},'
    pieces = (head, f'{middle}"{f.PARENT_ID}":null', f'{middle}"{f.PARENT_ID}":"')
    if len(names) >= _NAMES_LIMIT:
        names.clear()
    names[name] = pieces
    return pieces


def _plain_id(text: Any) -> bool:
    """Whether orjson writes ``text`` as it is, between quotes: ASCII letters and digits."""
    return type(text) is str and text.encode().isalnum()


def emit_sampled_end(span: Any, end_wall: int, micros: int) -> None:
    """Write the end line of ``span``, a sampled internal span that ended well ``micros`` µs
    after it started, at ``end_wall``; never raises."""
    try:
        line = _line(span, end_wall, micros)
    except Exception:
        line = None
    if line is None or len(line) > limits.max_line + 1:  # + its newline
        _emit_by_dict(span, end_wall, micros)
        return
    try:
        state.write_ended(line)
    except Exception:
        state.errors += 1


def _line(span: Any, end_wall: int, micros: int) -> bytes | None:
    """``emit_sampled_end``'s line, with its newline, or None where it takes the dict's way
    (a chain of the user's, structlog fields bound, …; so it does when this raises)."""
    global _plain_trace_id
    # direct(), its common case inline.
    if len(state.processors) != state.standard_length or (state.bound and not direct()):
        return None
    stamper = state.stamper
    scrubber = stamper.scrubber
    parts = _parts
    if parts[0] is not scrubber or parts[1] is not stamper.service or parts[2] is not stamper.pid:
        parts = _new_parts(stamper)
    attributes: Mapping[str, Any] = span.attributes
    if (
        parts[3] is None  # orjson refuses the service
        or not 0 <= micros < _DURATION_LIMIT
        or scrubber.redactor is not None
        or len(attributes) > scrubber.max_attributes
    ):
        return None
    name = span.name
    pieces = parts[5].get(name)
    if pieces is None:
        pieces = _name_pieces(parts[5], scrubber, name)
    # The ids: a span's own are made here, and so are a local parent's; a trace id or a
    # parent's id that came from elsewhere (another process, a SpanContext made by hand) is
    # joined only once found plain; a trace id is checked once a trace.
    trace_id = span._trace_id
    parent = span._parent
    if parent is None:  # a new trace's root: its trace id is made here too
        middle, parent_id, after = pieces[1], "", _AFTER_NULL
    else:
        middle, after = pieces[2], _AFTER_ID
        if type(parent) is type(span):
            parent_id = parent._span_id
        else:
            parent_id = parent.span_id
            if not _plain_id(parent_id):
                return None
        if trace_id is not _plain_trace_id:
            if not _plain_id(trace_id):
                return None
            _plain_trace_id = trace_id
    # format_ts(end_wall), its common case inline, in two pieces.
    start, ts = _stamper._ms_text
    within = end_wall - start
    if 0 <= within < 1_000_000:
        micro = _MICROS_TEXT[within // 1000]
    else:
        ts, micro = format_ts(end_wall), ""
    # _rendered_attributes' common case inline, its keys and values checked in one loop:
    # keys the scrubber leaves as they are, values no copy would change.
    rendered: bytes | None = None
    if attributes:
        plain_keys, clean = parts[6], scrubber._clean
        for key, value in attributes.items():
            if key not in plain_keys:
                break
            if type(value) is str:
                if len(value) >= SCANNED_FROM and value not in clean:
                    break
            elif type(value) not in _PLAIN_TYPES:
                break
        else:
            rendered = orjson.dumps(attributes)[1:]
        if rendered is None:
            rendered = _rendered_attributes(scrubber, attributes, plain_keys)
    if rendered is None:
        return (
            f"{_TS_LABEL}{ts}{micro}{pieces[0]}{trace_id}{_SPAN_ID_LABEL}{span._span_id}"
            f"{middle}{parent_id}{after}{micros // 1000}{_FRACTIONS[micros % 1000]}{parts[4]}"
        ).encode()
    return b"".join((
        (
            f"{_TS_LABEL}{ts}{micro}{pieces[0]}{trace_id}{_SPAN_ID_LABEL}{span._span_id}"
            f"{middle}{parent_id}{after}{micros // 1000}{_FRACTIONS[micros % 1000]}{parts[3]}"
        ).encode(),
        rendered,
        b"\n",
    ))  # fmt: skip


def _rendered_attributes(
    scrubber: Scrubber, attributes: Mapping[str, Any], plain_keys: set[str]
) -> bytes | None:
    """The attributes as ``Stamper.end_line`` copies them, rendered without their opening
    brace; None when none is left. Raises where the dict's way must render them.

    ``plain_keys``: keys the scrubber leaves as they are (flags 0), met before; those found
    plain here join them. (Attributes of such keys only, whose values no copy would change,
    ``_line`` renders as they are, without a copy.)
    """
    copied: dict[str, Any] = {}
    known = scrubber._key_flags
    for key, value in attributes.items():
        if (known.get(key) if type(key) is str else None) == 0:
            if len(plain_keys) < _PLAIN_KEYS_LIMIT:
                plain_keys.add(key)
            if type(value) is str:
                if len(value) >= SCANNED_FROM:
                    value = scrubber.text(value)
            elif not isinstance(value, PLAIN_VALUES):
                value = scrubber.value(value)
            copied[key] = value
        elif type(key) is str:
            scrubber.copy_fields(copied, {key: value}, rename=True, skip=False)
            if known.get(key) == 0 and len(plain_keys) < _PLAIN_KEYS_LIMIT:
                plain_keys.add(key)  # judged just now: plain
        else:
            raise TypeError("not a str key")  # orjson writes none without options
    return orjson.dumps(copied)[1:] if copied else None


def _emit_by_dict(span: Any, end_wall: int, micros: int) -> None:
    """``emit_sampled_end``'s line through ``Stamper.end_line``'s dict (``emit_span_end``)."""
    parent = span._parent
    if parent is None:
        parent_id = None
    elif type(parent) is type(span):
        parent_id = parent._span_id
    else:
        parent_id = parent.span_id
    emit_span_end(
        span,
        span._trace_id,
        span._span_id,
        end_wall,
        span._text_name(),  # a name that is not a str (span(123)) made text, as other lines do
        parent_id,
        micros / 1000,
        span.attributes,
    )
