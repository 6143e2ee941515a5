"""The scan (``logtrace.read.scan``) gives the Trace the DuckDB Reader gives, or declines.

Every case writes real files and asks both: ``scan.lookup`` and ``logtrace.open().trace()``,
then compares the Trace objects and their ``--json`` text byte for byte.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import T0, Written, iso, log_line, span_lines, write_jsonl, write_one_line_spans

import logtrace
from logtrace.format import fields as f
from logtrace.read.scan import CannotScan, lookup
from logtrace.read.scan_rows import merge_patch
from logtrace.read.trace import AmbiguousTrace, TraceNotFound

EPOCH_MS = int((T0 - T0.replace(year=1970, month=1, day=1)).total_seconds() * 1000)


def trace_id(at_ms: int = 0, tail: str = "ab" * 10) -> str:
    """A logtrace trace id created ``at_ms`` after T0: 12 hex digits of time, then 20 more."""
    return f"{EPOCH_MS + at_ms:012x}{tail}"


def hour_file(directory: Path, service: str, pid: int, hour: int, lines: list[Any]) -> Path:
    """A file named as the sink names it, opened ``hour`` hours after T0, its mtime an hour on."""
    opened = T0 + timedelta(hours=hour)
    name = f"{service}_host-1_{pid}_{opened:%Y%m%dT%H%M%S}.000Z.jsonl"
    path = write_jsonl(directory / f"{opened:%Y-%m-%d}" / name, lines)
    stamp = (opened + timedelta(minutes=59) - T0.replace(year=1970, month=1, day=1)).total_seconds()
    os.utime(path, (stamp, stamp))
    return path


def as_json(trace: Any) -> bytes:
    option = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
    body = {"trace": trace.summary, "spans": trace.spans, "logs": trace.logs}
    return orjson.dumps(body, option=option, default=str)


def both(directory: Path, wanted: str) -> tuple[Any, Any]:
    """(scan's answer, Reader's answer); an exception is answered as (type, message)."""
    answers = []
    for ask in (lambda: lookup(directory, wanted), lambda: _reader(directory, wanted)):
        try:
            answers.append(ask())
        except (TraceNotFound, AmbiguousTrace) as error:
            answers.append((type(error), str(error)))
    return answers[0], answers[1]


def _reader(directory: Path, wanted: str) -> Any:
    with logtrace.open(directory) as reader:
        return reader.trace(wanted)


def assert_same(directory: Path, wanted: str) -> Any:
    scanned, read = both(directory, wanted)
    assert scanned == read
    if not isinstance(read, tuple):
        assert as_json(scanned) == as_json(read)
    return read


def nested(tid: str, at: float = 0, service: str = "svc", pid: int = 100) -> list[Any]:
    """A root with two children, one of them with a child, and log lines inside them."""
    return [
        *span_lines(tid, "a" * 16, None, "root", at, 50.0, service=service, pid=pid),
        *span_lines(tid, "b" * 16, "a" * 16, "child", at + 1, 20.0, service=service, pid=pid,
                    attributes={"n": 1}),
        *span_lines(tid, "c" * 16, "b" * 16, "grandchild", at + 2, 5.5, service=service,
                    pid=pid),
        *span_lines(tid, "d" * 16, "a" * 16, "second", at + 25, 10.25, service=service, pid=pid),
        log_line(tid, "b" * 16, "inside child", at + 3, rows=3),
        log_line(tid, "c" * 16, "inside grandchild", at + 4, user={"id": 7}),
    ]  # fmt: skip


def end_only(tid: str, span_id: str, parent: str, name: str, end_ms: float, ms: float) -> dict:
    """The one line of a short span: its end line, carrying name, parent and start attributes."""
    return {
        f.TS: iso(T0 + timedelta(milliseconds=end_ms)), f.LEVEL: "info", f.EVENT: name,
        f.TRACE_ID: tid, f.SPAN_ID: span_id, f.TRACE_FLAGS: "01", f.SPAN: f.SPAN_END,
        f.NAME: name, f.PARENT_ID: parent, f.DURATION_MS: ms, f.STATUS: "ok",
        f.LOGGER: "logtrace", f.SERVICE: "svc", f.PID: 100, "given": "at start", "set": 2,
    }  # fmt: skip


def failed(tid: str) -> list[Any]:
    """A root whose child failed with a traceback, and an error log line with its exception."""
    lines = span_lines(tid, "e" * 16, None, "job", 0, 30.0)
    lines += span_lines(tid, "f" * 16, "e" * 16, "step", 2, 4.0, status="error",
                        error=("ValueError", "bad input 1"))  # fmt: skip
    lines[-1][f.EXCEPTION] = 'Traceback (most recent call last):\n  File "x.py"\nValueError: bad'
    lines.append(log_line(tid, "f" * 16, "step failed", 5, level="error",
                          error_type="ValueError", error_message="bad input 1",
                          exception="Traceback ...\nValueError: bad input 1"))  # fmt: skip
    return lines


def shapes(tid: str) -> dict[str, list[Any]]:
    event = {**log_line(tid, "a" * 16, "checkpoint", 7, n=2), f.SPAN: "event"}
    merged = span_lines(tid, "9" * 16, "a" * 16, "merged", 30, 1.0,
                        attributes={"keep": 1, "over": "start", "gone": True,
                                    "deep": {"x": 1, "y": 2}})  # fmt: skip
    merged[1].update({"over": "end", "gone": None, "deep": {"y": None, "z": 3}, "new": [1]})
    root_open = span_lines(tid, "a" * 16, None, "serve", 0, None, attributes={"kind": "server"})
    return {
        "nested": nested(tid),
        "end-only": [*span_lines(tid, "a" * 16, None, "root", 0, 9.0),
                     end_only(tid, "1" * 16, "a" * 16, "short", 4.5, 0.0375),
                     end_only(tid, "2" * 16, "1" * 16, "shorter", 4.25, 0.0125)],
        "unfinished": [*root_open, *span_lines(tid, "b" * 16, "a" * 16, "work", 1, None),
                       log_line(tid, "b" * 16, "about to die", 2, level="warning")],
        "errors": failed(tid),
        "events": [*nested(tid), event],
        "attributes": [*nested(tid), *merged],
        "missing parent": span_lines(tid, "3" * 16, "0" * 16, "orphan", 0, 2.0),
        "logs only": [log_line(tid, "4" * 16, "no span lines here", 0)],
        "foreign": [*nested(tid), f"plain text mentioning {tid}",
                    {"msg": f"another program saw {tid}"}, orjson.dumps([tid]),
                    {f.TRACE_ID: tid, "x": 1}],
        "corrupt": [*nested(tid)[:3], f'{{"ts": "{iso(T0)}", "trace_id": "{tid}", oops',
                    *nested(tid)[3:]],
    }  # fmt: skip


@pytest.mark.parametrize("shape", list(shapes(trace_id())))
def test_a_shape_reads_the_same(shape: str, logs_dir: Path) -> None:
    """Each shape of trace is the same Trace, and the same --json, by scan and by DuckDB."""
    tid = trace_id()
    hour_file(logs_dir, "svc", 100, 0, shapes(tid)[shape])
    hour_file(logs_dir, "svc", 100, 5, nested(trace_id(5 * 3_600_000)))  # outside the window
    read = assert_same(logs_dir, tid)
    assert read.trace_id == tid


def test_torn_last_line_is_skipped(logs_dir: Path) -> None:
    """A torn last line holding the id (a crash mid-write) is skipped by both."""
    tid = trace_id()
    path = hour_file(logs_dir, "svc", 100, 0, nested(tid))
    with path.open("ab") as out:
        out.write(orjson.dumps(span_lines(tid, "5" * 16, "a" * 16, "torn", 40, 1.0)[0])[:-20])
    assert len(assert_same(logs_dir, tid).spans) == 4


def test_a_trace_across_processes_and_files(logs_dir: Path) -> None:
    """Spans of one trace in three processes' files, two of them rotated (.zst), read alike."""
    tid = trace_id(3_590_000)  # near the end of the first hour: the next hour's files count
    coord = span_lines(tid, "a" * 16, None, "job", 3_590_000, 20_000.0, service="coord")
    hour_file(logs_dir, "coord", 1, 0, [log_line(None, None, "started", 0), *coord])
    work = nested(tid, 3_591_000, "worker", 2)
    for line in work:
        if line[f.SPAN_ID] == "a" * 16 and line.get(f.SPAN):
            line[f.SPAN_ID], line[f.PARENT_ID] = "7" * 16, "a" * 16
            line[f.NAME] = "work"
    for line in work:
        if line.get(f.PARENT_ID) == "a" * 16 and line[f.SPAN_ID] != "7" * 16:
            line[f.PARENT_ID] = "7" * 16
    path = hour_file(logs_dir, "worker", 2, 0, work[:5])
    path.rename(path.with_name(path.name + ".zst"))  # a rotated file holds compressed bytes
    write_jsonl(path.with_name(path.name + ".zst"), work[:5])
    hour_file(logs_dir, "worker", 2, 1, work[5:])
    hour_file(logs_dir, "other", 3, 1, nested(trace_id(3_600_000 * 1 + 10)))
    read = assert_same(logs_dir, tid)
    assert read.summary["services"] == ["coord", "worker"]
    assert {Path(s["filename"]).name.split("_")[0] for s in read.spans} == {"coord", "worker"}


