"""stdlib logging: records become lines with trace ids; your own handlers get them too."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from _core_fixtures import KEYS, VALUES, read_lines, through_both_paths, traced_dir
from hypothesis import given
from hypothesis import strategies as st

import logtrace
from logtrace import testing
from logtrace.write.stdlib import StdlibHandler


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


def test_an_extra_named_event_is_kept_beside_the_message() -> None:
    """extra={"event": ...} does not replace the message: it is written as ``event_``, the same
    on the direct path and through the generic chain."""
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "the message", (), None)
    record.event = "user-event"
    direct, generic = through_both_paths(lambda: StdlibHandler().emit(record))
    assert direct == generic
    line = orjson.loads(direct[0])
    assert line["event"] == "the message" and line["event_"] == "user-event"


def test_a_secret_in_the_arguments_is_redacted_every_time(stdlib_logger: logging.Logger) -> None:
    """A secret that reaches the message through %-arguments is redacted, call after call."""
    with testing.capture_events() as events:
        for _ in range(3):
            stdlib_logger.info("calling with %s", "Bearer abcdefghijklmnop")
            stdlib_logger.info("calling with %s", "nothing secret")
    assert [e["event"] for e in events] == [
        "calling with Bearer [REDACTED]",
        "calling with nothing secret",
    ] * 3


def test_secret_named_keys_of_mapping_arguments_are_hidden(stdlib_logger: logging.Logger) -> None:
    """``log.info("%(password)s", {...})``: the values of secret- and payload-named keys of a
    mapping given as the arguments are hidden as fields' are, on the direct path and through
    the generic chain (the value was written whole), and a %d of a hidden value does not show
    it either; the mapping itself is left as it was."""
    args = {"user": "bob", "password": "hunter2hunter2", "body": "private text", "n": 7}

    def write() -> None:
        stdlib_logger.info("as %(user)s pw %(password)s %(body)s n=%(n)d", args)
        stdlib_logger.info("pin %(password)d", {"password": 482910})

    for lines in through_both_paths(write):
        first, second = (orjson.loads(line)["event"] for line in lines)
        assert first == "as bob pw [REDACTED] [payload omitted] n=7"
        assert "482910" not in second and "pin" in second
    assert args["password"] == "hunter2hunter2"


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
        (_Unprintable(), None, "[logtrace: the message, a test_stdlib._Unprintable, raised"),
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


@given(
    extra=st.dictionaries(KEYS.filter(lambda k: k not in ("name", "exc_info")), VALUES),
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
        direct, generic = through_both_paths(lambda: handler.emit(record))
    assert direct == generic and len(direct) == 1
    assert b"abcdefgh12" not in direct[0]
    line = orjson.loads(direct[0])
    assert line["level"] == "warning" and line["logger"] == "app"
    assert line.get("error_type") == ("ValueError" if failed else None)


# A format and arguments for it; some fail to format, some hold a secret or need escaping, one
# is not UTF-8 (orjson refuses it: the line takes the dict's way).
_MESSAGES = st.one_of(
    st.tuples(st.just("task %d done"), st.tuples(st.integers())),
    st.tuples(st.just("%d%% of %d"), st.tuples(st.integers(), st.integers())),
    st.tuples(st.just("user %s logged in"), st.tuples(st.text(max_size=12))),
    st.tuples(st.just("token in %s"), st.tuples(st.just("secret12345678"))),
    st.tuples(st.just("%s and %s"), st.tuples(st.integers())),  # fails to format
    st.tuples(st.text(max_size=20), st.just(())),
    st.tuples(st.sampled_from(['q"uote\\ \x01\n', "lone \ud800", "x" * 300]), st.just(())),
)
_RECORDS = st.tuples(
    st.sampled_from(["app", "app.db", "thirdparty.module", 'we"ird\\name', "ünïcode"]),
    st.sampled_from([5, 10, 15, 20, 25, 30, 40, 50, 60]),
    _MESSAGES,
    st.dictionaries(KEYS.filter(lambda k: k not in ("name", "exc_info")), VALUES, max_size=2)
    | st.just({}),
    st.booleans(),  # with an exception
    st.sampled_from(["none", "sampled", "unsampled", "outer"]),  # the record's context
    st.booleans(),  # formatted by another handler first (it has "message" and "asctime")
)


@given(
    records=st.lists(_RECORDS, min_size=1, max_size=8), max_line=st.sampled_from([256 << 10, 200])
)
def test_lines_made_of_bytes_are_those_of_the_dict(
    records: list[
        tuple[str, int, tuple[str, tuple[object, ...]], dict[str, object], bool, str, bool]
    ],
    max_line: int,
) -> None:
    """A record's line, rendered in parts from what the last line of its context and logger
    left behind, is byte for byte the generic chain's (Stamper.log_line's dict through
    orjson): loggers, levels, arguments, extra=, exceptions, in and out of spans, sampled or
    not, records another handler formatted, redaction patterns and a redactor, lines over
    max_line."""
    from logtrace.write.context import current_context
    from logtrace.write.pipeline import state
    from logtrace.write.redact import Scrubber
    from logtrace.write.render import limits

    handler = StdlibHandler()
    saved = state.stamper.scrubber, limits.max_line
    state.stamper.scrubber = Scrubber(
        patterns=[r"secret\d+"], redactor=lambda key, value: "[r]" if key == "note" else value
    )
    limits.max_line = max_line
    unsampled = {"traceparent": f"00-{'ab' * 16}-00f067aa0ba902b7-00"}

    made = []
    for name, level, (msg, args), extra, failed, where, formatted in records:
        record = logging.LogRecord(name, level, __file__, 1, msg, args or None, None)
        record.__dict__.update(extra)
        if formatted:
            with contextlib.suppress(Exception):
                logging.Formatter("%(asctime)s %(message)s").format(record)
        if failed:
            try:
                raise ValueError("bad secret42 token=abcdefgh12345")
            except ValueError:
                record.exc_info = sys.exc_info()
        made.append((record, where))

    def write() -> None:
        for record, where in made:
            token = current_context.set(spans[where])
            try:
                handler.emit(record)
            finally:
                current_context.reset(token)

    try:
        with (
            logtrace.span("outer") as outer,
            logtrace.span("s") as sampled,
            logtrace.span("u", parent=unsampled) as quiet,
        ):
            spans = {"none": None, "sampled": sampled, "unsampled": quiet, "outer": outer}
            direct, generic = through_both_paths(write)
    finally:
        state.stamper.scrubber, limits.max_line = saved
    assert direct == generic
    assert len(direct) == len(records)
    assert all(b"secret4" not in line and b"secret1" not in line for line in direct)


# Formats of int arguments: those written between quotes as they are, and look-alikes that
# are not (%c writes any character, %x letters, quotes, backslashes, controls, non-ASCII).
_INT_FORMATS = st.sampled_from([
    "task %d done", "%i of %u", "%5.2d|%-3d|%+d|% d|%05d", "%s and %r", "100%% done %d",
    "char %c", "hex %x %X %o", "%e %f %g", 'q"uote %d', "back\\slash %d", "tab\t%d",
    "ünï %d", "%.3d", "%(name)d", "%d", "",
])  # fmt: skip
_INT_ARGS = st.lists(
    st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from([34, 92, 10, 0x2028]),
    min_size=0,
    max_size=3,
)


@given(
    records=st.lists(st.tuples(_INT_FORMATS, _INT_ARGS, st.booleans()), min_size=1, max_size=6),
    redact=st.booleans(),
)
def test_messages_written_between_quotes_as_they_are_equal_orjsons(
    records: list[tuple[str, list[int], bool]], redact: bool
) -> None:
    """A message of int arguments (or none) whose format needs no escaping skips orjson: its
    line is byte for byte the generic chain's, for every format (those that need escaping or
    write any character, as %c does, included), with redaction on and off."""
    from logtrace.write.context import current_context
    from logtrace.write.pipeline import state
    from logtrace.write.redact import Scrubber

    handler = StdlibHandler()
    saved = state.stamper.scrubber
    state.stamper.scrubber = Scrubber(redact=redact)
    made = []
    for fmt, args, in_span in records:
        record = logging.LogRecord("app", logging.INFO, __file__, 1, fmt, tuple(args), None)
        made.append((record, in_span))

    def write() -> None:
        for record, in_span in made:
            token = current_context.set(span if in_span else None)
            try:
                handler.emit(record)
            finally:
                current_context.reset(token)

    try:
        with logtrace.span("s") as span:
            direct, generic = through_both_paths(write)
    finally:
        state.stamper.scrubber = saved
    assert direct == generic and len(direct) == len(records)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_writes_its_own_pid_on_lines_of_the_same_span(traced_dir: Path) -> None:
    """The rendered end of a line remembered in the parent (ids, logger, service, pid) is not
    reused by a forked child: its lines in the same span carry the child's pid."""
    log = logging.getLogger("app.forked")
    with logtrace.span("work"):
        log.info("before the fork")
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                log.info("in the child")
                logtrace.flush(timeout=10)
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        log.info("after the fork")
    logtrace.flush(timeout=10)
    assert os.waitstatus_to_exitcode(status) == 0
    pids = {
        line["event"]: line["pid"]
        for line in read_lines(traced_dir)
        if line["logger"] == "app.forked"
    }
    assert pids == {
        "before the fork": os.getpid(),
        "in the child": pid,
        "after the fork": os.getpid(),
    }


