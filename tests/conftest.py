"""Fixtures of the read side's tests: logs written by the real write side, and hand-made lines.

``written`` runs a coordinator process that hands three tasks to worker processes through
``TRACEPARENT``; the files rotate (small ``rotate_bytes``) and the rotated ones are compressed.
Every process also writes a manifest of the spans it opened, so tests can compare what the read
side rebuilds with what was written. ``write_lines`` and ``span_lines`` make small files by hand
in the documented format, for the cases the write side never produces (torn lines, foreign
lines, skewed clocks, cycles).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from logtrace.format import fields as f

# Run by every process of the `written` fixture: argv = role, directory, manifest dir, task.
WRITER = r"""
import logging, os, subprocess, sys, time
import orjson
import logtrace

role, directory, manifests, task = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
logtrace.configure(service=role, directory=directory, rotate_bytes=1500, flush="always")
log = logging.getLogger("app." + role)
opened = []

def record(span, parent, name, attrs):
    opened.append({"trace_id": logtrace.current_trace_id(), "span_id": span.span_id,
                   "parent_id": parent, "name": name, "service": role, "pid": os.getpid(),
                   "attributes": attrs, "status": "ok", "order": time.time_ns()})
    return opened[-1]

def save():
    with open(os.path.join(manifests, f"{role}-{os.getpid()}.json"), "wb") as out:
        out.write(orjson.dumps(opened))

def child(kind, task):
    env = dict(os.environ, **logtrace.child_env())
    subprocess.run([sys.executable, __file__, kind, directory, manifests, str(task)],
                   env=env, check=True)

if role == "coord":
    for task in range(3):
        with logtrace.span("job", task_id=task) as job:
            record(job, None, "job", {"task_id": task})
            log.info("dispatching task %d", task, extra={"task_id": task})
            child("worker", task)
            if task == 2:
                child("crasher", task)
            with logtrace.span("collect") as collect:
                record(collect, job.span_id, "collect", {"rows": task * 10})
                collect.set(rows=task * 10)
                log.info("collected", extra={"rows": task * 10})
elif role == "worker":
    parent = os.environ["TRACEPARENT"].split("-")[2]
    try:
        with logtrace.span("work", task_id=task) as work:
            mine = record(work, parent, "work", {"task_id": task})
            for n in range(2):
                with logtrace.span("step", n=n) as step:
                    entry = record(step, work.span_id, "step", {"n": n})
                    step.event("checkpoint", n=n)
                    log.info("step %d of task %d", n, task)
                    if task == 1 and n == 1:
                        entry["status"] = mine["status"] = "error"
                        raise ValueError(f"bad input {task}")
    except ValueError:
        log.exception("task %d failed", task)
elif role == "crasher":
    parent = os.environ["TRACEPARENT"].split("-")[2]
    doomed = logtrace.span("doomed", task_id=task)
    doomed.__enter__()
    entry = record(doomed, parent, "doomed", {"task_id": task})
    entry["status"] = "unfinished"
    log.warning("about to die")
    save()
    logtrace.flush()
    os._exit(0)
logtrace.shutdown()
save()
"""


@dataclass(frozen=True)
class Written:
    """Logs of a coordinator and its workers, and the spans each process says it opened."""

    directory: Path
    spans: list[dict[str, Any]]

    def trace_ids(self) -> list[str]:
        """The trace ids written, in the order their jobs ran."""
        ids: list[str] = []
        for span in sorted(self.spans, key=lambda s: s["order"]):
            if span["trace_id"] not in ids:
                ids.append(span["trace_id"])
        return ids

    def tree(self, trace_id: str) -> list[tuple[int, str, str | None, str, str, str, Any]]:
        """The trace's spans depth first, children in the order they opened: what show draws.

        Each: (depth, span_id, parent_id, name, service, status, attributes).
        """
        spans = [s for s in self.spans if s["trace_id"] == trace_id]
        children: dict[str | None, list[dict[str, Any]]] = {}
        for span in sorted(spans, key=lambda s: s["order"]):
            children.setdefault(span["parent_id"], []).append(span)
        out: list[tuple[int, str, str | None, str, str, str, Any]] = []

        def walk(parent: str | None, depth: int) -> None:
            for s in children.get(parent, []):
                out.append(
                    (
                        depth,
                        s["span_id"],
                        s["parent_id"],
                        s["name"],
                        s["service"],
                        s["status"],
                        s["attributes"],
                    )
                )
                walk(s["span_id"], depth + 1)

        walk(None, 0)
        return out


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """Traces written by the real write side: a coordinator and worker processes, rotated."""
    root = tmp_path_factory.mktemp("written")
    directory, manifests = root / "logtrace", root / "manifests"
    manifests.mkdir()
    script = root / "writer.py"
    script.write_text(WRITER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGTRACE_", "OTEL_"))}
    env.pop("TRACEPARENT", None)
    subprocess.run(
        [sys.executable, str(script), "coord", str(directory), str(manifests), "0"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    spans = [s for p in sorted(manifests.iterdir()) for s in orjson.loads(p.read_bytes())]
    return Written(directory, spans)


# -- lines by hand -------------------------------------------------------------------------------

T0 = datetime(2026, 11, 24, 13, 0, 0)


def iso(when: datetime) -> str:
    """A time as the format writes it: ``2026-11-24T13:00:00.000000Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def span_lines(
    trace_id: str,
    span_id: str,
    parent_id: str | None,
    name: str,
    start_ms: float,
    duration_ms: float | None,
    *,
    status: str = "ok",
    service: str = "svc",
    pid: int = 100,
    attributes: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The start line and (unless ``duration_ms`` is None) the end line of a span, by hand."""
    ids = {f.TRACE_ID: trace_id, f.SPAN_ID: span_id, f.TRACE_FLAGS: "01"}
    common = {f.LOGGER: "logtrace", f.SERVICE: service, f.PID: pid}
    start = {
        f.TS: iso(T0 + timedelta(milliseconds=start_ms)),
        f.LEVEL: "info",
        f.EVENT: name,
        **ids,
        f.SPAN: f.SPAN_START,
        f.NAME: name,
        f.PARENT_ID: parent_id,
        **common,
        **(attributes or {}),
    }
    if duration_ms is None:
        return [start]
    end: dict[str, Any] = {
        f.TS: iso(T0 + timedelta(milliseconds=start_ms + duration_ms)),
        f.LEVEL: "error" if status == "error" else "info",
        f.EVENT: name,
        **ids,
        f.SPAN: f.SPAN_END,
        f.NAME: name,
        f.PARENT_ID: parent_id,
        f.DURATION_MS: duration_ms,
        f.STATUS: status,
    }
    if error is not None:
        end[f.ERROR_TYPE], end[f.ERROR_MESSAGE] = error
    end.update(common)
    return [start, end]


def log_line(
    trace_id: str | None, span_id: str | None, message: str, at_ms: float, **fields: Any
) -> dict[str, Any]:
    """A log line, by hand; inside a span when ids are given."""
    line: dict[str, Any] = {f.TS: iso(T0 + timedelta(milliseconds=at_ms)), f.LEVEL: "info"}
    line[f.EVENT] = message
    if trace_id is not None:
        line.update({f.TRACE_ID: trace_id, f.SPAN_ID: span_id, f.TRACE_FLAGS: "01"})
    line.update({f.LOGGER: "app", f.SERVICE: "svc", f.PID: 100, **fields})
    return line


def write_jsonl(path: Path, lines: list[dict[str, Any] | str | bytes]) -> Path:
    """Write lines (dicts as compact JSON, text as is) to ``path``; ``.zst`` compresses."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(
        (orjson.dumps(line) if isinstance(line, dict) else _bytes(line)) + b"\n" for line in lines
    )
    if path.name.endswith(".zst"):
        import zstandard

        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def _bytes(line: str | bytes) -> bytes:
    return line.encode() if isinstance(line, str) else line


