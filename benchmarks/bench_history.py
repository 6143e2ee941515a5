"""History at scale: ~1 GB of logs, raw and compacted, against grep and jq in the same run.

    python benchmarks/bench_history.py            # ~1 GB (~3.7 M lines, 60 k traces), 5 reps
    python benchmarks/bench_history.py --quick    # ~50 MB, 3 reps: a smoke test
    python benchmarks/bench_history.py --reps 9 --data /tmp/elsewhere

The history is generated once (``benchmarks/_history_data.py``: orjson straight to files in the
documented format and layout, a coordinator and five workers, one file per process and hour)
and cached under ``--data`` (default ``/tmp/logtrace-bench-history``) with a key of its sizes
and the generator's source, so later runs start at once. Each repetition opens a fresh
``logtrace.open`` (listing files and creating views counts) and looks up a different trace;
the table gives medians. Compaction runs as ``logtrace compact`` in a child process on a fresh
copy each repetition (its peak RSS measured by ``wait4``). Results go to ``bench-results/``
(``history-<UTC time>.md/.json`` and ``history-latest.*``; ``history-latest-quick.*`` with
``--quick``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import _history_data  # noqa: E402

import logtrace  # noqa: E402

# The filters of `logtrace stats` without --attr (it then runs span_percentiles_no_attr.sql).
FILTERS = dict.fromkeys(["since", "until", "service", "name", "status", "min_duration_ms"])
SIZES = {"full": (60_000, 12), "quick": (3_000, 2)}
TIMES = "\u00d7"


def prepare(data: Path, quick: bool) -> tuple[Path, dict[str, Any]]:
    """The cached raw history (generated when missing or stale) and its summary."""
    traces, hours = SIZES["quick" if quick else "full"]
    source = (HERE / "_history_data.py").read_bytes()
    key = hashlib.sha1(source + f"{traces}/{hours}".encode()).hexdigest()[:10]
    home = data / f"{'quick' if quick else 'full'}-{key}"
    marker = home / "summary.json"
    if marker.exists():
        return home / "logtrace", json.loads(marker.read_text())
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    print(f"generating {traces} traces over {hours} h in {home} …", file=sys.stderr)
    summary = _history_data.generate(home / "logtrace", traces, hours)
    summary["generated_s"] = round(time.perf_counter() - started, 1)
    marker.write_text(json.dumps(summary))
    return home / "logtrace", summary


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run_child(argv: list[str]) -> tuple[float, float, bytes]:
    """Run a command; its wall time (s), peak RSS (MiB) and stdout."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, out


def show(directory: Path, trace_id: str, pruning: bool = True) -> None:
    with logtrace.open(directory, pruning=pruning) as reader:
        reader.trace(trace_id)


def percentiles(directory: Path) -> None:
    with logtrace.open(directory) as reader:
        reader.query("span_percentiles_no_attr", **FILTERS)


