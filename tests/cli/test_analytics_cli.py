"""The analytics commands as a user runs them: critical-path, compare, check, advise, show
--critical-path / --collapse, stats --every."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
from _analytics_fixtures import requests, trace_id, trace_lines, write
from conftest import run_cli

HOUR = 3_600_000
FIELD_EXAMPLE = [
    ("0000000000000001", None, "root", 0.0, 100.0, "ok"),
    ("000000000000000a", "0000000000000001", "A", 0.0, 60.0, "ok"),
    ("000000000000000b", "0000000000000001", "B", 10.0, 80.0, "ok"),
    ("000000000000000c", "000000000000000b", "C", 20.0, 60.0, "ok"),
]
# label, value, unit, then warn, crit, min (each may be left out at the end).
PERF = re.compile(r"'([^']+)'=(-?[0-9.]+)([a-zA-Z%]*)(?:;([^; ]*))?(?:;([^; ]*))?(?:;([^; ]*))?")


def test_show_critical_path_marks_the_spans_on_it(logs_dir: Path) -> None:
    """root, B and C carry their time on the path; A (overlapped by B) does not."""
    write(logs_dir, "a", trace_lines(trace_id(1), FIELD_EXAMPLE))
    done = run_cli("show", trace_id(1), "--critical-path", "--dir", str(logs_dir))
    assert done.returncode == 0, done.stderr
    marked = {
        re.search(r"[A-Za-z]+", line)[0]: "critical" in line  # type: ignore[index]
        for line in done.stdout.splitlines()[1:]
    }
    assert marked == {"root": True, "A": False, "B": True, "C": True}
    as_json = run_cli("show", trace_id(1), "--critical-path", "--json", "--dir", str(logs_dir))
    data = orjson.loads(as_json.stdout)
    assert data["critical_path"]["total_ms"] == 100


def big_trace() -> list[dict[str, object]]:
    """root > 100 batches > 99 fetches and a store: 10,101 spans."""
    root = "0000000000000001"
    spans = [(root, None, "root", 0.0, 100_000.0, "ok")]
    for b in range(100):
        batch = f"{0x1000 + b:016x}"
        spans.append((batch, root, "batch", b * 1000.0, 900.0, "ok"))
        for j in range(99):
            status = "error" if j == 0 else "ok"
            spans.append(
                (f"{0x100000 + b * 100 + j:016x}", batch, "fetch", b * 1000.0 + j * 9, 5.0, status)
            )
        spans.append((f"{0x900000 + b:016x}", batch, "store", b * 1000.0 + 895, 5.0, "ok"))
    return trace_lines(trace_id(7), spans)


def test_show_collapse_of_a_ten_thousand_span_trace(logs_dir: Path) -> None:
    """10,101 spans shown in a few lines: 100 x batch; --expand batch opens them, each with one
    line of 99 x fetch (1 failed)."""
    write(logs_dir, "a", big_trace())
    done = run_cli("show", trace_id(7), "--collapse", "--dir", str(logs_dir), timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and "10101 spans" in lines[0]
    assert "100 × batch" in lines[2] and "10100 spans folded" in lines[2]
    opened = run_cli(
        "show", trace_id(7), "--collapse", "--expand", "batch", "--dir", str(logs_dir), timeout=300
    )
    rows = opened.stdout.splitlines()
    assert len(rows) == 2 + 100 * 3
    assert sum("99 × fetch" in r and "1 failed" in r for r in rows) == 100


def test_critical_path_command_for_a_trace_and_for_a_window(logs_dir: Path) -> None:
    """With an id: the sections; with --name: shares per span name (JSON adds up to 1)."""
    write(logs_dir, "a", trace_lines(trace_id(1), FIELD_EXAMPLE) + requests(20, seed=1, tag=1))
    one = run_cli("critical-path", trace_id(1), "--dir", str(logs_dir))
    assert one.returncode == 0, one.stderr
    assert "critical path 100 ms in 5 sections" in one.stdout
    many = run_cli("critical-path", "--name", "request", "--json", "--dir", str(logs_dir))
    shares = orjson.loads(many.stdout)
    assert {s["name"] for s in shares} == {"request", "fetch", "store"}
    assert abs(sum(s["critical_share"] for s in shares) - 1) < 1e-9


def windows(directory: Path, slower: float) -> None:
    write(directory, "a", requests(300, seed=1, every_ms=10_000))
    write(
        directory, "b", requests(300, seed=2, every_ms=10_000, start_ms=HOUR, slower=slower, tag=1)
    )


def compare(directory: Path, *more: str) -> object:
    return run_cli(
        "compare", "--a-since", "2026-11-24T13:00", "--a-until", "2026-11-24T14:00",
        "--b-since", "2026-11-24T14:00", "--dir", str(directory), *more,
    )  # fmt: skip


def test_compare_exits_one_on_a_planted_regression(logs_dir: Path) -> None:
    """fetch 20% slower in the second hour: exit 1, fetch named as the regression."""
    windows(logs_dir, 1.2)
    done = compare(logs_dir)
    assert done.returncode == 1, done.stderr  # type: ignore[attr-defined]
    assert "regression: fetch" in done.stdout  # type: ignore[attr-defined]
    data = orjson.loads(compare(logs_dir, "--json").stdout)  # type: ignore[attr-defined]
    assert data["regressions"] == ["fetch"]


def test_compare_exits_zero_when_nothing_changed(logs_dir: Path) -> None:
    """An A/A comparison: exit 0; a higher --threshold forgives the 20% one too."""
    windows(logs_dir, 1.0)
    assert compare(logs_dir).returncode == 0  # type: ignore[attr-defined]
    other = logs_dir.parent / "slow"
    windows(other, 1.2)
    assert compare(other, "--threshold", "50").returncode == 0  # type: ignore[attr-defined]


def test_compare_needs_one_way_to_choose_the_sides(logs_dir: Path) -> None:
    """No sides, or two ways at once, or a malformed --by: one line, exit 2."""
    for args in ([], ["--by", "version"], ["--services", "a,b", "--dirs", "x,y"]):
        done = run_cli("compare", *args, "--dir", str(logs_dir))
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr


def test_compare_with_an_empty_side_exits_two_not_zero(logs_dir: Path) -> None:
    """A --by value no trace has (a typo) compared nothing: exit 2 and one line saying so, not
    exit 0, which a CI gate would take for "no regression"."""
    windows(logs_dir, 1.2)
    done = run_cli("compare", "--by", "versoin=1,2", "--dir", str(logs_dir))
    assert done.returncode == 2, done.stdout
    assert done.stderr.strip().startswith(
        "logtrace compare: no traces in A (versoin=1) or B (versoin=2): nothing was compared"
    )
    before = run_cli(
        "compare", "--a-since", "2026-11-24T13:00", "--a-until", "2026-11-24T14:00",
        "--b-since", "2020-01-01", "--b-until", "2020-01-02", "--dir", str(logs_dir),
    )  # fmt: skip
    assert before.returncode == 2 and "no traces in B (" in before.stderr, before.stderr


def test_compare_two_traces_side_by_side(logs_dir: Path) -> None:
    """Two trace ids: one row per ancestral path."""
    write(logs_dir, "a", requests(2, seed=1))
    done = run_cli("compare", trace_id(0), trace_id(1), "--json", "--dir", str(logs_dir))
    assert [r["path"] for r in orjson.loads(done.stdout)] == [
        "request",
        "request / fetch",
        "request / store",
    ]


def plugin(directory: Path, *args: str) -> tuple[int, str, list[tuple[str, ...]]]:
    """Run a check as a Nagios-style runner: exit code, status word, parsed perfdata."""
    done = run_cli("check", *args, "--dir", str(directory))
    assert done.stdout.count("\n") == 1, done.stdout + done.stderr
    head, _, perf = done.stdout.strip().partition(" | ")
    status = re.fullmatch(r"LOGTRACE (OK|WARNING|CRITICAL|UNKNOWN) - .+", head)
    assert status is not None, head
    return done.returncode, status[1], [m.groups() for m in PERF.finditer(perf)]


def test_check_exit_codes_and_perfdata(logs_dir: Path) -> None:
    """OK 0, WARNING 1, CRITICAL 2 by the ranges; perfdata label, value, ms, warn, crit, min."""
    write(logs_dir, "a", requests(60, seed=1))
    window = ["--name", "fetch", "--since", "2026-11-24T13:00", "--now", "2026-11-24T13:01"]
    code, word, perf = plugin(logs_dir, "p95", *window, "-w", "1000", "-c", "2000")
    assert (code, word) == (0, "OK")
    assert perf[0][0] == "p95" and perf[0][2:] == ("ms", "1000", "2000", "0")
    assert 0 < float(perf[0][1]) < 1000
    assert plugin(logs_dir, "p95", *window, "-w", "~:1", "-c", "~:1000")[:2] == (1, "WARNING")
    assert plugin(logs_dir, "p95", *window, "-w", "~:1", "-c", "@0:1000")[:2] == (2, "CRITICAL")


def test_check_bad_arguments_and_data_are_unknown(tmp_path: Path) -> None:
    """A bad range, a bad metric, an unreadable directory: UNKNOWN, exit 3, one status line."""
    write(tmp_path / "logs", "a", requests(5, seed=1))
    assert plugin(tmp_path / "logs", "p95", "--name", "fetch", "-w", "1:2:3")[:2] == (3, "UNKNOWN")
    assert plugin(tmp_path / "logs", "p42")[:2] == (3, "UNKNOWN")
    assert plugin(tmp_path / "missing", "p95")[:2] == (3, "UNKNOWN")
    assert plugin(tmp_path / "logs")[:2] == (3, "UNKNOWN")


def test_check_slo_file(tmp_path: Path) -> None:
    """--slo FILE: burn rates of each rule as perfdata; a fast burn is CRITICAL."""
    logs = tmp_path / "logs"
    spans = [
        (f"{i + 1:016x}", None, "api", i * 1000.0, 5.0, "error" if i % 2 else "ok")
        for i in range(600)
    ]
    write(logs, "a", trace_lines(trace_id(1), spans))
    rules = tmp_path / "slo.toml"
    rules.write_text('[[slo]]\nname = "api"\nspan = "api"\nobjective = 0.999\nmin_events = 10\n')
    code, word, perf = plugin(logs, "--slo", str(rules), "--now", "2026-11-24T13:10")
    assert (code, word) == (2, "CRITICAL")
    assert [p[0] for p in perf] == ["api burn 1h", "api burn 6h", "api burn 3d"]


def test_advise_command(logs_dir: Path) -> None:
    """advise TRACE names the N+1 with its saving; --since groups over traces; JSON both."""
    spans = [("0000000000000001", None, "request", 0.0, 100.0, "ok")]
    spans += [
        (f"{i + 2:016x}", "0000000000000001", "query", i * 11.0, 10.0, "ok") for i in range(8)
    ]
    write(logs_dir, "a", trace_lines(trace_id(1), spans))
    one = run_cli("advise", trace_id(1), "--dir", str(logs_dir))
    assert one.returncode == 0 and "n_plus_one" in one.stdout and "~70 ms" in one.stdout
    strict = run_cli("advise", trace_id(1), "--repeats", "9", "--json", "--dir", str(logs_dir))
    assert orjson.loads(strict.stdout) == []
    many = run_cli("advise", "--since", "2026-11-24T12:00", "--json", "--dir", str(logs_dir))
    assert orjson.loads(many.stdout)[0]["pattern"] == "n_plus_one"


def test_stats_every_gives_buckets(logs_dir: Path) -> None:
    """stats --every 1m: a row per minute, in text and JSON."""
    write(logs_dir, "a", requests(120, seed=1))
    text = run_cli("stats", "--every", "1m", "--name", "fetch", "--dir", str(logs_dir))
    assert text.returncode == 0, text.stderr
    assert len(text.stdout.splitlines()) == 3 and "2026-11-24T13:01:00Z" in text.stdout
    data = orjson.loads(run_cli("stats", "--every", "1m", "--json", "--dir", str(logs_dir)).stdout)
    assert [r["count"] for r in data] == [180, 180]
    bad = run_cli("stats", "--every", "soon", "--dir", str(logs_dir))
    assert bad.returncode == 2 and "bucket width" in bad.stderr


def test_stats_every_refuses_the_filters_it_cannot_apply(logs_dir: Path) -> None:
    """stats --every filters by --name and --service only: --kind, --min-duration, --attr and
    --status are refused in one line (exit 2), never ignored into buckets of every span."""
    write(logs_dir, "a", requests(5, seed=1))
    for option in (
        ["--kind", "server"],
        ["--min-duration", "5ms"],
        ["--attr", "version=1"],
        ["--status", "ok"],
        ["--errors"],
    ):
        done = run_cli("stats", "--every", "1m", *option, "--dir", str(logs_dir))
        assert done.returncode == 2 and option[0] in done.stderr, (option, done.stderr)
        assert len(done.stderr.splitlines()) == 1 and not done.stdout


def test_check_with_a_time_too_long_ago_is_unknown(tmp_path: Path) -> None:
    """--since 1000000w (before year 1) or 20 digits of days: UNKNOWN, exit 3, a status line."""
    write(tmp_path / "logs", "a", requests(5, seed=1))
    for since in ("1000000w", "99999999999999999999d", "9" * 400 + "d"):
        code, word, _ = plugin(tmp_path / "logs", "p95", "--name", "fetch", "--since", since)
        assert (code, word) == (3, "UNKNOWN")


def test_commands_with_a_time_too_long_ago_say_so_in_a_line(logs_dir: Path) -> None:
    """ls, stats and critical-path --since 1000000w: one line naming --since, exit 2."""
    write(logs_dir, "a", requests(5, seed=1))
    for command in ("ls", "stats", "critical-path"):
        done = run_cli(command, "--since", "1000000w", "--dir", str(logs_dir))
        assert done.returncode == 2 and done.stderr.startswith("--since '1000000w': give")
        assert len(done.stderr.splitlines()) == 1 and "Error" not in done.stderr


def test_check_percentiles_of_a_name_in_two_services_are_over_all_its_spans(
    tmp_path: Path,
) -> None:
    """fetch in two services: p50 over the spans of both (not nothing measured, not a mean of
    two medians); --service narrows it to one."""
    logs = tmp_path / "logs"
    fast = [(f"{i + 1:016x}", None, "fetch", i * 1000.0, 10.0, "ok") for i in range(3)]
    slow = [(f"{i + 9:016x}", None, "fetch", i * 1000.0, 100.0, "ok") for i in range(2)]
    write(logs, "a", trace_lines(trace_id(1), fast, service="a"))
    write(logs, "b", trace_lines(trace_id(2), slow, service="b"))
    window = ["--name", "fetch", "--since", "2026-11-24T12:00", "--now", "2026-11-24T14:00"]
    code, word, perf = plugin(logs, "p50", *window)
    assert (code, word) == (0, "OK") and float(perf[0][1]) == 10.0  # 10 10 10 100 100
    code, word, perf = plugin(logs, "p50", *window, "--service", "b")
    assert (code, word) == (0, "OK") and float(perf[0][1]) == 100.0
    assert plugin(logs, "p50", *window, "--kind", "server")[:2] == (3, "UNKNOWN")


def test_check_slo_file_with_an_unknown_severity_or_key_is_unknown(tmp_path: Path) -> None:
    """severity = "Page", a key no SLO has (a typo), or a window past the clock (it was
    `OverflowError: Python int too large to convert to C int`): UNKNOWN, exit 3, the line
    names the file, the rule and what is allowed."""
    write(tmp_path / "logs", "a", requests(5, seed=1))
    rules = tmp_path / "slo.toml"
    head = '[[slo]]\nname = "api"\nspan = "api"\nobjective = 0.999\n'
    rule = '[[slo.rule]]\nseverity = "Page"\nburn_rate = 10\nlong = "1h"\nshort = "5m"\n'
    for text, says in (
        (head + rule, "slo 1 rule 1: severity 'Page': give 'page' or 'ticket'"),
        (head + rule.replace('"Page"', '"page"\nburnrate = 2'), "unknown key 'burnrate'"),
        (head + "min_event = 5\n", "slo 1: unknown key 'min_event' (allowed: name, span"),
        (
            head + rule.replace('"Page"', '"page"').replace('"1h"', '"99999999999999999999d"'),
            "bad duration '99999999999999999999d': use 30s, 5m, 1h, 3d or 1w (from 1us to",
        ),
    ):
        rules.write_text(text)
        done = run_cli("check", "--slo", str(rules), "--dir", str(tmp_path / "logs"))
        assert done.returncode == 3 and done.stdout.startswith("LOGTRACE UNKNOWN - ")
        assert f"{rules}: {says}" in done.stdout or says in done.stdout, done.stdout
        assert str(rules) in done.stdout


def test_check_slo_file_with_a_burn_rate_that_never_or_always_fires_is_unknown(
    tmp_path: Path,
) -> None:
    """burn_rate = nan, inf or 1e400 (TOML's inf) made a rule that never fires: the check said
    OK with every window burning far over it (`'api burn 1h'=500;nan`), an alert silently off.
    0 or a negative one fired always; min_events = 1e400 was `OverflowError`, 2.5 became 2, a
    span that is not text a DuckDB conversion error, a file that is not UTF-8 a codec error
    without the file's name. Each is UNKNOWN, exit 3, naming the file, the SLO and the key."""
    logs = tmp_path / "logs"
    spans = [
        (f"{i + 1:016x}", None, "api", i * 1000.0, 5.0, "error" if i % 2 else "ok")
        for i in range(600)
    ]
    write(logs, "a", trace_lines(trace_id(1), spans))
    rules = tmp_path / "slo.toml"
    head = '[[slo]]\nname = "api"\nspan = "api"\nobjective = 0.999\nmin_events = 10\n'
    rule = '[[slo.rule]]\nseverity = "page"\nburn_rate = {}\nlong = "1h"\nshort = "5m"\n'
    for text, says in (
        *((head + rule.format(rate), "slo 1 rule 1: burn_rate") for rate in ("nan", "inf",
          "1e400", "0", "-1", '"10"', "true")),
        (head.replace("= 10\n", "= 1e400\n"), "slo 1: min_events inf: give a whole number"),
        (head.replace("= 10\n", "= 2.5\n"), "slo 1: min_events 2.5: give a whole number"),
        (head + "latency = nan\n", "slo 1: latency nan: give a number above 0"),
        (head.replace('span = "api"', 'span = ["api"]'), "slo 1: span ['api']: give a text"),
    ):  # fmt: skip
        rules.write_text(text)
        done = run_cli(
            "check", "--slo", str(rules), "--now", "2026-11-24T13:10", "--dir", str(logs)
        )
        assert done.returncode == 3 and done.stdout.startswith("LOGTRACE UNKNOWN - "), done.stdout
        assert f"{rules}: {says}" in done.stdout, (text, done.stdout)
        assert len(done.stdout.splitlines()) == 1 and "Error" not in done.stdout
    rules.write_bytes(head.encode() + b"name = '\xff'\n")
    done = run_cli("check", "--slo", str(rules), "--dir", str(logs))
    assert done.returncode == 3 and f"cannot read {rules}: not UTF-8" in done.stdout
    rules.write_text(head + rule.format("10"))  # a finite rate still fires: 500x > 10
    code, word, perf = plugin(logs, "--slo", str(rules), "--now", "2026-11-24T13:10")
    assert (code, word) == (2, "CRITICAL") and [p[3] for p in perf] == ["10.0"]
