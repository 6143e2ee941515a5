"""stdlib records in logtrace's files: what the user's own filter adds stays out, and loggers
that do not propagate (uvicorn.error, gunicorn.*) still get there."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _core_fixtures import read_lines

import logtrace


@pytest.fixture
def own_handler() -> Iterator[tuple[logging.Handler, io.StringIO]]:
    """A handler of the program's own on the root logger, added before configure()."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(trace_id)s %(span_id)s %(message)s"))
    handler.addFilter(logtrace.TraceContextFilter())
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    root.addHandler(handler)
    try:
        yield handler, out
    finally:
        logtrace.shutdown()
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


def test_trace_context_filter_on_the_users_handler_leaves_logtraces_lines_alone(
    tmp_path: Path, own_handler: tuple[logging.Handler, io.StringIO]
) -> None:
    """With TraceContextFilter on the user's handler, logtrace's lines gain no trace_id_,
    span_id_ or trace_flags_, inside or outside a span; the user's format has the ids."""
    _, out = own_handler
    logtrace.configure("filtered", directory=tmp_path, environ={})
    log = logging.getLogger("app")
    log.warning("outside")
    with logtrace.span("work") as work:
        log.warning("inside", extra={"n": 1})
    logtrace.flush()
    lines = {line["event"]: line for line in read_lines(tmp_path) if line["logger"] == "app"}
    for line in lines.values():
        assert not {"trace_id_", "span_id_", "trace_flags_", "_logtrace_filtered"} & line.keys()
    assert "trace_id" not in lines["outside"]
    assert (lines["inside"]["span_id"], lines["inside"]["n"]) == (work.span_id, 1)
    assert f"{work.trace_id} {work.span_id} inside" in out.getvalue()


NON_PROPAGATING = r"""
import io, logging, sys
import logtrace
out = io.StringIO()
server = logging.getLogger("uvicorn.error")
server.addHandler(logging.StreamHandler(out))
server.propagate = False
logtrace.configure("server", directory=sys.argv[1], environ={})
try:
    raise ValueError("boom")
except ValueError:
    server.exception("Exception in ASGI application")
logging.getLogger("uvicorn.error.child").error("from a child logger")
logtrace.shutdown()
assert "Exception in ASGI application" in out.getvalue(), "its own handler got it"
"""


