"""Compaction to Parquet, JSONL and Parquet read together, time pruning, trace-aware retention."""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import T0, Written, iso, log_line, span_lines, write_jsonl

import logtrace
from logtrace.format import fields as f
from logtrace.read.compact import Retention, compact
from logtrace.read.files import LONG_TRACE, ReadError, find_compacted, find_files
from logtrace.read.reader import query_text

# -- data ----------------------------------------------------------------------------------------


def trace_id_at(when: datetime, rng: random.Random) -> str:
    """A logtrace trace id created at ``when``: 12 hex digits of ms since the epoch, then random."""
    ms = int((when - datetime(1970, 1, 1)).total_seconds() * 1000)
    return f"{ms:012x}{rng.getrandbits(80):020x}"


def file_name(service: str, pid: int, opened: datetime, suffix: str = ".jsonl") -> str:
    """A file name as the sink writes it."""
    stamp = opened.strftime("%Y%m%dT%H%M%S.") + f"{opened.microsecond // 1000:03d}Z"
    return f"{service}_host_{pid}_{stamp}{suffix}"


def history(root: Path, hours: int = 4, per_hour: int = 6, seed: int = 1) -> list[str]:
    """Hand-made history: a coordinator and a worker, one file each per hour, some .zst.

    Each trace: a root on the coordinator, a task on the worker with two steps and logs; every
    fifth trace fails on the worker. Returns the trace ids in order.
    """
    rng = random.Random(seed)
    ids: list[str] = []
    for hour in range(hours):
        opened = T0 + timedelta(hours=hour)
        coord: list[dict[str, Any]] = []
        worker: list[dict[str, Any]] = []
        for n in range(per_hour):
            start = opened + timedelta(minutes=n * 60 / per_hour, seconds=1)
            trace = trace_id_at(start, rng)
            ids.append(trace)
            at = (start - T0).total_seconds() * 1000
            failed = len(ids) % 5 == 0
            top, task = f"{rng.getrandbits(64) | 1:016x}", f"{rng.getrandbits(64) | 1:016x}"
            coord += span_lines(
                trace,
                top,
                None,
                "request",
                at,
                50,
                service="coord",
                pid=1,
                attributes={"route": f"/r/{n}"},
            )
            coord.append(log_line(trace, top, f"request {n}", at + 1, user=f"u{n}"))
            worker += span_lines(
                trace,
                task,
                top,
                "task",
                at + 5,
                40,
                service="worker",
                pid=2,
                status="error" if failed else "ok",
                error=("ValueError", "bad") if failed else None,
                attributes={"task_id": len(ids)},
            )
            for step in range(2):
                sid = f"{rng.getrandbits(64) | 1:016x}"
                worker += span_lines(
                    trace,
                    sid,
                    task,
                    "step",
                    at + 10 + step * 10,
                    5,
                    service="worker",
                    pid=2,
                    attributes={"n": step},
                )
                worker.append(log_line(trace, sid, f"step {step}", at + 12 + step * 10))
        worker.append(log_line(None, None, "idle", (opened - T0).total_seconds() * 1000 + 3e6))
        day = root / opened.strftime(f.DAY_FORMAT)
        suffix = ".jsonl.zst" if hour % 2 else ".jsonl"
        for service, pid, lines in (("coord", 1, coord), ("worker", 2, worker)):
            lines.sort(key=lambda line: line[f.TS])
            path = write_jsonl(day / file_name(service, pid, opened, suffix), lines)
            last = datetime.strptime(lines[-1][f.TS], "%Y-%m-%dT%H:%M:%S.%fZ")
            stamp = (last - datetime(1970, 1, 1)).total_seconds()
            os.utime(path, (stamp, stamp))
    return ids


@pytest.fixture
def hist(tmp_path: Path) -> tuple[Path, list[str]]:
    """Four hours of hand-made history in 16 files."""
    root = tmp_path / "logtrace"
    return root, history(root)


