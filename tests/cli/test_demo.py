"""`logtrace demo`: one trace across a coordinator, its workers and a subprocess, read with SQL."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

RUN = "import sys; from logtrace.cli.demo import run_demo; sys.exit(run_demo(sys.argv[1:]))"


class Demo:
    """One run of the demo: its directory, its output and its trace id."""

    def __init__(self, directory: Path, output: str) -> None:
        self.directory = directory
        self.output = output
        match = re.search(r"^trace ([0-9a-f]{32}):", output, re.MULTILINE)
        assert match, output
        self.trace_id = match.group(1)

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Run ``query`` over a ``spans`` view of the demo's files (one row per ended span)."""
        con = duckdb.connect()
        # Plain and compressed: a worker that starts late compresses the files of processes
        # that have exited (the subprocess's, say).
        files = sorted(str(p) for p in self.directory.glob("*/*.jsonl*"))
        con.execute(
            f"""
            CREATE VIEW lines AS SELECT * FROM read_json_auto(
                {files!r}, union_by_name = true, format = 'newline_delimited');
            CREATE VIEW spans AS SELECT trace_id, span_id, parent_id, name, service,
                pid, task, attempt, status, error_type
            FROM lines WHERE span = 'end' AND trace_id = '{self.trace_id}';
            """
        )
        return con.execute(query).fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo run once, as a command, with its defaults (12 tasks, 3 workers)."""
    directory = tmp_path_factory.mktemp("demo") / "traces"
    done = subprocess.run(
        [sys.executable, "-c", RUN, "--dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return Demo(directory, done.stdout)


def test_every_task_span_is_under_the_root_across_processes(demo: Demo) -> None:
    """Read back with SQL: one root, every span linked to a parent in the trace, ≥ 3 processes."""
    ((roots, root_service),) = demo.sql(
        "SELECT count(*), any_value(service) FROM spans WHERE parent_id IS NULL"
    )
    assert (roots, root_service) == (1, "coordinator")
    orphans = demo.sql(
        "SELECT name FROM spans WHERE parent_id IS NOT NULL "
        "AND parent_id NOT IN (SELECT span_id FROM spans)"
    )
    assert orphans == []
    under_root = demo.sql(
        """
        WITH RECURSIVE tree(span_id, depth) AS (
            SELECT span_id, 0 FROM spans WHERE parent_id IS NULL
            UNION ALL
            SELECT s.span_id, t.depth + 1 FROM spans s JOIN tree t ON s.parent_id = t.span_id
        )
        SELECT count(*) FROM tree
        """
    )
    assert under_root == demo.sql("SELECT count(*) FROM spans")
    handled = demo.sql(
        """
        SELECT w.task, w.service, c.service, c.parent_id = r.span_id
        FROM spans w JOIN spans c ON w.parent_id = c.span_id
        JOIN spans r ON r.parent_id IS NULL
        WHERE w.name = 'handle task' AND w.attempt = 1 ORDER BY w.task
        """
    )
    assert [row[0] for row in handled] == list(range(1, 13))
    assert {row[1] for row in handled} == {"worker-1", "worker-2", "worker-3"}
    assert all(row[2] == "coordinator" and row[3] for row in handled)
    ((processes,),) = demo.sql("SELECT count(DISTINCT pid) FROM spans")
    assert processes >= 3


def test_failed_tasks_are_errors_and_the_retry_succeeds(demo: Demo) -> None:
    """Tasks 5 and 10 fail on the worker and at the coordinator; task 3 fails once, then works."""
    failed = demo.sql(
        "SELECT DISTINCT task FROM spans WHERE status = 'error' AND task IS NOT NULL ORDER BY 1"
    )
    assert failed == [(3,), (5,), (10,)]
    coordinator = dict(
        demo.sql("SELECT task, status FROM spans WHERE name = 'task' AND service = 'coordinator'")
    )
    assert {t for t, s in coordinator.items() if s == "error"} == {5, 10}
    attempts = demo.sql(
        "SELECT attempt, status, error_type, service, parent_id FROM spans "
        "WHERE name = 'handle task' AND task = 3 ORDER BY attempt"
    )
    assert [(a, s, e) for a, s, e, _, _ in attempts] == [
        (1, "error", "TimeoutError"),
        (2, "ok", None),
    ]
    assert attempts[0][3] != attempts[1][3] and attempts[0][4] == attempts[1][4]
    ((root_status,),) = demo.sql("SELECT status FROM spans WHERE parent_id IS NULL")
    assert root_status == "error"


def test_subprocess_continues_the_trace_from_its_environment(demo: Demo) -> None:
    """Task 2's subprocess writes its span, in its own file, under the worker's span."""
    rows = demo.sql(
        """
        SELECT child.service, child.pid <> parent.pid, parent.name, parent.service
        FROM spans child JOIN spans parent ON child.parent_id = parent.span_id
        WHERE child.name = 'checksum in child process'
        """
    )
    assert len(rows) == 1
    service, own_pid, parent_name, parent_service = rows[0]
    assert (service, own_pid, parent_name) == ("subtask", True, "run subprocess")
    assert parent_service.startswith("worker-")
    # Plain or compressed: a worker that starts late compresses the exited subprocess's file.
    services = {p.name.split("_")[0] for p in demo.directory.rglob("*.jsonl*")}
    assert services == {"coordinator", "worker-1", "worker-2", "worker-3", "subtask"}


def test_log_lines_of_every_process_carry_the_trace(demo: Demo) -> None:
    """The workers' and subprocess's log lines carry the trace id and their span's id."""
    rows = demo.sql(
        f"""
        SELECT DISTINCT service FROM lines
        WHERE span IS NULL AND logger <> 'logtrace' AND trace_id = '{demo.trace_id}'
        """
    )
    assert {r[0] for r in rows} == {"coordinator", "worker-1", "worker-2", "worker-3", "subtask"}


