"""The arguments of the Python read API, checked where they come in: a wrong one is a
:class:`~logtrace.read.files.ReadError` naming it and saying what it takes, never a TypeError
from deep inside or a DuckDB error about a cast.

A method of :class:`~logtrace.read.reader.Reader` (or of its analytics) lists its checks once::

    @checked(limit=count(optional=True), name=text, alpha=number(0, 1, ends=False))
    def critical_path_summary(self, *, name=None, limit=1000): ...

Each check takes the argument's name and value and gives the value to use (the bucket width
``"5m"`` becomes ms). None passes the checks of arguments where it means "any" (``text``) or
"none" (``optional=True``), no other.
The times (``since``, ``until``, ``now``) are checked by :func:`time`, which reads them with
:func:`logtrace.read.filters.when`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import operator
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from logtrace.format.shown import short_repr
from logtrace.read.files import ReadError
from logtrace.read.filters import WIDTH_HELP, WIDTH_RANGE_MS, parse_width_ms, when

__all__ = [
    "LARGEST_COUNT",
    "WrongArgument",
    "checked",
    "count",
    "from_text",
    "given_text",
    "instance",
    "instances",
    "name",
    "number",
    "probability",
    "range_text",
    "sql",
    "text",
    "threshold_pct",
    "time",
    "width_ms",
]

# The largest count DuckDB takes as a LIMIT (BIGINT); beyond it a cast fails.
LARGEST_COUNT = 2**63 - 1

Check = Callable[[str, Any], Any]
_P = ParamSpec("_P")
_T = TypeVar("_T")


def checked(**checks: Check) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]:
    """Check the arguments named in ``checks`` (given or defaulted) before the method runs."""

    def decorate(method: Callable[_P, _T]) -> Callable[_P, _T]:
        signature = inspect.signature(method)
        unknown = set(checks) - set(signature.parameters)
        if unknown:  # a typo here would check nothing, silently
            raise TypeError(f"{method.__qualname__} has no argument {', '.join(sorted(unknown))}")

        @functools.wraps(method)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _T:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, check in checks.items():
                bound.arguments[name] = check(name, bound.arguments[name])
            return method(*bound.args, **bound.kwargs)

        return run

    return decorate


class WrongArgument(ReadError):
    """``limit -1: give a whole number from 0 to …``: an argument a check refused.

    ``wanted`` is what it takes (``a whole number from 0 to …``), for a face that names the
    argument otherwise: the CLI's ``--threshold`` is checked as ``threshold_pct``.
    """

    def __init__(self, name: str, value: Any, wanted: str) -> None:
        super().__init__(f"{name} {short_repr(value)}: give {wanted}")
        self.wanted = wanted


def wrong(name: str, value: Any, wanted: str) -> WrongArgument:
    """The error of a wrong argument."""
    return WrongArgument(name, value, wanted)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def count(low: int = 0, *, optional: bool = False) -> Check:
    """A whole number from ``low`` to LARGEST_COUNT (a limit, a number of samples); None too
    when ``optional`` (no limit)."""
    wanted = f"a whole number from {low} to {LARGEST_COUNT}"

    def check(name: str, value: Any) -> Any:
        if value is None and optional:
            return None
        try:
            whole = operator.index(value)  # ints (numpy's too); not 2.5, not "3"
        except TypeError:
            raise wrong(name, value, wanted) from None
        if isinstance(value, bool) or not low <= whole <= LARGEST_COUNT:
            raise wrong(name, value, wanted)
        return whole

    return check


def number(low: float, high: float = math.inf, *, ends: bool = True) -> Check:
    """A finite number from ``low`` to ``high`` (``ends=False``: neither included)."""
    if high == math.inf:
        wanted = f"a number of at least {low:g}" if ends else f"a number above {low:g}"
    else:
        wanted = (
            f"a number {'from' if ends else 'between'} {low:g} {'to' if ends else 'and'} {high:g}"
        )

    def check(name: str, value: Any) -> Any:
        inside = (
            _is_number(value)
            and math.isfinite(value)
            and (low <= value <= high if ends else low < value < high)
        )
        if not inside:
            raise wrong(name, value, wanted)
        return float(value)

    return check


# compare's threshold, in % of A's median: from 0 (any significant slowdown with confidence) to
# 10000 (B 101 times as slow as A); past that a threshold is a typo, not a gate (1e30 passed
# as a finite number). The CLI's --threshold and the web view's threshold_pct are this check.
threshold_pct = number(0, 10_000)
# A significance level, a confidence: between 0 and 1, neither included (compare's alpha and
# confidence; the web view checks alpha with it whatever it compares, as --alpha is).
probability = number(0, 1, ends=False)


def text(name: str, value: Any) -> Any:
    """Text (a span name, a service, an event), or None for any."""
    if value is not None and not isinstance(value, str):
        raise wrong(name, value, "text (a str), or None for any")
    return value


def given_text(wanted: str) -> Check:
    """Text that must be given (not None): ``wanted`` says what, with an example."""

    def check(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise wrong(name, value, wanted)
        return value

    return check


# The name of a query; SQL text (empty or only comments: DuckDB tells).
name = given_text("a name (a str), such as 'slowest_traces'")
sql = given_text("SQL text, such as 'select * from traces limit 5'")


def time(name: str, value: Any) -> datetime | None:
    """A time, as a naive datetime in UTC: a datetime, a timedelta (that long ago) or text as
    ``--since`` takes it (``1h``, ``2026-11-24T13:00``); None for none."""
    return when(value, name=name)


def range_text(name: str, value: Any) -> Any:
    """A range of the monitoring plugins (``200``, ``~:200``, ``@10:20``); a number is one."""
    if _is_number(value):
        return f"{value:g}"
    if value is not None and not isinstance(value, str):
        raise wrong(name, value, "a range such as '200', '10:', '~:200' or '@10:20'")
    return value


def width_ms(name: str, value: Any) -> float:
    """A bucket width, in ms: a number of ms, a timedelta, or text (``30s``, ``5m``, ``1h``)."""
    width = math.nan
    if isinstance(value, timedelta):
        width = value.total_seconds() * 1000
    elif _is_number(value):
        width = float(value)
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            width = parse_width_ms(value)
    if not WIDTH_RANGE_MS[0] <= width <= WIDTH_RANGE_MS[1]:
        raise wrong(
            name,
            value,
            f"a bucket width {WIDTH_HELP}: a number of ms, a timedelta, or text such as '5m'",
        )
    return width


def from_text(text: str) -> int | float | str:
    """A number as typed (``3``, ``2.5``, ``1e30``), for a check of a number; other text as it
    is, which such a check refuses, naming it. For the values of the web view's parameters."""
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(text)
    return text


def instance(kind: type, *, optional: bool = False) -> Check:
    """An object of ``kind`` (a Side, Thresholds); None too when ``optional``."""

    def check(name: str, value: Any) -> Any:
        if not (isinstance(value, kind) or (value is None and optional)):
            raise wrong(name, value, f"a {kind.__name__}")
        return value

    return check


def instances(kind: type, *also: type) -> Check:
    """A list of objects of ``kind`` (or, whole, one of ``also``: a path of a file of them)."""

    def check(name: str, value: Any) -> Any:
        if isinstance(value, also):
            return value
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise wrong(name, value, f"a list of {kind.__name__}")
        for item in value:
            if not isinstance(item, kind):
                raise wrong(name, value, f"a list of {kind.__name__}, not of {type(item).__name__}")
        return value

    return check
