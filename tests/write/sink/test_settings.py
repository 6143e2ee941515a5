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


def test_whole_numbers_are_kept_as_ints() -> None:
    """A whole number given as a float (1e5) is stored as an int: the sink hands modes and
    sizes to os calls that refuse floats."""
    s = SinkSettings(directory=Path("x"), service="svc", queue_size=1e5, file_mode=384.0)  # type: ignore[arg-type]
    assert (s.queue_size, s.file_mode) == (100_000, 0o600)
    assert (type(s.queue_size), type(s.file_mode)) == (int, int)


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("flush_interval", 0, ValueError),
        ("flush_interval", float("nan"), ValueError),
        ("queue_size", 0.5, TypeError),
        ("rotate_seconds", -1, ValueError),
        ("retention_bytes", "1", TypeError),
        ("file_mode", 0o1000, ValueError),
    ],
)
def test_settings_and_configure_ask_for_the_same(
    tmp_path: Path, name: str, value: object, error: type[Exception]
) -> None:
    """SinkSettings and configure() refuse a sink number alike, asking for the same thing."""
    import logtrace

    with pytest.raises(error) as direct:
        SinkSettings(**{"directory": tmp_path, "service": "svc", name: value})  # type: ignore[arg-type]
    with pytest.raises(error) as through:
        logtrace.configure(service="svc", directory=tmp_path, environ={}, **{name: value})  # type: ignore[arg-type]
    asked = str(direct.value).split(": give ", 1)[1].removesuffix(", or None")
    assert str(direct.value).startswith(f"SinkSettings.{name}=")
    assert str(through.value).startswith(f"configure({name}=")
    assert str(through.value).endswith(f": give {asked}")
    assert not list(tmp_path.iterdir())  # refused before anything was created
