"""``configure()``'s arguments, checked before anything is set up.

A wrong argument is a ``TypeError`` or ``ValueError`` whose one line says which argument, what
it was given and what to give, raised before the old configuration is closed: nothing is left
half set up (``level=99`` used to fail in structlog's setup, after the files were open). Values
from the environment are not checked here: a bad ``LOGTRACE_*`` variable is a warning and its
default (``env.py``), since a deployment's environment must not stop the program.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["check", "patterns", "texts"]

# Arguments that are True or False: a string would count as true ("no", "0", "false").
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

# Whole numbers and their least value.
WHOLE = {
    "max_depth": 0,
    "max_attributes": 0,
    "max_string": 1,
    # A line cut to logtrace's own fields (its event kept to 1,024 characters) must fit.
    "max_line": 2048,
    "queue_size": 1,
    "rotate_bytes": 1,
    "retention_bytes": 0,
}

# Numbers (seconds, days, milliseconds): (least value, whether the least value itself is out).
NUMBERS = {
    "flush_interval": (0.0, True),
    "rotate_seconds": (0.0, True),
    "retention_days": (0.0, True),
    "slow_ms": (0.0, False),
    "sample_rate": (0.0, False),
}

MODES = ("file_mode", "dir_mode")


def check(given: dict[str, Any]) -> None:
    """Raise for the first argument of ``given`` (name: value, ``None`` for unset) that
    ``configure()`` cannot use."""
    for name, value in given.items():
        if value is None:
            continue
        if name in FLAGS:
            _flag(name, value)
        elif name in WHOLE:
            _whole(name, value, WHOLE[name])
        elif name in NUMBERS:
            _number(name, value, *NUMBERS[name])
        elif name in MODES:
            _mode(name, value)
    rate = given.get("sample_rate")
    if rate is not None and rate > 1:
        raise ValueError(f"configure(sample_rate={rate!r}): give a share from 0 to 1")
    sampler = given.get("sampler")
    if sampler is not None and not isinstance(sampler, str) and not callable(sampler):
        raise TypeError(
            f"configure(sampler={sampler!r}): give a sampler from logtrace.sampling, a "
            f"callable (trace_id, parent) -> bool, or a name such as 'ratio'; a share of traces "
            f"is sample_rate=0.1"
        )
    redactor = given.get("redactor")
    if redactor is not None and not callable(redactor):
        raise TypeError(f"configure(redactor={redactor!r}): give a callable (key, value) -> value")
    level = given.get("level")
    if level is not None and not isinstance(level, str) and not _is_whole(level, 0):
        raise TypeError(
            f"configure(level={level!r}): give a level name such as 'info', or a number of at "
            f"least 0"
        )


def texts(name: str, value: str | Iterable[str]) -> tuple[str, ...]:
    """``redact_keys`` as a tuple: one string is one key (not one key per character)."""
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"configure({name}=...): {item!r} is not a string")
    return items


def patterns(value: str | re.Pattern[str] | Iterable[str | re.Pattern[str]]) -> tuple[Any, ...]:
    """``redact_patterns`` as a tuple of compiled patterns: one string or pattern is one."""
    items = (value,) if isinstance(value, (str, re.Pattern)) else tuple(value)
    compiled = []
    for item in items:
        if isinstance(item, re.Pattern):
            compiled.append(item)
            continue
        if not isinstance(item, str):
            raise TypeError(f"configure(redact_patterns=...): {item!r} is not a string or pattern")
        try:
            compiled.append(re.compile(item))
        except re.error as exc:
            raise ValueError(
                f"configure(redact_patterns=...): {item!r} is not a regular expression ({exc})"
            ) from None
    return tuple(compiled)


def _flag(name: str, value: Any) -> None:
    if isinstance(value, bool) or (type(value) is int and value in (0, 1)):
        return
    hint = " (a string is true in Python, even 'no' or '0')" if isinstance(value, str) else ""
    raise TypeError(f"configure({name}={value!r}): give True or False{hint}")


def _is_whole(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _whole(name: str, value: Any, least: int) -> None:
    if not _is_whole(value, least):
        raise ValueError(f"configure({name}={value!r}): give a whole number of at least {least}")


def _number(name: str, value: Any, least: float, open_: bool) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and (value > least or (value == least and not open_)):
        return
    wanted = "above" if open_ else "of at least"
    raise ValueError(f"configure({name}={value!r}): give a number {wanted} {least:g}")


def _mode(name: str, value: Any) -> None:
    if not _is_whole(value, 0) or value > 0o777:
        shown = oct(value) if _is_whole(value, 0) else repr(value)
        raise ValueError(f"configure({name}={shown}): give permission bits from 0o000 to 0o777")
