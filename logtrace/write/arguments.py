"""``configure()``'s arguments, checked before anything is set up.

A wrong argument raises before the old configuration is closed, in one line that names the
argument, its value and what to give: ``TypeError`` for a value of the wrong kind (a string
for a flag or a number), ``ValueError`` for one out of range. Nothing is left half set up
(``level=99`` used to fail in structlog's setup, after the files were open). Values from the
environment are not checked here: a bad ``LOGTRACE_*`` variable is a warning and its default
(``env.py``), since a deployment's environment must not stop the program.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["check", "patterns", "texts"]

# Arguments that are true or false. Any value is taken for its truth, as before, but a string:
# "no", "0" and "false" are true in Python.
FLAGS = (
    "enabled",
    "keep_errors",
    "sample_logs",
    "redact",
    "include_payloads",
    "otel",
    "stdlib",
    "stdlib_all_loggers",
    "structlog_setup",
)

# Whole numbers (an int, a numpy int, a float such as 1e5 with nothing after the point) and
# their least value.
WHOLE = {
    "max_depth": 0,
    "max_attributes": 0,
    "max_string": 1,
    "max_line": 1,
    "queue_size": 1,
    "rotate_bytes": 1,
    "retention_bytes": 0,
}

# Numbers (seconds, days, milliseconds): (least value, whether it is itself out, whether
# infinity is in: rotate_seconds and retention_days of math.inf never rotate, never delete).
NUMBERS = {
    "flush_interval": (0.0, True, False),
    "rotate_seconds": (0.0, True, True),
    "retention_days": (0.0, True, True),
    "slow_ms": (0.0, False, True),
    "sample_rate": (0.0, False, False),
}

MODES = ("file_mode", "dir_mode")


def check(given: dict[str, Any]) -> None:
    """Raise for the first argument of ``given`` (name: value, ``None`` for unset) that
    ``configure()`` cannot use."""
    for name, value in given.items():
        if value is None:
            continue
        if name in FLAGS and isinstance(value, (str, bytes)):
            raise TypeError(
                f"configure({name}={value!r}): give True or False (a string is true in "
                f"Python, even 'no' or '0')"
            )
        if name in WHOLE:
            _whole(name, value, WHOLE[name])
        elif name in NUMBERS:
            _number(name, value, *NUMBERS[name])
        elif name in MODES:
            _mode(name, value)
    rate = given.get("sample_rate")
    if rate is not None and rate > 1:
        raise ValueError(f"configure(sample_rate={rate!r}): give a share from 0 to 1")
    _sampler(given.get("sampler"))
    redactor = given.get("redactor")
    if redactor is not None and not callable(redactor):
        raise TypeError(f"configure(redactor={redactor!r}): give a callable (key, value) -> value")
    level = given.get("level")
    if level is not None and not isinstance(level, str):
        _whole("level", level, 0, "a level name such as 'info', or a number of at least 0")


def texts(name: str, value: str | Iterable[str]) -> tuple[str, ...]:
    """``redact_keys`` as a tuple: one string is one key (not one key per character)."""
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"configure({name}=...): {item!r} is not a string")
    return items


def patterns(value: Any) -> tuple[Any, ...]:
    """``redact_patterns`` as a tuple of compiled patterns: one string or pattern is one. A
    pattern is anything with a ``sub`` method (``re``'s, the ``regex`` module's) over text."""
    items = (value,) if isinstance(value, str) or hasattr(value, "sub") else tuple(value)
    compiled = []
    for item in items:
        if isinstance(item, str):
            try:
                item = re.compile(item)
            except re.error as exc:
                raise ValueError(
                    f"configure(redact_patterns=...): {item!r} is not a regular expression ({exc})"
                ) from None
        elif not callable(getattr(item, "sub", None)) or isinstance(
            getattr(item, "pattern", None), bytes
        ):
            raise TypeError(
                f"configure(redact_patterns=...): {item!r} is not a text pattern (give a "
                f"string or a compiled pattern of str)"
            )
        compiled.append(item)
    return tuple(compiled)


def _sampler(sampler: Any) -> None:
    """A sampler of the wrong kind (a name is resolved, and an unknown one refused, by
    ``config._sampler``, still before the old configuration closes)."""
    if sampler is None or callable(sampler) or isinstance(sampler, str):
        return
    raise TypeError(
        f"configure(sampler={sampler!r}): give a sampler from logtrace.sampling, a callable "
        f"(trace_id, parent) -> bool, or a name such as 'ratio'; a share of traces is "
        f"sample_rate=0.1"
    )


def _whole(name: str, value: Any, least: int, wanted: str = "") -> None:
    wanted = wanted or f"a whole number of at least {least}"
    try:
        number = operator.index(value)
    except TypeError:
        if not (isinstance(value, float) and value.is_integer()):
            raise TypeError(f"configure({name}={value!r}): give {wanted}") from None
        number = int(value)
    if number < least:
        raise ValueError(f"configure({name}={value!r}): give {wanted}")


def _number(name: str, value: Any, least: float, open_: bool, infinite: bool) -> None:
    finite = "" if infinite else "finite "
    wanted = f"a {finite}number {'above' if open_ else 'of at least'} {least:g}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, (str, bytes)):
        raise TypeError(f"configure({name}={value!r}): give {wanted}")
    fits = number > least or (number == least and not open_)
    if not fits or (math.isinf(number) and not infinite):
        raise ValueError(f"configure({name}={value!r}): give {wanted}")


def _mode(name: str, value: Any) -> None:
    wanted = "give permission bits from 0o000 to 0o777"
    try:
        mode = operator.index(value)
    except TypeError:
        raise TypeError(f"configure({name}={value!r}): {wanted}") from None
    if not 0 <= mode <= 0o777:
        raise ValueError(f"configure({name}={oct(mode)}): {wanted}")