def recent(directory: Path, since: dt.datetime) -> None:
    """What ``logtrace ls --since 1h`` runs, an hour before the history's end."""
    with logtrace.open(directory, since=since) as reader:
        reader.query("recent_traces_no_attr", limit=20, **{**FILTERS, "since": since})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~50 MB, 3 repetitions")
    parser.add_argument("--reps", type=int, help="repetitions (default 5, 3 with --quick)")
    parser.add_argument("--jq-reps", type=int, default=3, help="repetitions of jq (slow)")
    parser.add_argument("--data", type=Path, default=Path("/tmp/logtrace-bench-history"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    args = parser.parse_args()
    reps = args.reps or (3 if args.quick else 5)
    load_before = "/".join(f"{x:.1f}" for x in os.getloadavg())
    raw, summary = prepare(args.data, args.quick)
    files = sorted(str(p) for p in raw.rglob("*.jsonl"))
    size = sum(os.path.getsize(p) for p in files)
    rng = random.Random(11)
    ids = rng.sample(summary["traces"], reps)
    hours = SIZES["quick" if args.quick else "full"][1]
    last_hour = _history_data.START.replace(tzinfo=None) + dt.timedelta(hours=hours - 1)
    python = sys.executable
    timings: dict[str, list[float]] = {}
    rss: dict[str, float] = {}

    def note(name: str, seconds: float) -> None:
        timings.setdefault(name, []).append(seconds)

    # Compaction: a fresh copy each time (compaction deletes its sources).
    work = args.data / "work"
    compacted = args.data / "compacted"
    out_bytes = 0
    for rep in range(max(1, reps // 2) if not args.quick else 1):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(raw, work / "logtrace", copy_function=shutil.copy2)
        os.sync()
        argv = [python, "-m", "logtrace", "compact", "--dir", str(work / "logtrace"), "--json"]
        wall, peak, out = run_child(argv)
        report = json.loads(out)
        note("compact", report["seconds"])
        note("compact wall", wall)
        rss["compact"] = max(rss.get("compact", 0.0), peak)
        out_bytes = report["bytes_out"]
        if rep == 0:
            shutil.rmtree(compacted, ignore_errors=True)
            shutil.copytree(work, compacted)
    shutil.rmtree(work, ignore_errors=True)
    done = compacted / "logtrace"

    # The CLI as installed: pip compiles the package (PYTHONDONTWRITEBYTECODE may be set here).
    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "logtrace")], check=False)
    for rep, trace_id in enumerate(ids):
        show_cli = [python, "-m", "logtrace", "show", "--dir", str(raw), trace_id, "--json"]
        note("show raw CLI", run_child(show_cli)[0])
        note("show raw", timed(lambda t=trace_id: show(raw, t)))
        note("show raw unpruned", timed(lambda t=trace_id: show(raw, t, pruning=False)))
        note("show compacted", timed(lambda t=trace_id: show(done, t)))
        note("grep", run_child(["grep", "-hF", trace_id, *files])[0])
        if rep < args.jq_reps:
            jq = ["jq", "-c", f'select(.trace_id=="{trace_id}")', *files]
            note("jq", run_child(jq)[0])
        note("percentiles raw", timed(lambda: percentiles(raw)))
        note("percentiles compacted", timed(lambda: percentiles(done)))
        note("ls since 1h compacted", timed(lambda: recent(done, last_hour)))
    ls_cli = [python, "-m", "logtrace", "ls", "--dir", str(raw), "--json"]
    since_cli = [*ls_cli, "--since", f"{last_hour:%Y-%m-%dT%H:%M}"]
    for _ in range(min(2, reps)):  # every file read: seconds each
        note("ls raw CLI", run_child(ls_cli)[0])
        note("ls since 1h raw CLI", run_child(since_cli)[0])
    code = (
        "import sys, logtrace\n"
        "with logtrace.open(sys.argv[1]) as r:\n"
        "    r.query('span_percentiles_no_attr')\n"
    )
    rss["percentiles raw"] = run_child([python, "-c", code, str(raw)])[1]
    rss["percentiles compacted"] = run_child([python, "-c", code, str(done)])[1]

    load_after = "/".join(f"{x:.1f}" for x in os.getloadavg())
    med = {name: statistics.median(values) for name, values in timings.items()}
    rows = table(med, size, out_bytes, rss)
    header = (
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()} · Python {platform.python_version()} · "
        f"{size / 1e6:.0f} MB of JSONL, {summary['lines']:,} lines, "
        f"{len(summary['traces']):,} traces, {len(files)} files · medians of {reps} "
        f"(jq {min(reps, args.jq_reps)}, compaction {len(timings['compact'])}) · "
        f"load average {load_before} → {load_after}"
    )
    text = header + "\n\n" + "\n".join(rows) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    latest = "history-latest-quick" if args.quick else "history-latest"
    data = {"header": header, "rows": rows, "medians_s": med, "runs_s": timings, "rss_mib": rss}
    for name in ([f"history-{stamp}"] if not args.quick else []) + [latest]:
        (args.out / f"{name}.md").write_text(text)
        (args.out / f"{name}.json").write_text(json.dumps(data, indent=2))
    return 0


