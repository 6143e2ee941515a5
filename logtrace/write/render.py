"""One JSON line as bytes, whatever the values are, within ``max_line``: the last step of every
line (``to_line``).

orjson without options first (the scrubber has made almost every value JSON already); then with
a ``default`` for what orjson does not know (sets, bytes, exceptions, any object as its
``repr``) and keys that are not strings; then a sanitized copy (invalid UTF-8, ints past 64
bits, cycles); last, a ``logtrace.render_error`` line. A line over ``max_line`` keeps
logtrace's fields and notes its size (``logtrace.format.lines.cut_fields``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from logtrace.format import fields as f
from logtrace.format.lines import MAX_LINE, cut_fields
from logtrace.write.stamper import qualified_name

if TYPE_CHECKING:
    from structlog.types import EventDict

__all__ = ["Limits", "cut_line", "int_text", "limits", "render_any", "to_line"]


class Limits:
    """The longest line (set by ``configure()``), and how often rendering fell back."""

    __slots__ = ("cut", "fallbacks", "max_line")

    def __init__(self) -> None:
        self.max_line = MAX_LINE
        self.fallbacks = 0  # lines orjson refused even with a default: sanitized
        self.cut = 0  # lines over max_line: user fields dropped


limits = Limits()


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, BaseException):
        return f"{qualified_name(type(value))}: {value}"
    return repr(value)


_DUMPS_OPTIONS = orjson.OPT_NON_STR_KEYS


def _sanitize(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy: strings made valid UTF-8, huge ints and the unknown as text."""
    if depth > 32:
        return "<nested too deep>"
    try:
        if isinstance(value, str):
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if isinstance(value, int):
            return value if -(2**63) <= value < 2**64 else int_text(value)
        if isinstance(value, Mapping):
            return {str(_sanitize(k, depth + 1)): _sanitize(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [_sanitize(v, depth + 1) for v in value]
        return _sanitize(_default(value), depth + 1)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def int_text(value: int) -> str:
    """``str(value)``; past Python's limit on the digits ``str()`` makes (4300 by default),
    the value rounded to 20 significant digits, in E notation, with a note saying so."""
    try:
        return str(value)
    except ValueError:
        pass
    import decimal  # rarely needed: not on import

    context = decimal.Context(prec=20, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    # From the top 96 bits and a power of two: all the digits would take quadratic time.
    size = abs(value)
    shift = max(0, size.bit_length() - 96)
    rounded = context.multiply(decimal.Decimal(size >> shift), context.power(2, shift))
    sign = "-" if value < 0 else ""
    return f"{sign}{rounded:E} (rounded: too many digits for str)"


def to_line(event_dict: EventDict) -> bytes:
    """One JSON line as bytes, whatever the values are, within ``max_line``."""
    try:
        # No options first: the scrubber has made almost every value JSON already, and
        # ``default=`` and OPT_NON_STR_KEYS cost orjson about 0.3 µs a line.
        line = orjson.dumps(event_dict)
    except Exception:
        line = render_any(event_dict)
    if len(line) > limits.max_line:
        line = cut_line(event_dict, len(line))
    return line


def render_any(event_dict: EventDict) -> bytes:
    """A line of keys that are not strings or of values orjson does not know (what
    ``to_line`` falls back to when ``orjson.dumps`` without options fails)."""
    try:
        return orjson.dumps(event_dict, default=_default, option=_DUMPS_OPTIONS)
    except Exception:
        limits.fallbacks += 1
        return _sanitized_line(event_dict)


def _sanitized_line(event_dict: EventDict) -> bytes:
    try:
        return orjson.dumps(_sanitize(event_dict), option=_DUMPS_OPTIONS)
    except Exception:
        return orjson.dumps(
            {
                f.TS: event_dict.get(f.TS),
                f.LEVEL: "error",
                f.EVENT: "logtrace.render_error",
                f.LOGGER: "logtrace",
            }
        )


def cut_line(event_dict: EventDict, size: int) -> bytes:
    """A line over ``max_line``: logtrace's fields kept, user fields dropped, the size noted."""
    limits.cut += 1
    return _sanitized_line(cut_fields(event_dict, size))
