"""A value as a one-line message shows it: its ``repr``, cut short, never raising.

Errors and warnings echo what they were given (``malformed trace id 'zz…'``), so that the
reader sees what was wrong; a value of a megabyte (a script's mistake, hostile input) must not
become a megabyte of stderr. Both halves use it: the write side's misuse warnings, the read
side's and the CLI's errors.
"""

from __future__ import annotations

from typing import Any

# The most characters of a value an error line shows.
LIMIT = 60


def short_repr(value: Any, limit: int = LIMIT) -> str:
    """``repr(value)``, at most ``limit`` characters (then ``…``), never raising."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "…"
