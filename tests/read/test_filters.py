"""Times, widths and filters as the CLI and the web view take them (logtrace/read/filters.py)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from logtrace.read.files import ReadError
from logtrace.read.filters import parse_when, when, when_option

NOW = datetime(2026, 11, 24, 13, 0)


@pytest.mark.parametrize("text", ["0001-01-01T00:00+05:00", "9999-12-31T23:00-05:00"])
def test_a_zoned_time_past_the_calendar_is_no_time(text: str) -> None:
    """A zoned time whose UTC falls before year 1 or after 9999 is refused as a time that does
    not parse (astimezone's OverflowError escaped: a 500 from the web view's /api/traces,
    `logtrace: OverflowError: date value out of range` from ls --since)."""
    with pytest.raises(ValueError):
        parse_when(text, NOW)
    with pytest.raises(ReadError, match="^" + re.escape(f"--since '{text}': give a duration (30s")):
        when_option("since", text, NOW)
    with pytest.raises(ReadError, match="^" + re.escape(f"since '{text}': give a datetime")):
        when(text, NOW, name="since")
    assert parse_when("0001-01-01T05:00+05:00", NOW) == datetime(1, 1, 1)
