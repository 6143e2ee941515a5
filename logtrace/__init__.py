"""logtrace: tracing you can grep.

Spans and log lines are JSON lines in files next to the program; DuckDB reassembles traces at
query time. ``configure()`` once, then ``span()``/``@traced`` where time goes; existing stdlib
and structlog calls gain ``trace_id`` and ``span_id``.

Importing this package only defines things: ``configure()`` creates files and starts the writer
thread, and the read side (``logtrace.open``, which needs DuckDB) is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import configure, current_file, flush, shutdown
from ._context import (
    SpanContext,
    ThreadPoolExecutor,
    current_span_id,
    current_trace_id,
    wrap,
)
from ._pipeline import TraceContextFilter, add_trace_context
from ._propagation import child_env, extract, inject
from ._span import Span, span
from ._traced import traced

if TYPE_CHECKING:
    from ._read import open

__version__ = "0.1.0"

__all__ = [
    "Span",
    "SpanContext",
    "ThreadPoolExecutor",
    "TraceContextFilter",
    "add_trace_context",
    "child_env",
    "configure",
    "current_file",
    "current_span_id",
    "current_trace_id",
    "extract",
    "flush",
    "inject",
    "open",
    "shutdown",
    "span",
    "traced",
    "wrap",
]


def __getattr__(name: str) -> Any:
    # The read side needs DuckDB; a traced program never pays for it unless it asks.
    if name == "open":
        from ._read import open

        return open
    raise AttributeError(f"module 'logtrace' has no attribute {name!r}")
