"""argparse types of the numeric options: a value out of its range is a one-line usage error.

Without them a negative ``--limit`` reached DuckDB (``Binder Error: LIMIT/OFFSET cannot be
negative``), a negative ``--interval`` reached ``time.sleep`` and a ``--port`` past 65535 the
socket, and ``--alpha 7`` was taken as given; so did a huge one (``--limit`` past a BIGINT,
``--interval 1e30`` past the clock, ``--every 99999999999999999d`` past DuckDB's intervals).
argparse turns the ``ArgumentTypeError`` raised here into ``logtrace ls: argument -n/--limit:
give a whole number of at least 1, not '-3'``.
``env_mode`` reads the file modes (``LOGTRACE_FILE_MODE``) of the commands that write files.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable
from typing import Any

from logtrace.format.shown import short_repr
from logtrace.read.arguments import LARGEST_COUNT, Check, WrongArgument, from_text
from logtrace.read.files import ReadError
from logtrace.read.filters import WIDTH_TEXT_HELP, parse_width_ms

__all__ = [
    "at_least",
    "between",
    "bucket_width",
    "checked_by",
    "env_mode",
    "fraction",
    "memory_size",
    "non_negative",
    "port",
    "positive",
    "probability",
    "seconds",
]

# The longest wait or timeout, in seconds: a day (past some 1e9 s, the clock overflows).
LONGEST_WAIT = 86_400.0
# A size as DuckDB's memory_limit takes it: 500MB, 1.5GB, 2GiB (no unit: bytes).
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?", re.IGNORECASE)


def at_least(minimum: int) -> Callable[[str], int]:
    """A whole number of at least ``minimum`` (and at most LARGEST_COUNT, DuckDB's BIGINT)."""

    def whole(text: str) -> int:
        wanted = f"a whole number of at least {minimum}"
        if text.strip().isdigit() and int(text) > LARGEST_COUNT:
            wanted = f"a whole number from {minimum} to {LARGEST_COUNT}"
        return _whole(text, minimum, LARGEST_COUNT, wanted)

    whole.__name__ = f"at_least_{minimum}"
    return whole


def between(low: int, high: int) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high`` (a width drawn on screen)."""

    def whole(text: str) -> int:
        return _whole(text, low, high, f"a whole number from {low} to {high}")

    whole.__name__ = f"between_{low}_{high}"
    return whole


def _whole(text: str, low: int, high: float, wanted: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"give {wanted}, not {short_repr(text)}")
    return value


def _number(text: str, accept: Callable[[float], bool], wanted: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and accept(value)):
        raise argparse.ArgumentTypeError(f"give {wanted}, not {short_repr(text)}")
    return value


def positive(text: str) -> float:
    """A number above 0 (a ratio)."""
    return _number(text, lambda v: v > 0, "a number above 0")


def seconds(text: str) -> float:
    """Seconds to wait, a timeout: above 0, at most LONGEST_WAIT."""
    return _number(
        text,
        lambda v: 0 < v <= LONGEST_WAIT,
        f"a number of seconds above 0, at most {LONGEST_WAIT:g}",
    )


def bucket_width(text: str) -> float:
    """A bucket width (``30s``, ``5m``, ``1h``; a bare number is seconds), given as ms."""
    try:
        return parse_width_ms(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give {WIDTH_TEXT_HELP}, not {short_repr(text)}"
        ) from None


def checked_by(check: Check) -> Callable[[str], Any]:
    """An option checked by the Python API's own check (:mod:`logtrace.read.arguments`): one
    range for both, refused in the CLI's words (``give a number from 0 to 10000, not
    '1e30'``)."""

    def option(text: str) -> Any:
        try:
            return check("", from_text(text))
        except WrongArgument as error:
            raise argparse.ArgumentTypeError(
                f"give {error.wanted}, not {short_repr(text)}"
            ) from None

    return option


def non_negative(text: str) -> float:
    """A number of at least 0."""
    return _number(text, lambda v: v >= 0, "a number of at least 0")


def fraction(text: str) -> float:
    """A number from 0 to 1, both included (a share of traces to keep)."""
    return _number(text, lambda v: 0 <= v <= 1, "a number from 0 to 1")


def probability(text: str) -> float:
    """A number between 0 and 1, neither included (a significance level)."""
    return _number(text, lambda v: 0 < v < 1, "a number between 0 and 1 (such as 0.05)")


def port(text: str) -> int:
    """A TCP port: 0 (any free one) to 65535."""
    return _whole(text, 0, 65535, "a port from 0 (any free one) to 65535")


def memory_size(text: str) -> str:
    """A memory size for DuckDB (``500MB``, ``2GB``, ``1.5GiB``), given back as written."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or not 0 < float(match[1]) < 1e15:
        raise argparse.ArgumentTypeError(
            f"give a size such as 500MB or 2GB, not {short_repr(text)}"
        )
    return text.strip()


def env_mode(variable: str, default: int) -> int:
    """A file mode from the environment, as configure() reads it (octal: ``600``, ``0o640``),
    permission bits only: no setuid, setgid or sticky bit (``4755``) on what logtrace writes.

    Raises:
        ReadError: not an octal mode from 0 to 777.
    """
    text = os.environ.get(variable, "").strip().lower().removeprefix("0o")
    try:
        mode = int(text, 8) if text else default
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777:
        raise ReadError(
            f"{variable}={short_repr(text)}: give an octal file mode from 000 to 777 (600)"
        )
    return mode
