"""Retention deletes exactly the closed files past their age or beyond the budget."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from logtrace.write.sink.retention import apply_retention
from logtrace.write.sink.rotation import file_name, open_live

NOW = 2_000_000_000.0
DAY = 86400.0


def make(directory: Path, pid: int, age_days: float, size: int, suffix: str = ".zst") -> Path:
    """A closed file of ``size`` bytes last written ``age_days`` before NOW."""
    day, name = file_name("svc", "host", pid, int((NOW - age_days * DAY) * 1000))
    path = directory / day / f"{name}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (NOW - age_days * DAY, NOW - age_days * DAY))
    return path


def test_old_closed_files_go_young_ones_live_ones_and_strangers_stay(tmp_path: Path) -> None:
    """Past retention_days: rotated and dead plain files are deleted; a live file, newer files
    and files that are not logtrace's are kept."""
    old_rotated = make(tmp_path, 1, 8, 10)
    old_dead = make(tmp_path, 2, 9, 10, suffix="")
    young = make(tmp_path, 3, 1, 10)
    fd, live, _ = open_live(tmp_path, "svc", "host", 0, 0o600, 0o700)
    os.utime(live, (NOW - 30 * DAY, NOW - 30 * DAY))
    stranger = old_rotated.parent / "notes.txt"
    stranger.write_text("mine")
    os.utime(stranger, (0, 0))
    deleted = apply_retention(tmp_path, 7, now=NOW)
    os.close(fd)
    assert deleted == [old_dead, old_rotated]
    assert young.exists() and live.exists() and stranger.exists()


def test_the_size_budget_deletes_oldest_first_and_counts_live_files(tmp_path: Path) -> None:
    """Beyond retention_bytes, closed files go oldest first until the total fits; the live file
    counts towards the total but is never deleted."""
    files = [make(tmp_path, pid, age, 100) for pid, age in ((1, 5), (2, 4), (3, 3), (4, 2))]
    fd, live, _ = open_live(tmp_path, "svc", "host", 0, 0o600, 0o700)
    os.write(fd, b"y" * 150)
    deleted = apply_retention(tmp_path, 7, retention_bytes=300, now=NOW)
    assert deleted == files[:3]
    assert apply_retention(tmp_path, 7, retention_bytes=0, now=NOW) == files[3:]
    assert live.exists()
    os.close(fd)


def test_empty_day_folders_before_yesterday_are_removed(tmp_path: Path) -> None:
    """Day folders emptied by retention go, unless they are from yesterday or later."""
    old = make(tmp_path, 1, 10, 1)
    recent = make(tmp_path, 2, 0.5, 1)
    recent.unlink()
    apply_retention(tmp_path, 7, now=NOW)
    assert not old.parent.exists() and recent.parent.exists()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 20), st.integers(0, 1000)), max_size=12),
    st.integers(0, 5000),
)
def test_retention_matches_its_definition(files: list[tuple[float, int]], budget: int) -> None:
    """For any ages and sizes: deleted = older than the limit, then oldest while over budget."""
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        made = sorted(
            (path.stat().st_mtime, path.name, path, size)
            for path, size in (
                (make(directory, pid + 1, age, size), size) for pid, (age, size) in enumerate(files)
            )
        )
        expected = [path for mtime, _, path, _ in made if mtime < NOW - 7 * DAY]
        total = sum(size for mtime, _, _, size in made if mtime >= NOW - 7 * DAY)
        for _, _, path, size in made:
            if path in expected:
                continue
            if total <= budget:
                break
            expected.append(path)
            total -= size
        deleted = apply_retention(directory, 7, retention_bytes=budget, now=NOW)
        assert sorted(deleted) == sorted(expected)
