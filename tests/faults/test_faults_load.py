"""Load, crash and fork, through the public API: every line once, or counted; nothing raises.

Real processes writing through ``configure()``, ``span()``, stdlib logging and structlog; real
``kill -9``; real ``os.fork``. What they wrote is read back twice: line by line in Python (every
line must parse) and by the read side (``logtrace.open``, the ``logtrace`` CLI), which must
count the same. Sizes grow under ``LOGTRACE_SOAK=1``.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from _faults_helpers import clean_env, once_each, read_back, run, start
from _faults_report import Row, count, record, scale

import logtrace
from logtrace.format import fields as f

# argv: directory, threads, events per thread, rotate_bytes, overflow, queue_size.
# Each thread writes its events as log lines (stdlib and structlog in turn), a span around
# every 100 of them; prints what the sink was told about.
WRITER = """
import logging, os, sys, threading, structlog, logtrace
directory, threads, events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rotate, overflow, queue = int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
logtrace.configure(service="load", directory=directory, rotate_bytes=rotate,
                   overflow=overflow, queue_size=queue, environ={})
log, slog = logging.getLogger("app"), structlog.get_logger("app")

def work(t):
    span = None
    for i in range(events):
        if i % 100 == 0:
            if span is not None:
                span.__exit__(None, None, None)
            span = logtrace.span("batch", t=t, first=i)
            span.__enter__()
        if i % 2:
            log.info("stdlib %d", i, extra={"t": t, "i": i})
        else:
            slog.info("structlog", t=t, i=i)
    span.__exit__(None, None, None)

