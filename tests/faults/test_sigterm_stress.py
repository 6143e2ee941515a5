"""SIGTERM at random moments: the process always ends (by SIGTERM), and no line logged before
the signal is lost.

Each program records how far it got in a progress file *after* each line is logged, so every
line the progress file names was queued before the signal; the flush on SIGTERM must get each
of them to disk. A run that has not ended ``_HANG_SECONDS`` after its signal is a hang (it is
then killed). Runs are bounded in number (``LOGTRACE_SOAK=1`` runs more) and run a few at a time.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from _faults_helpers import clean_env, read_back

_SOAK = os.environ.get("LOGTRACE_SOAK") == "1"
_RUNS = {"loop": 100, "pool": 40} if _SOAK else {"loop": 18, "pool": 12}
_AT_ONCE = 3
_HANG_SECONDS = 20.0

# The loop: span + log line per tick, flush() every 50 ticks, a small queue.
LOOP = r"""
import logging, os, sys
import logtrace
directory, progress = sys.argv[1], sys.argv[2]
logtrace.configure("loop", directory=directory, queue_size=256)
log = logging.getLogger("app")
mark = os.open(progress, os.O_WRONLY | os.O_CREAT, 0o600)
i = 0
while True:
    with logtrace.span("tick", n=i):
        log.info("tick", extra={"seq": i})
    os.pwrite(mark, b"%20d" % i, 0)
    i += 1
    if i % 50 == 0:
        logtrace.flush()
"""

# A spawn pool of wrap_for_process tasks, closed by ``with`` (its exit terminates the workers)
# at a random moment of their work or when they are idle; then the whole process group is
# sent SIGTERM at a random moment.
POOL = r"""
import logging, multiprocessing, os, random, sys, time
import logtrace

def work(task):
    directory, progress, seq = task
    log = logging.getLogger("app")
    mark = os.open(os.path.join(progress, str(os.getpid())), os.O_WRONLY | os.O_CREAT, 0o600)
    for i in range(seq * 1000, seq * 1000 + 300):
        log.info("work", extra={"seq": i})
        os.pwrite(mark, b"%20d" % i, 0)
        if i % 50 == 0:
            logtrace.flush()
        time.sleep(0.001)
    return seq

if __name__ == "__main__":
    directory, progress = sys.argv[1], sys.argv[2]
    logtrace.configure("pool", directory=directory, queue_size=256)
    context = multiprocessing.get_context("spawn")
    seq = 0
    while True:
        with context.Pool(2) as pool:
            with logtrace.span("round"):
                tasks = [(directory, progress, seq), (directory, progress, seq + 1)]
                pending = pool.map_async(logtrace.wrap_for_process(work), tasks)
                # Workers take a while to start: the random moment counts from their first line.
                deadline = time.monotonic() + 30
                while not pending.ready() and time.monotonic() < deadline and not any(
                    int(open(os.path.join(progress, m)).read() or -1) >= seq * 1000
                    for m in os.listdir(progress)
                ):
                    time.sleep(0.01)
                # Half the rounds end mid-task, half with the workers idle (then terminate()
                # finds them exiting: flushing in multiprocessing's exit handlers).
                pending.wait(random.choice([random.uniform(0.0, 0.3), 30]))
        seq += 2
