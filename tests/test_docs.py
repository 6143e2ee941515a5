"""The README's front door and the docs/ pages: their commands and examples work as written."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from conftest import Written

import logtrace

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SETUP_AND_DEMO = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/logtrace demo"
TESTS = "python3 -m venv .venv && .venv/bin/pip install tox && .venv/bin/tox"
EXAMPLE_ID = "01a20dc97b0fbed0"  # the id the README's console example abbreviates


def blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of one language, in document order."""
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.M | re.S)


def pages() -> list[Path]:
    """Every Markdown page of the manual."""
    return sorted(DOCS.rglob("*.md"))


def test_the_readme_opens_with_the_two_commands() -> None:
    """The README's first lines are the set-up-and-demo and the test commands, nothing else."""
    lines = README.read_text(encoding="utf-8").splitlines()
    title = "# logtrace — tracing you can grep"
    assert lines[:6] == [title, "", "```sh", SETUP_AND_DEMO, TESTS, "```"]


def test_ci_runs_the_readmes_test_command() -> None:
    """.ci/run does what the README's test command does: a venv, tox into it, then tox."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for step in ("python3 -m venv .venv", ".venv/bin/pip install -q tox", "\n.venv/bin/tox"):
        assert step in script, step


def test_tox_runs_the_docs_build_with_warnings_as_errors() -> None:
    """`tox` (and so .ci/run) builds the manual, and the build fails on any warning."""
    tox = (ROOT / "tox.ini").read_text(encoding="utf-8")
    env_list = re.search(r"^env_list = (.*)$", tox, flags=re.M)
    assert env_list is not None and "docs" in env_list[1].replace(",", " ").split()
    docs_env = tox.split("[testenv:docs]", 1)[1].split("\n[", 1)[0]
    assert "mkdocs build --strict" in docs_env


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page() -> None:
    """mkdocs.yml's nav lists exactly the pages of docs/, index.md first."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = re.findall(r"^\s*-\s*(?:[^:\n]+:\s*)?([\w/.-]+\.md)\s*$", config, flags=re.M)
    assert listed[0] == "index.md"
    assert sorted(listed) == sorted(str(p.relative_to(DOCS)) for p in pages())


def test_the_readmes_links_into_docs_lead_to_pages_and_headings() -> None:
    """Every README link into docs/ names an existing page (and, with #, one of its headings)."""
    links = re.findall(r"\]\((docs/[^)#\s]*)(#[^)\s]*)?\)", README.read_text(encoding="utf-8"))
    assert len(links) >= 20
    for target, anchor in links:
        page = ROOT / target
        assert page.is_file(), target
        if anchor:
            assert anchor[1:] in _anchors(page), f"{target}{anchor}"