workers = [threading.Thread(target=logtrace.wrap(work), args=(t,)) for t in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
logtrace.shutdown()
print('{"pid": %d}' % os.getpid())
"""


def test_load_every_line_once_and_the_read_side_counts_them_all(tmp_path: Path) -> None:
    """P processes x T threads x K events, rotating every few MB: exactly P*T*K log lines,
    each parseable and once, every span closed, and the read side and CLI count the same."""
    processes, threads = scale(4, 8), scale(4, 8)
    events, rotate = scale(2_500, 25_000), scale(256 * 1024, 4 * 1024 * 1024)
    directory = tmp_path / "logs"
    argv = (directory, threads, events, rotate, "block", 100_000)
    children = [start(WRITER, *map(str, argv)) for _ in range(processes)]
    pids = set()
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err.decode()
        pids.add(orjson.loads(out)["pid"])
    files = read_back(directory)
    keys = [(line[f.PID], line["t"], line["i"]) for line in files.user()]
    assert not once_each(keys)
    assert set(keys) == {(p, t, i) for p in pids for t in range(threads) for i in range(events)}
    assert files.dropped("queue_full") == files.dropped("write_error") == 0
    for path, lines in files.by_file.items():
        assert lines[0][f.EVENT] == f.FILE_EVENT
        assert {line[f.PID] for line in lines} == {int(path.name.split("_")[2])}
    assert any(p.name.endswith(f.ROTATED_SUFFIX) for p in files.by_file)
    batches = processes * threads * -(-events // 100)
    with logtrace.open(directory) as reader:
        [row] = reader.execute(
            "SELECT count(*) FILTER (WHERE logger = 'app') AS logs,"
            " count(DISTINCT (pid, fields->>'t', fields->>'i')) FILTER (WHERE logger = 'app')"
            " AS distinct_logs FROM logs"
        )
        assert row == {"logs": len(keys), "distinct_logs": len(keys)}
        assert reader.skipped() == []
        [spans] = reader.execute(
            "SELECT count(*) AS n, count(*) FILTER (status = 'ok') AS ok FROM spans"
        )
        assert spans == {"n": batches, "ok": batches}
    stats = subprocess.run(
        [sys.executable, "-m", "logtrace", "stats", "--json", "--dir", str(directory)],
        env=clean_env(),
        capture_output=True,
        check=True,
        timeout=300,
    )
    summary = orjson.loads(stats.stdout)
    assert [(s["name"], s["count"], s["errors"]) for s in summary["spans"]] == [
        ("batch", batches, 0)
    ]
    assert summary["skipped_lines"] == {"unreadable": 0, "other_json": 0}
    total = processes * threads * events
    record(
        Row(
            "load",
            f"{processes} x {threads} x {count(events)} = {count(total)} log lines, "
            f"{count(batches)} spans, rotated every {rotate // 1024:,} KB",
            lost=total - len(set(keys)),
        )
    )


def test_a_full_queue_drops_only_what_it_counts(tmp_path: Path) -> None:
    """A 64-line queue under 4 threads: every line is on disk once or counted in a
    queue_full logtrace.dropped line; nothing raises."""
    threads, events = 4, scale(10_000, 100_000)
    directory = tmp_path / "logs"
    run(WRITER, directory, threads, events, 1 << 30, "drop", 64)
    files = read_back(directory)
    keys = [(line["t"], line["i"]) for line in files.user()]
    assert not once_each(keys)
    # One end line per span; start lines of spans open at a flush bypass the queue's bound.
    span_lines = len([s for s in files.spans() if s["span"] == "end"])
    dropped = files.dropped("queue_full")
    emitted = threads * events + threads * -(-events // 100)
    assert len(keys) + span_lines + dropped == emitted
    record(
        Row(
            "overflow",
            f"{threads} threads x {count(events)} events into a 64-line queue",
            faults=1,
            lost=emitted - len(keys) - span_lines - dropped,
        )
    )


# argv: directory, rotate_bytes. Two threads log inside a long "worker" span and short "batch"
# spans; the main thread reads their counters, flushes, and prints them: every event below a
# printed counter is on disk when the line is printed.
KILLED = """
import logging, sys, threading, time, structlog, logtrace
directory, rotate = sys.argv[1], int(sys.argv[2])
logtrace.configure(service="killed", directory=directory, rotate_bytes=rotate,
                   flush_interval=0.05, overflow="block", environ={})
log, slog = logging.getLogger("app"), structlog.get_logger("app")
done = [0, 0]

def work(t):
    with logtrace.span("worker", t=t):
        i = 0
        while True:
            with logtrace.span("batch", t=t, first=i):
                for _ in range(50):
                    if i % 2:
                        log.info("stdlib", extra={"t": t, "i": i, "pad": "x" * 64})
                    else:
                        slog.info("structlog", t=t, i=i, pad="y" * 64)
                    i += 1
                    done[t] = i
            time.sleep(0.002)  # a busy program, not a flood: the kill lands at any step

for t in range(2):
    threading.Thread(target=logtrace.wrap(work), args=(t,), daemon=True).start()
while min(done) == 0:   # both "worker" spans open before the first checkpoint
    time.sleep(0.001)
while True:
    seen = list(done)
    logtrace.flush()
    print(seen[0], seen[1], flush=True)
    time.sleep(0.01)
"""


def test_kill_9_at_random_moments_keeps_everything_flushed(tmp_path: Path) -> None:
    """SIGKILL at random moments (also mid-rotation): every event flushed before the kill is
    on disk once, at most the last line of a file is torn and the read side reports it, and
    spans in flight show as unfinished; a restart compresses the orphans and loses nothing."""
    kills = scale(6, 40)
    rng = random.Random(9)
    lost = torn_total = 0
    for kill in range(kills):
        directory = tmp_path / f"kill{kill}"
        child = start(KILLED, directory, 64 * 1024)
        assert child.stdout is not None
        child.stdout.readline()
        time.sleep(rng.uniform(0.02, 0.6))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=60)
        assert child.returncode == -signal.SIGKILL
        # The last complete line printed: counters whose events were flushed before it.
        # Only whole lines: the kill may cut the child's last print short.
        whole = out.decode().split("\n")[:-1]
        last = [line for line in whole if re.fullmatch(r"\d+ \d+", line)][-1:]
        flushed = [int(n) for n in last[0].split()] if last else [0, 0]
        files = read_back(directory, torn_allowed=True)
        torn_total += len(files.torn)
        keys = [(line["t"], line["i"]) for line in files.user()]
        assert not once_each(keys)
        missing = {(t, i) for t in range(2) for i in range(flushed[t])} - set(keys)
        lost += len(missing)
        assert not missing, f"kill {kill}: {len(missing)} flushed events not on disk"
        with logtrace.open(directory) as reader:
            unreadable = sum(row["unreadable"] for row in reader.skipped())
            assert unreadable == len(files.torn)
            unfinished = {
                row["span_id"] for row in reader.query("unfinished_spans", now=None, limit=1000)
            }
        started = {s[f.SPAN_ID] for s in files.spans() if s[f.SPAN] == f.SPAN_START}
        ended = {s[f.SPAN_ID] for s in files.spans() if s[f.SPAN] == f.SPAN_END}
        assert unfinished == started - ended
        workers = {s[f.SPAN_ID] for s in files.spans() if s[f.NAME] == "worker"}
        assert len(workers) == 2 and workers <= unfinished
        # A new process in the same folder compresses what the dead one left plain.
        run(
            "import logtrace, sys; logtrace.configure(directory=sys.argv[1], environ={}); "
            "logtrace.shutdown()",
            directory,
        )
        again = read_back(directory, torn_allowed=True)
        assert Counter(keys) == Counter((line["t"], line["i"]) for line in again.user())
        plain = [p for p in again.by_file if p.name.endswith(f.LIVE_SUFFIX)]
        assert len(plain) == 1  # the restarted process's own file
    record(
        Row(
            "sigkill",
            f"{kills} processes x 2 threads killed at random moments, rotating every 64 KB",
            faults=kills,
            lost=lost,
        )
    )


# argv: directory, workers, events per worker. configure, then two threads log without pause
# while the main thread forks workers, as a pre-fork server does; half the workers end with
# sys.exit (atexit writes), half with flush() and os._exit.
PRE_FORK = """
import logging, os, sys, threading, structlog, logtrace
directory, workers, events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
logtrace.configure(service="server", directory=directory, overflow="block", environ={})
log, slog = logging.getLogger("app"), structlog.get_logger("app")
stop = threading.Event()
sent = [0, 0]

def chatter(t):
    i = 0
    while not stop.is_set():
        with logtrace.span("tick", t=t):
            log.info("parent", extra={"t": t, "i": i})
        i += 1
        sent[t] = i

background = [threading.Thread(target=chatter, args=(t,)) for t in range(2)]
for b in background: b.start()
children = []
for w in range(workers):
    slog.info("forking", t="main", i=w)      # queued, not flushed: the child must not write it
    pid = os.fork()
    if pid == 0:
        with logtrace.span("worker", w=w):
            for i in range(events):
                with logtrace.span("request", i=i):
                    if i % 2:
                        log.info("handled", extra={"w": w, "i": i})
                    else:
                        slog.info("handled", w=w, i=i)
        if w % 2:
            logtrace.flush()
            os._exit(0)
        sys.exit(0)
    children.append(pid)
statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
stop.set()
for b in background: b.join()
logtrace.shutdown()
import json
print(json.dumps({"pid": os.getpid(), "children": children, "statuses": statuses,
                  "sent": sent}))
"""


def test_pre_fork_workers_write_their_own_files_and_nothing_twice(tmp_path: Path) -> None:
    """configure(), then fork workers while threads log: each worker writes only its own
    file, the parent loses nothing, and no line (queued at fork time or not) is written twice."""
    workers, events = scale(8, 32), scale(500, 5_000)
    directory = tmp_path / "logs"
    result = run(PRE_FORK, directory, workers, events, timeout=600)
    assert result["statuses"] == [0] * workers
    files = read_back(directory)
    parent, children = result["pid"], result["children"]
    for path, lines in files.by_file.items():
        assert len({line[f.PID] for line in lines}) == 1, f"{path} mixes processes"
    assert {line[f.PID] for line in files.lines} == {parent, *children}
    chatter = [(line["t"], line["i"]) for line in files.user() if line[f.EVENT] == "parent"]
    assert not once_each(chatter)
    assert set(chatter) == {(t, i) for t in range(2) for i in range(result["sent"][t])}
    forking = [line for line in files.user() if line[f.EVENT] == "forking"]
    assert sorted(line["i"] for line in forking) == list(range(workers))
    assert {line[f.PID] for line in forking} == {parent}
    handled = [(line[f.PID], line["w"], line["i"]) for line in files.user() if "w" in line]
    assert not once_each(handled)
    assert {(w, i) for _, w, i in handled} == {
        (w, i) for w in range(workers) for i in range(events)
    }
    assert all(pid == children[w] for pid, w, _ in handled)
    assert files.dropped("queue_full") == files.dropped("write_error") == 0
    expected = len(chatter) + workers + workers * events
    record(
        Row(
            "fork",
            f"{workers} workers x {count(events)} requests forked while 2 threads log",
            faults=workers,
            lost=expected - len(set(chatter)) - len(forking) - len(set(handled)),
        )
    )


def test_scale_knob_is_read_from_the_environment() -> None:
    """LOGTRACE_SOAK=1 picks the soak sizes; anything else the normal ones."""
    code = (
        "import sys; sys.path.insert(0, 'tests/faults'); import _faults_report as r; print(r.MODE)"
    )
    root = Path(__file__).resolve().parents[2]
    for value, mode in (("1", "soak"), ("", "normal"), ("0", "normal")):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=clean_env(LOGTRACE_SOAK=value),
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == mode
