"""The bench's cases counted instead of timed: ``python benchmarks/bench_instructions.py``.

A process of the VMs these figures come from runs the same work ±10-30% faster or slower than
the next, and a target of a few per cent (the demo's: 3% over the same program logging JSON)
drowns in that. What does not move with the machine is what the program does: this runs a case
of ``_cases.py`` under ``valgrind --tool=callgrind --cache-sim=yes`` twice, with ``small`` and
``3 × small`` operations after the same warm-up, and divides the difference by the extra
operations (start-up, imports and warm-up cancel). Every thread is counted (logtrace's writer
too); the kernel is not (a ``write`` the stdlib's ``FileHandler`` makes for every record costs
the baseline more than it shows here).

Two figures a case: instructions (Ir) and KCachegrind's estimate of cycles from callgrind's
cache and branch models, ``Ir + 10 × (mispredicted branches + first-level misses) + 100 ×
(last-level misses)``: a model, not the machine's timing (no prefetching, no out-of-order
overlap), but the one that found the allocator state of docs/benchmarks.md. Counts do not depend on
the load, so two cases run at once. Under valgrind the program runs ~50× slower, so the writer
wakes (every flush interval) after fewer operations than it would: its share here is an upper
bound. ``run.py --counted`` puts the demo's rows in its table.

    python benchmarks/bench_instructions.py                     # the demo's three setups
    python benchmarks/bench_instructions.py --only lt_span_d1,floor_span_d1 --small 2000
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO = ("demo_on", "demo_logs_only", "demo_off")
# Operations of the smaller run per case: the demo's tasks hold ~1 ms of work each.
SMALL = {"demo_on": 40, "demo_logs_only": 40, "demo_off": 40}
WARMUP = 20


def valgrind() -> str | None:
    """The valgrind command, or None when it is not installed."""
    return shutil.which("valgrind")


def child(case: str, ops: int, directory: Path) -> None:
    """In the counted process: the case's warm-up, then ``ops`` operations, their lines
    flushed, the case closed; nothing else that grows with ``ops``."""
    sys.path.insert(0, str(HERE))
    import _cases

    plan = _cases.CASES[case](directory, ops + WARMUP)
    plan.loop(-WARMUP, WARMUP)
    plan.finish()
    plan.loop(0, ops)
    plan.finish()
    plan.close()
    print(plan.per_iteration)


def _events(out: Path) -> dict[str, int]:
    """The ``summary:`` totals of a callgrind output file, by event name."""
    names: list[str] = []
    for line in out.read_text().splitlines():
        if line.startswith("events:"):
            names = line.split()[1:]
        elif line.startswith("summary:"):
            return dict(zip(names, map(int, line.split()[1:]), strict=True))
    raise RuntimeError(f"{out}: no summary line (valgrind failed?)")


def _run(case: str, ops: int, env: dict[str, str]) -> tuple[dict[str, int], int]:
    """The events of one counted process, and the operations per loop iteration."""
    with tempfile.TemporaryDirectory(prefix=f"counted-{case}-") as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            *(str(valgrind()), "--tool=callgrind", "--cache-sim=yes", "--branch-sim=yes"),
            f"--callgrind-out-file={out}",
            *(sys.executable, __file__, "--child", case, "--ops", str(ops), "--dir", folder),
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"{case}: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        return _events(out), int(done.stdout.split()[-1])


Counted = dict[str, dict[str, float]]


def estimated_cycles(events: dict[str, float]) -> float:
    """KCachegrind's estimate: instructions, 10 a mispredicted branch or first-level miss, 100
    a last-level miss (instruction and data, reads and writes)."""
    mispredicted = events["Bcm"] + events["Bim"]
    first = events["I1mr"] + events["D1mr"] + events["D1mw"]
    last = events["ILmr"] + events["DLmr"] + events["DLmw"]
    return events["Ir"] + 10 * (mispredicted + first) + 100 * last


def measure(cases: list[str], env: dict[str, str], small: int | None = None) -> Counted:
    """Instructions and estimated cycles of one operation of each case (``env``: run.py's,
    with the demo's work size), two processes at a time."""
    env = {**env, "PYTHONHASHSEED": "0"}
    sizes = {case: small or SMALL.get(case, 2000) for case in cases}
    jobs = [(case, ops) for case in cases for ops in (sizes[case], 3 * sizes[case])]
    with ThreadPoolExecutor(2) as pool:
        done = dict(zip(jobs, pool.map(lambda job: _run(job[0], job[1], env), jobs), strict=True))
    counted = {}
    for case, size in sizes.items():
        (low, per_iteration), (high, _) = done[case, size], done[case, 3 * size]
        extra = {name: (high[name] - low[name]) / (2 * size * per_iteration) for name in high}
        counted[case] = {"instructions": extra["Ir"], "cycles": estimated_cycles(extra)}
    return counted


def overhead(counted: Counted, ours: str, theirs: str) -> dict[str, float]:
    """``ours`` over ``theirs`` in per cent, by instructions and by estimated cycles."""
    a, b = counted[ours], counted[theirs]
    return {key: (a[key] / b[key] - 1) * 100 for key in ("instructions", "cycles")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(DEMO), help="comma-separated case names")
    parser.add_argument("--small", type=int, default=None, help="operations of the smaller run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--ops", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.ops, args.dir)
        return 0
    if valgrind() is None:
        print("valgrind is not installed: nothing counted", file=sys.stderr)
        return 1
    sys.path.insert(0, str(HERE))
    from _cases import calibrate
    from run import clean_env

    counted = measure(args.only.split(","), clean_env(calibrate()), args.small)
    print("| case | instructions / op | estimated cycles / op |")
    print("|---|---:|---:|")
    for case, values in counted.items():
        print(f"| `{case}` | {values['instructions']:,.0f} | {values['cycles']:,.0f} |")
    if {"demo_on", "demo_logs_only"} <= counted.keys():
        pct = overhead(counted, "demo_on", "demo_logs_only")
        print(
            f"\ndemo traced against logging JSON: {pct['instructions']:+.2f}% instructions, "
            f"{pct['cycles']:+.2f}% estimated cycles"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
