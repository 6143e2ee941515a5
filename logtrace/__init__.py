"""logtrace: tracing you can grep.

Spans and log lines are JSON lines in files next to the program; DuckDB reassembles traces at
query time. ``configure()`` once, then ``span()``/``@traced`` where time goes; existing stdlib
and structlog calls gain ``trace_id`` and ``span_id``.

Importing this package only defines things: ``configure()`` creates files and starts the writer
thread; each name is imported on first use (the read side, ``logtrace.open``, needs DuckDB; the
CLI needs no write side).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from logtrace import sampling as sampling
    from logtrace.integrations.http import (
        ASGIMiddleware,
        WSGIMiddleware,
        httpx_async_transport,
        httpx_transport,
        requests_adapter,
        requests_session,
    )
    from logtrace.integrations.otel import otel_context as otel_context
    from logtrace.integrations.process import ProcessPoolExecutor, wrap_for_process
    from logtrace.read.files import ReadError
    from logtrace.read.reader import open
    from logtrace.read.trace import AmbiguousTrace, TraceNotFound
    from logtrace.write.config import configure, current_file, flush, shutdown
    from logtrace.write.context import (
        SpanContext,
        ThreadPoolExecutor,
        current_span_id,
        current_trace_id,
        wrap,
    )
    from logtrace.write.pipeline import add_trace_context
    from logtrace.write.propagation import child_env, extract, inject
    from logtrace.write.span import Span, span
    from logtrace.write.stdlib import TraceContextFilter
    from logtrace.write.structlog_bridge import to_files
    from logtrace.write.traced import traced

__version__ = "0.1.0"

# ``otel_context`` is reachable but not in __all__: it needs the otel extra, and
# ``from logtrace import *`` must work without it.
__all__ = [
    "ASGIMiddleware",
    "AmbiguousTrace",
    "ProcessPoolExecutor",
    "ReadError",
    "Span",
    "SpanContext",
    "ThreadPoolExecutor",
    "TraceContextFilter",
    "TraceNotFound",
    "WSGIMiddleware",
    "add_trace_context",
    "child_env",
    "configure",
    "current_file",
    "current_span_id",
    "current_trace_id",
    "extract",
    "flush",
    "httpx_async_transport",
    "httpx_transport",
    "inject",
    "open",
    "requests_adapter",
    "requests_session",
    "shutdown",
    "span",
    "to_files",
    "traced",
    "wrap",
    "wrap_for_process",
]

# Imported on first use: the read side needs DuckDB, the process helpers multiprocessing, the
# integrations their libraries; a traced program pays only for what it touches, and the
# ``logtrace`` command (``show``, ``ls``) does not load the write side. A name, once imported,
# is an attribute like any other (no lookup through __getattr__ on the hot path).
_WRITE = {
    "configure": "config",
    "current_file": "config",
    "flush": "config",
    "shutdown": "config",
    "SpanContext": "context",
    "ThreadPoolExecutor": "context",
    "current_span_id": "context",
    "current_trace_id": "context",
    "wrap": "context",
    "add_trace_context": "pipeline",
    "child_env": "propagation",
    "extract": "propagation",
    "inject": "propagation",
    "Span": "span",
    "span": "span",
    "TraceContextFilter": "stdlib",
    "to_files": "structlog_bridge",
    "traced": "traced",
}
_LAZY = {
    **{name: f"logtrace.write.{module}" for name, module in _WRITE.items()},
    "open": "logtrace.read.reader",
    "ReadError": "logtrace.read.files",
    "TraceNotFound": "logtrace.read.trace",
    "AmbiguousTrace": "logtrace.read.trace",
    "ProcessPoolExecutor": "logtrace.integrations.process",
    "wrap_for_process": "logtrace.integrations.process",
    "ASGIMiddleware": "logtrace.integrations.http",
    "WSGIMiddleware": "logtrace.integrations.http",
    "httpx_transport": "logtrace.integrations.http",
    "httpx_async_transport": "logtrace.integrations.http",
    "requests_adapter": "logtrace.integrations.http",
    "requests_session": "logtrace.integrations.http",
    "otel_context": "logtrace.integrations.otel",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "sampling":
        return importlib.import_module("logtrace.sampling")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'logtrace' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
