"""The span of disabled tracing: one shared object that does nothing, as cheaply as Python can.

With ``enabled=False`` (``LOGTRACE_ENABLED=0``, ``OTEL_SDK_DISABLED=true``) ``span()`` and
``@traced`` hand out ``NOOP_SPAN``: no ids, no context variable, no lines. Log lines inside carry
no ids. (To keep ids on log lines but write no span lines, use ``sampler="never"`` with
``keep_errors=False``.)
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from logtrace.write import span as _span_module
from logtrace.write.span import Span


class NoopSpan(Span):
    """A span that records nothing; every method of ``Span`` is here and does nothing."""

    __slots__ = ()

    def __init__(self) -> None:
        self.name = ""
        self.kind = None
        self.attributes = {}
        self.status = "ok"
        self._parent = None
        self.sampled = None
        self._recording = self._live = False

    @property
    def trace_id(self) -> str | None:
        """Always None: a disabled span has no ids."""
        return None

    @property
    def span_id(self) -> str | None:
        """Always None: a disabled span has no ids."""
        return None

    def set(self, /, **attributes: Any) -> None:
        """Nothing: tracing is off."""

    def event(self, name: str, /, **attributes: Any) -> None:
        """Nothing: tracing is off."""

    def rename(self, name: str) -> None:
        """Nothing: tracing is off."""

    def set_status(self, status: Any, message: str | None = None) -> None:
        """Nothing: tracing is off."""

    def record_exception(self, exc: BaseException) -> None:
        """Nothing: tracing is off."""

    def start(self, current: bool = True) -> Span:
        """Itself: there is nothing to open."""
        return self

    def open(self) -> None:
        """Nothing: tracing is off."""

    def end(self, exc: BaseException | None = None) -> None:
        """Nothing: tracing is off."""

    def start_line(self) -> bytes | None:
        """None: a disabled span writes no line."""
        return None

    __enter__ = start

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def __repr__(self) -> str:
        return "<NoopSpan: tracing is disabled>"


NOOP_SPAN = NoopSpan()
_span_module.NOOP_SPAN = NOOP_SPAN
