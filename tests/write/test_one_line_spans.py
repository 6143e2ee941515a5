"""One line per short span: a span that ends before a flush writes only its end line, a span
still open at a flush writes its start line then, and the read side and every export give the
same trees for both shapes. Real files, real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from _core_fixtures import read_lines

import logtrace
from logtrace import export

# argv: flush mode, directory. "job" is open at an explicit flush (so it has a start line in
# "interval" mode); its children end before any flush (flush_interval is an hour).
SHAPES = r"""
import logging, sys, logtrace
mode, directory = sys.argv[1], sys.argv[2]
logtrace.configure(service="shape", directory=directory, flush=mode, flush_interval=3600,
                   environ={})
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
        pass
    logtrace.flush()  # job is open: its start line goes out now, with task=1 only
    job.set(result="ok")
logtrace.shutdown()
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGTRACE_", "OTEL_"))}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return env


def _write_shapes(tmp_path: Path, mode: str) -> Path:
    directory = tmp_path / mode
    subprocess.run(
        [sys.executable, "-c", SHAPES, mode, str(directory)], env=_env(), check=True, timeout=60
    )
    return directory


def _span_lines(directory: Path) -> dict[str, list[str]]:
    """Per span name, the kinds of its start/end lines in file order."""
    shapes: dict[str, list[str]] = {}
    for line in read_lines(directory):
        if line.get("span") in ("start", "end"):
            shapes.setdefault(line["name"], []).append(line["span"])
    return shapes


def _tree(directory: Path) -> list[tuple[Any, ...]]:
    """The trace as the Reader builds it, without ids and times."""
    with logtrace.open(directory) as reader:
        (row,) = reader.execute("SELECT trace_id FROM traces")
        trace = reader.trace(row["trace_id"])
        names = {s["span_id"]: s["name"] for s in trace.spans}
        return [
            (
                s["depth"],
                s["name"],
                names.get(s["parent_id"]),
                s["status"],
                s["kind"],
                s["error_type"],
                _json(s["attributes"]),
                s["duration_ms"] is not None and s["start_ts"] <= s["end_ts"],
            )
            for s in trace.spans
        ]


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


def _exported(directory: Path) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """The spans every export is made of (their common model), without ids and times; and
    how many spans each format wrote."""
    with logtrace.open(directory) as reader:
        spans = [s for batch in export.batches(reader) for s in batch.spans]
        names = {s.span_id: s.name for s in spans}
        model = sorted(
            (
                s.name,
                names.get(s.parent_id or ""),
                s.kind,
                s.status,
                s.error_type,
                sorted((k, repr(v)) for k, v in s.attributes.items()),
                sorted((e.name, repr(sorted(e.attributes.items()))) for e in s.events),
                s.end_ns >= s.start_ns,
            )
            for s in spans
        )
        counts = {}
        for fmt in export.FORMATS:
            out = directory.parent / f"{directory.name}.{fmt}"
            with out.open("wb") as handle:
                counts[fmt] = export.write(reader, handle, fmt).get("spans", -1)
    return model, counts


def test_a_short_span_writes_one_line_and_a_long_one_two(tmp_path: Path) -> None:
    """flush="interval": spans that end before a flush write their end line alone, a span open
    at a flush writes a start line too; flush="always" writes both lines for every span."""
    assert _span_lines(_write_shapes(tmp_path, "interval")) == {
        "step": ["end", "end", "end"],
        "fails": ["end"],
        "job": ["start", "end"],
    }
    assert _span_lines(_write_shapes(tmp_path, "always")) == {
        "job": ["start", "end"],
        "step": ["start", "end"] * 3,
        "fails": ["start", "end"],
    }


def test_the_end_line_alone_carries_name_parent_start_and_every_attribute(
    tmp_path: Path,
) -> None:
    """An end-only span's line has its name, parent, duration, kind, error and the attributes
    given at start and set later; a start line written at a flush has the start attributes."""
    lines = read_lines(_write_shapes(tmp_path, "interval"))
    job_start = next(x for x in lines if x.get("span") == "start")
    job_end = next(x for x in lines if x.get("span") == "end" and x["name"] == "job")
    step = next(x for x in lines if x.get("span") == "end" and x["name"] == "step")
    fails = next(x for x in lines if x.get("span") == "end" and x["name"] == "fails")
    assert (job_start["task"], "result" in job_start) == (1, False)
    assert (job_end["task"], job_end["result"]) == (1, "ok")
    assert (step["n"], step["done"], step["parent_id"]) == (0, True, job_start["span_id"])
    assert step["duration_ms"] >= 0 and step["name"] == "step"
    assert (fails["kind"], fails["url"], fails["status"], fails["error_type"]) == (
        "client",
        "http://x.invalid",
        "error",
        "ValueError",
    )