@pytest.mark.tools("jq", "zstd", "bash")
def test_printed_one_liners_work(demo: Demo) -> None:
    """The printed SQL and jq one-liners run and find the trace's spans and errors."""
    lines = [line.strip() for line in demo.output.splitlines()]
    assert f"logtrace show {demo.trace_id} --dir {shlex.quote(str(demo.directory))}" in lines
    (sql_line,) = [line for line in lines if line.startswith("logtrace sql ")]
    command = [sys.executable, "-m", "logtrace", *shlex.split(sql_line)[1:], "--json"]
    rows = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    assert len(rows) == len(demo.sql("SELECT * FROM spans"))
    jq_lines = [line for line in lines if line.startswith("zstd ") and "| jq " in line]
    outputs = [
        subprocess.run(["bash", "-c", line], capture_output=True, text=True, check=True).stdout
        for line in jq_lines
    ]
    assert outputs[0].count("\n") == len(rows)
    assert '"error_type":"ValueError"' in outputs[1]
    # A torn last line (a process writing right now) must not stop jq: -R with fromjson?.
    assert all("jq -cR 'fromjson? | " in line for line in jq_lines)
    torn = subprocess.run(
        ["bash", "-c", "{ printf '{\"torn\": '; } | " + jq_lines[0].split(" | ", 1)[1]],
        capture_output=True,
        text=True,
    )
    assert torn.returncode == 0, torn.stderr
    (cat_line,) = [line for line in lines if line.startswith("logtrace cat ")]
    command = [sys.executable, "-m", "logtrace", *shlex.split(cat_line.split(" | ")[0])[1:]]
    cat = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert cat.count("\n") >= len(rows) and demo.trace_id in cat


def test_bad_counts_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--tasks 0 or --workers 0 exits with status 2 and a message, starting nothing."""
    from logtrace.cli.demo import run_demo

    assert run_demo(["--tasks", "0"]) == 2
    assert "argument --tasks: give a whole number of at least 1, not '0'" in capsys.readouterr().err
    assert run_demo(["--workers", "0"]) == 2
    assert "argument --workers: give a whole number of at least 1" in capsys.readouterr().err


def test_a_file_as_the_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dir naming a file exits 2 with one line, running nothing (the processes used to run,
    write nothing, and the demo exit 0 after "no trace")."""
    from logtrace.cli.demo import run_demo

    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    assert run_demo(["--dir", str(taken), "--tasks", "1", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        == f"logtrace demo: --dir {taken} is not a folder: give a folder (it is made if missing)"
    )
    assert taken.read_text() == "mine\n" and sorted(tmp_path.iterdir()) == [taken]


def test_read_side_views_show_one_tree_with_the_failures(demo: Demo) -> None:
    """logtrace.open(dir): every worker task span sits under a coordinator task under the root."""
    import logtrace

    db = logtrace.open(demo.directory)
    rows = db.sql(
        """
        SELECT w.attributes->>'task', w.pid <> r.pid, w.status
        FROM spans w
        JOIN spans c ON w.parent_id = c.span_id AND c.name = 'task'
        JOIN spans r ON c.parent_id = r.span_id AND r.parent_id IS NULL
        WHERE w.name = 'handle task' AND w.trace_id = $trace_id
        """,
        params={"trace_id": demo.trace_id},
    ).fetchall()
    assert sorted({int(task) for task, _, _ in rows}) == list(range(1, 13))
    assert all(other_process for _, other_process, _ in rows)
    assert {int(t) for t, _, s in rows if s == "error"} == {3, 5, 10}
    ((processes, status),) = db.sql(
        "SELECT count(DISTINCT pid), min(status) FILTER (WHERE parent_id IS NULL) FROM spans "
        "WHERE trace_id = $trace_id",
        params={"trace_id": demo.trace_id},
    ).fetchall()
    assert processes >= 3 and status == "error"


def test_without_dir_the_demo_writes_into_logtrace_demo(tmp_path: Path) -> None:
    """`logtrace demo` with no --dir writes into ./logtrace-demo (as the README says), not into
    the read commands' default ./logtrace."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGTRACE_", "OTEL_"))}
    done = subprocess.run(
        [sys.executable, "-m", "logtrace", "demo", "--tasks", "2", "--workers", "1", "--no-show"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"files in {tmp_path / 'logtrace-demo'}" in done.stdout
    assert list((tmp_path / "logtrace-demo").rglob("*.jsonl*"))
    assert not (tmp_path / "logtrace").exists()
