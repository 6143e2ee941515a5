"""configure() end to end on real files: the issue's example, env vars, reconfiguration."""

from __future__ import annotations

import logging
import math
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import structlog
from _core_fixtures import read_lines, traced_dir

import logtrace
from logtrace import testing


def run_program(code: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a small traced program in a fresh interpreter; return its stderr."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_issue_example_on_real_files(tmp_path: Path) -> None:
    """stdlib and structlog calls in a span land in the file with its ids; grep finds them."""
    (tmp_path / "thirdparty.py").write_text(
        "import logging\nlog = logging.getLogger('thirdparty')\n"
        "def work():\n    log.info('third-party work', extra={'rows': 3})\n"
    )
    run_program(
        """
        import asyncio, logging, structlog, logtrace, thirdparty
        logtrace.configure(service="coordinator", directory="out")
        log = logging.getLogger("app")
        slog = structlog.get_logger()
        with logtrace.span("dispatch", task_id=42) as span:
            log.info("sending task")
            slog.info("structlog says", worker=2)
            thirdparty.work()
            span.set(attempt=2)

        @logtrace.traced
        async def fetch(url):
            log.info("fetching %s", url)

        asyncio.run(fetch("http://example.invalid"))
        logtrace.shutdown()
        """,
        tmp_path,
    )
    lines = read_lines(tmp_path / "out")
    by_event = {line["event"]: line for line in lines if "span" not in line}
    start = next(line for line in lines if line.get("span") == "end" and line["name"] == "dispatch")
    for event, logger in [
        ("sending task", "app"),
        ("structlog says", "__main__"),
        ("third-party work", "thirdparty"),
    ]:
        line = by_event[event]
        assert (line["trace_id"], line["span_id"]) == (start["trace_id"], start["span_id"])
        assert line["logger"] == logger and line["service"] == "coordinator"
    assert by_event["structlog says"]["worker"] == 2 and by_event["third-party work"]["rows"] == 3
    fetch_start = next(line for line in lines if line.get("name") == "fetch")
    assert by_event["fetching http://example.invalid"]["span_id"] == fetch_start["span_id"]
    files = list((tmp_path / "out").rglob("*.jsonl"))
    grep = subprocess.run(
        ["grep", "-h", start["trace_id"], *map(str, files)], capture_output=True, text=True
    )
    assert len(grep.stdout.splitlines()) == 4  # three log lines, the end (a short span)


def test_configured_in_process_with_fixture(traced_dir: Path) -> None:
    """Inside one process: spans and both kinds of log calls reach the live file after flush()."""
    with logtrace.span("job", n=1) as span:
        logging.getLogger("lib").warning("careful")
        structlog.get_logger("mine").info("hello", k="v")
    logtrace.flush()
    lines = read_lines(traced_dir)
    assert logtrace.current_file() is not None
    ours = [line for line in lines if line.get("trace_id") == span.trace_id]
    # A span that ended before the flush writes only its end line.
    assert [line["event"] for line in ours] == ["careful", "hello", "job"]
    assert ours[1]["logger"] == "mine" and ours[2]["span"] == "end" and ours[2]["n"] == 1


def test_arguments_override_environment(tmp_path: Path) -> None:
    """Explicit arguments win over LOGTRACE_* variables, which win over defaults."""
    env = {"LOGTRACE_DIR": str(tmp_path / "from-env"), "LOGTRACE_SERVICE": "env-service"}
    try:
        logtrace.configure(service="arg-service", environ=env)
        with logtrace.span("x"):
            pass
        logtrace.flush()
        (line, *_) = [x for x in read_lines(tmp_path / "from-env") if x.get("span")]
        assert line["service"] == "arg-service"
    finally:
        logtrace.shutdown()


def test_configure_twice_is_safe_and_loses_nothing(tmp_path: Path) -> None:
    """A second configure() flushes the first configuration's lines and switches cleanly."""
    try:
        logtrace.configure(service="one", directory=tmp_path / "a", environ={})
        with logtrace.span("first"):
            pass
        logtrace.configure(service="two", directory=tmp_path / "b", environ={})
        with logtrace.span("second"):
            logging.getLogger("x").warning("once")
        logtrace.shutdown()
    finally:
        logtrace.shutdown()
    first = read_lines(tmp_path / "a")
    second = read_lines(tmp_path / "b")
    assert {x["event"] for x in first if x.get("span")} == {"first"}
    assert {x["service"] for x in second} == {"two"}
    assert [x["event"] for x in second if x["logger"] == "x"] == ["once"]
    root = logging.getLogger()
    assert not any(type(h).__name__ == "StdlibHandler" for h in root.handlers)


def test_disabled_writes_log_lines_without_ids_or_span_lines(tmp_path: Path) -> None:
    """LOGTRACE_ENABLED=0: span() is the shared no-op span; log lines are written, no ids."""
    try:
        logtrace.configure(directory=tmp_path, environ={"LOGTRACE_ENABLED": "0"})
        with logtrace.span("quiet") as span, logtrace.span("other") as other:
            logging.getLogger("app").warning("still logged")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    assert span is other and span.span_id is None and span.trace_id is None
    lines = [x for x in read_lines(tmp_path) if x["event"] != "logtrace.file"]
    assert [(x["event"], "span_id" in x) for x in lines] == [("still logged", False)]


def test_shutdown_puts_the_span_settings_back_to_their_defaults(tmp_path: Path) -> None:
    """configure(enabled=False, sampler=never) then shutdown(): spans trace again, as before
    configure (a test or a program that configures twice is not left with the first's)."""
    logtrace.configure(directory=tmp_path, enabled=False, sampler="never")
    logtrace.shutdown()
    with testing.capture_events() as events, logtrace.span("after") as span:
        pass
    assert span.trace_id is not None and [e["span"] for e in events] == ["start", "end"]


def test_sampler_never_gives_ids_to_log_lines_and_writes_no_span_lines(tmp_path: Path) -> None:
    """LOGTRACE_SAMPLER=never with keep_errors off: log lines carry ids, no span line at all."""
    try:
        environ = {"LOGTRACE_SAMPLER": "never", "LOGTRACE_KEEP_ERRORS": "0"}
        logtrace.configure(directory=tmp_path, environ=environ)
        with logtrace.span("quiet") as span:
            logging.getLogger("app").warning("still logged")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    lines = [x for x in read_lines(tmp_path) if x["event"] != "logtrace.file"]
    assert [(x["event"], x["span_id"], x["trace_flags"]) for x in lines] == [
        ("still logged", span.span_id, "00")
    ]


def test_level_filters_log_lines_not_spans(tmp_path: Path) -> None:
    """LOGTRACE_LEVEL=warning drops info log lines but keeps span lines."""
    try:
        logtrace.configure(directory=tmp_path, environ={"LOGTRACE_LEVEL": "warning"})
        with logtrace.span("s"):
            logging.getLogger("app").info("hidden")
            structlog.get_logger("app2").info("hidden too")
            logging.getLogger("app").error("shown")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    events = [
        x["event"] for x in read_lines(tmp_path) if x["logger"] != "logtrace" or x.get("span")
    ]
    assert events == ["shown", "s"]


def test_child_process_continues_the_trace_from_its_environment(tmp_path: Path) -> None:
    """A child started with child_env() and calling configure() continues the parent's trace."""
    code = """
        import logging, logtrace
        logtrace.configure(service="child", directory="out")
        logging.getLogger("child").warning("before any span")
        with logtrace.span("child work"):
            pass
        logtrace.shutdown()
    """
    with logtrace.span("parent") as parent:
        run_program(code, tmp_path, env=logtrace.child_env())
    lines = read_lines(tmp_path / "out")
    child_start = next(x for x in lines if x.get("span") == "end")
    assert child_start["trace_id"] == parent.trace_id
    assert child_start["parent_id"] == parent.span_id
    loose = next(x for x in lines if x["event"] == "before any span")
    assert (loose["trace_id"], loose["span_id"]) == (parent.trace_id, parent.span_id)


def test_bad_arguments_raise_clear_errors() -> None:
    """A wrong explicit argument is a programming error: ValueError naming it."""
    with pytest.raises(ValueError, match="level must be one of"):
        logtrace.configure(level="loud", environ={})
    with pytest.raises(ValueError, match="flush must be one of"):
        logtrace.configure(flush="sometimes", environ={})


@pytest.mark.parametrize(
    ("argument", "value", "error", "says"),
    [
        ("enabled", "no", TypeError, "give True or False (a string is true in Python"),
        ("keep_errors", "false", TypeError, "give True or False"),
        ("sampler", "bogus", ValueError, "configure(sampler='bogus'): unknown sampler"),
        ("sampler", 0.1, TypeError, "a share of traces is sample_rate=0.1"),
        ("sample_rate", 5, ValueError, "give a share from 0 to 1"),
        ("directory", 123, TypeError, "configure(directory=123): give a folder's path"),
        ("service", 7, TypeError, "configure(service=7): give the service's name as a str"),
        ("level", 99.5, TypeError, "give a level name such as 'info', or a number"),
        ("max_string", -1, ValueError, "give a whole number of at least 1"),
        ("max_attributes", -1, ValueError, "give a whole number of at least 0"),
        ("max_line", 0, ValueError, "give a whole number of at least 1"),
        ("max_string", "100", TypeError, "give a whole number of at least 1"),
        ("max_depth", 2.5, TypeError, "give a whole number of at least 0"),
        ("slow_ms", -5, ValueError, "give a number of at least 0"),
        ("flush_interval", float("nan"), ValueError, "give a finite number above 0"),
        ("flush_interval", float("inf"), ValueError, "give a finite number above 0"),
        ("queue_size", 0, ValueError, "give a whole number of at least 1"),
        ("file_mode", 0o1777, ValueError, "configure(file_mode=0o1777): give permission bits"),
        ("redactor", "upper", TypeError, "give a callable (key, value) -> value"),
        ("redact_patterns", ["("], ValueError, "'(' is not a regular expression"),
        ("redact_patterns", [re.compile(b"sec")], TypeError, "is not a text pattern"),
        # Found by a hostile-input review: each raised Python's own error, naming nothing.
        ("directory", "a\x00b", ValueError, "a path cannot hold a NUL character"),
        ("slow_ms", 10**400, ValueError, "give a number of at least 0"),
        ("redact_keys", 5, TypeError, "give a string or strings"),
    ],
)
def test_a_wrong_argument_says_what_to_give_and_leaves_the_configuration_as_it_was(
    tmp_path: Path, argument: str, value: object, error: type[Exception], says: str
) -> None:
    """configure() checks its arguments before it closes anything: the error names the
    argument, its value and what to give, and the configuration before it goes on writing
    (``level=99`` used to fail inside structlog's setup with the files already open)."""
    try:
        logtrace.configure(service="before", directory=tmp_path, environ={})
        with pytest.raises(error) as raised:
            settings = {"service": "after", "directory": tmp_path / "no", argument: value}
            logtrace.configure(environ={}, **settings)  # type: ignore[arg-type]
        assert says in str(raised.value) and f"configure({argument}=" in str(raised.value)
        with logtrace.span("still traced"):
            logging.getLogger("app").warning("still logged")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    lines = read_lines(tmp_path)
    assert {x["service"] for x in lines} == {"before"}
    assert {"still traced", "still logged"} <= {x["event"] for x in lines}
    assert not (tmp_path / "no").exists()


def test_values_taken_before_are_taken_still(tmp_path: Path) -> None:
    """Numbers given as floats with nothing after the point, infinity where it means "never"
    (no rotation by time, no deletion by age), flags as 0 and 1, a small max_line: all as before
    the arguments were checked."""
    try:
        logtrace.configure(
            directory=tmp_path,
            environ={},
            queue_size=1e5,
            rotate_bytes=64e6,
            retention_bytes=1e9,
            rotate_seconds=math.inf,
            retention_days=math.inf,
            enabled=1,
            keep_errors=0,
            max_line=512,
            level=logging.INFO,
            redact_patterns=(p for p in [re.compile("sec[0-9]+")]),
        )
        with logtrace.span("order", note="x" * 600):
            pass
        logtrace.flush()
    finally:
        logtrace.shutdown()
    (end,) = [x for x in read_lines(tmp_path) if x.get("span") == "end"]
    assert end["line_truncated"] > 512 and "note" not in end


def test_one_string_is_one_redaction_key_or_pattern_not_one_per_character(tmp_path: Path) -> None:
    """``redact_keys="customer_ref"`` and ``redact_patterns=r"sec[0-9]+"`` are one key and one
    pattern: a string iterated would have made every character a key fragment and a pattern,
    redacting nearly every field."""
    try:
        logtrace.configure(
            directory=tmp_path, environ={}, redact_keys="customer_ref", redact_patterns=r"sec[0-9]+"
        )
        with logtrace.span("order", customer_ref="C-77", task="cart", note="sec123 or base"):
            pass
        logtrace.flush()
    finally:
        logtrace.shutdown()
    (end,) = [x for x in read_lines(tmp_path) if x.get("span") == "end"]
    assert end["customer_ref"] == "[REDACTED]"
    assert (end["task"], end["note"]) == ("cart", "[REDACTED] or base")


def test_a_number_level_between_the_named_ones_filters_both_bridges(tmp_path: Path) -> None:
    """``level=25`` (a custom level between info and warning) keeps warnings of stdlib and
    structlog and drops their info lines; it used to be a KeyError from structlog."""
    try:
        logtrace.configure(directory=tmp_path, environ={}, level=25)
        logging.getLogger("app").info("hidden")
        structlog.get_logger("app2").info("hidden too")
        logging.getLogger("app").warning("shown")
        structlog.get_logger("app2").warning("shown too")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    events = [x["event"] for x in read_lines(tmp_path) if x["logger"] != "logtrace"]
    assert events == ["shown", "shown too"]


def test_files_are_owner_only(traced_dir: Path) -> None:
    """Files are 0600 and directories 0700 by default."""
    with logtrace.span("x"):
        pass
    logtrace.flush()
    files = list(traced_dir.rglob("*.jsonl"))
    assert files and all(path.stat().st_mode & 0o777 == 0o600 for path in files)
    assert all(path.parent.stat().st_mode & 0o777 == 0o700 for path in files)


@pytest.mark.parametrize("timeout", [math.inf, 1e20])
def test_flush_and_shutdown_wait_without_limit_for_an_endless_timeout(
    tmp_path: Path, timeout: float
) -> None:
    """flush(timeout=math.inf) and shutdown(timeout=math.inf) (or 1e20, past what a lock can
    wait) mean no limit: every line is written and the files are closed, no OverflowError."""
    logtrace.configure(service="endless", directory=tmp_path, environ={})
    with logtrace.span("first"):
        pass
    logtrace.flush(timeout=timeout)
    assert {x["event"] for x in read_lines(tmp_path)} >= {"first"}
    with logtrace.span("second"):
        pass
    logtrace.shutdown(timeout=timeout)
    assert logtrace.current_file() is None
    assert {x["event"] for x in read_lines(tmp_path)} >= {"first", "second"}


@pytest.mark.parametrize(
    ("timeout", "error"), [(-1, ValueError), (math.nan, ValueError), ("5", TypeError)]
)
def test_a_wrong_flush_or_shutdown_timeout_says_what_to_give_and_changes_nothing(
    tmp_path: Path, timeout: object, error: type[Exception]
) -> None:
    """flush(timeout=-1), shutdown(timeout=nan) or a string: one clear line naming the
    argument, raised before anything is flushed or closed (shutdown used to close half)."""
    try:
        logtrace.configure(service="timeouts", directory=tmp_path, environ={})
        for call in (logtrace.flush, logtrace.shutdown):
            with pytest.raises(error) as raised:
                call(timeout=timeout)  # type: ignore[arg-type]
            assert f"{call.__name__}(timeout=" in str(raised.value)
            assert "number of seconds" in str(raised.value)
        assert logtrace.current_file() is not None
        with logtrace.span("still traced"):
            pass
    finally:
        logtrace.shutdown()
    assert "still traced" in {x["event"] for x in read_lines(tmp_path)}


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        (5, "configure(environ=5): give a mapping of names to strings"),
        ({"LOGTRACE_LEVEL": 5}, "configure(environ=...): 'LOGTRACE_LEVEL': 5: give a mapping"),
    ],
)
def test_a_wrong_environ_says_what_to_give(tmp_path: Path, environ: object, says: str) -> None:
    """configure(environ=5) or a value that is not a string: a TypeError naming it (it was
    AttributeError: 'int' object has no attribute 'get' / 'lower')."""
    with pytest.raises(TypeError) as raised:
        logtrace.configure(directory=tmp_path, environ=environ)  # type: ignore[arg-type]
    assert says in str(raised.value)


def test_redact_keys_and_patterns_of_none_are_none(tmp_path: Path) -> None:
    """redact_keys=None, redact_patterns=None: none, as None is for every other argument (it
    was TypeError: 'NoneType' object is not iterable)."""
    try:
        logtrace.configure(
            directory=tmp_path,
            environ={},
            redact_keys=None,
            redact_patterns=None,  # type: ignore[arg-type]
        )
        logging.getLogger("app").warning("password=hunter2hunter2")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    (line,) = [x for x in read_lines(tmp_path) if x.get("logger") == "app"]
    assert "hunter2" not in line["event"]
