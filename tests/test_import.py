"""Importing logtrace is cheap and inert: no read side, no threads, no files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import os, sys, threading
before = set(os.listdir("."))
import logtrace
heavy = [m for m in ("duckdb", "rich", "pyarrow", "structlog", "zstandard", "opentelemetry",
                     "httpx", "requests") if m in sys.modules]
print(heavy, threading.active_count(), sorted(set(os.listdir(".")) - before))
"""


def test_import_loads_no_read_side_starts_no_thread_creates_no_file(tmp_path: Path) -> None:
    """`import logtrace` imports no read side or integration, starts no thread, makes no file."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[] 1 []"


def test_the_issue_one_liner_prints_false(tmp_path: Path) -> None:
    """The documented check prints False."""
    code = "import logtrace, sys; print('duckdb' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout == "False\n"


def test_open_is_reachable_lazily() -> None:
    """logtrace.open is in __all__ and resolves on first use."""
    import logtrace

    assert "open" in logtrace.__all__
    assert sorted(logtrace.__all__) == logtrace.__all__
