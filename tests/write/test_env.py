"""Settings from the environment: typed, and a bad value warns and falls back."""

from __future__ import annotations

from pathlib import Path

import pytest

from logtrace.write.env import EnvReader


def test_sizes_and_durations_take_units() -> None:
    """Sizes accept K/M/G and durations s/m/h/d suffixes."""
    env = EnvReader({"A": "64M", "B": "1h", "C": "2048", "D": "1.5d"})
    assert env.size("A", 0) == 64 * 2**20
    assert env.duration("B", 0) == 3600
    assert env.size("C", 0) == 2048
    assert env.duration("D", 0) == 1.5 * 86400


@pytest.mark.parametrize(
    ("method", "value", "default", "said"),
    [
        ("size", "lots", 5, "using 5"),
        ("size", "0", 5, "using 5"),
        ("duration", "-3", 7.0, "using 7.0"),
        ("number", "abc", 1.0, "using 1.0"),
        ("mode", "999", 0o600, "using 0o600"),
    ],
)
def test_bad_value_names_itself_and_uses_default(
    method: str, value: str, default: object, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad value gives one stderr line naming the variable and value, and the default it
    uses (a bad size said "using None" while it used its default)."""
    env = EnvReader({"LOGTRACE_X": value})
    assert getattr(env, method)("LOGTRACE_X", default) == default
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"LOGTRACE_X={value!r}" in err and err.rstrip().endswith(said)


@pytest.mark.parametrize("method", ["flag", "optional_size"])
def test_a_bad_optional_value_is_taken_as_unset_and_says_so(
    method: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """LOGTRACE_ENABLED=maybe or LOGTRACE_RETENTION_BYTES=x: as if unset, in those words (it
    said "using None")."""
    assert getattr(EnvReader({"LOGTRACE_X": "maybe"}), method)("LOGTRACE_X") is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith("; ignoring it, as if unset")


def test_a_size_that_is_not_whole_warns_and_uses_the_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """LOGTRACE_MAX_LINE=1.5 was taken as 1 byte without a word; 1.5K is 1,536 bytes and
    stays accepted."""
    env = EnvReader({"A": "1.5", "B": "1.5K", "C": "1.0001K", "D": "0.5"})
    assert env.size("A", 4096) == 4096
    assert capsys.readouterr().err == (
        "logtrace: A='1.5' is not a positive whole size such as 65536 or 64M; using 4096\n"
    )
    assert env.size("B", 1) == 1536 and env.size("C", 7) == 7
    assert env.optional_size("D") is None and env.optional_size("B") == 1536
    assert "ignoring it, as if unset" in capsys.readouterr().err


def test_service_from_logtrace_then_otel_vars() -> None:
    """LOGTRACE_SERVICE wins over OTEL_SERVICE_NAME, which wins over the resource attribute."""
    assert EnvReader({"LOGTRACE_SERVICE": "a", "OTEL_SERVICE_NAME": "b"}).service() == "a"
    assert EnvReader({"OTEL_SERVICE_NAME": "b"}).service() == "b"
    resource = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod, service.name=c"}
    assert EnvReader(resource).service() == "c"
    assert EnvReader({}).service() is None


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, True),
        ({"LOGTRACE_ENABLED": "0"}, False),
        ({"LOGTRACE_ENABLED": "true"}, True),
        ({"OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_SDK_DISABLED": "true", "LOGTRACE_ENABLED": "1"}, True),
    ],
)
def test_enabled_from_logtrace_or_otel(environ: dict[str, str], expected: bool) -> None:
    """LOGTRACE_ENABLED decides; otherwise OTEL_SDK_DISABLED=true turns tracing off."""
    assert EnvReader(environ).enabled() is expected


@pytest.mark.parametrize(
    "variable",
    [
        "LOGTRACE_FLUSH_INTERVAL",
        "LOGTRACE_QUEUE_SIZE",
        "LOGTRACE_ROTATE_BYTES",
        "LOGTRACE_ROTATE_SECONDS",
        "LOGTRACE_RETENTION_DAYS",
    ],
)
def test_zero_where_a_positive_value_is_needed_never_stops_configure(
    variable: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 0 for a setting that must be positive warns and uses the default; configure() runs."""
    import logtrace

    try:
        logtrace.configure(directory=tmp_path, environ={variable: "0"})
    finally:
        logtrace.shutdown()
    assert f"{variable}='0'" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "-3", "inf", "x"])
def test_a_bad_optional_number_is_taken_as_unset_in_those_words(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """LOGTRACE_SAMPLE_RATE=nan or LOGTRACE_SLOW_MS=-3: as if unset, in those words (it said
    "using -1.0", a value of its own, not the default)."""
    assert EnvReader({"LOGTRACE_SLOW_MS": value}).optional_number("LOGTRACE_SLOW_MS") is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith("; ignoring it, as if unset")
    assert EnvReader({"LOGTRACE_SLOW_MS": "2.5"}).optional_number("LOGTRACE_SLOW_MS") == 2.5


def test_a_huge_bad_value_is_quoted_cut_short(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad value of 100,000 characters: the warning quotes its start."""
    assert (
        EnvReader({"LOGTRACE_SLOW_MS": "z" * 100_000}).optional_number("LOGTRACE_SLOW_MS") is None
    )
    assert len(capsys.readouterr().err) < 300


def test_counts_and_infinity_read_as_the_arguments_take_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """LOGTRACE_MAX_DEPTH=1.5 was taken as 1 without a word, LOGTRACE_MAX_ATTRIBUTES=0 refused
    (the argument takes 0), LOGTRACE_RETENTION_DAYS=inf refused (the argument takes math.inf)."""
    env = EnvReader({"A": "1.5", "B": "0", "C": "inf", "D": "2K", "E": "-1"})
    assert env.count("A", 50) == 50 and "is not a whole number of at least 0; using 50" in (
        capsys.readouterr().err
    )
    assert env.count("B", 128) == 0 and env.count("D", 1) == 2048 and env.count("E", 3) == 3
    assert env.number("C", 7.0, positive=True, infinite=True) == float("inf")
    assert env.number("C", 7.0, positive=True) == 7.0