def test_a_span_is_let_go_of_at_its_end_not_at_the_next_line(traced_dir: Path) -> None:
    """The remembered end of the last stdlib line (its span's ids, logger, service and pid)
    does not keep the span, nor what it holds, alive past its end: an object given as an
    attribute is freed when the span ends, not when the program logs again. (Freed at the next
    line, the span's objects left CPython's allocator a pool of one free block just before
    the program's next piece of work: docs/benchmarks.md.) The lines are as before."""

    class Payload:
        def __str__(self) -> str:
            return "payload"

    payload = Payload()
    freed = weakref.ref(payload)
    log = logging.getLogger("app.let_go")
    with logtrace.span("work", payload=payload) as span:
        log.info("inside")
        log.info("inside again")
        ids = (span.trace_id, span.span_id)
    del payload, span
    assert freed() is None
    log.info("after")
    with logtrace.span("next") as following:
        log.info("in the next span")
    logtrace.flush(timeout=10)
    lines = {line["event"]: line for line in read_lines(traced_dir) if "logger" in line}
    assert [(lines[e]["trace_id"], lines[e]["span_id"]) for e in ("inside", "inside again")] == [
        ids,
        ids,
    ]
    assert "trace_id" not in lines["after"]
    assert lines["in the next span"]["span_id"] == following.span_id