def _anchors(page: Path) -> set[str]:
    """The ids MkDocs gives a page's headings (lowercase, punctuation dropped, spaces as -)."""
    text = re.sub(r"^```.*?^```$", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    heads = re.findall(r"^#+ (.*)$", text, flags=re.M)
    return {re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", h).strip().lower()) for h in heads}


def test_every_logtrace_name_in_the_examples_exists() -> None:
    """Each `logtrace.<name>` used in a Python example of the README or docs/ is public API."""
    used: set[str] = set()
    for path in [README, *pages()]:
        for code in blocks(path.read_text(encoding="utf-8"), "python"):
            tree = ast.parse(code)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "logtrace"
                ):
                    used.add(node.attr)
    assert {"configure", "span", "traced", "inject", "child_env", "open"} <= used
    missing = sorted(name for name in used if not hasattr(logtrace, name))
    assert not missing, missing


def test_the_use_it_example_writes_a_span_and_a_log_line_inside_it(tmp_path: Path) -> None:
    """The README's first Python example, run as a script, writes the span and its log line."""
    text = README.read_text(encoding="utf-8")
    example = blocks(text.split("## Use it", 1)[1], "python")[0]
    script = tmp_path / "example.py"
    script.write_text(example, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGTRACE_", "OTEL_"))}
    env["LOGTRACE_DIR"] = str(tmp_path / "logtrace")
    subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=60)
    [path] = (tmp_path / "logtrace").rglob("*.jsonl")
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    log, end = lines[1:3]  # a short span: its end line alone, holding every attribute
    assert (end["span"], end["name"], end["task_id"]) == ("end", "dispatch", 42)
    assert (log["event"], log["span_id"], log["trace_id"]) == (
        "sending task",
        end["span_id"],
        end["trace_id"],
    )
    assert (end["attempt"], end["service"]) == (2, "coordinator")


@pytest.mark.tools("zstd")
def test_the_readmes_console_examples_run(written: Written) -> None:
    """Each `$ logtrace …` and grep line of the README's use-it part runs on real files."""
    text = README.read_text(encoding="utf-8").split("## Use it", 1)[1]
    commands = [
        line[2:].split("  #", 1)[0].strip()
        for code in blocks(text, "console")
        for line in code.splitlines()
        if line.startswith("$ ")
    ]
    assert len(commands) >= 5
    trace = written.trace_ids()[1]
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for command in commands:
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command.replace(EXAMPLE_ID, trace[:16])],
            cwd=written.directory.parent,
            env={**os.environ, "PATH": path},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout.strip(), command
        if EXAMPLE_ID in command:
            assert trace in done.stdout, command


def test_every_configure_argument_and_variable_is_in_the_configuration_table() -> None:
    """docs/configuration.md's table names every argument of configure() and every
    LOGTRACE_* variable the write side reads, and nothing that is neither."""
    import inspect

    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", page, flags=re.M)
    arguments = {name for cell, _ in rows for name in re.findall(r"`(\w+)`", cell)}
    assert arguments == set(inspect.signature(logtrace.configure).parameters)
    variables = {v for _, cell in rows for v in re.findall(r"`(LOGTRACE_\w+)", cell)}
    source = "".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "logtrace" / "write").glob("*.py")
    )
    assert variables == set(re.findall(r"\b(LOGTRACE_[A-Z_]+)\b", source))


def test_every_reader_member_and_open_argument_is_documented() -> None:
    """Each public method and property of the Reader, and each argument of logtrace.open(),
    is named in docs/python.md (the analytics may be described in docs/analytics.md)."""
    import inspect

    from logtrace.read.reader import Reader

    page = (DOCS / "python.md").read_text(encoding="utf-8")
    analytics = (DOCS / "analytics.md").read_text(encoding="utf-8")
    members = {name for name in dir(Reader) if not name.startswith("_")}
    members |= {"files", "all_files", "unreadable_files", "since", "until", "closed"}  # __init__
    assert not [n for n in sorted(members) if not re.search(rf"\b{n}\b", page)]
    assert not [n for n in sorted(members) if f"`{n}" not in page + analytics]
    for argument in inspect.signature(logtrace.open).parameters:
        assert f"{argument}=" in page, argument


def test_every_public_name_is_in_the_manual() -> None:
    """Each name of logtrace.__all__ is on some page of the manual, in text or an example."""
    text = "".join(p.read_text(encoding="utf-8") for p in [README, *pages()])
    missing = [n for n in logtrace.__all__ if not re.search(rf"\b{n}\b", text)]
    assert not missing, missing


def test_every_option_of_every_command_is_in_the_manual() -> None:
    """Each option of each `logtrace` command's parser is named in the README or docs/."""
    import argparse

    from logtrace.cli.main import build_parser

    text = "".join(p.read_text(encoding="utf-8") for p in [README, *pages()])
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [
        f"{name} {action.option_strings[-1]}"
        for name, command in commands.choices.items()
        for action in command._actions
        if action.option_strings and action.dest != "help"
        if not any(
            re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text) for o in action.option_strings
        )
    ]
    assert len(commands.choices) >= 15 and not missing, missing
