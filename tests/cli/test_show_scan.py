"""``logtrace show`` and ``ls`` as processes: without DuckDB on JSONL files, same output.

``show -v`` and ``ls -v`` read with the DuckDB Reader (they report the skipped lines of every
file), so the same command with and without ``-v`` compares the two paths; ``-X importtime``
says which modules a command imported.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Written, run_cli, write_one_line_spans

HEAVY = ("duckdb", "rich", "pyarrow")


def imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m logtrace ARGS``; the result and the top modules imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGTRACE_")}
    env["NO_COLOR"] = "1"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "logtrace", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", done.stderr, re.M)
    return done, {name.split(".")[0] for name in names}


def test_show_output_is_the_same_without_duckdb(written: Written) -> None:
    """show and show --json print the same with the scan as with the DuckDB Reader (-v)."""
    directory = str(written.directory)
    for trace_id in written.trace_ids():
        for extra in ([], ["--json"], ["--critical-path", "--collapse", "--min-repeat", "2"]):
            scanned = run_cli("show", "--dir", directory, trace_id, *extra)
            read = run_cli("show", "--dir", directory, trace_id, "-v", *extra)
            assert scanned.returncode == read.returncode == 0, scanned.stderr
            assert scanned.stdout == read.stdout
            assert scanned.stdout.strip()


def test_show_of_jsonl_files_does_not_import_duckdb(written: Written) -> None:
    """show (and show --json) on JSONL files imports no DuckDB; --json no rich either."""
    trace_id = written.trace_ids()[0]
    done, modules = imported("show", "--dir", str(written.directory), trace_id, "--json")
    assert done.returncode == 0, done.stderr
    assert trace_id in done.stdout
    assert not modules & set(HEAVY)
    done, modules = imported("show", "--dir", str(written.directory), trace_id)
    assert done.returncode == 0
    assert "duckdb" not in modules and "pyarrow" not in modules


def test_the_importtime_check_sees_duckdb(written: Written) -> None:
    """The same check sees DuckDB when show reads with the Reader (-v): it can fail."""
    trace_id = written.trace_ids()[0]
    done, modules = imported("show", "--dir", str(written.directory), trace_id, "-v")
    assert done.returncode == 0
    assert "duckdb" in modules


@pytest.mark.parametrize("args", [["--help"], ["show", "--help"], ["ls", "--help"], []])
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    """--help of logtrace and of its commands imports no duckdb, rich or pyarrow."""
    done, modules = imported(*args)
    assert done.returncode == 0, done.stderr
    assert "usage: logtrace" in done.stdout
    assert not modules & set(HEAVY)


def test_errors_are_the_same_without_duckdb(written: Written, tmp_path: Path) -> None:
    """Not found, ambiguous and malformed ids: the same line and exit code by both paths."""
    directory = str(written.directory)
    ids = written.trace_ids()
    # The written traces began within a second or two: they share their first 8+ digits.
    shared = next(i for i, (a, b) in enumerate(zip(ids[0], ids[1], strict=True)) if a != b)
    asked = [ids[0][:12] + "0" * 20, "nothex!!", ids[0][: max(8, shared)]]
    for trace_id in asked:
        scanned = run_cli("show", "--dir", directory, trace_id)
        read = run_cli("show", "--dir", directory, trace_id, "-v")
        assert scanned.returncode == read.returncode
        assert scanned.stdout == read.stdout
        if read.returncode:
            assert scanned.stderr.strip() == read.stderr.strip().splitlines()[-1]
            assert "Traceback" not in scanned.stderr
    said = [run_cli("show", "--dir", directory, t).stderr for t in asked]
    assert "no trace" in said[0] and "malformed" in said[1]
    assert "ambiguous" in said[2] or shared < 8


def test_version_is_still_said() -> None:
    """--version prints the installed version (looked up only when asked)."""
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("logtrace ")


def test_one_line_spans_show_the_same(tmp_path: Path) -> None:
    """Spans written as an end line alone, and one in flight at a crash: show and show --json
    print the same by the scan as by the Reader."""
    directory = str(write_one_line_spans(tmp_path / "logtrace"))
    done = run_cli("ls", "--dir", directory, "--json")
    ids = re.findall(r'"trace_id":"([0-9a-f]{32})"', done.stdout)
    assert len(set(ids)) == 2
    for trace_id in set(ids):
        for extra in ([], ["--json"]):
            scanned = run_cli("show", "--dir", directory, trace_id, *extra)
            read = run_cli("show", "--dir", directory, trace_id, "-v", *extra)
            assert scanned.returncode == read.returncode == 0, scanned.stderr
            assert scanned.stdout == read.stdout


def test_ls_output_is_the_same_without_duckdb(written: Written) -> None:
    """ls without a time window (the newest traces: the ends of the newest files scanned)
    prints what the DuckDB Reader (-v) prints, with the filters the scan applies."""
    directory = str(written.directory)
    listed = json.loads(run_cli("ls", "--dir", directory, "--json").stdout)
    assert listed
    service = listed[0]["services"][0]
    for extra in ([], ["--json"], ["--errors"], ["--service", service], ["-n", "1"],
                  ["--min-duration", "1ms", "--json"], ["--status", "ok"]):  # fmt: skip
        scanned = run_cli("ls", "--dir", directory, *extra)
        read = run_cli("ls", "--dir", directory, "-v", *extra)
        assert scanned.returncode == read.returncode == 0, scanned.stderr
        assert scanned.stdout == read.stdout


def test_ls_of_jsonl_files_does_not_import_duckdb(written: Written) -> None:
    """ls --json of the newest traces imports no DuckDB, rich or pyarrow; with a window
    (--since) the Reader answers, and the same check sees DuckDB."""
    done, modules = imported("ls", "--dir", str(written.directory), "--json")
    assert done.returncode == 0, done.stderr
    assert written.trace_ids()[0] in done.stdout
    assert not modules & set(HEAVY)
    done, modules = imported("ls", "--dir", str(written.directory), "--since", "520w", "--json")
    assert done.returncode == 0, done.stderr
    assert "duckdb" in modules
