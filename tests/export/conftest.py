"""Fixtures of the export tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from _export_helpers import write_traces


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two traces written by real processes (a coordinator and a worker per trace), rotated."""
    directory = tmp_path_factory.mktemp("written") / "logtrace"
    write_traces(directory, 2)
    return directory
