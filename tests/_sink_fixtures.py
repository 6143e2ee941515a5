"""Helpers of the sink's tests: a report function, reading files back, running child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import zstandard

from logtrace.write.sink.filesink import SinkSettings

ROOT = Path(__file__).resolve().parents[1]

# Shared by the tests and the child processes they start (which run it as source).
REPORT_SOURCE = """
import os
import orjson

def report(level, event, fields):
    line = {"ts": "2026-11-24T13:11:34.123456Z", "level": level, "event": event,
            "logger": "logtrace", "service": "test", "pid": os.getpid()}
    line.update(fields)
    return orjson.dumps(line)
"""
_namespace: dict[str, Any] = {}
exec(REPORT_SOURCE, _namespace)


def report(level: str, event: str, fields: Mapping[str, Any]) -> bytes:
    """Render an in-band line the way configure()'s report does, minus the processors."""
    line: bytes = _namespace["report"](level, event, fields)
    return line


def settings(directory: Path, **overrides: Any) -> SinkSettings:
    """SinkSettings for a test: service "test" in ``directory``."""
    return SinkSettings(**{"directory": directory, "service": "test", **overrides})


def raw_lines(path: Path) -> list[bytes]:
    """The lines of a live or rotated file (decompressed with ``zstandard``)."""
    data = path.read_bytes()
    if path.name.endswith(".zst"):
        data = zstandard.ZstdDecompressor().stream_reader(data).read()
    return data.splitlines()


def log_files(directory: Path) -> list[Path]:
    """Live and rotated files under ``directory``, in name order."""
    return sorted(p for p in directory.glob("*/*") if p.name.endswith((".jsonl", ".jsonl.zst")))


def read_files(directory: Path) -> dict[Path, list[dict[str, Any]]]:
    """Every file's parsed lines (a line that does not parse fails the test)."""
    return {path: [orjson.loads(raw) for raw in raw_lines(path)] for path in log_files(directory)}


def user_lines(directory: Path) -> list[dict[str, Any]]:
    """All lines that are not logtrace's own, in file order."""
    return [
        line
        for lines in read_files(directory).values()
        for line in lines
        if line.get("logger") != "logtrace"
    ]


def events(directory: Path, name: str) -> list[dict[str, Any]]:
    """All of logtrace's own lines with event ``name``."""
    return [
        line
        for lines in read_files(directory).values()
        for line in lines
        if line.get("logger") == "logtrace" and line["event"] == name
    ]


CHILD_PRELUDE = (
    REPORT_SOURCE
    + """
import sys, threading, time
from pathlib import Path
from logtrace.write.sink.filesink import FileSink, SinkSettings
directory = Path(sys.argv[1])
"""
)


def start_child(code: str, directory: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start ``python -c PRELUDE+code directory *args`` with logtrace importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD_PRELUDE + code, str(directory), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run_child(code: str, directory: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run a child to the end; fail the test (with its stderr) if it does not exit 0."""
    child = start_child(code, directory, *args)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err.decode()
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)