def table(med: dict[str, float], size: int, out_bytes: int, rss: dict[str, float]) -> list[str]:
    """The Markdown table: logtrace beside grep/jq, targets and whether they are met."""

    def s(value: float) -> str:
        return f"{value:.3f} s"

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    mb_s = size / 1e6 / med["compact"]
    ratio = size / out_bytes if out_bytes else 0.0
    lines = [
        "| what | logtrace | compared with | theirs | ratio | target | met |",
        "|---|---:|---|---:|---:|---|---|",
    ]

    def row(what: str, ours: str, other: str, theirs: str, r: str, target: str, ok: str) -> None:
        lines.append(f"| {what} | {ours} | {other} | {theirs} | {r} | {target} | {ok} |")

    raw_show = med["show raw"]
    row(
        "show, raw JSONL (pruned)",
        s(raw_show),
        "grep -F",
        s(med["grep"]),
        f"{raw_show / med['grep']:.2f}{TIMES}",
        "≤ 0.3 s",
        met(raw_show <= 0.3),
    )
    row("〃", s(raw_show), "jq select", s(med["jq"]), f"{raw_show / med['jq']:.3f}{TIMES}", "", "")
    row(
        "show, raw JSONL, no pruning",
        s(med["show raw unpruned"]),
        "grep -F",
        s(med["grep"]),
        f"{med['show raw unpruned'] / med['grep']:.2f}{TIMES}",
        "(info)",
        "—",
    )
    cli_show = med["show raw CLI"] / med["grep"]
    row(
        "show, raw, CLI process",
        s(med["show raw CLI"]),
        "grep -F",
        s(med["grep"]),
        f"{cli_show:.2f}{TIMES}",
        f"≤ 2{TIMES} grep -F",
        met(cli_show <= 2.0),
    )
    for name, what in (("ls raw CLI", "ls, raw, CLI process"),
                       ("ls since 1h raw CLI", "ls --since 1h, raw, CLI process")):  # fmt: skip
        ratio_ls = f"{med[name] / med['grep']:.2f}{TIMES}"
        row(what, s(med[name]), "grep -F", s(med["grep"]), ratio_ls, "(info)", "—")
    row(
        "show, compacted",
        s(med["show compacted"]),
        "grep -F (raw)",
        s(med["grep"]),
        f"{med['show compacted'] / med['grep']:.2f}{TIMES}",
        "≤ 0.1 s",
        met(med["show compacted"] <= 0.1),
    )
    row(
        "percentiles per span name, raw",
        s(med["percentiles raw"]),
        "",
        "",
        "",
        "≤ 1 s",
        met(med["percentiles raw"] <= 1.0),
    )
    row(
        "percentiles per span name, compacted",
        s(med["percentiles compacted"]),
        "raw",
        s(med["percentiles raw"]),
        f"{med['percentiles compacted'] / med['percentiles raw']:.2f}{TIMES}",
        "≤ 0.2 s",
        met(med["percentiles compacted"] <= 0.2),
    )
    row(
        "ls --since 1h, compacted",
        s(med["ls since 1h compacted"]),
        "",
        "",
        "",
        "≤ 0.1 s",
        met(med["ls since 1h compacted"] <= 0.1),
    )
    row("compaction speed", f"{mb_s:.1f} MB/s", "", "", "", "≥ 100 MB/s", met(mb_s >= 100))
    row(
        "compacted size",
        f"{out_bytes / 1e6:.1f} MB",
        "JSONL",
        f"{size / 1e6:.0f} MB",
        f"{ratio:.1f}{TIMES} smaller",
        f"≥ 10{TIMES}",
        met(ratio >= 10),
    )
    peak = max(rss.values())
    row(
        "peak RSS (compact, percentiles)",
        f"{peak:.0f} MiB",
        "",
        "",
        "",
        "< 2048 MiB",
        met(peak < 2048),
    )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