def snapshot(directory: Path) -> dict[str, Any]:
    """What the views say about a directory: every line, span and trace, comparable."""
    with logtrace.open(directory, pruning=False) as reader:
        events = reader.execute(
            "SELECT ts, level, event, trace_id, span_id, span, name, parent_id, duration_ms, "
            "status, service, pid, fields, filename FROM events"
        )
        spans = reader.execute("SELECT * EXCLUDE (filename) FROM spans")
        traces = reader.execute("SELECT * FROM traces")
        logs = reader.execute("SELECT * EXCLUDE (filename, fields) FROM logs")
        skipped = reader.execute("SELECT count(*) AS n FROM lines WHERE json IS NULL")
    return {
        "events": sorted(events, key=repr),
        "spans": sorted(spans, key=repr),
        "traces": sorted(traces, key=repr),
        "logs": sorted(logs, key=repr),
        "unreadable": skipped[0]["n"],
    }


def tree(reader: Any, trace_id: str) -> list[tuple[Any, ...]]:
    """One trace as (depth, span id, name, service, status, attributes), and its log lines."""
    trace = reader.trace(trace_id)
    spans = [
        (s["depth"], s["span_id"], s["name"], s["service"], s["status"], s["attributes"])
        for s in trace.spans
    ]
    logs = [(log["ts"], log["message"], log["span_id"], log["fields"]) for log in trace.logs]
    return [trace.summary, spans, logs]


# -- compaction ----------------------------------------------------------------------------------


def test_compaction_keeps_every_line_and_the_views_see_the_same(
    hist: tuple[Path, list[str]],
) -> None:
    """After compaction the views give the same lines, spans, traces and logs as before."""
    root, _ = hist
    with open(root / "2026-11-24" / file_name("other", 9, T0), "w") as out:
        out.write('{"ts": "x", "msg": "another program"}\nnot json at all\n{"torn": ')
    before = snapshot(root)
    result = compact(root)
    assert len(result.sources) == 9 and len(result.written) == 1 and result.live == 0
    assert find_files(root) == []
    (parquet,) = find_compacted(root)
    assert parquet.parent == root / "2026-11-24"
    assert snapshot(root) == before
    assert before["unreadable"] == 2


def test_compacted_files_are_named_for_their_time_and_list_their_sources(
    hist: tuple[Path, list[str]],
) -> None:
    """The name holds the first and last line's times; the metadata, the source names."""
    root, _ = hist
    names = sorted(p.name.removesuffix(".zst") for p in find_files(root))
    compact(root, batch_bytes=1)
    written = find_compacted(root)
    assert len(written) == 8  # one per source with a tiny batch
    with logtrace.open(root) as reader:
        rows = reader.execute(
            "SELECT decode(value) AS sources FROM parquet_kv_metadata($f) WHERE decode(key) = $k",
            {"f": [str(p) for p in written], "k": f.COMPACTED_SOURCES},
        )
    import orjson

    assert sorted(s for r in rows for s in orjson.loads(r["sources"])) == names
    first = written[0].name.split("_")
    assert first[1] == (T0 + timedelta(seconds=1)).strftime(f.FILE_TIME_FORMAT)  # first line


def test_running_it_twice_changes_nothing(hist: tuple[Path, list[str]]) -> None:
    """A second compaction finds nothing to do and leaves every file as it was."""
    root, _ = hist
    compact(root)
    files = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    again = compact(root)
    assert again.sources == [] and again.written == [] and again.finished == []
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == files


def test_a_file_that_does_not_decode_is_left_and_its_batch_compacted(
    hist: tuple[Path, list[str]],
) -> None:
    """A zstd frame of random bytes in a batch (its magic number right, so only DuckDB finds it
    out): named unreadable and left in place; the other files of the batch compacted, with
    nothing hidden left behind."""
    root, _ = hist
    day = next(p for p in root.iterdir() if p.is_dir())
    bad = day / file_name("coord", 9, T0 + timedelta(minutes=30), ".jsonl.zst")
    bad.write_bytes(b"\x28\xb5\x2f\xfd" + random.Random(3).randbytes(4096))
    before = snapshot(root)
    result = compact(root)
    assert result.unreadable == [bad] and bad.exists() and bad not in result.sources
    assert result.written and not [p for p in root.rglob(".compacted-*")]
    assert [p for p in find_files(root) if p.parent == day] == [bad]
    assert snapshot(root) == before


