"""The newest traces from the ends of the files (``logtrace.read.scan_newest``) are the rows
DuckDB gives over the whole files, or the scan declines.

Each case writes real files and asks both: ``newest_traces`` and ``recent_traces_no_attr`` of
``logtrace.open()``; the scan's knobs are made small so that it reads only the ends of files.
"""

from __future__ import annotations

import os
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import T0, Written, iso, write_jsonl, write_one_line_spans

import logtrace
from logtrace.format import fields as f
from logtrace.read import scan_ends, scan_newest
from logtrace.read.scan import CannotScan
from logtrace.read.scan_newest import newest_traces

EPOCH = datetime(1970, 1, 1)
PIDS = {"coord": 100, "worker0": 200, "worker1": 300}
FILTERS = {"service": None, "name": None, "status": None, "min_duration_ms": None}


def duckdb_newest(directory: Path, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """recent_traces_no_attr over the whole files, as the trace list asks it."""
    with logtrace.open(directory) as reader:
        return reader.query(
            "recent_traces_no_attr",
            **{**FILTERS, **filters},
            since=None,
            until=None,
            limit=limit,
        )


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Knobs for histories of a few minutes: reads of 4 KiB, a 20 s clock skew, a 2 s reach."""
    monkeypatch.setattr(scan_ends, "CHUNK", 4096)
    for module in (scan_newest, scan_ends):
        monkeypatch.setattr(module, "CLOCK_SKEW", timedelta(seconds=20))
    monkeypatch.setattr(scan_newest, "FIRST_REACH", timedelta(seconds=2))


class History:
    """Traces of a coordinator and two workers, as the writer lays them out in files.

    Every ``every`` ms a trace: a root ``request`` (coord), a ``task`` in a worker whose
    clock runs ``skew_ms`` behind, a ``query`` under it; some fail, some never end, some
    roots are written as an end line alone. Start lines of long spans come a second late
    (written at a flush). The first worker's file is rotated (``.jsonl.zst``) halfway, so
    spans open then have their start and end lines in different files.
    """

    def __init__(self, traces: int, every: int = 100, skew_ms: int = 1500, seed: int = 5):
        self.rng = random.Random(seed)
        self.lines: dict[str, list[tuple[datetime, dict[str, Any]]]] = {}
        self.traces = traces
        for n in range(traces):
            self._trace(n, n * every, skew_ms)

    def _trace(self, n: int, at_ms: int, skew_ms: int) -> None:
        trace_id = f"{int((T0 - EPOCH).total_seconds() * 1000) + at_ms:012x}{n:020x}"
        worker = f"worker{n % 2}"
        root_ms = self.rng.choice([30.0, 80.0, 2500.0])
        root = self._span("coord", trace_id, None, "request", at_ms, root_ms, n)
        task = self._span(worker, trace_id, root, "task", at_ms + 2 - skew_ms, root_ms / 2, n)
        self._span(worker, trace_id, task, "query", at_ms + 3 - skew_ms, root_ms / 4, n + 1)
        self._log(worker, trace_id, task, "working", at_ms + 4 - skew_ms)

    def _span(
        self, where: str, trace_id: str, parent: str | None, name: str, at_ms: float,
        ms: float, n: int,
    ) -> str:  # fmt: skip
        span_id = f"{self.rng.getrandbits(64) | 1:016x}"
        start = T0 + timedelta(milliseconds=at_ms)
        end = start + timedelta(milliseconds=ms)
        head = {f.TRACE_ID: trace_id, f.SPAN_ID: span_id, f.TRACE_FLAGS: "01"}
        common = {f.NAME: name, f.PARENT_ID: parent, f.LOGGER: "logtrace", f.SERVICE: where[:6]}
        start_line = {f.TS: iso(start), f.LEVEL: "info", f.EVENT: name, **head,
                      f.SPAN: f.SPAN_START, **common, f.PID: PIDS[where], "n": n}  # fmt: skip
        end_line = {f.TS: iso(end), f.LEVEL: "info", f.EVENT: name, **head, f.SPAN: f.SPAN_END,
                    **common, f.DURATION_MS: ms, f.STATUS: "ok", f.PID: PIDS[where]}  # fmt: skip
        if n % 7 == 3 and name == "query":
            end_line.update({f.STATUS: "error", f.ERROR_TYPE: "KeyError", f.ERROR_MESSAGE: "x"})
        unfinished = n % 11 == 5 and name == "task"
        end_only = n % 3 == 1 and name == "request"
        if not end_only:
            late = ms > 1000  # a long span's start line comes at the next flush
            self.lines.setdefault(where, []).append(
                (start + timedelta(seconds=1 if late else 0), start_line)
            )
        if not unfinished:
            self.lines.setdefault(where, []).append((end, end_line))
        return span_id

    def _log(self, where: str, trace_id: str, span_id: str, message: str, at_ms: float) -> None:
        at = T0 + timedelta(milliseconds=at_ms)
        line = {f.TS: iso(at), f.LEVEL: "info", f.EVENT: message, f.TRACE_ID: trace_id,
                f.SPAN_ID: span_id, f.LOGGER: "app", f.SERVICE: where[:6],
                f.PID: PIDS[where]}  # fmt: skip
        self.lines.setdefault(where, []).append((at, line))

    def write(self, directory: Path, rotate: bool = True) -> Path:
        """The files: one per process, the first worker's in two (the first compressed)."""
        for where, lines in self.lines.items():
            lines.sort(key=lambda pair: pair[0])
            parts = [lines]
            if rotate and where == "worker0":
                half = len(lines) // 2
                parts = [lines[:half], lines[half:]]
            for index, part in enumerate(parts):
                opened = part[0][0] - timedelta(milliseconds=1)
                name = f"{where[:6]}_host-1_{PIDS[where]}_{opened:%Y%m%dT%H%M%S}.000Z.jsonl"
                rotated = rotate and where == "worker0" and index == 0
                path = directory / f"{opened:%Y-%m-%d}" / (name + (".zst" if rotated else ""))
                write_jsonl(path, [line for _, line in part])
                stamp = (part[-1][0] - EPOCH).total_seconds()
                os.utime(path, (stamp, stamp))
        return directory


def assert_same(directory: Path, limit: int = 50, cut: bool = True, **filters: Any) -> Any:
    newest = newest_traces(directory, limit, filters)
    assert newest.traces == duckdb_newest(directory, limit, **filters)
    if cut:
        assert newest.complete_from is not None  # only the ends were read
    return newest


def test_the_newest_traces_equal_duckdbs(small: None, logs_dir: Path) -> None:
    """The 50 newest of 3,000 traces across three processes (skewed clocks, late start
    lines, unfinished spans, end lines alone) are DuckDB's rows, read from the files' ends."""
    directory = History(3000).write(logs_dir)
    newest = assert_same(directory)
    assert len(newest.traces) == 50 and newest.files == 4
    statuses = {row["status"] for row in newest.traces}
    assert statuses == {"ok", "error", "unfinished"}
    assert sum(path.stat().st_size for path in directory.rglob("*.jsonl")) > 20 * 4096


@pytest.mark.parametrize(
    "filters",
    [
        {"service": "worker"},
        {"service": "nobody"},
        {"name": "query"},
        {"status": "error"},
        {"status": "unfinished"},
        {"status": "ok", "service": "coord"},
        {"min_duration_ms": 1000.0},
    ],
)
def test_filters_give_duckdbs_rows_or_decline(
    small: None, logs_dir: Path, filters: dict[str, Any]
) -> None:
    """Each filter of the trace list gives DuckDB's rows (reading further back, to the
    files' beginnings, as few traces pass it)."""
    assert_same(History(1500).write(logs_dir), 20, cut=False, **filters)


@pytest.mark.parametrize("limit", [1, 7, 120, 1000])
def test_limits(small: None, logs_dir: Path, limit: int) -> None:
    """One row, a few, more than the first reach holds, back into the rotated (compressed)
    file: DuckDB's rows."""
    assert_same(History(1500).write(logs_dir), limit, cut=limit < 1000)


def test_reading_more_than_max_bytes_is_declined(
    small: None, logs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Newest traces further back than MAX_BYTES, or lines without times to tell how far
    back to read: declined before more is read."""
    directory = History(1500).write(logs_dir)
    for module in (scan_newest, scan_ends):
        monkeypatch.setattr(module, "MAX_BYTES", 1_000_000)
    assert len(newest_traces(directory, 10).traces) == 10
    with pytest.raises(CannotScan):
        newest_traces(directory, 500)
    foreign = directory / "2026-11-24" / "other_host-1_9_20261124T130000.000Z.jsonl"
    foreign.write_bytes(b"no time here\n" * 100_000)
    stamp = (T0 + timedelta(seconds=150) - EPOCH).total_seconds()
    os.utime(foreign, (stamp, stamp))
    with pytest.raises(CannotScan):
        newest_traces(directory, 10)


def test_a_span_across_files_and_a_root_cut_off(small: None, logs_dir: Path) -> None:
    """Traces whose lines lie on both sides of the rotation, and two whose roots started
    long before the ends read, one of them never ending (their children at the end, the
    root's start line far back): DuckDB's rows."""
    history = History(1500, every=100)
    old = [f"{int((T0 - EPOCH).total_seconds() * 1000):012x}{c * 20}" for c in "ef"]
    for n, trace_id in enumerate(old):
        root = history._span("coord", trace_id, None, "batch", 0, 149_000.0, 5 if n else 0)
        history._span("coord", trace_id, root, "tail", 148_000, 500.0, 0)
    history.lines["coord"] = [
        (at, line) for at, line in history.lines["coord"]
        if not (line[f.TRACE_ID] == old[1] and line[f.SPAN] == f.SPAN_END and at > T0
                and line[f.NAME] == "batch")
    ]  # fmt: skip
    directory = history.write(logs_dir)
    newest = assert_same(directory, 30, cut=False)  # the unfinished root: read back to it
    assert not set(old) & {row["trace_id"] for row in newest.traces}
    everything = {row["trace_id"]: row for row in duckdb_newest(directory, 3000)}
    assert everything[old[0]]["status"] == "ok"
    assert everything[old[1]]["status"] == "unfinished"


def test_small_files_are_read_whole(logs_dir: Path) -> None:
    """Files smaller than one read: read whole, the answer is every trace's (no cut)."""
    directory = History(40).write(logs_dir)
    newest = newest_traces(directory, 50)
    assert newest.complete_from is None
    assert newest.traces == duckdb_newest(directory, 50)
    assert len(newest.traces) == 40


def test_the_real_write_side_reads_the_same(written: Written) -> None:
    """The real writer's files (processes, rotation, a crash): DuckDB's rows."""
    assert newest_traces(written.directory, 50).traces == duckdb_newest(written.directory, 50)


def test_one_line_spans_read_the_same(tmp_path: Path) -> None:
    """End lines alone, start lines at a flush, spans in flight at a crash: DuckDB's rows."""
    directory = write_one_line_spans(tmp_path / "logtrace")
    newest = newest_traces(directory, 50)
    assert newest.traces == duckdb_newest(directory, 50)
    assert {row["status"] for row in newest.traces} >= {"unfinished"}


def _append(directory: Path, line: bytes) -> None:
    newest = max(directory.rglob("coord_*.jsonl"), key=lambda p: p.stat().st_mtime)
    stamp = newest.stat().st_mtime
    with newest.open("ab") as out:
        out.write(line + b"\n")
    os.utime(newest, (stamp, stamp))


def test_json_spaces_read_the_same(small: None, logs_dir: Path) -> None:
    """A line written with spaces after colons and commas (another writer): DuckDB's rows."""
    directory = History(1500).write(logs_dir)
    _append(directory, orjson.dumps({"ts": "2026-11-24T13:02:29.000000Z"})[:-1] + b', '
            b'"trace_id": "ab12", "span_id": "1", "span": "start", "name": "spaced", '
            b'"parent_id": null}')  # fmt: skip
    newest = assert_same(directory, 20)
    assert newest.traces[0]["root_name"] == "spaced"


@pytest.mark.parametrize(
    "line",
    [
        # DuckDB reads these trace ids; the byte search would not see them.
        b'{"ts":"2026-11-24T13:02:29.000000Z","trace\\u005fid":"ab12","span_id":"1",'
        b'"span":"start","name":"escaped","parent_id":null}',
        b'{"ts":"2026-11-24T13:02:29.000000Z","trace_id":7,"span_id":"1","span":"start"}',
    ],
)
def test_what_only_duckdb_reads_is_declined(small: None, logs_dir: Path, line: bytes) -> None:
    """A trace id key written with escapes, a trace id that is a number: declined."""
    directory = History(1500).write(logs_dir)
    newest_traces(directory, 20)
    _append(directory, line)
    with pytest.raises(CannotScan):
        newest_traces(directory, 20)


def test_nan_in_a_line_of_a_newest_trace_is_declined(small: None, logs_dir: Path) -> None:
    """A line of a listed trace that orjson refuses and DuckDB reads (NaN): declined."""
    directory = History(1500).write(logs_dir)
    trace_id = newest_traces(directory, 1).traces[0]["trace_id"]
    _append(directory, orjson.dumps({f.TRACE_ID: trace_id, f.SPAN: "end"})[:-1] + b',"x":NaN}')
    with pytest.raises(CannotScan):
        newest_traces(directory, 20)


def test_compacted_files_shared_history_and_other_filters_are_declined(
    logs_dir: Path, tmp_path: Path
) -> None:
    """Compacted newest files, a URL, a filter the scan does not apply: CannotScan."""
    directory = History(200, every=1000).write(logs_dir, rotate=False)
    from logtrace.read.compact import compact

    copy = tmp_path / "copy"
    shutil.copytree(directory, copy)
    compact(copy)
    with pytest.raises(CannotScan):
        newest_traces(copy, 20)
    with pytest.raises(CannotScan):
        newest_traces("s3://bucket/logs", 20)
    with pytest.raises(CannotScan):
        newest_traces(directory, 20, {"attr_key": "n"})
    assert newest_traces(directory, 20, {"attr_key": None}).traces == duckdb_newest(directory, 20)


def test_the_lines_from_a_time_on_come_after_the_point_found(small: None, logs_dir: Path) -> None:
    """Where the traces written to from a time on are looked for: no line of that time or
    later comes before the point, and it is within a few reads of the first such line."""
    directory = History(1500).write(logs_dir, rotate=False)
    path = next(directory.rglob("coord_*.jsonl"))
    end = scan_ends.FileEnd(path)
    end.back_to(T0 - timedelta(seconds=1))  # the whole file
    data = end.data
    starts = [0, *(i + 1 for i, byte in enumerate(data) if byte == 0x0A)][:-1]
    times = [datetime.fromisoformat(orjson.loads(data[s : data.find(b"\n", s)])[f.TS][:-1])
             for s in starts]  # fmt: skip
    for seconds in (0.5, 30, 75.25, 120, 149.9):
        when = T0 + timedelta(seconds=seconds)
        point = end.after(when)
        before = [t for s, t in zip(starts, times, strict=True) if s < point]
        assert not before or max(before) < when
        first = min(s for s, t in zip(starts, times, strict=True) if t >= when)
        assert first - point <= 2 * scan_ends.CHUNK


def test_spans_kept_late_by_keep_errors_are_not_taken_for_time_order(tmp_path: Path) -> None:
    """An unsampled trace's buffered spans, written at once when one of them fails, each with
    its own (minutes older) time, sit after lines newer than they are. Read from among them,
    the file would look complete from too early a time, and the newest trace, whose failing
    child was written just before them, would be listed without it (ok, one span). The scan
    declines instead (DuckDB answers). Default knobs: 5 minutes of clock skew."""
    written: list[tuple[float, dict[str, Any]]] = []

    def span(trace_id: str, span_id: str, parent: str | None, name: str, start_s: float,
             seconds: float, flags: str = "01", status: str = "ok",
             written_s: float | None = None, **attributes: Any) -> None:  # fmt: skip
        end = T0 + timedelta(seconds=start_s + seconds)
        line = {f.TS: iso(end), f.LEVEL: "info" if status == "ok" else "error",
                f.EVENT: name, f.TRACE_ID: trace_id, f.SPAN_ID: span_id, f.TRACE_FLAGS: flags,
                f.SPAN: f.SPAN_END, f.NAME: name, f.PARENT_ID: parent,
                f.DURATION_MS: seconds * 1000, f.STATUS: status, f.LOGGER: "logtrace",
                f.SERVICE: "svc", f.PID: 100, **attributes}  # fmt: skip
        written.append((start_s + seconds if written_s is None else written_s, line))

    def trace_id(at_s: float, n: int) -> str:
        return f"{int((T0 - EPOCH).total_seconds() * 1000 + at_s * 1000):012x}{n:020x}"

    for n in range(5500):  # a trace every 0.1 s for 550 s
        span(trace_id(n / 10, n + 1), f"{n + 1:016x}", None, "request", n / 10, 0.02)
    z = trace_id(560, 999_999)  # the newest trace: 560 s to 600 s, a child failing at 570 s
    span(z, "a" * 16, "b" * 16, "zchild", 565, 5, status="error")
    span(z, "b" * 16, None, "zjob", 560, 40)
    kept = trace_id(0, 888_888)  # unsampled, 0 to 60 s; a span fails: all written at 580 s
    for n in range(700):
        span(kept, f"{n + 1:016x}", "c" * 16, "kstep", n * 60 / 700, 0.05, flags="00",
             written_s=580 + n * 1e-4, payload="x" * 200)  # fmt: skip
    span(kept, "c" * 16, None, "kjob", 0, 580, flags="00", status="error", written_s=580.1)
    written.sort(key=lambda pair: pair[0])
    opened = T0 - timedelta(milliseconds=1)
    path = tmp_path / f"{T0:%Y-%m-%d}" / f"svc_host-1_100_{opened:%Y%m%dT%H%M%S}.000Z.jsonl"
    write_jsonl(path, [line for _, line in written])
    stamp = (T0 + timedelta(seconds=600) - EPOCH).total_seconds()
    os.utime(path, (stamp, stamp))
    (newest,) = duckdb_newest(tmp_path, 1)
    assert (newest["trace_id"], newest["status"], newest["span_count"]) == (z, "error", 2)
    with pytest.raises(CannotScan, match="keep_errors"):
        newest_traces(tmp_path, 1)


def test_a_file_whose_clock_is_off_is_declined(small: None, logs_dir: Path) -> None:
    """A file whose last line (the writer's clock) is more than CLOCK_SKEW later than its last
    write (the file system's clock): the scan, which counts files it does not read by their
    last write, declines. Later last writes (a copied file) are read as before."""
    directory = History(1500, every=100).write(logs_dir)
    assert newest_traces(directory, 50).traces == duckdb_newest(directory, 50)
    newest = max(directory.rglob("coord_*.jsonl"), key=lambda p: p.stat().st_mtime)
    stamp = newest.stat().st_mtime
    os.utime(newest, (stamp + 3600, stamp + 3600))  # copied an hour later
    assert newest_traces(directory, 50).traces == duckdb_newest(directory, 50)
    os.utime(newest, (stamp - 60, stamp - 60))  # its writer's clock a minute ahead
    with pytest.raises(CannotScan, match="clock"):
        newest_traces(directory, 50)
