"""Fixtures of the write side's tests: real files in a temporary directory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import logtrace
from logtrace._pipeline import state


def read_lines(directory: Path) -> list[dict[str, Any]]:
    """Every line of every live file under ``directory``, parsed, in file order."""
    lines: list[dict[str, Any]] = []
    for path in sorted(directory.rglob("*.jsonl")):
        lines.extend(orjson.loads(raw) for raw in path.read_bytes().splitlines() if raw)
    return lines


@pytest.fixture
def traced_dir(tmp_path: Path) -> Iterator[Path]:
    """configure() into a fresh directory; shutdown() afterwards, restoring logging."""
    directory = tmp_path / "logtrace"
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    logtrace.configure(service="test", directory=directory, level="debug", environ={})
    try:
        yield directory
    finally:
        logtrace.shutdown()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        state.write = state.write


@pytest.fixture(autouse=True)
def _no_leftover_configuration() -> Iterator[None]:
    yield
    logtrace.shutdown()
