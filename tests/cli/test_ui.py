"""``logtrace ui`` (logtrace/cli/ui.py): a real server started from the command line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from _web_helpers import write_big_trace

pytest.importorskip("starlette", reason="needs the ui extra: pip install 'logtrace[ui]'")


def _ui(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "logtrace", "ui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_ui_prints_its_url_and_serves_until_interrupted(tmp_path: Path) -> None:
    """`logtrace ui --port 0` prints a 127.0.0.1 URL, answers there, and stops on Ctrl-C."""
    trace_id = write_big_trace(tmp_path, batches=2, items=3)
    server = _ui("--dir", str(tmp_path), "--port", "0")
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith(f"logtrace ui: serving {tmp_path} at http://127.0.0.1:")
        url = first.split(" at ", 1)[1].strip()
        assert "token" not in url
        answer = httpx.get(url + "api/traces", timeout=60).json()
        assert [t["trace_id"] for t in answer["traces"]] == [trace_id]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert server.stderr is not None and "Traceback" not in server.stderr.read()


def test_ui_on_another_host_prints_a_token_url(tmp_path: Path) -> None:
    """With --host 0.0.0.0 the printed URL carries a token, and requests need it."""
    write_big_trace(tmp_path, batches=1, items=1)
    server = _ui("--dir", str(tmp_path), "--port", "0", "--host", "0.0.0.0")
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split(" at ", 1)[1].strip()
        assert "?token=" in url
        local = url.replace("0.0.0.0", "127.0.0.1")
        assert httpx.get(local.split("?")[0] + "api").status_code == 403
        assert httpx.get(local, follow_redirects=True).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def test_ui_bad_input_is_one_line(tmp_path: Path) -> None:
    """A missing directory or a port in use: one line on stderr, exit 2, no traceback."""
    missing = subprocess.run(
        [sys.executable, "-m", "logtrace", "ui", "--dir", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    write_big_trace(tmp_path, batches=1, items=1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = subprocess.run(
            [sys.executable, "-m", "logtrace", "ui", "--dir", str(tmp_path), "--port", port],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert busy.returncode == 2
    assert busy.stderr.strip().splitlines() == [
        f"cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
