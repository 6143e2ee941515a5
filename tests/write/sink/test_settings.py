"""SinkSettings: defaults as documented, unusable values refused at configure time."""

from __future__ import annotations

from pathlib import Path

import pytest

from logtrace.write.sink.settings import SinkSettings


def test_defaults() -> None:
    """Defaults: flush every second, 100k queue, drop, 64 MiB / 1 h rotation, 7 days, 0600/0700."""
    s = SinkSettings(directory="logs", service="svc")  # type: ignore[arg-type]
    assert s.directory == Path("logs")
    assert (s.flush, s.flush_interval, s.queue_size, s.overflow) == (
        "interval",
        1.0,
        100_000,
        "drop",
    )
    assert (s.rotate_bytes, s.rotate_seconds, s.retention_days) == (64 << 20, 3600.0, 7.0)
    assert (s.retention_bytes, s.file_mode, s.dir_mode) == (None, 0o600, 0o700)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("flush", "sometimes"),
        ("flush_interval", 0),
        ("queue_size", 0),
        ("overflow", "wait"),
        ("rotate_bytes", 0),
        ("retention_days", 0),
        ("retention_bytes", -1),
        ("file_mode", 0o1000),
    ],
)
def test_unusable_values_are_refused(name: str, value: object) -> None:
    """A value the sink cannot work with raises ValueError naming the setting."""
    with pytest.raises(ValueError, match=name):
        SinkSettings(**{"directory": Path("x"), "service": "svc", name: value})  # type: ignore[arg-type]
