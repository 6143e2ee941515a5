"""Throughput of the file sink against a plain ``orjson.dumps`` + buffered ``write`` loop.

Sustained lines per second into rotating files, from one thread and from two, with the same
pre-built events rendered by ``orjson.dumps`` in every case, all in the same run; each case is
timed from the first line until every line is in a file (the sink's ``flush()`` returned, the
plain file was closed). Medians of at least five repetitions, cases interleaved per repetition.

    python benchmarks/bench_sink.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logtrace.write.sink.filesink import FileSink, SinkSettings


def make_events(count: int) -> list[dict[str, Any]]:
    """Log events shaped like real ones: trace context, a few user fields."""
    trace = os.urandom(16).hex()
    return [
        {
            "ts": "2026-11-24T13:11:34.123456Z",
            "level": "info",
            "event": "task done",
            "trace_id": trace,
            "span_id": os.urandom(8).hex(),
            "trace_flags": "01",
            "logger": "worker",
            "service": "bench",
            "pid": 4242,
            "task_id": i,
            "rows": i % 977,
            "queue": "default",
        }
        for i in range(count)
    ]


def report(level: str, event: str, fields: Mapping[str, Any]) -> bytes:
    return orjson.dumps({"level": level, "event": event, "logger": "logtrace", **fields})


def plain_loop(events: list[dict[str, Any]], directory: Path) -> tuple[float, float, int]:
    """The baseline: one thread, orjson.dumps each event, buffered write with a newline."""
    dumps = orjson.dumps
    start = time.perf_counter()
    with open(directory / "plain.jsonl", "wb") as out:
        write = out.write
        for event in events:
            write(dumps(event) + b"\n")
    elapsed = time.perf_counter() - start
    return elapsed, elapsed, len(events)


def plain_threads(events: list[dict[str, Any]], directory: Path) -> tuple[float, float, int]:
    """The baseline from two threads sharing one buffered file (it has a lock of its own)."""
    parts = [events[0::2], events[1::2]]
    with open(directory / "plain.jsonl", "wb") as out:

        def produce(part: list[dict[str, Any]]) -> None:
            dumps, write = orjson.dumps, out.write
            for event in part:
                write(dumps(event) + b"\n")

        workers = [threading.Thread(target=produce, args=(part,)) for part in parts]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    elapsed = time.perf_counter() - start
    return elapsed, elapsed, len(events)


def sink_run(
    events: list[dict[str, Any]], directory: Path, threads: int
) -> tuple[float, float, int]:
    """Render with orjson.dumps and hand to FileSink.write from ``threads`` threads; return the
    callers' time (until the last write() returned), the time until all is on file, lines."""
    sink = FileSink(
        SinkSettings(directory=directory, service="bench", rotate_bytes=16 * 1024 * 1024), report
    )
    sink.start()
    parts = [events[i::threads] for i in range(threads)]
    ready = threading.Barrier(threads + 1)

    def produce(part: list[dict[str, Any]]) -> None:
        dumps, write = orjson.dumps, sink.write
        ready.wait()
        for event in part:
            write(dumps(event))

    workers = [threading.Thread(target=produce, args=(part,)) for part in parts]
    for worker in workers:
        worker.start()
    ready.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    callers = time.perf_counter() - start
    sink.flush(timeout=None)
    elapsed = time.perf_counter() - start
    sink.close(timeout=60)
    stats = sink.stats()
    dropped = stats["dropped_queue"] + stats["dropped_write"]
    if dropped:
        print(f"  note: {dropped} lines dropped in a {threads}-thread run", file=sys.stderr)
    return callers, elapsed, stats["written"]


CASES: dict[str, Callable[[list[dict[str, Any]], Path], tuple[float, float, int]]] = {
    "plain orjson + buffered write, 1 thread": plain_loop,
    "plain orjson + buffered write, 2 threads": plain_threads,
    "FileSink, 1 thread": lambda events, d: sink_run(events, d, 1),
    "FileSink, 2 threads": lambda events, d: sink_run(events, d, 2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer lines (a smoke run)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    count = 200_000 if args.quick else 1_000_000
    events = make_events(count)
    rates: dict[str, list[float]] = {name: [] for name in CASES}
    caller_rates: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(max(5, args.reps)):
        for name, case in CASES.items():
            with tempfile.TemporaryDirectory() as folder:
                callers, elapsed, written = case(events, Path(folder))
            rates[name].append(written / elapsed)
            caller_rates[name].append(len(events) / callers)
    base = statistics.median(rates[next(iter(CASES))])
    size = len(orjson.dumps(events[0]))
    print(f"{count:,} lines of ~{size} bytes, medians of {max(5, args.reps)} reps,")
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, rotating every 16 MiB\n")
    print(f"{'case':<40} {'on file/s':>11} {'vs plain':>9} {'callers/s':>11} {'vs plain':>9}")
    for name, values in rates.items():
        median = statistics.median(values)
        caller = statistics.median(caller_rates[name])
        print(
            f"{name:<40} {median:>11,.0f} {median / base:>8.2f}x"
            f" {caller:>11,.0f} {caller / base:>8.2f}x"
        )
    print("\non file/s: lines per second until every line is in a file (the sink: flush()")
    print("returned); callers/s: until the logging threads' last write() returned.")
    two, one = (statistics.median(rates[n]) for n in ("FileSink, 2 threads", "FileSink, 1 thread"))
    print(f"\nFileSink, 2 threads / 1 thread: {two / one:.2f}x", end="; ")
    two, one = (
        statistics.median(rates[f"plain orjson + buffered write, {n}"])
        for n in ("2 threads", "1 thread")
    )
    print(f"plain, 2 threads / 1 thread: {two / one:.2f}x")


if __name__ == "__main__":
    main()
