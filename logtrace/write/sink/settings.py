"""The sink's settings (``configure()`` fills them from its arguments and ``LOGTRACE_*``), and
what each number among them may be: ``LIMITS``, which ``configure()`` checks its own arguments
against too (``write/arguments.py``), so the two cannot disagree."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple


class Limit(NamedTuple):
    """What a number setting may be: from ``least`` (above it, if ``open_``) to ``most``; a
    whole number or any; infinity in or out; ``text`` says it in words where the default
    would not (permission bits, a share)."""

    least: float
    open_: bool = False
    whole: bool = False
    infinite: bool = False
    most: float = math.inf
    text: str = ""

    @property
    def wanted(self) -> str:
        """What to give, in words: "a whole number of at least 1", "a finite number above 0"."""
        if self.text:
            return self.text
        if self.whole:
            return f"a whole number of at least {self.least:g}"
        finite = "" if self.infinite else "finite "
        return f"a {finite}number {'above' if self.open_ else 'of at least'} {self.least:g}"

    def problem(self, value: Any) -> type[Exception] | None:
        """None if ``value`` fits; TypeError if it is not a number of the kind (a string never
        is, a float such as 1e5 is a whole number), ValueError if it is out of range."""
        if isinstance(value, (str, bytes)):
            return TypeError
        if self.whole:
            try:
                number: float = operator.index(value)
            except TypeError:
                if not (isinstance(value, float) and value.is_integer()):
                    return TypeError
                number = value
        else:
            try:
                number = float(value)
            except OverflowError:  # an int past a float's range (10**400)
                return ValueError
            except (TypeError, ValueError):
                return TypeError
        # Written so that NaN, for which every comparison is false, is out.
        fits = number > self.least or (number == self.least and not self.open_)
        if not fits or number > self.most or (math.isinf(number) and not self.infinite):
            return ValueError
        return None


# The sink's numbers. rotate_seconds and retention_days of math.inf: never rotate by age,
# never delete by age.
LIMITS = {
    "flush_interval": Limit(0, open_=True),
    "queue_size": Limit(1, whole=True),
    "block_timeout": Limit(0),
    "rotate_bytes": Limit(1, whole=True),
    "rotate_seconds": Limit(0, open_=True, infinite=True),
    "retention_days": Limit(0, open_=True, infinite=True),
    "retention_bytes": Limit(0, whole=True),  # or None: no limit by size
    "file_mode": Limit(0, whole=True, most=0o777, text="permission bits from 0o000 to 0o777"),
    "dir_mode": Limit(0, whole=True, most=0o777, text="permission bits from 0o000 to 0o777"),
}

_CHOICES = {"flush": ("interval", "always"), "overflow": ("drop", "block")}


def shown(name: str, value: Any) -> str:
    """``value`` as an error message shows it: permission bits in octal."""
    if name.endswith("_mode") and isinstance(value, int) and not isinstance(value, bool):
        return oct(value)
    return repr(value)


@dataclass(frozen=True)
class SinkSettings:
    """Where and how the sink writes; built by ``configure()`` from arguments and environment."""

    directory: Path
    service: str
    flush: Literal["interval", "always"] = "interval"
    flush_interval: float = 1.0
    queue_size: int = 100_000
    overflow: Literal["drop", "block"] = "drop"
    block_timeout: float = 0.1
    rotate_bytes: int = 64 * 1024 * 1024
    rotate_seconds: float = 3600.0
    retention_days: float = 7.0
    retention_bytes: int | None = None
    file_mode: int = 0o600
    dir_mode: int = 0o700

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", Path(self.directory))
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                raise ValueError(
                    f"SinkSettings.{name}={value!r}: give {' or '.join(map(repr, choices))}"
                )
        for name, limit in LIMITS.items():
            value = getattr(self, name)
            problem = None if value is None and name == "retention_bytes" else limit.problem(value)
            if problem is not None:
                wanted = limit.wanted + (", or None" if name == "retention_bytes" else "")
                raise problem(f"SinkSettings.{name}={shown(name, value)}: give {wanted}")
            if limit.whole and value is not None:
                object.__setattr__(self, name, int(value))  # 1e5 or a numpy int: an int
