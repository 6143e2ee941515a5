"""The processor chain: reserved fields, rendering anything, stdlib and structlog bridges."""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import structlog
from _core_fixtures import KEYS, VALUES, through_both_paths
from hypothesis import given
from hypothesis import strategies as st

import logtrace
from logtrace import testing
from logtrace.format import fields as _fields
from logtrace.write.pipeline import emit, render


def test_an_int_too_long_for_str_is_written_rounded() -> None:
    """An int past Python's digit limit for str() is written as rounded E-notation text; the
    rest of the line is kept."""
    line = orjson.loads(render(None, "info", {"event": "x", "n": -(10**5000) - 7, "k": 1}))
    assert line["n"] == "-1.0000000000000000000E+5000 (rounded: too many digits for str)"
    assert line["event"] == "x" and line["k"] == 1


@pytest.mark.parametrize("name", sorted(_fields.RESERVED))
def test_user_fields_cannot_clobber_reserved_names(name: str) -> None:
    """A user field named like a reserved field is written with a trailing underscore."""
    # Span(...) takes the attributes as a dict: ``kind`` is a parameter of span().
    with testing.capture_events() as events, logtrace.Span("s", {name: "user"}) as span:
        emit("info", {"event": "log", name: "user"})
    for line in events[:2]:
        assert line[name + "_"] == "user"
        assert line.get(name) != "user"
    assert events[0]["span_id"] == span.span_id


def test_lines_are_one_json_object_whatever_the_values() -> None:
    """Newlines, control characters, NaN, huge ints, bytes, sets, cycles: still one JSON line."""
    cyclic: list[object] = []
    cyclic.append(cyclic)

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    with testing.capture_events() as events:
        emit(
            "info",
            {
                "event": "multi\nline\r\x00message",
                "nan": math.nan,
                "inf": math.inf,
                "huge": 10**40,
                "raw": b"\xff\xfe bytes",
                "tags": {"a"},
                "cyclic": cyclic,
                "obj": Opaque(),
                "surrogate": "\udcff",
                7: "int key",
            },
        )
    (line,) = events
    assert line["event"] == "multi\nline\r\x00message"
    assert line["huge"] == str(10**40) and line["obj"] == "<opaque>" and line["tags"] == ["a"]
    rendered = render(None, "info", {"event": "x\ny"})
    assert b"\n" not in rendered


def test_render_never_raises_on_a_value_whose_repr_fails() -> None:
    """A value whose repr() raises is replaced, not propagated."""

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    line = orjson.loads(render(None, "info", {"event": "x", "bad": Hostile()}))
    assert line["event"] == "x" and "Hostile" in line["bad"]


def test_add_trace_context_processor_for_own_structlog_setups() -> None:
    """The standalone structlog processor adds the ids to any event dict inside a span."""
    assert logtrace.add_trace_context(None, "info", {"event": "x"}) == {"event": "x"}
    with logtrace.span("s") as span:
        out = logtrace.add_trace_context(None, "info", {"event": "x"})
    assert out == {
        "event": "x",
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "trace_flags": "01",
    }


def test_structlog_drop_event_from_a_user_processor_is_not_an_error() -> None:
    """structlog.DropEvent raised by a processor drops the line quietly."""
    from logtrace.write.pipeline import state

    def dropper(logger: object, method: str, event_dict: dict[str, object]) -> dict[str, object]:
        raise structlog.DropEvent

    errors = state.errors
    state.processors.insert(0, dropper)
    try:
        with testing.capture_events() as events:
            emit("info", {"event": "dropped"})
    finally:
        state.processors.remove(dropper)
    assert events == [] and state.errors == errors


def test_structlog_bound_fields_reach_log_and_span_lines(tmp_path: Path) -> None:
    """Fields bound with structlog.contextvars appear on log lines and span lines alike."""
    from structlog.contextvars import bind_contextvars, clear_contextvars

    try:
        logtrace.configure(directory=tmp_path, environ={})
        bind_contextvars(request_id="r-1")
        with testing.capture_events() as events, logtrace.span("handle"):
            structlog.get_logger("app").info("inside", request_id_given=True)
            logging.getLogger("app").warning("stdlib inside")
        clear_contextvars()
        with testing.capture_events() as after, logtrace.span("next"):
            structlog.get_logger("app").info("after clearing")
    finally:
        clear_contextvars()
        logtrace.shutdown()
    assert [e.get("request_id") for e in events] == ["r-1", "r-1", "r-1", "r-1"]
    assert [e.get("request_id") for e in after] == [None, None, None]