def test_a_compressed_file_cut_short_is_named_and_left_until_put_back_whole(
    hist: tuple[Path, list[str]], cli: Any, tmp_path: Path
) -> None:
    """A .jsonl.zst cut short (head -c of it) is named on stderr, neither compacted nor
    deleted; the whole file put back later is compacted, every line of it counted."""
    root, _ = hist
    whole = sorted(root.rglob("*.jsonl.zst"))[0]
    before = snapshot(root)
    saved = tmp_path / "whole.zst"
    shutil.copy2(whole, saved)
    whole.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    done = cli("compact", "--dir", str(root))
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if str(whole) in line] == [
        f"  {whole}: cut short (its last zstd frame is incomplete), left alone: put the whole "
        "file back, or decompress what is there (zstd -d) to keep it"
    ]
    assert "1 compressed files cut short left alone" in done.stdout
    assert find_files(root) == [whole]
    shutil.copy2(saved, whole)
    again = compact(root)
    assert again.sources == [whole] and again.truncated == [] and find_files(root) == []
    assert snapshot(root) == before


def test_a_compaction_that_fails_midway_leaves_nothing_hidden_and_loses_nothing(
    hist: tuple[Path, list[str]],
) -> None:
    """An exception in the middle (here the progress callback's, after the first batch): the
    batches in place stay, the others' sources stay, no work or spill folder is left."""
    root, _ = hist
    before = snapshot(root)
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise RuntimeError("the terminal went away")

    with pytest.raises(RuntimeError):
        compact(root, batch_bytes=1, progress=progress)
    assert sorted(p.name for p in root.rglob(".*")) == [".compact.lock"]
    assert snapshot(root) == before


def test_live_files_are_never_compacted(hist: tuple[Path, list[str]]) -> None:
    """A plain file whose process holds its flock stays, and is read with the Parquet."""
    root, _ = hist
    live = sorted(p for p in find_files(root) if p.name.endswith(".jsonl"))[-1]
    before = snapshot(root)
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = compact(root)
    finally:
        os.close(fd)
    assert result.live == 1 and live.exists() and live not in result.sources
    assert snapshot(root) == before


