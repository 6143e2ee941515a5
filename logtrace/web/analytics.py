"""The analytics behind the pages: critical path, time series, compare, from the Reader.

Thin adapters over ``reader.critical_path``, ``reader.timeseries``, ``reader.compare`` and
``reader.compare_traces`` (``logtrace/read/analytics/``): they turn a page's query string into
arguments and the answers into JSON values. When the installed logtrace has no such method,
the endpoint says so (501) and the page shows it, rather than guessing.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from logtrace.format.shown import short_repr

from ..read.arguments import Check, count, from_text, probability, threshold_pct
from ..read.files import ReadError
from ..read.filters import WIDTH_TEXT_HELP, now_utc, parse_width_ms, when_text
from ..read.trace import normalize_trace_id
from .source import Source, reading

Row = dict[str, Any]
_WINDOWS = ("a_since", "a_until", "b_since", "b_until")
# The parameters each endpoint takes (any other is refused, as the CLI refuses an option).
TIMESERIES_PARAMS = ("every", "since", "until", "service")
# Of reader.compare, with its checks: refused whatever is compared, two traces too, as
# `logtrace compare A B --alpha 2` is (a threshold_pct of 1e30 is a 400, as --threshold 1e30).
_COMPARE_CHECKS: dict[str, Check] = {
    "threshold_pct": threshold_pct,
    "alpha": probability,
    "min_samples": count(),
}
COMPARE_PARAMS = ("a", "b", "by", *_WINDOWS, "name", "service", *_COMPARE_CHECKS)


class Unavailable(ReadError):
    """This logtrace has no such analysis (``logtrace/read/analytics/`` is older)."""


def _method(reader: Any, name: str) -> Any:
    method = getattr(reader, name, None)
    if method is None:
        raise Unavailable(f"this logtrace has no reader.{name}()")
    return method


def critical_path(source: Source | str, trace_id: str) -> Row:
    """``{"trace_id", "total_ms", "sections": [{span_id, name, start_ms, end_ms,
    duration_ms}], "on_path_ms", "self_ms"}``: ms from the trace's earliest start."""
    with reading(source) as reader:
        answer = _method(reader, "critical_path")(trace_id)
    return dict(jsonable(answer))


def timeseries(source: Source | str, name: str, query: Mapping[str, str]) -> Row:
    """``{"name", "every", "buckets": [reader.timeseries rows]}``: one span name over time.

    Raises:
        ReadError: what ``logtrace stats --every`` refuses: a width or a time that is none.
    """
    every = query.get("every") or "5m"
    width_ms = _width_ms(every)
    now = now_utc()
    since, until = (when_text(k, query.get(k) or None, now) for k in ("since", "until"))
    with reading(source) as reader:
        rows = _method(reader, "timeseries")(
            every=width_ms,
            since=since,
            until=until,
            name=name,
            service=query.get("service") or None,
        )
    return {"name": name, "every": every, "buckets": jsonable(rows)}


def _width_ms(text: str) -> float:
    """``every`` in ms as ``stats --every`` reads it: a bare number is seconds (read as a
    Python number it would be ms, and refused in the Python API's words)."""
    try:
        return parse_width_ms(text)
    except ValueError:
        raise ReadError(f"every {short_repr(text)}: give {WIDTH_TEXT_HELP}") from None


def compare(source: Source | str, query: Mapping[str, str]) -> Row:
    """The Compare page: ``{"mode", "a", "b", "result"}``.

    - ``a`` and ``b`` trace ids: ``mode`` ``traces``, per ancestral path of span names the
      counts and time in each (``reader.compare_traces``);
    - ``by=KEY`` with ``a``/``b`` its two values, or ``a_since``/``a_until`` and
      ``b_since``/``b_until`` (with ``name``, ``service``): ``mode`` ``spans``, per span name
      p50/p95 with intervals, change, p-value, verdict (``reader.compare``, with its
      ``threshold_pct``, ``alpha`` and ``min_samples`` when given).

    Raises:
        ReadError: what ``logtrace compare`` refuses: trace ids that are none, a time that is
            none, ``by`` and windows together, a threshold, alpha or minimum out of its range
            (whatever is compared), a side without traces (nothing was compared).
    """
    a, b = (query.get("a") or "").strip(), (query.get("b") or "").strip()
    by = (query.get("by") or "").strip()
    windows = any(query.get(k) for k in _WINDOWS)
    if not by and not windows:
        a, b = _trace_ids(a, b)
    if windows and (by or a or b):
        raise ReadError(
            "give by=KEY with a and b (its values), or the windows a_since, a_until, b_since,"
            " b_until, not both"
        )
    options = {
        k: check(k, from_text(query[k])) for k, check in _COMPARE_CHECKS.items() if query.get(k)
    }
    with reading(source) as reader:
        if not by and not windows:
            paths = _method(reader, "compare_traces")(a, b)
            return {"mode": "traces", "a": a, "b": b, "result": jsonable(paths)}
        sides = _sides(query, a, b, by)
        result = _method(reader, "compare")(*sides, **options)
        nothing = result.nothing_compared()
        if nothing is not None:
            raise ReadError(
                f"{nothing}; check by and its values a and b, the windows, name or service"
            )
        return {
            "mode": "spans",
            "a": sides[0].label,
            "b": sides[1].label,
            "result": jsonable(result),
        }


def _trace_ids(a: str, b: str) -> tuple[str, str]:
    """``a`` and ``b`` as trace ids, as ``show`` reads one (lower case); a one-line ReadError
    naming each that is none, or asking for both."""
    if not a or not b:
        raise ReadError("give a and b: two trace ids (or by=KEY, or a_since/b_since)")
    ids, bad = [], []
    for side, value in (("a", a), ("b", b)):
        try:
            ids.append(normalize_trace_id(value))
        except ReadError:
            bad.append(f"{side}={short_repr(value)}")
    if bad:
        raise ReadError(f"{' and '.join(bad)}: not a trace id (give 8 to 32 hex digits)")
    return ids[0], ids[1]


def _sides(query: Mapping[str, str], a: str, b: str, by: str) -> tuple[Any, Any]:
    try:
        side_type = importlib.import_module("logtrace.read.analytics.methods").Side
    except (ImportError, AttributeError):
        raise Unavailable("this logtrace has no reader.compare()") from None
    common = {"name": query.get("name") or None, "service": query.get("service") or None}
    if by:
        if not a or not b:
            raise ReadError(f"by={by}: give a and b, the two values of {by}")
        return (
            side_type(label=f"{by}={a}", attr=(by, a), **common),
            side_type(label=f"{by}={b}", attr=(by, b), **common),
        )

    now = now_utc()

    def window(side: str) -> Any:
        since, until = query.get(side + "_since") or None, query.get(side + "_until") or None
        label = f"{side.upper()}: {since or '…'} to {until or 'now'}"
        times: dict[str, datetime | None] = {
            end: when_text(f"{side}_{end}", text, now)
            for end, text in (("since", since), ("until", until))
        }
        return side_type(label=label, **times, **common)

    return window("a"), window("b")


def jsonable(value: Any) -> Any:
    """The answers as JSON values: ``to_dict()`` where they have one, lists of them too."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value