def test_a_prefix_finds_the_trace(logs_dir: Path) -> None:
    """An id abbreviated to 8 and to 14 hex digits finds the same trace by both."""
    tid = trace_id()
    hour_file(logs_dir, "svc", 100, 0, [*nested(tid), *nested(trace_id(3_000_000, "cd" * 10))])
    for prefix in (tid[:8], tid[:14]):
        assert assert_same(logs_dir, prefix).trace_id == tid


def test_an_ambiguous_prefix_is_said_alike(logs_dir: Path) -> None:
    """Two traces created in the same millisecond: their common prefix is ambiguous, same words."""
    first, second = trace_id(0, "ab" * 10), trace_id(0, "ac" * 10)
    hour_file(logs_dir, "svc", 100, 0, [*nested(first), *failed(second)])
    scanned, read = both(logs_dir, first[:13])
    assert scanned == read
    assert read[0] is AmbiguousTrace and "is ambiguous" in read[1]


def test_not_found_is_said_alike(logs_dir: Path) -> None:
    """An id in no file: TraceNotFound with the Reader's message (files, time range)."""
    hour_file(logs_dir, "svc", 100, 0, nested(trace_id()))
    hour_file(logs_dir, "svc", 100, 3, nested(trace_id(3 * 3_600_000)))
    scanned, read = both(logs_dir, trace_id(60_000, "ee" * 10))
    assert scanned == read
    assert read[0] is TraceNotFound and "(2 files, " in read[1]


