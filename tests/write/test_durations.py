"""A span's duration in the forms its end line writes (``logtrace/write/durations.py``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from logtrace.write.durations import rounded_ms, rounded_us


@given(st.one_of(st.integers(min_value=-(2**60), max_value=2**60), st.integers(0, 10**7)))
def test_duration_is_the_nanoseconds_rounded_to_microseconds_as_round_does(ns: int) -> None:
    """A span's ``duration_ms`` is exactly ``round(ns / 1e6, 3)``, ties and huge values too."""
    assert rounded_ms(ns) == round(ns / 1e6, 3)
    tie = ns - ns % 1000 + 500
    assert rounded_ms(tie) == round(tie / 1e6, 3)


@given(st.one_of(st.integers(min_value=-(2**60), max_value=2**60), st.integers(0, 10**7)))
def test_whole_microseconds_are_those_of_the_duration(ns: int) -> None:
    """``rounded_us`` (what the end line's ts adds to the start's) is ``duration_ms`` in µs."""
    assert rounded_us(ns) / 1000 == rounded_ms(ns)
    tie = ns - ns % 1000 + 500
    assert rounded_us(tie) / 1000 == rounded_ms(tie)
