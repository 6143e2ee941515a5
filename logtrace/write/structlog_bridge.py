"""structlog setups of the program's own: events into logtrace's files, the console kept.

``to_files`` is a processor for a chain of your own: it writes the event to logtrace's files
(through logtrace's chain: the same line a structlog call under logtrace's own setup writes)
and passes it on unchanged, so your renderer still prints it. ``configure()`` puts it, with
``add_trace_context``, into a structlog setup the program made before calling it, in front of
the last processor (the renderer), instead of replacing that setup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logtrace.format import fields as f
from logtrace.write.pipeline import add_trace_context, emit, state
from logtrace.write.stamper import ORIGIN_KEY, Origin

# Keys structlog's own processors (add_log_level, TimeStamper, add_logger_name) and
# add_trace_context add: logtrace writes its own level, time, logger and ids.
_STRUCTLOG_KEYS = frozenset(
    {"level", "timestamp", "logger", "logger_name", f.TRACE_ID, f.SPAN_ID, f.TRACE_FLAGS}
)
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "exception": 40}
_LEVELS.update(critical=50, fatal=50)


class _Settings:
    """What configure() decided for ``to_files``."""

    min_level = 20


settings = _Settings()


def to_files(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: write the event to logtrace's files, pass it on unchanged.

    Put it in your own chain after the processors that add fields (``merge_contextvars``…)
    and before ``format_exc_info`` and the renderer; with ``add_trace_context`` before your
    renderer, the console shows the ids too. Never raises.
    """
    try:
        if _LEVELS.get(method_name, 20) < settings.min_level:
            return event_dict
        fields = {k: v for k, v in event_dict.items() if k not in _STRUCTLOG_KEYS}
        name = event_dict.get(f.LOGGER) or getattr(logger, "name", None) or "structlog"
        fields[ORIGIN_KEY] = Origin(state.stamper.clock(), str(name))
        emit(method_name, fields)
    except Exception:
        state.errors += 1
    return event_dict


def joined_chain(processors: list[Callable[..., Any]]) -> list[Callable[..., Any]]:
    """The program's processors with ``add_trace_context`` and ``to_files`` before the last
    one (its renderer), unless they are there already."""
    if to_files in processors:
        return processors
    ours: list[Callable[..., Any]] = [add_trace_context, to_files]
    if not processors:
        return ours
    return [*processors[:-1], *ours, processors[-1]]
