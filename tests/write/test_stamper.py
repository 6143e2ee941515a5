"""The stamper: logtrace's fields in a fixed order, the time as RFC 3339."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from logtrace.write.context import SpanContext
from logtrace.write.redact import Scrubber
from logtrace.write.stamper import Stamper, format_ts


def test_format_ts_is_rfc3339_utc_microseconds() -> None:
    """Timestamps are RFC 3339 in UTC with six fractional digits and a Z."""
    assert format_ts(1_767_225_600_123_456_789) == "2026-01-01T00:00:00.123456Z"
    assert format_ts(1_767_225_601_000_000_000) == "2026-01-01T00:00:01.000000Z"


_NEAR = 1_767_225_600_000_000_000


@given(
    st.lists(
        st.one_of(
            st.integers(0, 2**62),
            st.integers(_NEAR - 3_000_000, _NEAR + 3_000_000),  # across ms and s boundaries
        ),
        max_size=50,
    )
)
def test_format_ts_is_the_calendar_time_whatever_came_before(times: list[int]) -> None:
    """Each time is formatted as itself, in whatever order times come (the ms and second
    formatted last are remembered)."""
    for ns in times:
        when = datetime.datetime.fromtimestamp(ns // 1_000_000_000, datetime.UTC)
        micros = ns % 1_000_000_000 // 1000
        assert format_ts(ns) == f"{when:%Y-%m-%dT%H:%M:%S}.{micros:06d}Z"


def test_span_lines_keep_the_documented_field_order() -> None:
    """Start and end lines list logtrace's fields in one fixed order, then the attributes."""
    ctx = SpanContext("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    stamper = Stamper("svc")
    start = stamper.boundary_line(ctx, 0, "load", None, None, {"rows": 3})
    end = stamper.boundary_line(ctx, 0, "load", None, 1.5, {"done": True})
    ids = ["ts", "level", "event", "trace_id", "span_id", "trace_flags", "span", "name"]
    tail = ["logger", "service", "pid"]
    assert list(start) == [*ids, "parent_id", *tail, "rows"]
    assert list(end) == [*ids, "parent_id", "duration_ms", "status", *tail, "done"]


_KEYS = st.one_of(
    st.sampled_from(
        [
            "a",
            "rows",
            "password",
            "API-Key",
            "payload",
            "body",
            "trace_id",
            "event",
            "level",
            "exc_info",
            "_logtrace_origin",
            "name",
            "ts",
            "attributes_dropped",
        ]
    ),
    st.text(max_size=12),
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["Bearer abcdefghijklmnop", "sk_live_abcdefghijklmnopqrstuv", "x" * 40]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["password", "k"]), st.text(max_size=10), max_size=2),
    st.binary(max_size=10),
)


@given(st.dictionaries(_KEYS, _VALUES, max_size=8), st.sampled_from([128, 3]))
def test_end_lines_copy_attributes_as_copy_fields_does(
    attributes: dict[str, object], max_attributes: int
) -> None:
    """A successful end line's attributes are what ``copy_fields`` makes of them (redacted,
    renamed, limited, in order), whether their keys were judged before or not."""
    ctx = SpanContext("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    stamper = Stamper("svc", scrubber=Scrubber(max_attributes=max_attributes))
    for _ in range(2):  # the second time, every key has been judged
        line = stamper.end_line(ctx, "t", "s", 0, "load", None, 1.5, attributes)
        expected = dict(list(line.items())[:14])
        stamper.scrubber.copy_fields(expected, attributes, rename=True, skip=False)
        assert list(line.items()) == list(expected.items())


def test_format_ts_of_the_last_second_before_1970_as_the_first_it_formats() -> None:
    """Second -1 was the cache's "nothing formatted yet": first in a fresh process, its date
    was lost (``999999Z``)."""
    import subprocess
    import sys

    code = "from logtrace.write.stamper import format_ts; print(format_ts(-1))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "1969-12-31T23:59:59.999999Z"
