"""Text of the files shown, not obeyed: ``visible`` and the CLI's output of hostile logs."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import log_line, span_lines, write_jsonl
from hypothesis import given
from hypothesis import strategies as st

from logtrace.cli.main import make_console
from logtrace.cli.visible import visible

Cli = Callable[..., subprocess.CompletedProcess[str]]
TRACE = "0194f3a2000000000000000000000abc"
ROOT = "a" * 16
# What a program may log: a window title, a screen clear, a carriage return, rich markup, an
# emoji code, a bidi override and isolate, a C1 CSI.
NAME = "q\x1b]0;pwned\x07\x1b[2J\rX [bold]b[/bold] [/x] :smile: \u202eevil\u2066"
CHILD = "fetch\x1b[7m\n[red]x[/red]"
SERVICE = "e\x1b[31mvil\r"
MESSAGE = "ok\n13:00:00.000 info forged: line\tend\x9b31m"
LOGGER = "app\x1b[1m"
ERROR = ("Bad\x1bError", "boom\r\nforged line \u202e")
ATTRIBUTES = {"note": "a\nb\x1b[0m", "k\x1bey": "v"}
# Nothing of the data may reach the terminal raw: tab included (it breaks the columns).
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_visible_escapes_controls_and_bidi() -> None:
    """ESC, CR, LF, tab, DEL, C1 and bidi controls become escapes; other text is kept."""
    assert visible("a\x1b[31mb") == "a\\x1b[31mb"
    assert visible("1\n2\r3\t4") == "1\\n2\\r3\\t4"
    assert visible("\x00\x07\x7f\x85\x9b") == "\\x00\\x07\\x7f\\x85\\x9b"
    assert visible("\u202aa\u202eb\u2066c\u2069") == "\\u202aa\\u202eb\\u2066c\\u2069"
    assert visible("C:\\path ünï 日本 [bold] \u200b") == "C:\\path ünï 日本 [bold] \u200b"


def test_visible_returns_clean_text_itself() -> None:
    """Text without controls is returned as it is, not copied."""
    text = "span name with spaces, ünicode and [brackets]" * 3
    assert visible(text) is text


@given(st.text())
def test_visible_leaves_no_control(text: str) -> None:
    """For any text: no control or bidi character is left, and clean text is unchanged."""
    shown = visible(text)
    assert UNSAFE.search(shown) is None
    if UNSAFE.search(text) is None:
        assert shown == text


def test_console_prints_markup_and_emoji_codes_literally() -> None:
    """make_console prints a string as it is: rich markup and :emoji: codes are not read."""
    out = io.StringIO()
    make_console(out).print("[bold]b[/bold] [/x] :smile:")
    assert out.getvalue() == "[bold]b[/bold] [/x] :smile:\n"


# -- the CLI, on a trace of hostile text -------------------------------------------------------


@pytest.fixture
def hostile(logs_dir: Path) -> Path:
    """A trace whose names, service, logger, messages, attributes and error carry controls:
    a root, six sequential children of one name (an N+1 for advise), a log line."""
    lines: list[dict[str, Any]] = [
        *span_lines(TRACE, ROOT, None, NAME, 0, 70, service=SERVICE, attributes=ATTRIBUTES)
    ]
    for i in range(6):
        failed = i == 5
        lines += span_lines(
            TRACE,
            f"{i + 1:016x}",
            ROOT,
            CHILD,
            1 + 10 * i,
            9,
            service=SERVICE,
            status="error" if failed else "ok",
            error=ERROR if failed else None,
        )
    lines.append(log_line(TRACE, ROOT, MESSAGE, 65, logger=LOGGER, **ATTRIBUTES))
    write_jsonl(logs_dir / "2026-11-24" / "hostile.jsonl", lines)
    return logs_dir


def shown(cli: Cli, *args: str) -> list[str]:
    """Run a command; check it succeeded and printed nothing raw; its lines."""
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert RAW.search(result.stdout) is None, repr(result.stdout)
    assert "\x1b" not in result.stderr
    return result.stdout.split("\n")[:-1]


def test_show_prints_escapes_not_controls(cli: Cli, hostile: Path) -> None:
    """show (scan and DuckDB paths): escapes instead of controls, one line per span and log,
    markup printed as written."""
    for verbose in ([], ["-v"]):
        lines = shown(cli, "show", TRACE[:12], "--dir", str(hostile), *verbose)
        assert len(lines) == 1 + 7 + 1, lines
        out = "\n".join(lines)
        assert "q\\x1b]0;pwned\\x07\\x1b[2J\\rX [bold]b[/bold] [/x] :smile: \\u202eevil" in out
        assert "e\\x1b[31mvil\\r[100]" in out
        assert "fetch\\x1b[7m\\n[red]x[/red]" in out
        assert "Bad\\x1bError: boom\\r\\nforged line \\u202e" in out
        assert "app\\x1b[1m: ok\\n13:00:00.000 info forged: line\\tend\\x9b31m" in out
        assert 'note="a\\nb\\x1b[0m"' in out or "note=a\\nb\\x1b[0m" in out


def test_show_json_keeps_the_exact_text(cli: Cli, hostile: Path) -> None:
    """show --json gives the strings as written, controls and all (JSON escapes them)."""
    for verbose in ([], ["-v"]):
        result = cli("show", TRACE, "--dir", str(hostile), "--json", *verbose)
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout and "\r" not in result.stdout
        data = orjson.loads(result.stdout)
        assert {s["name"] for s in data["spans"]} == {NAME, CHILD}
        assert {s["service"] for s in data["spans"]} == {SERVICE}
        failed = next(s for s in data["spans"] if s["status"] == "error")
        assert (failed["error_type"], failed["error_message"]) == ERROR
        root = next(s for s in data["spans"] if s["name"] == NAME)
        assert root["attributes"]["note"] == ATTRIBUTES["note"]
        (log,) = data["logs"]
        assert (log["message"], log["logger"]) == (MESSAGE, LOGGER)


def test_ls_stats_sql_print_escapes(cli: Cli, hostile: Path) -> None:
    """ls, stats, stats --every and sql: one line per row, controls as escapes."""
    d = str(hostile)
    for verbose in ([], ["-v"]):
        (line,) = shown(cli, "ls", "--dir", d, *verbose)
        assert "q\\x1b]0;pwned" in line and "e\\x1b[31mvil\\r" in line
    stats = shown(cli, "stats", "--dir", d)
    assert len(stats) == 2 + 2 and "fetch\\x1b[7m\\n[red]x[/red]" in stats[2] + stats[3]
    assert len(shown(cli, "stats", "--dir", d, "--every", "1m")) == 2
    rows = shown(cli, "sql", "select name, service, attributes from spans", "--dir", d)
    assert len(rows) == 1 + 7 and "e\\x1b[31mvil\\r" in rows[1]


def test_tail_prints_escapes(cli: Cli, hostile: Path) -> None:
    """tail --from-start: one line per line of the file, controls as escapes; --json exact."""
    d = str(hostile)
    lines = shown(cli, "tail", "--dir", d, "--from-start", "--for", "0")
    assert len(lines) == 2 * 7 + 1
    assert any("▶ q\\x1b]0;pwned" in line for line in lines)
    assert any("app\\x1b[1m: ok\\n13:00" in line for line in lines)
    assert shown(cli, "tail", "--dir", d, "--from-start", "--count", "3") == lines[:3]
    raw = cli("tail", "--dir", d, "--from-start", "--for", "0", "--json").stdout
    names = {orjson.loads(line).get("name") for line in raw.splitlines()}
    assert names == {NAME, CHILD, None}


def test_analytics_commands_print_escapes(cli: Cli, hostile: Path) -> None:
    """critical-path (one trace, many), advise (one trace, many), compare: escapes only."""
    d = str(hostile)
    path = orjson.loads(cli("critical-path", TRACE, "--dir", d, "--json").stdout)
    one = shown(cli, "critical-path", TRACE, "--dir", d)
    assert len(one) == 2 + len(path["sections"]) + 1 + 1 + len(path["on_path_ms"])
    assert any("fetch\\x1b[7m\\n[red]x[/red]" in line for line in one)
    many = shown(cli, "critical-path", "--dir", d)
    assert len(many) == 1 + 2
    findings = orjson.loads(cli("advise", TRACE, "--dir", d, "--json").stdout)
    advice = shown(cli, "advise", TRACE, "--dir", d)
    assert findings and len(advice) == len(findings)
    assert any("fetch\\x1b[7m\\n[red]x[/red]" in line for line in advice)
    assert len(shown(cli, "advise", "--dir", d)) == 1 + len({f["pattern"] for f in findings})
    pairs = shown(cli, "compare", TRACE, TRACE, "--dir", d)
    assert any("\\x1b" in line for line in pairs[1:])


def test_errors_that_quote_the_data_print_escapes(cli: Cli, hostile: Path) -> None:
    """An error quoting a value of the files (DuckDB's failed cast) is one line of escapes."""
    result = cli("sql", "select name::INTEGER from spans", "--dir", str(hostile))
    assert result.returncode == 2
    assert RAW.search(result.stderr) is None and len(result.stderr.splitlines()) == 1
    assert "\\x1b" in result.stderr
