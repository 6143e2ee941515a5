"""The ``logtrace`` command, run as a user runs it: in a subprocess."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import Written, span_lines, write_jsonl

from logtrace.cli import main as _cli

Cli = Callable[..., subprocess.CompletedProcess[str]]
TRACE = "0194f3a2000000000000000000000001"


def one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """Check a failed run: exit ``code``, nothing on stdout, one line on stderr, no traceback."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr.strip()


def test_every_command_has_help(cli: Cli) -> None:
    """logtrace --help lists the commands; each command's --help prints its description."""
    names = [c for c in _cli.build_parser()._subparsers._group_actions[0].choices]  # type: ignore[union-attr]
    assert {"ls", "show", "stats", "sql", "tail"} <= set(names)
    top = cli("--help")
    assert top.returncode == 0 and all(name in top.stdout for name in names)
    for name in names:
        result = cli(name, "--help")
        assert result.returncode == 0, result.stderr
        assert f"usage: logtrace {name}" in result.stdout
        assert len(result.stdout.splitlines()) > 3


def test_ls_lists_traces_newest_first(cli: Cli, written: Written) -> None:
    """ls prints one line per trace, newest first, with status, root name and services."""
    result = cli("ls", "--dir", str(written.directory))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[2] for line in lines] == written.trace_ids()[::-1]
    assert [line.split()[3] for line in lines] == ["unfinished", "error", "ok"]
    assert "job" in lines[0] and "coord,crasher,worker" in lines[0]
    assert "\x1b[" not in result.stdout


def test_ls_filters_and_json(cli: Cli, written: Written) -> None:
    """ls filters by status, service, span name, attribute, duration, time; --json is data."""
    d = str(written.directory)
    ok, failed, crashed = written.trace_ids()

    def ids(*options: str) -> list[str]:
        result = cli("ls", "--dir", d, "--json", *options)
        assert result.returncode == 0, result.stderr
        return [row["trace_id"] for row in orjson.loads(result.stdout)]

    assert ids("--errors") == [failed]
    assert ids("--status", "unfinished") == [crashed]
    assert ids("--service", "crasher") == [crashed]
    assert ids("--name", "doomed") == [crashed]
    assert ids("--attr", "task_id=0") == [ok]
    assert ids("--since", "1h", "-n", "2") == [crashed, failed]
    assert ids("--until", "2000-01-01") == []
    assert ids("--min-duration", "1h") == []
    row = orjson.loads(cli("ls", "--dir", d, "--json", "--errors").stdout)[0]
    assert row["start_ts"].endswith("Z") and row["error_count"] == 2


def test_show_draws_the_waterfall(cli: Cli, written: Written) -> None:
    """show: the tree indented, service[pid], bars, errors with message, logs in place."""
    failed = written.trace_ids()[1]
    result = cli("show", failed, "--dir", str(written.directory))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"trace {failed}  job  error")
    spans = [line for line in lines[1:] if "│" in line and "█" in line]
    assert [re.sub(r"[│├└─ ]", "", s.split("[")[0])[:10] for s in spans] == [
        "jobcoord",
        "workworker",
        "stepworker",
        "stepworker",
        "collectcoo",
    ]
    assert spans[1].startswith("├─ work ") and spans[2].startswith("│  ├─ step ")
    assert "ValueError: bad input 1" in spans[1] and re.search(r"worker\[\d+\]", spans[1])
    text = result.stdout
    assert text.index("step 0 of task 1") < text.index("step 1 of task 1")
    assert text.index("dispatching task 1") < text.index("├─ work")
    assert "error   app.worker: task 1 failed" in text


def test_show_marks_unfinished_spans_and_takes_prefixes(cli: Cli, written: Written) -> None:
    """An unfinished span is marked; a unique id prefix works as the id does."""
    crashed = written.trace_ids()[2]
    result = cli("show", crashed[:20].upper(), "--dir", str(written.directory))
    assert result.returncode == 0, result.stderr
    (doomed,) = [line for line in result.stdout.splitlines() if "doomed" in line]
    assert "unfinished" in doomed and "░" in doomed and "crasher[" in doomed