@given(
    attributes=st.dictionaries(KEYS, VALUES, max_size=6),
    name=st.text(min_size=1, max_size=20) | st.just("login token=abcdefgh12"),
    level=st.sampled_from(["info", "error"]),
)
def test_span_fast_path_writes_what_the_generic_chain_writes(
    attributes: dict[str, object], name: str, level: str
) -> None:
    """Span lines made directly (start, end, failed end) are, byte for byte, the generic chain's."""
    from logtrace.write.context import SpanContext
    from logtrace.write.pipeline import emit_span, emit_span_boundary

    ctx = SpanContext("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    ts = 1_767_225_600_000_000_000
    span_fields = {
        "span": "end",
        "name": name,
        "parent_id": None,
        "duration_ms": 1.5,
        "status": "error",
        "error_message": "bad password=hunter2hunter2",
    }

    def write() -> None:
        emit_span(level, ctx, ts, span_fields, name, attributes)
        emit_span_boundary(ctx, ts, name, "b7ad6b7169203330", None, attributes)
        emit_span_boundary(ctx, ts, name, None, 2.5, attributes)

    direct, generic = through_both_paths(write)
    assert direct == generic and len(direct) == 3
    assert [orjson.loads(line)["span"] for line in direct] == ["end", "start", "end"]


def test_lines_a_processor_fails_to_make_are_reported_in_the_log(tmp_path: Path) -> None:
    """A processor of the program's that raises on a span line or a stdlib record loses that
    line (the program goes on: logtrace made the call); the next flush writes a
    ``logtrace.dropped`` line with their count, reason ``render_error``."""
    from logtrace.write.pipeline import state

    def breaks(logger: object, method: str, event_dict: dict[str, object]) -> dict[str, object]:
        if event_dict.get("event") == "lost":
            raise RuntimeError("a processor's bug")
        return event_dict

    logtrace.configure(directory=tmp_path, environ={}, service="svc")
    state.processors.insert(0, breaks)
    try:
        with logtrace.span("kept"):
            for _ in range(2):
                with logtrace.span("lost"):
                    pass
            logging.getLogger("app").warning("lost")
        logtrace.flush()
        logging.getLogger("app").warning("lost")
        logtrace.flush()
    finally:
        state.processors.remove(breaks)
        logtrace.shutdown()
    files = sorted(tmp_path.rglob("*.jsonl"))
    lines = [orjson.loads(x) for p in files for x in p.read_bytes().splitlines()]
    events = [line["event"] for line in lines]
    assert "lost" not in events and "kept" in events
    drops = [line for line in lines if line["event"] == _fields.DROPPED_EVENT]
    assert [(d["dropped"], d["reason"]) for d in drops] == [
        (3, "render_error"),
        (1, "render_error"),
    ]


def test_structlog_calls_never_raise_and_write_event_as_text(tmp_path: Path) -> None:
    """structlog with an ``exc_info`` that holds no exception raised AttributeError into the
    program; a line the stamper cannot make is now dropped and counted (reason
    ``render_error``). A message that is not a ``str`` is written as text (``event`` is a
    string on every line): a structure as its JSON, scrubbed by key; a number as ``str()``."""
    logtrace.configure(directory=tmp_path, environ={}, service="svc")
    log = structlog.get_logger("app")
    try:
        log.error("failed", exc_info=(ValueError, "not an exception", None))
        log.info({"a": 1, "password": "hunter2hunter2"})
        log.info(float("nan"))
        log.info(42)
        logtrace.flush()
    finally:
        logtrace.shutdown()
    lines = [
        orjson.loads(x) for p in tmp_path.rglob("*.jsonl") for x in p.read_bytes().splitlines()
    ]
    events = [line["event"] for line in lines if line.get("logger") == "app"]
    assert events == ["failed", '{"a":1,"password":"[REDACTED]"}', "nan", "42"]
    assert all(isinstance(line["event"], str) for line in lines)
