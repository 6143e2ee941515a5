"""The manual's grep, jq and duckdb-shell recipes (docs/shell.md), run as written on real output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import zstandard
from conftest import Written

from logtrace.read.reader import queries_dir

WHOLE_TRACE = 'zstd -dcf logtrace/*/*.jsonl* | grep -F "$TRACE"'
ERRORS = (
    'zstd -dcf logtrace/*/*.jsonl* | jq -cR --arg t "$TRACE" \'fromjson? | select(.trace_id =='
    ' $t and (.status == "error" or .level == "error")) | {ts, service, event, error_type,'
    " error_message}'"
)
SPAN_LOGS = (
    'zstd -dcf logtrace/*/*.jsonl* | jq -cR --arg s "$SPAN" \'fromjson? | select(.span_id =='
    ' $s and .span != "start" and .span != "end") | {ts, level, event}\''
)
SLOWEST_OF_LAST_FILE = (
    'zstd -dcf "$(ls -t logtrace/*/*.jsonl* | head -1)" | jq -cR \'fromjson? | select(.span =='
    " \"end\")' | jq -cs 'sort_by(-.duration_ms) | .[:5][] | {name, duration_ms, service,"
    " trace_id}'"
)
QUERIES_DIR = "Q=$(python -c 'import logtrace.read.queries as q; print(q.queries_dir())')"
DUCKDB_SHELL = """duckdb -c "SET VARIABLE logtrace_files = 'logtrace/*/*.jsonl*'" \\
  -c ".read $Q/jsonl_lines.sql" -c ".read $Q/jsonl_span_lines.sql" -c ".read $Q/no_compacted.sql" \\
  -c ".read $Q/no_span_rows.sql" -c ".read $Q/no_compacted_span_lines.sql" \\
  -c ".read $Q/lines.sql" -c ".read $Q/events.sql" -c ".read $Q/span_lines.sql" \\
  -c ".read $Q/loose_span_lines.sql" -c ".read $Q/span_attributes.sql" -c ".read $Q/spans.sql" \\
  -c ".read $Q/traces.sql" -c ".read $Q/logs.sql" \\
  -c "SELECT trace_id, root_name, status, duration_ms FROM traces ORDER BY start_ts DESC LIMIT 5" \\
  -c "PREPARE slowest AS $(cat $Q/slowest_traces.sql)" \\
  -c "EXECUTE slowest(since := NULL, \\"limit\\" := 3)\""""

# On CI (.ci/run installs them) a missing tool is a failure, never a quiet skip.
pytestmark = pytest.mark.tools("jq", "zstd", "bash")


def documented() -> str:
    """The page of the manual where the recipes are documented."""
    page = Path(__file__).resolve().parent.parent / "docs" / "shell.md"
    return page.read_text(encoding="utf-8")


def run(recipe: str, written: Written, cwd: Path | None = None, **env: str) -> list[str]:
    """Run a recipe with bash from the directory that holds logtrace/; its output lines."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", recipe],
        cwd=cwd or written.directory.parent,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def all_lines(written: Written) -> list[bytes]:
    """Every line of every file, decompressed."""
    return [line for path in sorted(written.directory.rglob("*.jsonl*")) for line in _lines(path)]


@pytest.mark.parametrize("recipe", [WHOLE_TRACE, ERRORS, SPAN_LOGS, SLOWEST_OF_LAST_FILE])
def test_recipes_are_the_documented_ones(recipe: str) -> None:
    """Each recipe run here is in docs/shell.md, character for character."""
    assert recipe in documented()


def test_duckdb_recipe_is_the_documented_one() -> None:
    """The duckdb-shell recipe run here is in docs/shell.md, character for character."""
    assert DUCKDB_SHELL in documented()
    assert f"`{QUERIES_DIR}`" in documented()


def test_the_documented_way_to_find_the_queries_folder_finds_it(written: Written) -> None:
    """The `Q=$(python -c …)` line of docs/shell.md names the queries/ folder logtrace reads."""
    assert run(f'{QUERIES_DIR} && echo "$Q"', written) == [str(queries_dir())]


def test_grep_gives_a_whole_trace(written: Written) -> None:
    """grep -F over plain and compressed files gives every line of the trace."""
    trace = written.trace_ids()[1]
    lines = run(WHOLE_TRACE, written, TRACE=trace)
    expected = [line for line in all_lines(written) if trace.encode() in line]
    assert sorted(lines) == sorted(line.decode() for line in expected)
    assert {orjson.loads(line)["service"] for line in lines} == {"coord", "worker"}


def test_jq_gives_the_errors_of_a_trace(written: Written) -> None:
    """The errors recipe gives the failed spans and the error log of the trace."""
    lines = [orjson.loads(line) for line in run(ERRORS, written, TRACE=written.trace_ids()[1])]
    assert sorted(line["event"] for line in lines) == ["step", "task 1 failed", "work"]
    assert {line["error_message"] for line in lines} == {"bad input 1"}


def test_jq_gives_the_logs_of_one_span(written: Written) -> None:
    """The span recipe gives the log lines and events of one span, not its span lines."""
    step = next(s for s in written.spans if s["name"] == "step" and s["attributes"] == {"n": 0})
    work = next(s for s in written.spans if s["span_id"] == step["parent_id"])
    task = work["attributes"]["task_id"]
    lines = [orjson.loads(line) for line in run(SPAN_LOGS, written, SPAN=step["span_id"])]
    assert [line["event"] for line in lines] == ["checkpoint", f"step 0 of task {task}"]


def test_jq_gives_the_slowest_spans_of_the_last_file(written: Written, tmp_path: Path) -> None:
    """The last-file recipe lists the span ends of the newest file, slowest first, at most 5."""
    shutil.copytree(written.directory, tmp_path / "logtrace")
    files = sorted((tmp_path / "logtrace").rglob("*.jsonl*"))
    ends = {
        path: [
            line
            for line in map(orjson.loads, _lines(path))
            if isinstance(line, dict) and line.get("span") == "end"
        ]
        for path in files
    }
    busiest = max(files, key=lambda p: len(ends[p]))
    os.utime(busiest, (time.time() + 60, time.time() + 60))
    lines = [orjson.loads(line) for line in run(SLOWEST_OF_LAST_FILE, written, tmp_path)]
    slowest = sorted(ends[busiest], key=lambda line: -line["duration_ms"])[:5]
    assert lines == [
        {k: line[k] for k in ("name", "duration_ms", "service", "trace_id")} for line in slowest
    ]
    assert len(lines) >= 2


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.name.endswith(".zst"):
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return [line for line in data.splitlines() if line]


def test_duckdb_shell_runs_the_query_files(written: Written) -> None:
    """The duckdb shell reads the views and a parameterised question from queries/."""
    has_shell = shutil.which("duckdb") or (Path(sys.executable).parent / "duckdb").exists()
    if not has_shell and os.environ.get("LOGTRACE_REQUIRE_TOOLS") != "1":
        pytest.skip("needs the duckdb command (pip install duckdb-cli, in the test extra)")
    out = "\n".join(run(DUCKDB_SHELL, written, Q=str(queries_dir())))
    for trace in written.trace_ids():
        assert trace in out