# Run by write_one_line_spans: argv = directory. The default flush: short spans write their end
# line alone (format 2); "job" is open at an explicit flush (a start line then); "doomed" is in
# flight when the process dies.
ONE_LINE_SPANS = r"""
import logging, os, sys, logtrace
directory = sys.argv[1]
logtrace.configure(service="shape", directory=directory, flush_interval=3600, environ={})
log = logging.getLogger("app")
with logtrace.span("job", task=1) as job:
    for i in range(3):
        with logtrace.span("step", n=i) as step:
            step.set(done=True)
            step.event("checkpoint", n=i)
            log.info("step %d", i)
    try:
        with logtrace.span("fails", kind="client", url="http://x.invalid"):
            raise ValueError("boom")
    except ValueError:
        log.exception("it failed")
    logtrace.flush()
    job.set(result="ok")
with logtrace.span("crashing"):
    doomed = logtrace.span("doomed", task=2)
    doomed.__enter__()
    log.warning("about to die")
    logtrace.flush()
    os._exit(0)
"""


def write_one_line_spans(directory: Path) -> Path:
    """Logs of the real writer with its default flush: short spans as an end line alone, a
    start line written at a flush, spans in flight when the process dies (ONE_LINE_SPANS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGTRACE_", "OTEL_"))}
    subprocess.run(
        [sys.executable, "-c", ONE_LINE_SPANS, str(directory)],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    return directory


@pytest.fixture
def logs_dir(tmp_path: Path) -> Path:
    """An empty log directory."""
    directory = tmp_path / "logtrace"
    directory.mkdir()
    return directory


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m logtrace ARGS`` as a user runs it, without colour unless asked (in ``cwd``:
    by default the test run's own)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LOGTRACE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "logtrace", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the CLI in a subprocess: ``cli("ls", "--dir", d)``."""
    return run_cli


# -- suites of their own -------------------------------------------------------------------------

# Slow suites with their own tox env (`tox -e s3`, `tox -e spark`, `tox -e browser`): their
# tests are marked and run only when LOGTRACE_SUITES names them (comma-separated), as their
# tox env sets it.
SUITES = ("s3", "spark", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests of a suite of its own unless LOGTRACE_SUITES asks for it."""
    wanted = set(os.environ.get("LOGTRACE_SUITES", "").split(","))
    for item in items:
        for suite in SUITES:
            if suite in item.keywords and suite not in wanted:
                reason = f"the {suite} suite: tox -e {suite} (LOGTRACE_SUITES={suite})"
                item.add_marker(pytest.mark.skip(reason=reason))


# -- system tools ----------------------------------------------------------------------------

# ``@pytest.mark.tools("jq", "zstd")``: the test needs these commands. Without them it is
# skipped, saying which are missing; with LOGTRACE_REQUIRE_TOOLS=1 (set by .ci/run, which
# installs them) it fails instead, so a CI run never passes by skipping.
REQUIRE_TOOLS = os.environ.get("LOGTRACE_REQUIRE_TOOLS") == "1"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or, with LOGTRACE_REQUIRE_TOOLS=1, fail) a test whose tools are missing."""
    for mark in item.iter_markers("tools"):
        missing = [tool for tool in mark.args if shutil.which(tool) is None]
        if missing:
            what = f"needs {' and '.join(missing)} (apt-get install {' '.join(missing)})"
            if REQUIRE_TOOLS:
                pytest.fail(f"{what}; LOGTRACE_REQUIRE_TOOLS=1 makes this a failure")
            pytest.skip(what)
