"""A structlog app with its own ConsoleRenderer keeps its console output, and its events reach
logtrace's files, in both documented set-ups."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _core_fixtures import read_lines

APP = r"""
import sys
import structlog
import logtrace

setup, directory = sys.argv[1], sys.argv[2]
chain = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso"),
]
console = structlog.dev.ConsoleRenderer(colors=False)
if setup == "own-chain":
    # Set-up 1: your chain, logtrace's two processors before your renderer.
    structlog.configure(processors=[*chain, logtrace.add_trace_context, logtrace.to_files, console])
    logtrace.configure("app", directory=directory, structlog_setup=False)
else:
    # Set-up 2: your setup first, then configure(): it adds the two processors itself.
    structlog.configure(processors=[*chain, console])
    logtrace.configure("app", directory=directory)
log = structlog.get_logger()
log.info("before the span", n=1)
with logtrace.span("work") as work:
    structlog.contextvars.bind_contextvars(request="r1")
    log.warning("inside the span", n=2)
    log.error("it failed", n=3)
log.debug("debugging", n=4)
print("SPAN", work.trace_id, work.span_id)
logtrace.shutdown()
"""


@pytest.mark.parametrize("setup", ["own-chain", "configure-after"])
def test_a_console_renderer_app_keeps_its_console_and_fills_the_files(
    tmp_path: Path, setup: str
) -> None:
    """Every event is on the console (debug too, the app's own level), inside-span lines with
    their ids; the files hold the events at logtrace's level (info and up), with the span's ids,
    the bound contextvars, and no structlog-made or renamed copies of logtrace's fields."""
    done = subprocess.run(
        [sys.executable, "-c", APP, setup, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    trace_id, span_id = out[-1].split()[1:]
    console = out[:-1]
    assert [
        next(e for e in ("before", "inside", "failed", "debugging") if e in line)
        for line in console
    ] == ["before", "inside", "failed", "debugging"]
    assert f"trace_id={trace_id}" in console[1] and "[warning" in console[1]
    lines = [line for line in read_lines(tmp_path) if line["logger"] != "logtrace"]
    assert [(line["event"], line["level"], line["n"]) for line in lines] == [
        ("before the span", "info", 1),
        ("inside the span", "warning", 2),
        ("it failed", "error", 3),
    ]
    assert "trace_id" not in lines[0]
    for line in lines[1:]:
        assert (line["trace_id"], line["span_id"], line["request"]) == (trace_id, span_id, "r1")
    for line in lines:
        assert not {"trace_id_", "level_", "timestamp", "logger_"} & line.keys()
