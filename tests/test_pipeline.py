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
from hypothesis import given
from hypothesis import strategies as st

import logtrace
from logtrace import _fields, testing
from logtrace._pipeline import StdlibHandler, emit, format_ts, render


@pytest.fixture
def stdlib_logger() -> Iterator[logging.Logger]:
    """A 'third-party' stdlib logger whose records go through logtrace's handler."""
    logger = logging.getLogger("thirdparty.module")
    handler = StdlibHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)


def test_stdlib_record_inside_span_gains_ids(stdlib_logger: logging.Logger) -> None:
    """A stdlib logging call inside a span carries trace_id and span_id."""
    with testing.capture_events() as events, logtrace.span("dispatch") as span:
        stdlib_logger.info("sending task %d", 42, extra={"task_id": 42})
    line = events[1]
    assert line["event"] == "sending task 42" and line["logger"] == "thirdparty.module"
    assert (line["trace_id"], line["span_id"]) == (span.trace_id, span.span_id)
    assert line["trace_flags"] == "01" and line["task_id"] == 42 and "span" not in line


def test_stdlib_record_outside_span_has_no_ids(stdlib_logger: logging.Logger) -> None:
    """Outside any span a log line carries no trace fields."""
    with testing.capture_events() as events:
        stdlib_logger.warning("alone")
    assert "trace_id" not in events[0] and events[0]["level"] == "warning"


def test_stdlib_exception_fields(stdlib_logger: logging.Logger) -> None:
    """log.exception() writes error_type, error_message and the traceback."""
    with testing.capture_events() as events:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            stdlib_logger.exception("failed")
    line = events[0]
    assert line["level"] == "error" and line["error_type"] == "ZeroDivisionError"
    assert "ZeroDivisionError" in line["exception"]


def test_broken_format_arguments_never_raise() -> None:
    """A log record whose %-arguments don't match still produces a line, not an exception."""
    record = logging.LogRecord("lib", logging.INFO, __file__, 1, "%d items", ("many",), None)
    with testing.capture_events() as events:
        StdlibHandler().handle(record)
    assert "items" in events[0]["event"] and "many" in events[0]["event"]


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    __repr__ = __str__


@pytest.mark.parametrize(
    ("msg", "args", "shown"),
    [
        (_Unprintable(), None, "[logtrace: the message, a test_pipeline._Unprintable, raised"),
        ("%s items", (_Unprintable(),), "%s items [logtrace: formatting its arguments raised"),
        (10**5000, None, "1.0000000000000000000E+5000 (rounded"),
    ],
    ids=["unprintable", "unprintable_argument", "huge_int"],
)
def test_a_message_whose_str_raises_is_written_saying_what_failed(
    msg: object, args: tuple[object, ...] | None, shown: str
) -> None:
    """A stdlib record whose message cannot be made text still becomes a line: what text
    there is, and what failed (never dropped)."""
    record = logging.LogRecord("lib", logging.INFO, __file__, 1, msg, args, None)
    with testing.capture_events() as events:
        StdlibHandler().handle(record)
    assert events[0]["event"].startswith(shown) and events[0]["logger"] == "lib"


def test_an_int_too_long_for_str_is_written_rounded() -> None:
    """An int past Python's digit limit for str() is written as rounded E-notation text; the
    rest of the line is kept."""
    line = orjson.loads(render(None, "info", {"event": "x", "n": -(10**5000) - 7, "k": 1}))
    assert line["n"] == "-1.0000000000000000000E+5000 (rounded: too many digits for str)"
    assert line["event"] == "x" and line["k"] == 1


@pytest.mark.parametrize("name", sorted(_fields.RESERVED))
def test_user_fields_cannot_clobber_reserved_names(name: str) -> None:
    """A user field named like a reserved field is written with a trailing underscore."""
    with testing.capture_events() as events, logtrace.span("s", **{name: "user"}) as span:
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


