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


def run_script(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a program in a fresh interpreter (as a server is) and check it exited 0."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done


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
    run_script(NON_PROPAGATING, str(tmp_path))
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
    """A logger that was given logtrace's handler itself, propagating or not, is not written
    twice (the capture sees the record reached it)."""
    from logtrace.write import config

    logtrace.configure("server", directory=tmp_path, environ={})
    handler = config._capture.handler
    assert handler not in logging.getLogger().handlers
    alone, along = logging.getLogger("alone.test"), logging.getLogger("along.test")
    alone.addHandler(handler)
    along.addHandler(handler)
    alone.propagate = False
    try:
        alone.error("once alone")
        along.error("once along")
        logtrace.flush()
    finally:
        logtrace.shutdown()
        alone.handlers.clear()
        along.handlers.clear()
        alone.propagate = True
    events = [line["event"] for line in read_lines(tmp_path)]
    assert (events.count("once alone"), events.count("once along")) == (1, 1)


LOGGING_AFTER = r"""
import logging, logging.config, sys
import logtrace
logtrace.configure("app", directory=sys.argv[1], environ={})
log = logging.getLogger("app")
if sys.argv[2] == "basicConfig":
    logging.basicConfig(level=logging.INFO, format="console %(levelname)s %(message)s")
elif sys.argv[2] == "dictConfig":  # Django's way: settings.LOGGING, applied at setup
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "console %(levelname)s %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": "INFO"},
        "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    })
else:  # basicConfig(force=True): closes and removes every root handler there is
    logging.basicConfig(level=logging.INFO, format="console %(levelname)s %(message)s", force=True)
with logtrace.span("request"):
    log.info("inside %s", sys.argv[2])
    logging.getLogger("django.request").warning("a django warning")
log.debug("below the level")
logtrace.shutdown()
log.info("after shutdown")
assert logging.Logger.callHandlers.__module__ == "logging", "put back"
"""


@pytest.mark.parametrize("setup", ["basicConfig", "dictConfig", "force"])
def test_logging_set_up_after_configure_keeps_its_console_and_the_files(
    tmp_path: Path, setup: str
) -> None:
    """A program that sets logging up after configure() (basicConfig, Django's dictConfig of
    LOGGING with a root handler, basicConfig(force=True)) gets the console it asked for, and
    every record it lets through still reaches the files, once, with the span's ids."""
    done = run_script(LOGGING_AFTER, str(tmp_path), setup)
    assert f"console INFO inside {setup}\n" in done.stderr
    assert "console WARNING a django warning\n" in done.stderr
    assert "after shutdown" in done.stderr  # the console is the program's, not logtrace's
    lines = [line for line in read_lines(tmp_path) if line["logger"] != "logtrace"]
    assert [line["event"] for line in lines] == [f"inside {setup}", "a django warning"]
    (span,) = [line for line in read_lines(tmp_path) if line.get("span") == "end"]
    assert {line["span_id"] for line in lines} == {span["span_id"]}


NO_SETUP = r"""
import logging, sys
import logtrace
logtrace.configure("app", directory=sys.argv[1], environ={}, stdlib=sys.argv[2] == "on")
logging.getLogger("app").info("an info line")
logging.getLogger("app").warning("a warning line")
logtrace.shutdown()
assert logging.lastResort is logging._defaultLastResort, "put back"
"""


@pytest.mark.parametrize("stdlib", ["on", "off"])
def test_a_program_without_a_logging_setup_prints_warnings_as_before(
    tmp_path: Path, stdlib: str
) -> None:
    """With no handler set up, warnings still go to stderr as logging.lastResort printed them
    (and infos do not); the files get both unless stdlib=False."""
    done = run_script(NO_SETUP, str(tmp_path), stdlib)
    assert done.stderr == "a warning line\n"
    events = [line["event"] for line in read_lines(tmp_path) if line["logger"] == "app"]
    assert events == (["an info line", "a warning line"] if stdlib == "on" else [])


UNPRINTABLE = r"""
import logging, sys
import logtrace
logtrace.configure("app", directory=sys.argv[1], environ={})
deep = []
for _ in range(100_000):
    deep = [deep]
logging.getLogger("app").warning(deep)
logging.getLogger("app").warning("still printing")
logtrace.shutdown()
"""


def test_a_warning_the_last_resort_cannot_print_does_not_raise(tmp_path: Path) -> None:
    """A message whose str() recurses, with no handler set up: the stdlib's last resort
    re-raises RecursionError into the program; logtrace's says so on stderr and goes on."""
    done = run_script(UNPRINTABLE, str(tmp_path))
    assert done.stderr.splitlines() == [
        "WARNING from logger app: a message that could not be printed (RecursionError); "
        "logtrace's files have what could be kept",
        "still printing",
    ]
    events = [line["event"] for line in read_lines(tmp_path) if line["logger"] == "app"]
    assert len(events) == 2 and events[1] == "still printing"


def test_configure_with_stdlib_off_after_on_stops_the_records(tmp_path: Path) -> None:
    """configure(stdlib=False) after a configure() that took stdlib records takes none, and
    puts Logger.callHandlers back."""
    original = logging.Logger.callHandlers
    try:
        logtrace.configure("app", directory=tmp_path / "on", environ={})
        logging.getLogger("app").error("taken")
        logtrace.configure("app", directory=tmp_path / "off", environ={}, stdlib=False)
        assert logging.Logger.callHandlers is original
        logging.getLogger("app").error("not taken")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    assert [x["event"] for x in read_lines(tmp_path / "on") if x["logger"] == "app"] == ["taken"]
    assert [x for x in read_lines(tmp_path / "off") if x["logger"] == "app"] == []


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
