"""Fixtures of the write side's tests: real files in a temporary directory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from _sink_fixtures import raw_lines
from hypothesis import strategies as st

import logtrace
from logtrace import testing
from logtrace.write.pipeline import state


def read_lines(directory: Path) -> list[dict[str, Any]]:
    """Every line of every file under ``directory``, live or compressed, parsed, in file order.

    A test that configures again closes the fixture's first file, and the new configuration
    compresses it in the background: it may turn into ``.jsonl.zst`` between the listing and
    the reading (a flaky FileNotFoundError once), so a file gone means: list again.
    """
    for _ in range(10):
        try:
            lines: list[dict[str, Any]] = []
            for path in log_files_below(directory):
                lines.extend(orjson.loads(raw) for raw in raw_lines(path) if raw)
            return lines
        except FileNotFoundError:
            continue
    raise AssertionError(f"the files under {directory} kept changing while read")


def log_files_below(directory: Path) -> list[Path]:
    """Live and compressed files, in name order; a ``.zst`` whose ``.jsonl`` is still there
    (being written) is left for the next listing."""
    paths = sorted(directory.rglob("*.jsonl*"))
    names = {p.name for p in paths}
    return [
        p
        for p in paths
        if p.name.endswith(".jsonl")
        or (p.name.endswith(".jsonl.zst") and p.name.removesuffix(".zst") not in names)
    ]


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


KEYS = st.sampled_from(
    ["task_id", "name", "level", "password", "payload", "note", "trace_id", "n", "exc_info"]
)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.just("Bearer abcdefghijklmnop")
    | st.just("postgres://u:pw12345678@h/db"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)


def through_both_paths(write: Callable[[], None]) -> list[list[bytes]]:
    """The lines ``write`` makes, as written, on the direct path and then through the generic
    chain (forced by a processor that changes nothing)."""
    from logtrace.write.pipeline import direct, state, writing_to

    def unchanged(logger: object, method: str, event_dict: dict[str, object]) -> object:
        return event_dict

    lines: list[list[bytes]] = []
    for generic in (False, True):
        written: list[bytes] = []
        if generic:
            state.processors.insert(0, unchanged)
        try:
            with writing_to(written.append):
                assert direct() is not generic
                write()
        finally:
            if generic:
                state.processors.remove(unchanged)
        lines.append(written)
    return lines
