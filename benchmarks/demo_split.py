"""Where a demo task's time goes, call by call: ``python benchmarks/demo_split.py [--processes 5]``.

The demo row of ``run.py`` times whole tasks (about 1 ms of CPU work in a span, three log
lines), so its figure is mostly the work's, and a process of these machines runs the same work
a few per cent faster or slower than the next. This runs the demo's task in the three setups
(``traced``, ``logs``: the same program logging JSON without tracing, ``off``), each in fresh
processes pinned to one CPU, interleaved, and times each call of the task on its own: opening
the span, the stdlib line before the work, the work, the structlog line, the stdlib line after
it, closing the span. Then, in the same processes, the work alone in alternate batches of
tasks, with and without the calls around it (what the calls cost the work after them: caches).
Medians over the tasks of a process, then over the processes. The table goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CALLS = ("enter", "stdlib 1", "work", "structlog", "stdlib 2", "exit")
MODES = ("traced", "logs", "off")


def one_process(mode: str, tasks: int, iterations: int) -> dict[str, float]:
    """In this process: the medians of each call of a task, and of the work with and without
    the calls around it."""
    sys.path.insert(0, str(HERE))
    import _cases
    import structlog

    directory = Path(tempfile.mkdtemp(prefix="demo-split-"))
    span = _cases.demo_setup(mode, directory, tasks)[0]
    log, slog = logging.getLogger("worker"), structlog.get_logger("worker")
    work, clock = _cases.cpu_work, time.perf_counter
    times: dict[str, list[float]] = {call: [] for call in CALLS}
    alone: list[float] = []
    for task_id in range(tasks):
        if (task_id // 25) % 2:  # a batch of the work alone
            t0 = clock()
            work(iterations)
            alone.append(clock() - t0)
            continue
        t0 = clock()
        task = span("task", task_id=task_id, queue="default", attempt=1)
        task.__enter__()
        t1 = clock()
        log.info("task %d started", task_id)
        t2 = clock()
        result = work(iterations)
        t3 = clock()
        slog.info("task result", task_id=task_id, result=result)
        t4 = clock()
        log.info("task %d done", task_id)
        t5 = clock()
        task.__exit__(None, None, None)
        t6 = clock()
        spans = (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)
        for call, seconds in zip(CALLS, spans, strict=True):
            times[call].append(seconds)
    skip = tasks // 10  # warm-up
    out = {call: statistics.median(v[skip // 2 :]) * 1e6 for call, v in times.items()}
    out["work alone"] = statistics.median(alone[skip // 2 :]) * 1e6
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=5, help="processes per setup")
    parser.add_argument("--tasks", type=int, default=1200, help="tasks per process")
    parser.add_argument("--cpu", type=int, default=min(os.sched_getaffinity(0)))
    parser.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)  # a child's setup
    parser.add_argument("--iterations", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_process(args.one, args.tasks, args.iterations)))
        return 0
    sys.path.insert(0, str(HERE))
    from _cases import calibrate

    iterations = calibrate()
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    for _ in range(args.processes):
        for mode in MODES:
            child = ["--one", mode, "--tasks", str(args.tasks), "--iterations", str(iterations)]
            done = subprocess.run(
                [sys.executable, __file__, *child],
                capture_output=True,
                text=True,
                check=True,
                preexec_fn=lambda: os.sched_setaffinity(0, {args.cpu}),
            )
            runs[mode].append(json.loads(done.stdout))
    rows = [*CALLS, "work alone"]
    median = {m: {r: statistics.median(p[r] for p in runs[m]) for r in rows} for m in MODES}
    print(f"{args.processes} processes a setup, {args.tasks} tasks each, pinned to CPU {args.cpu}")
    print()
    print("| µs (median) | " + " | ".join(MODES) + " |")
    print("|---|" + "---:|" * len(MODES))
    for row in rows:
        print(f"| {row} | " + " | ".join(f"{median[m][row]:.1f}" for m in MODES) + " |")
    calls = {m: sum(median[m][c] for c in CALLS if c != "work") for m in MODES}
    print("| the calls (all but the work) | " + " | ".join(f"{calls[m]:.1f}" for m in MODES) + " |")
    added = calls["traced"] - calls["logs"]
    task = median["logs"]["work"] + calls["logs"]
    print()
    print(
        f"logtrace's calls cost {added:+.1f} µs a task against the same program logging JSON "
        f"({added / task * 100:+.1f}% of its {task:.0f} µs task); the work after the calls "
        "against the work alone: "
        + ", ".join(
            f"{m} {median[m]['work'] / median[m]['work alone'] - 1:+.1%}"
            for m in ("traced", "logs")
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