def test_format_ts_is_rfc3339_utc_microseconds() -> None:
    """Timestamps are RFC 3339 in UTC with six fractional digits and a Z."""
    assert format_ts(1_767_225_600_123_456_789) == "2026-01-01T00:00:00.123456Z"
    assert format_ts(1_767_225_601_000_000_000) == "2026-01-01T00:00:01.000000Z"


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


def test_trace_context_filter_for_own_logging_setups() -> None:
    """The standalone logging.Filter puts the ids on records for %(trace_id)s formats."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("own.setup")
    handler = Collect()
    handler.addFilter(logtrace.TraceContextFilter())
    handler.setFormatter(logging.Formatter("%(trace_id)s %(span_id)s %(message)s"))
    logger.addHandler(handler)
    try:
        logger.warning("outside")
        with logtrace.span("s") as span:
            logger.warning("inside")
    finally:
        logger.removeHandler(handler)
    assert handler.format(records[0]) == "  outside"
    assert handler.format(records[1]) == f"{span.trace_id} {span.span_id} inside"


def test_structlog_drop_event_from_a_user_processor_is_not_an_error() -> None:
    """structlog.DropEvent raised by a processor drops the line quietly."""
    from logtrace._pipeline import state

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


_KEYS = st.sampled_from(
    ["task_id", "name", "level", "password", "payload", "note", "trace_id", "n", "exc_info"]
)
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.just("Bearer abcdefghijklmnop")
    | st.just("postgres://u:pw12345678@h/db"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)


def _through_both_paths(write: Callable[[], None]) -> list[list[dict[str, object]]]:
    """The lines ``write`` makes on the direct path, then through the generic chain (forced by
    a processor that changes nothing)."""
    from logtrace._pipeline import direct, state

    def unchanged(logger: object, method: str, event_dict: dict[str, object]) -> object:
        return event_dict

    lines = []
    for generic in (False, True):
        if generic:
            state.processors.insert(0, unchanged)
        try:
            assert direct() is not generic
            with testing.capture_events() as events:
                write()
        finally:
            if generic:
                state.processors.remove(unchanged)
        lines.append(events)
    return lines


@given(
    attributes=st.dictionaries(_KEYS, _VALUES, max_size=6),
    name=st.text(min_size=1, max_size=20) | st.just("login token=abcdefgh12"),
    level=st.sampled_from(["info", "error"]),
)
def test_span_fast_path_writes_what_the_generic_chain_writes(
    attributes: dict[str, object], name: str, level: str
) -> None:
    """Span lines made directly (start, end, failed end) equal those of the generic chain."""
    from logtrace._context import SpanContext
    from logtrace._pipeline import emit_span, emit_span_end, emit_span_start

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
        emit_span_start(ctx, ts, name, "b7ad6b7169203330", attributes)
        emit_span_end(ctx, ts, name, None, 2.5, attributes)

    direct, generic = _through_both_paths(write)
    assert direct == generic and len(direct) == 3
    assert [line["span"] for line in direct] == ["end", "start", "end"]


@given(
    extra=st.dictionaries(_KEYS.filter(lambda k: k not in ("name", "exc_info")), _VALUES),
    message=st.text(max_size=20) | st.just("login token=abcdefgh12"),
    failed=st.booleans(),
)
def test_stdlib_fast_path_writes_what_the_generic_chain_writes(
    extra: dict[str, object], message: str, failed: bool
) -> None:
    """A stdlib record made into a line directly equals the generic chain's line."""
    handler = StdlibHandler()
    record = logging.LogRecord("app", logging.WARNING, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    if failed:
        try:
            raise ValueError("bad token=abcdefgh12345")
        except ValueError:
            record.exc_info = sys.exc_info()
    with logtrace.span("outer"):
        direct, generic = _through_both_paths(lambda: handler.emit(record))
    assert direct == generic and len(direct) == 1
    line = direct[0]
    assert line["level"] == "warning" and line["logger"] == "app"
    assert line.get("error_type") == ("ValueError" if failed else None)
    assert "abcdefgh12" not in orjson.dumps(line).decode()
