"""What users tripped over in the CLI: unknown queries, -p times, missing parameters, empty
answers, empty folders, tail's ids and order, compact's summary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import T0, iso, log_line, logs_dir, run_cli, span_lines, write_jsonl

TRACE_A = "01a2339e00000000aaaaaaaaaaaaaaaa"
TRACE_B = "01a2339e00000000bbbbbbbbbbbbbbbb"


def _two_processes(directory: Path) -> None:
    """Two files whose lines interleave in time, two traces of one millisecond."""
    a = [*span_lines(TRACE_A, "a" * 16, None, "a", 0, 30, pid=1)]
    a.insert(1, log_line(TRACE_A, "a" * 16, "a-10", 10, pid=1))
    b = [*span_lines(TRACE_B, "b" * 16, None, "b", 5, 10, pid=2)]
    b.insert(1, log_line(TRACE_B, "b" * 16, "b-12", 12, pid=2))
    write_jsonl(directory / "2026-11-24" / "svc_h_1_20261124T130000.000Z.jsonl", a)
    write_jsonl(directory / "2026-11-24" / "svc_h_2_20261124T130000.005Z.jsonl", b)


def test_sql_with_an_unknown_query_name_lists_the_names(logs_dir: Path) -> None:
    """`sql nosuchquery` says there is no such query and names the known ones; exit 2."""
    done = run_cli("sql", "nosuchquery", "--dir", str(logs_dir))
    assert done.returncode == 2
    assert "no query named 'nosuchquery'" in done.stderr and "trace_tree" in done.stderr
    assert "Traceback" not in done.stderr and "Parser Error" not in done.stderr


def test_sql_without_a_needed_parameter_says_which(logs_dir: Path) -> None:
    """`sql trace_tree` without -p trace_id=… names the parameter and exits 2."""
    _two_processes(logs_dir)
    done = run_cli("sql", "trace_tree", "--dir", str(logs_dir))
    assert done.returncode == 2 and "-p trace_id=" in done.stderr
    given = run_cli(
        "sql", "trace_tree", "-p", f"trace_id={TRACE_A}", "--json", "--dir", str(logs_dir)
    )
    assert given.returncode == 0 and TRACE_A[:8] not in given.stderr


def test_sql_reads_p_since_as_since_does(logs_dir: Path) -> None:
    """-p since=10m is ten minutes ago, as --since 10m is, not the text "10m"."""
    _two_processes(logs_dir)
    query = "select $since > now()::TIMESTAMP - INTERVAL 11 MINUTE AS recent"
    done = run_cli("sql", query, "-p", "since=10m", "--json", "--dir", str(logs_dir))
    assert done.returncode == 0, done.stderr
    assert '"recent":true' in done.stdout.replace(" ", "")


def test_ls_says_when_nothing_matches(logs_dir: Path) -> None:
    """ls with filters that match nothing says so, with where it looked."""
    _two_processes(logs_dir)
    done = run_cli("ls", "--dir", str(logs_dir), "--name", "nothing-of-the-kind")
    assert done.returncode == 0 and "no traces match" in done.stdout


def test_a_folder_without_logs_is_named_with_where_to_look(tmp_path: Path) -> None:
    """ls in a folder with no log files says so in one line, naming it and --dir/LOGTRACE_DIR,
    and the demo's folder when there is one."""
    (tmp_path / "logtrace").mkdir()
    (tmp_path / "logtrace" / "__init__.py").write_text("# a package's source, not logs\n")
    (tmp_path / "logtrace-demo").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGTRACE_")}
    # The console script, as a user runs it: `python -m` would import ./logtrace itself.
    script = Path(sys.executable).with_name("logtrace")
    if not script.exists():
        pytest.skip("no logtrace console script next to this Python")
    done = subprocess.run(
        [str(script), "ls"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert "no log files" in line
    assert "logtrace" in line and "--dir" in line and "LOGTRACE_DIR" in line
    assert "logtrace-demo" in line


@pytest.mark.parametrize(
    "command",
    [
        ["show", "0123456789abcdef0123456789abcdef"],
        ["ls"],
        ["cat"],
        ["stats"],
        ["export"],
        ["sql", "select 1"],
    ],
)
@pytest.mark.parametrize("where", ["nowhere/*.jsonl", "empty"])
def test_a_source_without_log_files_is_exit_2_in_one_line(
    tmp_path: Path, command: list[str], where: str
) -> None:
    """A glob that matches nothing or a folder without logs is bad input (exit 2, one line
    naming it), not "not found" (1) or an empty answer (0). Run where there is no demo folder
    (beside one, the line says where the demo's logs are)."""
    (tmp_path / "empty").mkdir()
    source = str(tmp_path / where)
    done = run_cli(*command, "--dir", source, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"logtrace: no log files in {source} (looked for <day>/*.jsonl, *.jsonl.zst and "
        f"compacted Parquet files); give --dir DIR or set LOGTRACE_DIR"
    ]
    assert done.stdout == ""


def test_a_folder_of_only_symlinked_logs_names_what_was_not_read(tmp_path: Path) -> None:
    """A folder whose only log file is a symlink (never followed) says that file was not
    read, naming it, rather than that there are no log files (it was named by -v only)."""
    real = tmp_path / "elsewhere" / "svc_h_1_20261124T130000.000Z.jsonl"
    write_jsonl(real, list(span_lines(TRACE_A, "a" * 16, None, "a", 0, 30, pid=1)))
    day = tmp_path / "logs" / "2026-11-24"
    day.mkdir(parents=True)
    link = day / real.name
    link.symlink_to(real)
    done = run_cli("ls", "--dir", str(tmp_path / "logs"))
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert "1 file not read" in line and "symlinks are never followed" in line
    assert str(link) in line and "--dir" in line
    assert done.stdout == ""


def test_tail_of_a_glob_in_no_folder_is_exit_2_of_an_empty_folder_waits(tmp_path: Path) -> None:
    """tail stops (exit 2, one line) on a glob whose folder is not there; in a folder with no
    logs yet it waits for them, as before."""
    glob = str(tmp_path / "nowhere" / "*.jsonl")
    done = run_cli("tail", "--for", "0", "--dir", glob)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"cannot read {glob}: no such directory {tmp_path / 'nowhere'}"
    ]
    (tmp_path / "empty").mkdir()
    waited = run_cli("tail", "--for", "0", "--dir", str(tmp_path / "empty" / "*.jsonl"))
    assert waited.returncode == 0 and waited.stderr == ""


def test_tail_from_start_is_in_time_order_with_ids_that_tell_traces_apart(
    logs_dir: Path,
) -> None:
    """tail --from-start merges the files in time order, and prints enough of each trace id
    (20 digits) to tell apart two traces created in the same millisecond."""
    _two_processes(logs_dir)
    done = run_cli("tail", "--dir", str(logs_dir), "--from-start", "--for", "0")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == sorted(line.split()[0] for line in lines)
    assert (
        [line.split()[2] for line in lines]
        == [
            TRACE_A[:20],  # a starts (0 ms)
            TRACE_B[:20],  # b starts (5 ms)
            TRACE_A[:20],  # a logs (10 ms)
            TRACE_B[:20],  # b logs (12 ms)
            TRACE_B[:20],  # b ends (15 ms)
            TRACE_A[:20],  # a ends (30 ms)
        ]
    )
    assert iso(T0)[11:19] in lines[0]


def test_compact_summary_counts_in_words_and_sizes_that_say_something(logs_dir: Path) -> None:
    """compact says "1 Parquet file" (not "files") and sizes in B/KB/MB."""
    _two_processes(logs_dir)
    done = run_cli("compact", "--dir", str(logs_dir))
    assert done.returncode == 0, done.stderr
    assert "1 Parquet file (" in done.stdout or "2 Parquet files (" in done.stdout
    assert " B" in done.stdout or " KB" in done.stdout
    assert "0.0 MB" not in done.stdout


@pytest.mark.parametrize(
    ("argv", "option", "wanted"),
    [
        (["ls", "--limit", "-3"], "-n/--limit", "at least 1"),
        (["ls", "-n", "0"], "-n/--limit", "at least 1"),
        (["advise", "--limit", "many"], "-n/--limit", "at least 1"),
        (["advise", "--serial-share", "2"], "--serial-share", "from 0 to 1"),
        (["critical-path", "-n", "-1"], "-n/--limit", "at least 1"),
        (["tail", "--interval", "-1"], "--interval", "above 0"),
        (["tail", "--interval", "nan"], "--interval", "above 0"),
        (["tail", "--count", "0"], "--count", "at least 1"),
        (["tail", "--for", "-2"], "--for", "at least 0"),
        (["compare", "--services", "a,b", "--alpha", "7"], "--alpha", "between 0 and 1"),
        (["compare", "--services", "a,b", "--alpha", "0"], "--alpha", "between 0 and 1"),
        (["compare", "--services", "a,b", "--threshold", "1e30"], "--threshold", "from 0 to 10000"),
        (["compare", "--services", "a,b", "--threshold", "-5"], "--threshold", "from 0 to 10000"),
        (["compare", "--services", "a,b", "--threshold", "inf"], "--threshold", "from 0 to 10000"),
        (["compare", "--services", "a,b", "--threshold", "many"], "--threshold", "from 0 to 10000"),
        (["compact", "--sample", "1.5"], "--sample", "from 0 to 1"),
        (["export", "--batch-size", "0"], "--batch-size", "at least 1"),
        (["export", "--timeout", "inf"], "--timeout", "above 0"),
        (["show", "01a2339e", "--collapse", "--min-repeat", "0"], "--min-repeat", "at least 1"),
        (["show", "01a2339e", "--width", "0"], "--width", "from 5 to 1000"),
        (["show", "01a2339e", "--width", "99999999999"], "--width", "from 5 to 1000"),
        (["demo", "--tasks", "-1"], "--tasks", "at least 1"),
        (["ui", "--port", "99999"], "--port", "0 (any free one) to 65535"),
        (["stats", "--every", "99999999999999999d"], "--every", "from 1us to 10000w"),
        (["stats", "--every", "0"], "--every", "from 1us to 10000w"),
        (["tail", "--interval", "1e30"], "--interval", "at most 86400"),
        (["export", "--timeout", "1e30"], "--timeout", "at most 86400"),
        (["export", "--follow", "--poll-interval", "1e30"], "--poll-interval", "at most 86400"),
        (["critical-path", "-n", "9" * 23], "-n/--limit", "from 1 to 9223372036854775807"),
        (["advise", "-n", "9" * 23], "-n/--limit", "from 1 to 9223372036854775807"),
    ],
)
def test_a_number_out_of_range_is_one_line_naming_the_option_and_its_range(
    logs_dir: Path, argv: list[str], option: str, wanted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative --limit used to reach DuckDB (`Binder Error: LIMIT/OFFSET cannot be
    negative`), a negative --interval `time.sleep`, a port past 65535 the socket, a huge
    --every DuckDB (`Conversion Error: Type DOUBLE …`), a huge --interval the clock
    (OverflowError), a huge --width a MemoryError: now each is refused before anything runs,
    in one line that names the option, the range and the value."""
    from logtrace.cli.main import main

    code = main([*argv, "--dir", str(logs_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert f"argument {option}: give " in err and wanted in err and argv[-1] in err, err
    assert "Error" not in err and "Traceback" not in err


def test_the_numeric_types_take_their_bounds() -> None:
    """The edges of each range are accepted: 0 and 65535 are ports, 0 and 1 fractions."""
    import argparse

    from logtrace.cli import numbers

    assert numbers.port("0") == 0 and numbers.port("65535") == 65535
    assert numbers.fraction("0") == 0 and numbers.fraction("1") == 1
    assert numbers.at_least(1)("1") == 1 and numbers.non_negative("0") == 0
    assert numbers.between(5, 1000)("5") == 5 and numbers.between(5, 1000)("1000") == 1000
    assert numbers.probability("0.05") == 0.05 and numbers.positive("1e-3") == 1e-3
    from logtrace.read.arguments import threshold_pct

    threshold = numbers.checked_by(threshold_pct)  # --threshold: the Python API's own check
    assert threshold("0") == 0 and threshold("10000") == 10_000 and threshold("2.5") == 2.5
    for bad in ("65536", "-1", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            numbers.port(bad)


def test_no_log_files_beside_the_demo_says_where_its_logs_are(tmp_path: Path) -> None:
    """Run in the folder where `logtrace demo` wrote ./logtrace-demo, a command pointed at no
    logs says where the demo's are, in the same one line."""
    (tmp_path / "logtrace-demo").mkdir()
    (tmp_path / "empty").mkdir()
    done = run_cli("ls", "--dir", str(tmp_path / "empty"), cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.endswith("(the demo's are in ./logtrace-demo: --dir logtrace-demo)"), line