def test_sources_left_by_an_interrupted_compaction_count_once(
    hist: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """Sources still there next to the Parquet that lists them are left out, then removed."""
    root, _ = hist
    saved = tmp_path / "saved"
    shutil.copytree(root, saved)
    before = snapshot(root)
    compact(root)
    for path in saved.rglob("*.jsonl*"):  # as if the deletes had not happened
        shutil.copy2(path, root / path.relative_to(saved))
    (root / "2026-11-24" / ".compacted-0123.parquet").write_bytes(b"half a file")
    assert snapshot(root) == before
    again = compact(root)
    assert len(again.finished) == 8 and again.written == []
    assert find_files(root) == [] and not list(root.rglob(".compacted-*"))
    assert snapshot(root) == before


@pytest.mark.parametrize("outer_first", [True, False])
def test_compactions_of_a_folder_and_of_its_day_folder_never_overlap(
    hist: tuple[Path, list[str]], outer_first: bool
) -> None:
    """compact(root) and compact(root/day) take a lock in common (the day folder's): the one
    started second refuses to run, the first compacts every line once."""
    root, _ = hist
    day = root / "2026-11-24"
    first, second = (root, day) if outer_first else (day, root)
    before = snapshot(root)
    refused: list[str] = []

    def progress(done: int, total: int) -> None:
        if not refused:
            with pytest.raises(ReadError) as error:
                compact(second)
            refused.append(str(error.value))

    result = compact(first, progress=progress)
    assert refused == [f"another compaction is running in {day}"]
    assert len(result.sources) == 8 and find_files(root) == []
    assert snapshot(root) == before
    assert compact(second).sources == []


KILLER = """
import sys
from pathlib import Path
from logtrace.read.compact import compact
print("ready", flush=True)  # imports done: the kill falls within the compaction itself
compact(Path(sys.argv[1]), batch_bytes=1)
"""


def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """Compaction killed (SIGKILL) at random points: every line counted exactly once, always."""
    root = tmp_path / "logtrace"
    history(root, hours=12, per_hour=2)
    before = snapshot(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGTRACE_")}
    # How long an uninterrupted run takes, on a copy: the kills fall within it.
    trial = tmp_path / "trial"
    shutil.copytree(root, trial)

    def start(directory: Path) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-c", KILLER, str(directory)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        return child

    child = start(trial)
    started = time.monotonic()
    assert child.wait(timeout=60) == 0
    whole = time.monotonic() - started
    rng = random.Random(42)
    kills = 0
    for _ in range(8):
        child = start(root)
        # Within the first 60% of an uninterrupted run: the first run is always cut short.
        time.sleep(rng.uniform(0.05, 0.6) * whole)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=60)
        assert snapshot(root) == before
        if not find_files(root):
            break
    assert kills >= 1
    compact(root)
    assert find_files(root) == [] and not list(root.rglob(".compacted-*"))
    assert snapshot(root) == before


# -- time pruning --------------------------------------------------------------------------------


@pytest.mark.parametrize("compacted", [False, True])
def test_pruned_and_unpruned_lookups_are_identical(
    hist: tuple[Path, list[str]], compacted: bool
) -> None:
    """show reads only the files of a trace's time, and finds exactly what a full scan finds."""
    root, ids = hist
    if compacted:
        compact(root, batch_bytes=1)
    with logtrace.open(root) as pruned, logtrace.open(root, pruning=False) as full:
        for trace_id in [*ids[::3], ids[-1]]:
            assert tree(pruned, trace_id) == tree(full, trace_id)
            assert len(pruned.trace_files) < len(full.trace_files)
            assert tree(pruned, trace_id[:14]) == tree(full, trace_id)


def test_a_trace_longer_than_the_margin_is_found_whole(logs_dir: Path) -> None:
    """A trace whose spans lie in files far beyond the margin: looked up in every file."""
    rng = random.Random(3)
    trace = trace_id_at(T0, rng)
    late = LONG_TRACE.total_seconds() * 1000 * 4
    first = span_lines(trace, "a" * 16, None, "long", 0, late + 10)
    child = span_lines(trace, "b" * 16, "a" * 16, "late", late, 5)
    day = logs_dir / "2026-11-24"
    write_jsonl(day / file_name("svc", 1, T0), [first[0]])
    opened = T0 + timedelta(milliseconds=late)
    write_jsonl(day / file_name("svc", 1, opened), [*child, first[1]])
    for path, when in (
        (day / file_name("svc", 1, T0), T0),
        (day / file_name("svc", 1, opened), opened + timedelta(seconds=1)),
    ):
        stamp = (when - datetime(1970, 1, 1)).total_seconds()
        os.utime(path, (stamp, stamp))
    with logtrace.open(logs_dir) as pruned, logtrace.open(logs_dir, pruning=False) as full:
        assert tree(pruned, trace) == tree(full, trace)
        assert [s["name"] for s in pruned.trace(trace).spans] == ["long", "late"]


def test_foreign_trace_ids_fall_back_to_every_file(logs_dir: Path) -> None:
    """An id without a time prefix (another tracer's) is looked up in every file."""
    foreign = "f" * 8 + "0123456789abcdef0123456789abcdef"[:24]
    write_jsonl(
        logs_dir / "2026-11-24" / file_name("svc", 1, T0),
        span_lines(foreign, "c" * 16, None, "theirs", 0, 3),
    )
    with logtrace.open(logs_dir) as reader:
        assert reader.trace(foreign).spans[0]["name"] == "theirs"


def test_time_filters_prune_files_and_answer_the_same(hist: tuple[Path, list[str]]) -> None:
    """ls/stats with --since/--until read fewer files and give the same rows."""
    root, _ = hist
    since, until = T0 + timedelta(hours=2), T0 + timedelta(hours=3)
    params = {
        "since": since,
        "until": until,
        "service": None,
        "name": None,
        "status": None,
        "min_duration_ms": None,
        "attr_key": None,
        "attr_value": None,
    }
    with logtrace.open(root, since=since, until=until) as pruned, logtrace.open(root) as full:
        assert len(pruned.files) < len(full.files)
        for name in ("recent_traces", "span_percentiles"):
            extra = {"limit": 100} if name == "recent_traces" else {}
            assert pruned.query(name, **params, **extra) == full.query(name, **params, **extra)


# -- retention -----------------------------------------------------------------------------------


def test_retention_keeps_error_traces_whole_across_processes(
    written: Written, tmp_path: Path
) -> None:
    """A worker's error keeps the coordinator's spans of that trace; other traces go."""
    root = tmp_path / "logtrace"
    shutil.copytree(written.directory, root)
    failed = written.trace_ids()[1]
    with logtrace.open(root) as reader:
        before = tree(reader, failed)
        headers = reader.execute("SELECT count(*) AS n FROM events WHERE trace_id IS NULL")
    assert {s[3] for s in before[1]} == {"coord", "worker"}
    result = compact(root, retention=Retention(sample=0.0))
    assert result.kept_traces == 1
    with logtrace.open(root) as reader:
        assert tree(reader, failed) == before
        traces = reader.execute("SELECT trace_id FROM traces")
        assert traces == [{"trace_id": failed}]
        assert reader.execute("SELECT count(*) AS n FROM events WHERE trace_id IS NULL") == headers


def test_retention_keeps_slow_traces_and_a_sample(hist: tuple[Path, list[str]]) -> None:
    """--slow-ms keeps traces with a slow span; --sample keeps a fraction of the rest."""
    root, ids = hist
    compact(root, retention=Retention(sample=0.5, slow_ms=45))
    with logtrace.open(root) as reader:
        kept = {r["trace_id"] for r in reader.execute("SELECT trace_id FROM traces")}
    # Every trace has a 50 ms request span: all slow, all kept.
    assert kept == set(ids)


def test_sample_follows_the_low_64_bits_of_the_trace_id(hist: tuple[Path, list[str]]) -> None:
    """The sampled traces are those OpenTelemetry's ratio sampler would keep at that ratio."""
    root, ids = hist
    compact(root, retention=Retention(sample=0.5))
    failed = {t for i, t in enumerate(ids, 1) if i % 5 == 0}
    sampled = {t for t in ids if int(t[16:], 16) < 2**63}
    with logtrace.open(root) as reader:
        kept = {r["trace_id"] for r in reader.execute("SELECT trace_id FROM traces")}
        spans = reader.execute("SELECT trace_id, count(*) AS n FROM spans GROUP BY 1")
    assert kept == failed | sampled
    assert all(row["n"] == 4 for row in spans)  # whole traces, never parts


def test_retention_arguments_are_checked() -> None:
    """A sample outside 0..1 or a negative slow_ms is refused."""
    with pytest.raises(ValueError):
        Retention(sample=1.5)
    with pytest.raises(ValueError):
        Retention(slow_ms=-1)


# -- the command ---------------------------------------------------------------------------------


def test_cli_compacts_and_reports_json(hist: tuple[Path, list[str]], cli: Any) -> None:
    """logtrace compact --json: what was written, read back by ls; no progress bar off a tty."""
    root, ids = hist
    done = cli("compact", "--dir", str(root), "--json")
    assert done.returncode == 0 and done.stderr == ""
    import orjson

    report = orjson.loads(done.stdout)
    assert len(report["written"]) == 1 and report["bytes_out"] < report["bytes_in"]
    listed = cli("ls", "--dir", str(root), "-n", "100", "--json")
    assert {row["trace_id"] for row in orjson.loads(listed.stdout)} == set(ids)
    shown = cli("show", "--dir", str(root), ids[4][:16])
    assert shown.returncode == 0 and "ValueError" in shown.stdout
    again = cli("compact", "--dir", str(root))
    assert again.returncode == 0 and again.stdout.startswith("nothing to compact")


@pytest.mark.parametrize(
    "args",
    [
        ["--sample", "2"],
        ["--sample", "x"],
        ["--slow-ms", "-5"],
        ["--bogus"],
        ["--memory-limit", "abc"],
        ["--memory-limit", "-1GB"],
        ["--to", ""],
    ],
)
def test_cli_bad_arguments_are_one_line_and_exit_2(
    hist: tuple[Path, list[str]], cli: Any, args: list[str]
) -> None:
    """A bad argument: one line on stderr, exit 2, nothing compacted."""
    root, _ = hist
    done = cli("compact", "--dir", str(root), *args)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "Exception" not in done.stderr and "Error" not in done.stderr
    assert find_compacted(root) == []


def test_cli_out_of_memory_is_said_and_leaves_the_files(
    hist: tuple[Path, list[str]], cli: Any
) -> None:
    """--memory-limit too small for DuckDB: one line saying so and what to do, exit 2; every
    file left as it was, none called undecodable."""
    root, _ = hist
    files = {p: p.stat().st_mtime_ns for p in find_files(root)}
    done = cli("compact", "--dir", str(root), "--memory-limit", "10MB")
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("compaction ran out of memory within the memory limit 10MB (")
    assert "give a bigger --memory-limit" in line and "decode" not in line
    assert {p: p.stat().st_mtime_ns for p in find_files(root)} == files
    assert find_compacted(root) == [] and not list(root.rglob(".compact*-*"))


def test_cli_help_says_what_compact_does(cli: Any) -> None:
    """logtrace compact --help explains the command and its retention options."""
    done = cli("compact", "--help")
    assert done.returncode == 0
    assert "Parquet" in done.stdout and "--keep-errors" in done.stdout
    assert "--sample" in done.stdout and "--slow-ms" in done.stdout


@pytest.mark.parametrize("name", [".compact-spill", ".compact.lock"])
@pytest.mark.parametrize("points_at", ["folder", "nothing"])
def test_a_symlink_planted_under_a_work_name_is_refused_in_one_line_never_followed(
    hist: tuple[Path, list[str]], tmp_path: Path, name: str, points_at: str
) -> None:
    """A symlink under the spill folder's or the lock's name stops compaction before anything
    changes: exit 2, one line naming it, that logtrace did not make it and to remove it;
    nothing is written, made or removed through it."""
    root, _ = hist
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere if points_at == "folder" else elsewhere / "gone"
    (root / name).symlink_to(target)
    files = sorted(p.name for p in root.rglob("*"))
    done = subprocess.run(
        [sys.executable, "-m", "logtrace", "compact", "--dir", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"cannot use {root / name}: a symlink that logtrace did not make (not followed); "
        "remove it and run again"
    ]
    assert list(elsewhere.iterdir()) == []
    assert (root / name).is_symlink()
    # The lock is made (a real file) before the spill folder is looked at: nothing else.
    assert sorted(p.name for p in root.rglob("*") if p.name != ".compact.lock") == [
        n for n in files if n != ".compact.lock"
    ]
    (root / name).unlink()
    assert compact(root).sources


def test_compaction_files_run(hist: tuple[Path, list[str]]) -> None:
    """compacted.sql and trace_compacted.sql run on Parquet (compact_lines.sql made it)."""
    root, ids = hist
    compact(root)
    with logtrace.open(root) as reader:
        reader.execute(query_text("compacted"))
        assert reader.execute("SELECT count(*) AS n FROM compacted")[0]["n"] > 0
        rows = reader.query("trace_compacted", prefix=ids[0][:16])
        assert rows and {r["trace_id"] for r in rows} == {ids[0]}


def test_a_day_of_iso_helpers_is_consistent() -> None:
    """The hand-made ids carry the time they say (the premise of pruning)."""
    rng = random.Random(0)
    trace = trace_id_at(T0, rng)
    assert datetime(1970, 1, 1) + timedelta(milliseconds=int(trace[:12], 16)) == T0
    assert iso(T0).startswith("2026-11-24T13:00")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("LOGTRACE_"):
            monkeypatch.delenv(name)
    yield
