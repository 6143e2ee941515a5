"""Fixtures of the web view's tests, imported by the modules of tests/web/: the demo's files,
a real server on 127.0.0.1 (port 0), Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="needs the ui extra: pip install 'logtrace[ui]'")

from _web_helpers import CHROMIUM_ARGS

from logtrace.web.server import background

# The demo as its own test runs it (logtrace.cli.demo.run_demo).
DEMO = "import sys; from logtrace.cli.demo import run_demo; sys.exit(run_demo(sys.argv[1:]))"


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files of one run of ``logtrace demo`` (a coordinator and three workers)."""
    directory = tmp_path_factory.mktemp("demo") / "logtrace"
    subprocess.run(
        [sys.executable, "-c", DEMO, "--dir", str(directory), "--no-show"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return directory


@pytest.fixture(scope="session")
def demo_trace(demo_dir: Path) -> str:
    """The demo's trace id."""
    import logtrace

    with logtrace.open(demo_dir) as reader:
        return str(reader.query("recent_traces_no_attr", limit=1)[0]["trace_id"])


@pytest.fixture
def server(demo_dir: Path) -> Iterator[str]:
    """A real server over the demo's files on 127.0.0.1 (a free port); yields its URL."""
    with background(str(demo_dir)) as url:
        yield url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never ``playwright install``)."""
    binary = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        binary = None
    if binary is None:
        if os.environ.get("LOGTRACE_REQUIRE_TOOLS") == "1":
            pytest.fail("chromium and playwright are required (LOGTRACE_REQUIRE_TOOLS=1)")
        pytest.skip("needs chromium (apt-get install chromium) and playwright (pip)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=binary, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh page; fails the test on any script error or CSP violation it reports."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.problems = problems
    yield page
    context.close()