"""


@dataclass
class Run:
    """What one run came to."""

    hung: bool
    returncode: int | None
    lost: int
    logged: int


def _progress(path: Path) -> int:
    """The last sequence number a program recorded (-1 for none)."""
    try:
        text = path.read_bytes().strip()
    except FileNotFoundError:
        return -1
    return int(text) if text else -1


def _stop(
    child: subprocess.Popen[bytes], delay: float, workers: Path | None = None
) -> tuple[bool, int | None]:
    """After ``delay``, send SIGTERM to the program's process group (as systemd and
    ``docker stop`` with an init do); (hung, returncode). A run hangs if the program, or a
    worker named in ``workers``, is alive ``_HANG_SECONDS`` later; everything left is killed."""
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + _HANG_SECONDS
    try:
        code: int | None = child.wait(_HANG_SECONDS)
    except subprocess.TimeoutExpired:
        code = None
    pids = [int(p.name) for p in workers.iterdir()] if workers is not None else []
    while any(map(_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    hung = code is None or any(map(_alive, pids))
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    return hung, code


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _start(code: str, directory: Path, progress: Path) -> subprocess.Popen[bytes]:
    # A script file, not -c: spawn workers import the task function from it.
    script = directory.parent / "program.py"
    script.write_text(code)
    return subprocess.Popen(
        [sys.executable, str(script), str(directory), str(progress)],
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _seqs(directory: Path) -> dict[int, set[int]]:
    """The ``seq`` of every user line, by process."""
    found: dict[int, set[int]] = {}
    for line in read_back(directory, torn_allowed=True).user():
        found.setdefault(line["pid"], set()).add(line["seq"])
    return found


def _loop_run(base: Path, rng: random.Random) -> Run:
    directory, progress = base / "logs", base / "progress"
    child = _start(LOOP, directory, progress)
    # Wait until it runs (bounded), then let it go on for a random while.
    deadline = time.monotonic() + 30
    while _progress(progress) < 0 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
    hung, code = _stop(child, rng.uniform(0.0, 0.4))
    logged = _progress(progress)
    seen = set().union(*_seqs(directory).values()) if directory.exists() else set()
    lost = sum(1 for i in range(logged + 1) if i not in seen)
    return Run(hung, code, lost, logged + 1)


def _pool_run(base: Path, rng: random.Random) -> Run:
    directory, progress = base / "logs", base / "progress"
    progress.mkdir()
    child = _start(POOL, directory, progress)
    deadline = time.monotonic() + 30
    while not any(progress.iterdir()) and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    hung, code = _stop(child, rng.uniform(1.0, 5.0), progress)
    seqs = _seqs(directory) if directory.exists() else {}
    lost = logged = 0
    for mark in progress.iterdir():
        last = _progress(mark)
        if last < 0:
            continue  # it had not logged yet
        first = last - last % 1000
        mine = seqs.get(int(mark.name), set())
        logged += last - first + 1
        # A worker runs several tasks in a row; its file's last task is the one it recorded.
        lost += sum(1 for i in range(first, last + 1) if i not in mine)
    return Run(hung, code, lost, logged)


def _many(kind: str, tmp_path: Path) -> list[Run]:
    run_one = _loop_run if kind == "loop" else _pool_run
    seed = random.randrange(2**32)

    def one(index: int) -> Run:
        base = tmp_path / f"{kind}-{index}"
        base.mkdir()
        return run_one(base, random.Random(seed + index))

    with ThreadPoolExecutor(_AT_ONCE) as runs:
        return list(runs.map(one, range(_RUNS[kind])))


def _summary(runs: list[Run]) -> str:
    hung = sum(r.hung for r in runs)
    codes = sorted({r.returncode for r in runs if not r.hung}, key=str)
    lost = sum(r.lost for r in runs)
    return f"{len(runs)} runs: {hung} hung, exit codes {codes}, {lost} lines lost"


def test_sigterm_at_random_moments_never_hangs_a_loop(tmp_path: Path) -> None:
    """A loop of spans and log lines sent SIGTERM at random moments always ends by SIGTERM,
    with every line logged before the signal in its file."""
    runs = _many("loop", tmp_path)
    summary = _summary(runs)
    assert not any(r.hung for r in runs), summary
    assert {r.returncode for r in runs} == {-signal.SIGTERM}, summary
    assert sum(r.lost for r in runs) == 0, summary
    assert sum(r.logged for r in runs) > 0, summary


def test_sigterm_at_random_moments_never_hangs_a_spawn_pool(tmp_path: Path) -> None:
    """A spawn Pool of wrap_for_process tasks, its workers terminated by ``with`` mid-task and
    the parent sent SIGTERM at a random moment: nothing hangs, no worker line logged before
    its signal is lost."""
    runs = _many("pool", tmp_path)
    summary = _summary(runs)
    assert not any(r.hung for r in runs), summary
    assert {r.returncode for r in runs} == {-signal.SIGTERM}, summary
    assert sum(r.lost for r in runs) == 0, summary
    assert sum(r.logged for r in runs) > 0, summary
