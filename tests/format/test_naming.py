"""File naming shared by both halves: names parse back, and the flock test of a live file."""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from logtrace.format.fields import FILE_NAME_PATTERN
from logtrace.format.naming import file_name, is_locked, sanitise


@given(st.text(), st.text(), st.integers(1, 2**22), st.integers(0, 2**42))
def test_names_parse_back_whatever_service_and_host(
    service: str, host: str, pid: int, opened_ms: int
) -> None:
    """Any service and host give a name that FILE_NAME_PATTERN splits back into its parts."""
    day, name = file_name(service, host, pid, opened_ms)
    match = re.fullmatch(FILE_NAME_PATTERN, name)
    assert match is not None
    assert match["service"] == sanitise(service) and match["host"] == sanitise(host)
    assert match["pid"] == str(pid) and not name.startswith(".")
    assert match["opened"][:8] == day.replace("-", "")


def test_is_locked_tells_live_from_dead_and_gone(tmp_path: Path) -> None:
    """is_locked: True while a flock is held, False once released, None when the file is gone."""
    path = tmp_path / "f"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    assert is_locked(path) is True
    os.close(fd)
    assert is_locked(path) is False
    path.unlink()
    assert is_locked(path) is None
