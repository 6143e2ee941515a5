"""What every export format is made from: spans, their events and log lines, per process.

The readers of the files (``source``, ``follow``) build these from logtrace's lines; each
format (``otlp_json``, ``chrome``, ``jaeger``, ``zipkin``) turns them into its own shape. Times
are integers of nanoseconds since the epoch; ids lowercase hex, as on the lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("logtrace")
    except Exception:
        return "unknown"


# The version in the instrumentation scope of logtrace's own spans.
LOGTRACE_VERSION = _version()

# Span kinds as written in the ``kind`` field (absent: internal), and OTLP's numbers for them.
KINDS = ("internal", "server", "client", "producer", "consumer")
OTLP_KIND = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
KIND_OF_OTLP = {number: name for name, number in OTLP_KIND.items()}

# Attributes of OpenTelemetry's mapping to non-OTLP formats, carried on logtrace lines by the
# SDK bridge (integrations/otel_spans.py) and turned back into OTLP's own fields on export.
SCOPE_NAME = "otel.scope.name"
SCOPE_VERSION = "otel.scope.version"
STATUS_CODE = "otel.status_code"
# A span that never ended (its process died, or it is still open): exported with this marker.
UNFINISHED = "logtrace.unfinished"


@dataclass(frozen=True, order=True)
class Resource:
    """The process a span or log line comes from: service, host and pid."""

    service: str
    host: str
    pid: int


@dataclass
class Event:
    """A point-in-time event of a span (a ``span: "event"`` line)."""

    name: str
    time_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Span:
    """One span, put together from its start line, its end line and its event lines."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    resource: Resource
    start_ns: int
    end_ns: int
    kind: str = "internal"
    status: str = "ok"  # "ok", "error" or "unfinished"
    # OpenTelemetry's status: "unset", "ok" (set explicitly) or "error".
    status_code: str = "unset"
    error_type: str | None = None
    error_message: str | None = None
    exception: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    scope: tuple[str, str | None] = ("logtrace", None)
    sampled: bool = True

    @property
    def duration_ns(self) -> int:
        """How long it ran (0 for an unfinished span)."""
        return max(0, self.end_ns - self.start_ns)


@dataclass
class Log:
    """A log line (not a span line), with the span it was written in, if any."""

    time_ns: int
    level: str
    message: str
    resource: Resource
    logger: str
    trace_id: str | None = None
    span_id: str | None = None
    sampled: bool = True
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    """What one step of reading found: whole traces' spans and the log lines that go with them."""

    spans: list[Span] = field(default_factory=list)
    logs: list[Log] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.spans or self.logs)