def test_read_side_and_every_export_give_the_same_trees_for_both_shapes(tmp_path: Path) -> None:
    """The trace tree (show) and the spans of every export are the same whether short spans
    wrote one line (flush="interval") or two (flush="always")."""
    one, two = _write_shapes(tmp_path, "interval"), _write_shapes(tmp_path, "always")
    assert _tree(one) == _tree(two)
    assert [row[1] for row in _tree(one)] == ["job", "step", "step", "step", "fails"]
    model_one, counts_one = _exported(one)
    model_two, counts_two = _exported(two)
    assert model_one == model_two and len(model_one) == 5
    assert counts_one == counts_two


def test_cat_shows_an_end_only_span_with_its_name_and_duration(tmp_path: Path) -> None:
    """`logtrace cat` and `logtrace show` of end-only spans name them, with their duration."""
    directory = _write_shapes(tmp_path, "interval")
    done = subprocess.run(
        [sys.executable, "-m", "logtrace", "cat", "--dir", str(directory)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("step") >= 3 and "fails" in done.stdout
    with logtrace.open(directory) as reader:
        (row,) = reader.execute("SELECT trace_id FROM traces")
        trace_id = row["trace_id"]
    shown = subprocess.run(
        [sys.executable, "-m", "logtrace", "show", trace_id, "--dir", str(directory)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("step") >= 3 and "fails" in shown.stdout


IN_FLIGHT = r"""
import os, sys, time, logtrace
how, directory = sys.argv[1], sys.argv[2]
interval = 0.05 if how == "interval" else 3600
logtrace.configure(service="crash", directory=directory, flush_interval=interval, environ={})
with logtrace.span("in flight", job=7):
    with logtrace.span("done first"):
        pass
    if how == "flush":
        logtrace.flush()
        os._exit(3)  # a crash: no atexit, no end line
    print("ready", flush=True)
    time.sleep(600)
"""


def _in_flight(tmp_path: Path, how: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", IN_FLIGHT, how, str(tmp_path / "logs")],
        env=_env(),
        stdout=subprocess.PIPE,
    )


def _starts(tmp_path: Path) -> list[dict[str, Any]]:
    directory = tmp_path / "logs"
    if not directory.exists():
        return []
    return [x for x in read_lines(directory) if x.get("span") == "start"]


def _assert_unfinished_on_disk(tmp_path: Path) -> None:
    lines = read_lines(tmp_path / "logs")
    (start,) = [x for x in lines if x.get("span") == "start"]
    assert (start["name"], start["job"]) == ("in flight", 7)
    ends = [x["name"] for x in lines if x.get("span") == "end"]
    assert ends == ["done first"]
    with logtrace.open(tmp_path / "logs") as reader:
        rows = reader.execute("SELECT name, status FROM spans")
    statuses = {r["name"]: r["status"] for r in rows}
    assert statuses == {"in flight": "unfinished", "done first": "ok"}


def test_a_span_in_flight_is_on_disk_after_one_flush_interval(tmp_path: Path) -> None:
    """A span still open is written (start line) by the writer's next interval flush: a
    SIGKILL afterwards leaves it on disk as unfinished."""
    child = _in_flight(tmp_path, "interval")
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 60
        while not _starts(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait(timeout=30)
    _assert_unfinished_on_disk(tmp_path)


def test_a_span_in_flight_is_on_disk_after_flush(tmp_path: Path) -> None:
    """flush() writes the start line of a span still open; the process then dies at once."""
    child = _in_flight(tmp_path, "flush")
    child.communicate(timeout=60)
    assert child.returncode == 3
    _assert_unfinished_on_disk(tmp_path)


def test_a_span_in_flight_is_on_disk_after_sigterm(tmp_path: Path) -> None:
    """SIGTERM (with an hour's flush interval) writes the start line of a span still open, and
    the process still ends by SIGTERM."""
    child = _in_flight(tmp_path, "sigterm")
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    child.send_signal(signal.SIGTERM)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGTERM
    _assert_unfinished_on_disk(tmp_path)


def test_past_the_registry_bound_a_span_writes_its_start_line_at_once(tmp_path: Path) -> None:
    """The registry of open spans is bounded: a span past it writes its start line when it
    opens (nothing lost, nothing waits); one in it writes its end line alone."""
    from logtrace.write.tracer import open_spans

    saved = open_spans.limit
    logtrace.configure(service="bound", directory=tmp_path, flush_interval=3600, environ={})
    try:
        open_spans.limit = 1
        with logtrace.span("first"), logtrace.span("second"):
            assert len(open_spans.spans) == 1
        assert open_spans.spans == {}
        logtrace.flush()
    finally:
        open_spans.limit = saved
        logtrace.shutdown()
    assert _span_lines(tmp_path) == {"second": ["start", "end"], "first": ["end"]}