def test_show_json(cli: Cli, written: Written) -> None:
    """show --json gives the summary, the spans in tree order with depth, and the logs."""
    failed = written.trace_ids()[1]
    result = cli("show", failed, "--dir", str(written.directory), "--json")
    data = orjson.loads(result.stdout)
    assert data["trace"]["trace_id"] == failed
    assert [s["depth"] for s in data["spans"]] == [0, 1, 2, 2, 1]
    assert data["spans"][1]["attributes"] == {"task_id": 1}
    assert any(log["message"] == "task 1 failed" for log in data["logs"])


def test_show_unknown_trace_exits_1_naming_the_files(cli: Cli, written: Written) -> None:
    """An id found nowhere: 'no trace ID in DIR (N files, FIRST to LAST)', exit 1."""
    d = str(written.directory)
    message = one_error_line(cli("show", "0194f3a2", "--dir", d), 1)
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    assert re.fullmatch(
        rf"no trace 0194f3a2 in {re.escape(d)} \(\d+ files, {stamp} to {stamp}\)", message
    )


def test_show_default_dir_is_shown_as_dot_logtrace(cli: Cli, tmp_path: Path) -> None:
    """Without --dir and LOGTRACE_DIR, ./logtrace is read and named so."""
    write_jsonl(tmp_path / "logtrace" / "a.jsonl", span_lines(TRACE, "a" * 16, None, "x", 0, 1))
    result = subprocess.run(
        [sys.executable, "-m", "logtrace", "show", "0194f3a3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "LOGTRACE_DIR"},
        timeout=60,
    )
    assert one_error_line(result, 1).startswith("no trace 0194f3a3 in ./logtrace (1 file, ")


def test_the_directory_comes_from_logtrace_dir(cli: Cli, written: Written) -> None:
    """LOGTRACE_DIR is the default directory."""
    result = cli("ls", "--json", env={"LOGTRACE_DIR": str(written.directory)})
    assert len(orjson.loads(result.stdout)) == 3


def test_bad_ids_exit_2(cli: Cli, logs_dir: Path) -> None:
    """A malformed id and an ambiguous prefix are one line each, exit 2."""
    write_jsonl(
        logs_dir / "a.jsonl",
        [
            *span_lines(TRACE, "a" * 16, None, "one", 0, 1),
            *span_lines("0194f3a2" + "f" * 24, "b" * 16, None, "two", 0, 1),
        ],
    )
    assert "malformed trace id" in one_error_line(cli("show", "xyz", "--dir", str(logs_dir)), 2)
    assert "ambiguous" in one_error_line(cli("show", "0194f3a2", "--dir", str(logs_dir)), 2)


def test_unreadable_directory_and_bad_arguments_exit_2(cli: Cli, tmp_path: Path) -> None:
    """A missing directory, an unknown option, a bad value: one line on stderr, exit 2."""
    missing = str(tmp_path / "nope")
    for command in ("ls", "stats", "tail"):
        assert "no such directory" in one_error_line(cli(command, "--dir", missing), 2)
    assert "cannot read" in one_error_line(cli("show", TRACE, "--dir", missing), 2)
    assert "--bogus" in one_error_line(cli("ls", "--bogus"), 2)
    assert "--since" in one_error_line(cli("ls", "--since", "yesterday-ish"), 2)
    assert "--min-duration" in one_error_line(cli("stats", "--min-duration", "fast"), 2)
    assert "KEY=VALUE" in one_error_line(cli("ls", "--attr", "novalue"), 2)
    assert "contradict" in one_error_line(cli("ls", "--errors", "--status", "ok"), 2)


def test_a_huge_bad_argument_is_named_cut_short(cli: Cli, logs_dir: Path) -> None:
    """A bad value of 100,000 characters (a script's mistake): the one error line quotes its
    start, not all of it (it echoed the whole value, 100 KB of stderr)."""
    huge = "z" * 100_000
    d = str(logs_dir)
    for argv in (
        ("show", huge, "--dir", d),
        ("ls", "--since", huge, "--dir", d),
        ("ls", "--attr", huge, "--dir", d),
        ("ls", "--status", huge, "--dir", d),
        ("stats", "--min-duration", huge, "--dir", d),
        ("ls", "-n", huge, "--dir", d),
        ("sql", "slowest_traces", "-p", huge, "--dir", d),
        ("sql", huge + "_query", "--dir", d),
        ("compact", "--memory-limit", huge, "--dir", d),
        ("export", "--format", huge, "--dir", d),
        ("compare", "--by", huge, "--dir", d),
    ):
        line = one_error_line(cli(*argv), 2)
        assert "zzzz" in line and "z" * 200 not in line, (argv[:2], line[:300])
    checked = cli("check", "--dir", d, huge)  # an alert check: UNKNOWN (3), on stdout
    assert checked.returncode == 3 and len(checked.stdout.splitlines()) == 1
    assert "zzzz" in checked.stdout and "z" * 200 not in checked.stdout


def test_a_nan_in_a_line_is_read_by_show_and_export(cli: Cli, logs_dir: Path) -> None:
    """A span line holding ``NaN`` (Python's json.dumps writes it): show answers with the span
    (it failed: orjson's JSONDecodeError, exit 2) and export keeps it (it was left out)."""
    import json

    lines = [
        *span_lines(TRACE, "a" * 16, None, "root", 0, 5),
        *span_lines(TRACE, "b" * 16, "a" * 16, "child", 1, 2, attributes={"v": 1.5}),
    ]
    text = [json.dumps(line).replace("1.5", "NaN") for line in lines]
    write_jsonl(logs_dir / "2026-11-24" / "svc_host_100_20261124T130000.000Z.jsonl", text)
    shown = cli("show", TRACE, "--dir", str(logs_dir), "--json")
    assert shown.returncode == 0, shown.stderr
    assert sorted(s["name"] for s in orjson.loads(shown.stdout)["spans"]) == ["child", "root"]
    out = logs_dir.parent / "out.otlp.jsonl"
    exported = cli("export", TRACE, "--dir", str(logs_dir), "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "exported 2 spans" in exported.stdout + exported.stderr


def test_sql_runs_text_and_named_queries(cli: Cli, written: Written) -> None:
    """sql runs SQL text or a file of queries/ by name, parameters passed as values."""
    d = str(written.directory)
    result = cli("sql", "select name, count(*) as n from spans group by 1 order by 1", "--dir", d)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["name", "n"]
    assert re.search(r"^step +6$", result.stdout, re.M)
    named = cli("sql", "slowest_traces", "-p", "limit=1", "--dir", d, "--json")
    assert len(orjson.loads(named.stdout)) == 1
    quoted = cli("sql", "select $v as v", "-p", "v=it's; drop", "--dir", d, "--json")
    assert orjson.loads(quoted.stdout) == [{"v": "it's; drop"}]


def test_sql_errors_exit_2(cli: Cli, written: Written) -> None:
    """Failing SQL is DuckDB's first line, exit 2."""
    message = one_error_line(
        cli("sql", "select nope from spans", "--dir", str(written.directory)), 2
    )
    assert "nope" in message


def test_sql_without_a_statement_exits_2_in_one_line(cli: Cli, written: Written) -> None:
    """`sql ""`, blank or comment-only SQL: one line saying so, exit 2 (it printed
    `logtrace: AttributeError: 'NoneType' object has no attribute 'description'`)."""
    for empty in ("", "  ", "-- nothing"):
        message = one_error_line(cli("sql", empty, "--dir", str(written.directory)), 2)
        assert message.startswith("the SQL holds no statement") and "Error" not in message


def test_stats_shows_percentiles_and_skipped_lines(
    cli: Cli, written: Written, tmp_path: Path
) -> None:
    """stats: count, errors, error rate, p50/p95/p99 per span name, service and kind, and
    lines skipped."""
    result = cli("stats", "--dir", str(written.directory))
    assert result.returncode == 0, result.stderr
    head, columns, *rows = result.stdout.splitlines()
    assert "skipped 0 unreadable lines" in head
    assert columns.split()[:6] == ["name", "service", "kind", "count", "errors", "error"]
    step = next(r for r in rows if r.startswith("step "))
    assert step.split()[1:6] == ["worker", "internal", "6", "1", "16.7%"]
    only = cli("stats", "--dir", str(written.directory), "--service", "worker", "--json")
    assert {r["name"] for r in orjson.loads(only.stdout)["spans"]} == {"work", "step"}


def test_verbose_reports_skipped_lines(cli: Cli, logs_dir: Path) -> None:
    """--verbose names the files read and counts the lines skipped, on stderr."""
    write_jsonl(logs_dir / "a.jsonl", [*span_lines(TRACE, "a" * 16, None, "x", 0, 1), "torn {"])
    result = cli("ls", "--dir", str(logs_dir), "--verbose")
    assert result.returncode == 0
    assert "reading" in result.stderr and "skipped 1 unreadable lines" in result.stderr
    stats = orjson.loads(cli("stats", "--dir", str(logs_dir), "--json").stdout)
    assert stats["skipped_lines"] == {"unreadable": 1, "other_json": 0}


def test_no_colour_in_pipes_or_with_no_color(cli: Cli, written: Written) -> None:
    """Colour only on a terminal (forced here), and never with NO_COLOR."""
    d = str(written.directory)
    assert "\x1b[" in cli("ls", "--dir", d, env={"FORCE_COLOR": "1"}).stdout
    plain = cli("ls", "--dir", d, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert plain.returncode == 0 and "\x1b[" not in plain.stdout


TAIL_WRITER = r"""
import logging, sys, time, logtrace
logtrace.configure(service=sys.argv[1], directory=sys.argv[2], rotate_bytes=2000,
                   flush="always")
log = logging.getLogger("tick")
for i in range(20):
    with logtrace.span("tick", i=i):
        log.info("tick %d", i)
logtrace.shutdown()
"""


def test_tail_follows_files_of_several_processes_through_rotation(
    logs_dir: Path, tmp_path: Path
) -> None:
    """tail prints the spans and logs that processes write after it starts, rotation included."""
    script = tmp_path / "ticker.py"
    script.write_text(TAIL_WRITER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGTRACE_", "OTEL_"))}
    env.pop("TRACEPARENT", None)
    old = write_jsonl(logs_dir / "old.jsonl", [span_lines(TRACE, "a" * 16, None, "old", 0, 1)[0]])
    tail = subprocess.Popen(
        [
            *(sys.executable, "-m", "logtrace", "tail", "--dir", str(logs_dir), "--json"),
            *("--verbose", "--count", "120", "--for", "60", "--interval", "0.05"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert tail.stderr is not None
        assert "following 1 files" in tail.stderr.readline()
        with old.open("a") as more:  # a file that existed before is followed from its end
            more.write(orjson.dumps(span_lines(TRACE, "a" * 16, None, "old", 0, 1)[1]).decode())
            more.write("\n")
        for service in ("alpha", "beta"):
            subprocess.run(
                [sys.executable, str(script), service, str(logs_dir)], env=env, check=True
            )
        out, err = tail.communicate(timeout=90)
    finally:
        tail.kill()
    assert tail.returncode == 0, err
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert len(lines) == 120
    assert lines[0]["event"] == "old" and lines[0]["span"] == "end"
    for service in ("alpha", "beta"):
        mine = [line for line in lines if line["service"] == service]
        assert [line["i"] for line in mine if line.get("span") == "start"] == list(range(20))
        assert [line["event"] for line in mine if "span" not in line] == [
            f"tick {i}" for i in range(20)
        ]
    assert any(p.name.endswith(".zst") for p in logs_dir.rglob("*"))


def test_tail_from_start_with_filters(cli: Cli, written: Written) -> None:
    """tail --from-start prints what is there; --service and --trace narrow it."""
    crashed = written.trace_ids()[2]
    result = cli(
        "tail",
        "--dir",
        str(written.directory),
        "--from-start",
        "--for",
        "0",
        "--service",
        "crasher",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and "▶ doomed" in lines[0] and "about to die" in lines[1]
    assert all(crashed[:8] in line and "crasher[" in line for line in lines)
    traced = cli("tail", "--dir", str(written.directory), "--from-start", "--for", "0", "--json")
    assert traced.returncode == 0
    narrowed = cli(
        "tail", "--dir", str(written.directory), "--from-start", "--for", "0", "--trace", crashed
    )
    assert len(narrowed.stdout.splitlines()) == sum(
        1 for line in traced.stdout.splitlines() if orjson.loads(line).get("trace_id") == crashed
    )


def test_tail_for_stops_in_time_whatever_the_interval(cli: Cli, written: Written) -> None:
    """tail --for 0.5 --interval 3600 stops after half a second, not after the hour it would
    have slept first."""
    result = cli(
        "tail", "--dir", str(written.directory), "--for", "0.5", "--interval", "3600", timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_other_modules_register_commands(
    logs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """register() adds a subcommand with the common options; its docstring is its help."""
    seen: dict[str, Any] = {}

    def hello(args: argparse.Namespace) -> int:
        """Say hello to a directory."""
        seen.update(vars(args))
        return 7

    _cli.register("hello", hello, lambda p: p.add_argument("--times", type=int, default=1))
    try:
        assert _cli.main(["hello", "--dir", str(logs_dir), "--times", "3", "--json"]) == 7
        assert (seen["dir"], seen["times"], seen["json"]) == (str(logs_dir), 3, True)
        assert _cli.main(["hello", "--help"]) == 0
        assert "Say hello to a directory." in capsys.readouterr().out
    finally:
        del _cli._commands["hello"]


def test_a_reader_that_stops_early_is_not_an_error(logs_dir: Path) -> None:
    """`logtrace show ID | head`: the pipe closes mid-output, and the command exits 0 with
    nothing on stderr, as `cat` does (rich's exit 1 would say the trace was found nowhere)."""
    lines = span_lines(TRACE, "a" * 16, None, "root", 0, 5000)
    for n in range(3000):  # a tree of ~400 KB: more than a pipe holds
        lines += span_lines(TRACE, f"{n + 1:016x}", "a" * 16, f"step {n}", n, 1)
    write_jsonl(logs_dir / "a.jsonl", lines)
    show = f"{sys.executable} -m logtrace show {TRACE} --dir {logs_dir}"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{show} | head -c 10 >/dev/null"],
        env={k: v for k, v in os.environ.items() if not k.startswith("LOGTRACE_")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")


ODD_KEYS = ["/a", "$", "$.a", "[0]", 'q"x', "b\\s", "c\x01d", "a"]


@pytest.mark.parametrize("compacted", [False, True], ids=["jsonl", "compacted"])
def test_attr_filters_take_a_key_as_it_is_written(
    cli: Cli, tmp_path: Path, compacted: bool
) -> None:
    """`--attr KEY=VALUE` matches the attribute named KEY, whatever its characters: a key
    starting with `$` or `/`, holding `"` or `\\`, is a name, not a JSON path."""
    program = textwrap.dedent(
        """
        import sys, logtrace, orjson
        logtrace.configure(service="keys", directory=sys.argv[1], environ={})
        for number, key in enumerate(orjson.loads(sys.argv[2])):
            with logtrace.span(f"job{number}", **{key: "v", "n": number, "a": "other"}):
                pass
        logtrace.shutdown()
        """
    )
    keys = orjson.dumps(ODD_KEYS[:-1]).decode()
    subprocess.run([sys.executable, "-c", program, str(tmp_path), keys], check=True)
    if compacted:
        assert cli("compact", "--dir", str(tmp_path)).returncode == 0
        assert list(tmp_path.rglob("compacted_*.parquet"))
    for number, key in enumerate(ODD_KEYS[:-1]):
        for since in ([], ["--since", "1h"]):
            done = cli("ls", "--dir", str(tmp_path), "--json", "--attr", f"{key}=v", *since)
            assert done.returncode == 0, done.stderr
            assert [row["root_name"] for row in orjson.loads(done.stdout)] == [f"job{number}"]
        done = cli("stats", "--dir", str(tmp_path), "--json", "--attr", f"{key}=v")
        assert done.returncode == 0, done.stderr
        spans = orjson.loads(done.stdout)["spans"]
        assert [row["name"] for row in spans] == [f"job{number}"], key
    done = cli("ls", "--dir", str(tmp_path), "--json", "--attr", "a=v")
    assert orjson.loads(done.stdout) == []


def test_ctrl_c_during_a_query_exits_130_without_an_error(written: Written) -> None:
    """Ctrl-C while DuckDB runs a query: DuckDB takes the KeyboardInterrupt and raises
    ``RuntimeError: Query interrupted`` in its place, which was reported as a failure
    (``logtrace: RuntimeError: Query interrupted``, exit 2: "bad input" to a script). Now it
    is what any other Ctrl-C is: exit 130, nothing on stderr. On a loaded machine DuckDB
    missed the signal altogether and the query ran on: the CLI interrupts the connection
    itself, from a thread the signal wakes."""
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "logtrace", "sql", "select count(*) from range(1000000000000)",
         "-v", "--dir", str(written.directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As at a terminal, whatever the test runner's own SIGINT (a background job ignores it).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert process.stderr.readline().startswith("reading ")  # the query is about to run
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)  # once: it must be enough, however busy the machine
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert err == "" and out == ""
