"""Filters of the read side, CLI-independent: durations, points in time, the filter options of
``ls``/``stats`` turned into the ``$parameters`` of the queries.
"""

from __future__ import annotations

import contextlib
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from logtrace.format import fields as f
from logtrace.format.shown import short_repr
from logtrace.read.files import ReadError

# The values of --status: a trace's (or span's) status in the views.
STATUSES = ("ok", "error", "unfinished")
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|ms|s|m|h|d|w)?")
_UNIT_MS = {
    "us": 0.001,
    "µs": 0.001,
    "ms": 1.0,
    "s": 1000.0,
    "m": 60_000.0,
    "h": 3_600_000.0,
    "d": 86_400_000.0,
    "w": 604_800_000.0,
}


def parse_duration_ms(text: str, default_unit: str = "ms") -> float:
    """``250ms``, ``1.5s``, ``2m``, ``1h``, ``2d``, ``1w`` (a bare number is ``default_unit``)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    value = float(match[1]) * _UNIT_MS[match[2] or default_unit]
    if not math.isfinite(value):  # 400 digits make a float infinity
        raise ValueError(text)
    return value


# The bucket widths of a time series: from the timestamps' resolution (a microsecond) to
# 10000 weeks (DuckDB counts a width in microseconds, a BIGINT, up to some 290,000 years).
WIDTH_RANGE_MS = (0.001, 10_000 * 604_800_000.0)
WIDTH_HELP = "from 1us to 10000w"
# A width given as text: --every's, the web view's every.
WIDTH_TEXT_HELP = f"a bucket width {WIDTH_HELP} (30s, 5m, 1h; a bare number is seconds)"
# What a point in time given as text is: --since's, the web view's since and a_since.
WHEN_HELP = "a duration (30s, 15m, 1h, 2d, 1w) or a UTC time (2026-11-24T13:00)"


def parse_width_ms(text: str) -> float:
    """A bucket width in ms from ``30s``, ``5m``, ``1h`` (a bare number is seconds).

    Raises:
        ValueError: not a duration, or outside WIDTH_RANGE_MS (see WIDTH_HELP).
    """
    width = parse_duration_ms(text, default_unit="s")
    if not WIDTH_RANGE_MS[0] <= width <= WIDTH_RANGE_MS[1]:
        raise ValueError(text)
    return width


def parse_when(text: str, now: datetime) -> datetime:
    """A point in time (UTC, naive): ``1h`` ago from ``now``, or an ISO time (UTC if unzoned)."""
    value = text.strip()
    ago: float | None = None
    with contextlib.suppress(ValueError):
        ago = parse_duration_ms(value, default_unit="s")
    if ago is not None:
        try:
            return now - timedelta(milliseconds=ago)
        except OverflowError:  # before year 1 (1000000w), past timedelta's range
            raise ValueError(text) from None
    try:
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise ValueError(text) from None
    if when.tzinfo is not None:
        try:
            when = when.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+05:00: its UTC is before year 1
            raise ValueError(text) from None
    return when


def when_option(option: str, text: str | None, now: datetime) -> datetime | None:
    """The time the option ``--<option>`` gives (``1h`` ago from ``now``, a UTC time), or None
    when it is not given.

    Raises:
        ReadError: ``text`` is neither, with what to give instead.
    """
    return when_text(f"--{option}", text, now)


def when_text(name: str, text: str | None, now: datetime) -> datetime | None:
    """The time ``text`` gives (``1h`` ago from ``now``, a UTC time), or None when it is not
    given: an option's (``--since``), a web view's parameter's (``a_since``).

    Raises:
        ReadError: ``text`` is neither; it names ``name`` and says what to give instead.
    """
    if text is None:
        return None
    try:
        return parse_when(text, now)
    except ValueError:
        raise ReadError(f"{name} {short_repr(text)}: give {WHEN_HELP}") from None


def when(
    value: datetime | timedelta | str | None, now: datetime | None = None, *, name: str = "time"
) -> datetime | None:
    """A time as the views hold them: a naive datetime in UTC, or None.

    ``value`` is a datetime (naive: UTC already; aware: converted to UTC), a timedelta (that
    long before ``now``, default now) or text as the CLI's ``--since`` takes it (``1h``, ``2d``,
    ``2026-11-24T13:00``, UTC unless zoned).

    Raises:
        ReadError: anything else, or a time before year 1; it names the argument ``name``.
    """
    if value is None:
        return None
    now = now or now_utc()
    try:
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                return value.astimezone(timezone.utc).replace(tzinfo=None)
            return value
        if isinstance(value, timedelta):
            return now - value
        if isinstance(value, str):
            return parse_when(value, now)
    except (ValueError, OverflowError):
        pass  # text that is no time, a time before year 1 or after 9999
    raise ReadError(
        f"{name} {short_repr(value)}: give a datetime (naive: UTC), a timedelta (that long ago)"
        " or text: " + WHEN_HELP
    )


def now_utc() -> datetime:
    """Now, in UTC, naive (as the views' timestamps are)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def filter_params(
    *,
    since: str | None = None,
    until: str | None = None,
    service: str | None = None,
    name: str | None = None,
    status: str | None = None,
    errors: bool = False,
    min_duration: str | None = None,
    attr: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """The ``$parameters`` of recent_traces.sql / span_percentiles.sql from filter options.

    Args:
        since: a duration ago (``1h``) or a UTC time; ``until`` likewise.
        status: ``ok``, ``error`` or ``unfinished``.
        errors: only error traces (the same as ``status="error"``).
        min_duration: a time such as ``250ms``.
        attr: ``KEY=VALUE``: spans with that attribute.
        kind: spans of this kind (``server``, ``client``, ``producer``, ``consumer``,
            ``internal``); for traces, those with such a span (of ``service`` when given).

    Raises:
        ReadError: an option that does not parse, with what to give instead.
    """
    now = now_utc()
    params: dict[str, Any] = {}
    for option, text in (("since", since), ("until", until)):
        params[option] = when_option(option, text, now)
    if errors:
        if status not in (None, "error"):
            raise ReadError(f"--errors and --status {status} contradict each other")
        status = "error"
    if status is not None and status not in STATUSES:
        raise ReadError(f"--status {short_repr(status)}: give one of {', '.join(STATUSES)}")
    if kind is not None and kind not in f.KINDS:
        raise ReadError(f"--kind {short_repr(kind)}: give one of {', '.join(f.KINDS)}")
    params.update(service=service, name=name, status=status, kind=kind)
    try:
        params["min_duration_ms"] = (
            None if min_duration is None else parse_duration_ms(min_duration)
        )
    except ValueError:
        raise ReadError(
            f"--min-duration {short_repr(min_duration)}: give a time such as 250ms, 1.5s, 2m"
        ) from None
    key = value = None
    if attr is not None:
        key, sep, value = attr.partition("=")
        if not sep or not key:
            raise ReadError(f"--attr {short_repr(attr)}: give KEY=VALUE")
    params.update(attr_key=key, attr_value=value)
    return params


def attr_variant(name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The query to run for ``params``: ``<name>_no_attr`` when no --attr is given (faster).

    A trace list filtered by kind needs the full query too (recent_traces_no_attr reads the
    traces only, not their spans).
    """
    kind = params.get("kind")
    if params.get("attr_key") is None and (kind is None or name != "recent_traces"):
        dropped = ("attr_key", "attr_value") + (("kind",) if name == "recent_traces" else ())
        rest = {k: v for k, v in params.items() if k not in dropped}
        return f"{name}_no_attr", rest
    return name, params
