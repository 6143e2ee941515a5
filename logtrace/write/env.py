"""Settings from environment variables, read once by ``configure()``.

A bad value never stops the program: it is named in one line on stderr and the default is used.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping

from logtrace.format.shown import short_repr

_SIZE_UNITS = {"": 1, "k": 2**10, "kb": 2**10, "m": 2**20, "mb": 2**20, "g": 2**30, "gb": 2**30}
_DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NUMBER_WITH_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class EnvReader:
    """Typed reads of ``LOGTRACE_*`` and ``OTEL_*`` variables with warn-and-default on bad input."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def _warn(
        self, name: str, value: str, expected: str, default: object, *, octal: bool = False
    ) -> None:
        """One line on stderr; ``default`` None: the variable is taken as unset."""
        shown = oct(default) if octal and isinstance(default, int) else repr(default)
        using = "ignoring it, as if unset" if default is None else f"using {shown}"
        print(f"logtrace: {name}={short_repr(value)} is not {expected}; {using}", file=sys.stderr)

    def text(self, name: str, default: str) -> str:
        """The variable as text, or ``default`` when unset or empty."""
        return self.environ.get(name) or default

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        """One of ``allowed`` (case-insensitive)."""
        value = self.environ.get(name)
        if not value:
            return default
        if value.lower() in allowed:
            return value.lower()
        self._warn(name, value, "one of " + ", ".join(allowed), default)
        return default

    def number(
        self, name: str, default: float, *, positive: bool = False, infinite: bool = False
    ) -> float:
        """A non-negative number (a positive one with ``positive``; ``inf`` with ``infinite``)."""
        if infinite and (self.environ.get(name) or "").strip().lower() in ("inf", "infinity"):
            return float("inf")
        number = self._number(name, default, positive)
        return default if number is None else number

    def count(self, name: str, default: int) -> int:
        """A whole number of at least 0, with an optional K, M or G suffix (``64K``)."""
        size = self._with_unit(name, _SIZE_UNITS)
        if size is None:
            return default
        if size < 0 or size != int(size):
            self._warn(name, self.environ[name], "a whole number of at least 0", default)
            return default
        return int(size)

    def optional_number(self, name: str) -> float | None:
        """A non-negative number or ``None`` when unset (or bad, with a warning saying it is
        taken as unset)."""
        return self._number(name, None, False)

    def _number(self, name: str, default: float | None, positive: bool) -> float | None:
        value = self.environ.get(name)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if number < 0 or number != number or number == float("inf") or (positive and not number):
            self._warn(name, value, "a positive number" if positive else "a number >= 0", default)
            return None
        return number

    def items(self, name: str) -> tuple[str, ...]:
        """A comma-separated list, blanks dropped."""
        return tuple(item.strip() for item in self.environ.get(name, "").split(",") if item.strip())

    def _with_unit(self, name: str, units: dict[str, float] | dict[str, int]) -> float | None:
        value = self.environ.get(name)
        if not value:
            return None
        match = _NUMBER_WITH_UNIT.match(value)
        if match and match.group(2).lower() in units:
            return float(match.group(1)) * units[match.group(2).lower()]
        return -1.0

    def size(self, name: str, default: int) -> int:
        """A positive count, with an optional K, M or G suffix (``64M``, ``1.5K``: 1536); one
        that is not whole (``1.5``, ``1.0001K``) warns and gives ``default``."""
        size = self._with_unit(name, _SIZE_UNITS)
        if size is None:
            return default
        if size < 1 or not size.is_integer():
            what = "a positive whole size such as 65536 or 64M"
            self._warn(name, self.environ[name], what, default)
            return default
        return int(size)

    def optional_size(self, name: str) -> int | None:
        """A byte count or ``None`` when unset (or bad, with a warning: also one not whole)."""
        size = self._with_unit(name, _SIZE_UNITS)
        if size is not None and (size < 0 or not size.is_integer()):
            self._warn(name, self.environ[name], "a whole size such as 65536 or 64M", None)
            return None
        return None if size is None else int(size)

    def duration(self, name: str, default: float) -> float:
        """Seconds, with an optional s, m, h or d suffix (``1h``)."""
        seconds = self._with_unit(name, _DURATION_UNITS)
        if seconds is None:
            return default
        if seconds <= 0:
            self._warn(name, self.environ[name], "a positive duration such as 3600 or 1h", default)
            return default
        return seconds

    def mode(self, name: str, default: int) -> int:
        """An octal permission mode (``600``)."""
        value = self.environ.get(name)
        if not value:
            return default
        try:
            mode = int(value, 8)
        except ValueError:
            mode = -1
        if not 0 <= mode <= 0o777:
            self._warn(name, value, "an octal mode such as 600", default, octal=True)
            return default
        return mode

    def flag(self, name: str) -> bool | None:
        """``True``/``False`` from 1/0, true/false, yes/no, on/off; ``None`` when unset."""
        value = self.environ.get(name)
        if not value:
            return None
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        self._warn(name, value, "a boolean (1/0, true/false)", None)
        return None

    def enabled(self) -> bool:
        """``LOGTRACE_ENABLED``, else not ``OTEL_SDK_DISABLED``, else on."""
        enabled = self.flag("LOGTRACE_ENABLED")
        if enabled is not None:
            return enabled
        return self.flag("OTEL_SDK_DISABLED") is not True

    def service(self) -> str | None:
        """``LOGTRACE_SERVICE``, ``OTEL_SERVICE_NAME``, or ``service.name`` of the resource."""
        name = self.environ.get("LOGTRACE_SERVICE") or self.environ.get("OTEL_SERVICE_NAME")
        if name:
            return name
        for item in self.environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
            key, _, value = item.partition("=")
            if key.strip() == "service.name" and value.strip():
                return value.strip()
        return None
