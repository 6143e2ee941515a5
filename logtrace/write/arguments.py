"""``configure()``'s arguments (and ``flush()``'s and ``shutdown()``'s timeout), checked
before anything is set up.

A wrong argument raises before the old configuration is closed, in one line that names the
argument, its value and what to give: ``TypeError`` for a value of the wrong kind (a string
for a flag or a number), ``ValueError`` for one out of range. Nothing is left half set up
(``level=99`` used to fail in structlog's setup, after the files were open). Values from the
environment are not checked here: a bad ``LOGTRACE_*`` variable is a warning and its default
(``env.py``), since a deployment's environment must not stop the program.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from logtrace.format.shown import short_repr
from logtrace.write.sink import settings as sink_settings
from logtrace.write.sink.settings import Limit

__all__ = ["check", "patterns", "texts", "wait_limit"]

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

# configure()'s numbers: the sink's (its own limits, so the two cannot disagree) and those of
# spans and lines.
LIMITS = {
    **sink_settings.LIMITS,
    "max_depth": Limit(0, whole=True),
    "max_attributes": Limit(0, whole=True),
    "max_string": Limit(1, whole=True),
    "max_line": Limit(1, whole=True),
    "slow_ms": Limit(0, infinite=True),
    "sample_rate": Limit(0, most=1, text="a share from 0 to 1"),
    "level": Limit(0, whole=True, text="a level name such as 'info', or a number of at least 0"),
}


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
        limit = LIMITS.get(name)
        if limit is not None and not (name == "level" and isinstance(value, str)):
            problem = limit.problem(value)
            if problem is not None:
                shown = sink_settings.shown(name, value)
                raise problem(f"configure({name}={shown}): give {limit.wanted}")
    directory = given.get("directory")
    if directory is not None and not isinstance(directory, (str, os.PathLike)):
        raise TypeError(
            f"configure(directory={short_repr(directory)}): give a folder's path (str or Path)"
        )
    if directory is not None and "\x00" in os.fspath(directory):
        raise ValueError(
            f"configure(directory={short_repr(directory)}): a path cannot hold a NUL character"
        )
    _environ(given.get("environ"))
    service = given.get("service")
    if service is not None and not isinstance(service, str):
        raise TypeError(f"configure(service={service!r}): give the service's name as a str")
    _sampler(given.get("sampler"))
    redactor = given.get("redactor")
    if redactor is not None and not callable(redactor):
        raise TypeError(f"configure(redactor={redactor!r}): give a callable (key, value) -> value")


def _environ(environ: Any) -> None:
    """``environ``: a mapping of names to strings, as ``os.environ`` is."""
    if environ is None:
        return
    wanted = "give a mapping of names to strings, as os.environ is"
    if not isinstance(environ, Mapping):
        raise TypeError(f"configure(environ={short_repr(environ)}): {wanted}")
    for key, value in environ.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"configure(environ=...): {short_repr(key)}: {short_repr(value)}: {wanted}"
            )


def texts(name: str, value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``redact_keys`` as a tuple: one string is one key (not one key per character); None is
    none, as for the other arguments."""
    if value is None:
        return ()
    if not isinstance(value, (str, Iterable)):
        raise TypeError(f"configure({name}={short_repr(value)}): give a string or strings")
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"configure({name}=...): {item!r} is not a string")
    return items


def patterns(value: Any) -> tuple[Any, ...]:
    """``redact_patterns`` as a tuple of compiled patterns: one string or pattern is one. A
    pattern is anything with a ``sub`` method (``re``'s, the ``regex`` module's) over text;
    None is none."""
    if value is None:
        return ()
    if not isinstance(value, (str, Iterable)) and not hasattr(value, "sub"):
        raise TypeError(f"configure(redact_patterns={short_repr(value)}): give patterns")
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


def wait_limit(call: str, timeout: float) -> float | None:
    """``flush()``'s and ``shutdown()``'s ``timeout`` as the sink takes it: None for no limit
    (infinity, or more than a lock can wait); a wrong one raises before anything is flushed
    or closed."""
    wanted = "give a number of seconds of at least 0 (math.inf: no limit)"
    if isinstance(timeout, (str, bytes)):
        raise TypeError(f"logtrace.{call}(timeout={timeout!r}): {wanted}")
    try:
        seconds = float(timeout)
    except (TypeError, ValueError):
        raise TypeError(f"logtrace.{call}(timeout={timeout!r}): {wanted}") from None
    if not seconds >= 0:  # NaN too
        raise ValueError(f"logtrace.{call}(timeout={timeout!r}): {wanted}")
    return None if seconds > threading.TIMEOUT_MAX else seconds