def test_records_of_loggers_that_do_not_propagate_reach_the_files(tmp_path: Path) -> None:
    """A logger with propagate=False and a handler of its own (as uvicorn.error has) writes
    to its handler and, once, to logtrace's file (a fresh interpreter, as a server is)."""
    done = subprocess.run(
        [sys.executable, "-c", NON_PROPAGATING, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    mine = [line for line in read_lines(tmp_path) if line["logger"].startswith("uvicorn")]
    assert [line["event"] for line in mine] == [
        "Exception in ASGI application",
        "from a child logger",
    ]
    assert "ValueError: boom" in mine[0]["exception"]


def test_non_propagating_capture_can_be_turned_off(tmp_path: Path) -> None:
    """stdlib_all_loggers=False leaves loggers that do not propagate out of the files, and
    shutdown() puts Logger.callHandlers back as it was."""
    original = logging.Logger.callHandlers
    quiet = logging.getLogger("quiet.test")
    quiet.propagate = False
    try:
        logtrace.configure("server", directory=tmp_path, environ={}, stdlib_all_loggers=False)
        quiet.error("not in the files")
        logging.getLogger("app").error("in the files")
        logtrace.flush()
        events = [line["event"] for line in read_lines(tmp_path) if line["logger"] != "logtrace"]
        assert events == ["in the files"]
        logtrace.configure("server", directory=tmp_path, environ={})
        assert logging.Logger.callHandlers is not original
    finally:
        logtrace.shutdown()
        quiet.propagate = True
    assert logging.Logger.callHandlers is original


def test_a_logger_with_logtraces_handler_of_its_own_writes_once(tmp_path: Path) -> None:
    """A non-propagating logger that was given logtrace's handler itself is not written twice."""
    logtrace.configure("server", directory=tmp_path, environ={})
    (handler,) = [h for h in logging.getLogger().handlers if type(h).__name__ == "StdlibHandler"]
    alone = logging.getLogger("alone.test")
    alone.addHandler(handler)
    alone.propagate = False
    try:
        alone.error("once")
        logtrace.flush()
    finally:
        logtrace.shutdown()
        alone.handlers.clear()
        alone.propagate = True
    assert [line["event"] for line in read_lines(tmp_path)].count("once") == 1


def test_capture_keeps_the_stdlibs_call_handlers_rules(tmp_path: Path) -> None:
    """With the capture installed, a non-propagating logger without handlers still goes to
    logging.lastResort (and to the files), a handler's level still filters, and a
    callHandlers wrapper installed before configure() still runs."""
    seen: list[str] = []
    before = logging.Logger.callHandlers

    def theirs(logger: logging.Logger, record: logging.LogRecord) -> None:
        seen.append(record.getMessage())
        before(logger, record)

    last_resort, out, strict = logging.lastResort, io.StringIO(), logging.StreamHandler()
    strict.setLevel(logging.ERROR)
    lonely, picky = logging.getLogger("lonely.test"), logging.getLogger("picky.test")
    lonely.propagate = picky.propagate = False
    picky.addHandler(strict)
    logging.lastResort = logging.StreamHandler(out)
    try:
        for wrapped in (False, True):
            if wrapped:
                logtrace.shutdown()
                logging.Logger.callHandlers = theirs  # type: ignore[method-assign]
            logtrace.configure("server", directory=tmp_path / str(wrapped), environ={})
            lonely.warning("to the last resort %s", wrapped)
            picky.info("below the handler's level %s", wrapped)
            logtrace.flush()
            lines = read_lines(tmp_path / str(wrapped))
            events = [line["event"] for line in lines if line["logger"] != "logtrace"]
            assert events == [
                f"to the last resort {wrapped}",
                f"below the handler's level {wrapped}",
            ]
    finally:
        logtrace.shutdown()
        logging.Logger.callHandlers = before  # type: ignore[method-assign]
        logging.lastResort = last_resort
        lonely.propagate = picky.propagate = True
        picky.removeHandler(strict)
    assert out.getvalue() == "to the last resort False\nto the last resort True\n"
    assert seen == ["to the last resort True", "below the handler's level True"]


def test_a_wrapper_made_after_the_capture_does_not_double_lines_after_reconfiguring(
    tmp_path: Path,
) -> None:
    """A library that wraps Logger.callHandlers after configure() (as Sentry's integration
    does) keeps calling logtrace's function after shutdown(); configured again, a record of a
    non-propagating logger is still written once, and not at all with stdlib_all_loggers=False.
    """
    before = logging.Logger.callHandlers
    server = logging.getLogger("uvicorn.error.test")
    server.propagate = False
    # Its own level: a uvicorn run earlier in the process (log_level="critical") leaves
    # uvicorn.error at CRITICAL, and this logger would inherit it.
    server.setLevel(logging.INFO)
    try:
        logtrace.configure("server", directory=tmp_path / "first", environ={})
        ours = logging.Logger.callHandlers

        def theirs(logger: logging.Logger, record: logging.LogRecord) -> None:
            ours(logger, record)

        logging.Logger.callHandlers = theirs  # type: ignore[method-assign]
        logtrace.shutdown()
        for name, all_loggers in (("again", True), ("off", False)):
            logtrace.configure(
                "server", directory=tmp_path / name, environ={}, stdlib_all_loggers=all_loggers
            )
            server.error("once %s", name)
            logtrace.flush()
            logtrace.shutdown()
    finally:
        logtrace.shutdown()
        logging.Logger.callHandlers = before  # type: ignore[method-assign]
        server.propagate = True
        server.setLevel(logging.NOTSET)
    events = [line["event"] for line in read_lines(tmp_path / "again")]
    assert events.count("once again") == 1
    assert "once off" not in [line["event"] for line in read_lines(tmp_path / "off")]
