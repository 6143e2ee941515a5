"""The benchmarks run end to end at tiny sizes; timings are not checked (docs/benchmarks.md)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
HISTORY = RUN.with_name("bench_history.py")


def test_quick_run_prints_the_table_and_writes_results(tmp_path: Path) -> None:
    """`run.py --quick` runs every case (or skips a missing competitor), prints and writes."""
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "| what | logtrace µs/op | compared with |" in done.stdout
    assert "span, depth 1, 3 attrs, on disk" in done.stdout
    assert (tmp_path / "latest-quick.md").read_text() in done.stdout
    result = json.loads((tmp_path / "latest-quick.json").read_text())
    assert not [c for c, s in result["cases"].items() if "error" in s]
    measured = [s for s in result["cases"].values() if "skipped" not in s]
    assert {"lt_span_d1", "lt_structlog", "demo_on"} <= result["cases"].keys()
    assert all(s["lines_ok"] for s in measured)
    assert len(result["targets"]) == 23
    assert list(tmp_path.glob("bench-*-quick.json"))


def test_history_rows_join_the_same_table(tmp_path: Path) -> None:
    """`run.py --history` runs the read side first and puts its rows in the one table."""
    done = subprocess.run(
        [
            *(sys.executable, str(RUN), "--quick", "--only", "lt_span_d1", "--history"),
            *("--out", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "latest-quick.md").read_text()
    head, _, cases = table.partition("| case |")
    assert "| **read side**" in head and "| show, compacted |" in head
    assert "| percentiles per span name, raw |" in head and "Read side: Run " in cases
    assert json.loads((tmp_path / "latest-quick.json").read_text())["history"]["rows"]


def test_quick_history_run_prints_every_row_and_writes_results(tmp_path: Path) -> None:
    """`bench_history.py --quick` generates history, runs logtrace, grep, jq and compaction on
    it, prints the table with every target's row and writes it (needs the jq command)."""
    done = subprocess.run(
        [
            sys.executable,
            str(HISTORY),
            "--quick",
            "--reps",
            "1",
            "--jq-reps",
            "1",
            "--data",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "out" / "history-latest-quick.md").read_text()
    assert written in done.stdout
    for row in (
        "| show, raw JSONL (pruned) |",
        "| 〃 |",  # the jq comparison
        "| show, compacted |",
        "| percentiles per span name, raw |",
        "| percentiles per span name, compacted |",
        "| compaction speed |",
        "| compacted size |",
        "| peak RSS (compact, percentiles) |",
    ):
        assert row in written, row
    medians = json.loads((tmp_path / "out" / "history-latest-quick.json").read_text())["medians_s"]
    assert all(seconds > 0 for seconds in medians.values())


@pytest.mark.tools("valgrind")
def test_counted_run_puts_the_demo_s_counts_in_the_table(tmp_path: Path) -> None:
    """`run.py --counted` counts the demo's setups under callgrind and puts them in the table:
    the traced demo does more than the same demo with tracing off."""
    done = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--quick",
            "--only",
            "noop_span",
            "--counted",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "latest-quick.md").read_text()
    assert re.search(r"\| demo workload, counted \(instructions a task\) \| [\d,]+ \|", table)
    counted = json.loads((tmp_path / "latest-quick.json").read_text())["counted"]["cases"]
    assert counted.keys() == {"demo_on", "demo_logs_only", "demo_off"}
    assert counted["demo_on"]["instructions"] > counted["demo_off"]["instructions"] > 0