def test_a_cut_short_trace_is_read_from_every_file(logs_dir: Path) -> None:
    """A trace whose root lies outside its window (cut short there) is read again from all."""
    tid = trace_id()
    lines = nested(tid)
    hour_file(logs_dir, "svc", 100, 0, lines[2:])
    late = span_lines(tid, "a" * 16, None, "root", 4 * 3_600_000, 1.0)
    hour_file(logs_dir, "svc", 100, 4, late)
    read = assert_same(logs_dir, tid)
    assert read.summary["has_root"]


def test_the_real_write_side_reads_the_same(written: Written, tmp_path: Path) -> None:
    """Every trace the real writer wrote (processes, rotation, a crash) reads the same."""
    assert any(p.name.endswith(".zst") for p in written.directory.rglob("*"))
    for tid in written.trace_ids():
        assert_same(written.directory, tid)
        assert_same(written.directory, tid[:10])


def test_what_only_duckdb_reads_is_declined(logs_dir: Path, tmp_path: Path) -> None:
    """NaN in a matching line, a URL, compacted files: CannotScan, and the Reader answers."""
    tid = trace_id()
    path = hour_file(logs_dir, "svc", 100, 0, nested(tid))
    with path.open("ab") as out:
        out.write(f'{{"ts": "{iso(T0)}", "trace_id": "{tid}", "x": NaN}}\n'.encode())
    with pytest.raises(CannotScan):
        lookup(logs_dir, tid)
    with pytest.raises(CannotScan):
        lookup("s3://bucket/logs", tid)
    from logtrace.read.compact import compact

    copy = tmp_path / "copy"
    shutil.copytree(logs_dir, copy)
    compact(copy)
    assert not list(copy.rglob("*.jsonl"))
    with pytest.raises(CannotScan):
        lookup(copy, tid)


def test_merge_patch_keeps_duckdbs_key_order() -> None:
    """Keys the patch leaves come first, then the patch's; a null removes, objects merge."""
    target = {"b": 1, "a": {"x": 1, "y": 2}, "c": 3}
    patch = {"a": {"y": None, "z": 4}, "d": None, "e": 5, "b": 2}
    merged = merge_patch(target, patch)
    assert list(merged) == ["c", "a", "e", "b"]
    assert merged["a"] == {"x": 1, "z": 4}


def test_one_line_spans_of_the_real_writer_read_the_same(tmp_path: Path) -> None:
    """Spans written as an end line alone (default flush), a start line written at a flush,
    and spans in flight at a crash: the same Trace by scan and by DuckDB."""
    directory = write_one_line_spans(tmp_path / "logtrace")
    lines = [
        orjson.loads(x) for p in directory.rglob("*.jsonl") for x in p.read_bytes().splitlines()
    ]
    ids = sorted({x[f.TRACE_ID] for x in lines if f.TRACE_ID in x})
    ends = {x[f.SPAN_ID] for x in lines if x.get(f.SPAN) == f.SPAN_END}
    starts = {x[f.SPAN_ID] for x in lines if x.get(f.SPAN) == f.SPAN_START}
    assert ends - starts and starts - ends and starts & ends  # all three shapes are there
    assert len(ids) == 2
    for tid in ids:
        read = assert_same(directory, tid)
        assert read.spans
