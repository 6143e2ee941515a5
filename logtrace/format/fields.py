"""Field names of the event format: the only thing the write and read sides share.

One JSON object per line. Every line carries ``ts``, ``level``, ``event``, ``logger``,
``service`` and ``pid``; a line written inside a span adds ``trace_id``, ``span_id`` and
``trace_flags``. Span lines add the ``span`` marker (``start``, ``end`` or ``event``), ``name``
and ``parent_id``; start and end lines add ``kind`` unless the span is internal; end lines add
``duration_ms`` and ``status``, and error fields when the span failed. Everything else on a
line is a user field (a span attribute or a keyword of a log call). docs/format.md documents
each field; change both together.
"""

from __future__ import annotations

FORMAT_VERSION = 2

TS = "ts"
LEVEL = "level"
EVENT = "event"
LOGGER = "logger"
SERVICE = "service"
PID = "pid"

TRACE_ID = "trace_id"
SPAN_ID = "span_id"
TRACE_FLAGS = "trace_flags"

SPAN = "span"
NAME = "name"
PARENT_ID = "parent_id"
# The span kind, as OpenTelemetry names them; written only when not internal (readers take a
# missing kind as KIND_INTERNAL).
KIND = "kind"
KIND_INTERNAL = "internal"
KINDS = ("server", "client", "producer", "consumer", KIND_INTERNAL)
DURATION_MS = "duration_ms"
STATUS = "status"
ERROR_TYPE = "error_type"
ERROR_MESSAGE = "error_message"
EXCEPTION = "exception"

# Set on a line that had to be cut down to fit the limits.
ATTRIBUTES_DROPPED = "attributes_dropped"
LINE_TRUNCATED = "line_truncated"

# Values of the SPAN marker.
SPAN_START = "start"
SPAN_END = "end"
SPAN_EVENT = "event"

# Values of STATUS on end lines.
STATUS_OK = "ok"
STATUS_ERROR = "error"

# Events logtrace writes about itself (logger "logtrace").
FILE_EVENT = "logtrace.file"
DROPPED_EVENT = "logtrace.dropped"
WRITE_ERROR_EVENT = "logtrace.write_error"
BAD_TRACEPARENT_EVENT = "logtrace.bad_traceparent"
FORMAT = "format"
DROPPED = "dropped"
REASON = "reason"
# Fields of those events: the header line (FILE_EVENT) and write errors (WRITE_ERROR_EVENT, which
# also carries ERROR_TYPE and ERROR_MESSAGE).
HOST = "host"
ARGV = "argv"
PYTHON = "python"
PATH = "path"
# Values of REASON on DROPPED_EVENT lines.
REASON_QUEUE_FULL = "queue_full"
# A line the program could not make: a processor of the chain (its own or logtrace's) raised.
REASON_RENDER_ERROR = "render_error"
REASON_WRITE_ERROR = "write_error"

# Names a user field may not take: a user field with one of these names is written with a
# trailing underscore instead (``level`` -> ``level_``), so it can never be mistaken for ours.
RESERVED = frozenset(
    {
        TS,
        LEVEL,
        LOGGER,
        SERVICE,
        PID,
        TRACE_ID,
        SPAN_ID,
        TRACE_FLAGS,
        SPAN,
        NAME,
        PARENT_ID,
        KIND,
        DURATION_MS,
        STATUS,
        ERROR_TYPE,
        ERROR_MESSAGE,
        EXCEPTION,
        ATTRIBUTES_DROPPED,
        LINE_TRUNCATED,
    }
)

# Levels as written, lowest first.
LEVELS = ("debug", "info", "warning", "error", "critical")

# File names: <dir>/<YYYY-MM-DD>/<service>_<host>_<pid>_<YYYYmmddTHHMMSS.fffZ>.jsonl[.zst]
# Service and host are sanitised to [A-Za-z0-9.-] so "_" only ever separates the parts.
LIVE_SUFFIX = ".jsonl"
ROTATED_SUFFIX = ".jsonl.zst"
FILE_TIME_FORMAT = "%Y%m%dT%H%M%S"
DAY_FORMAT = "%Y-%m-%d"
# A file's name, live or rotated; groups: service, host, pid, opened (the time part).
FILE_NAME_PATTERN = (
    r"(?P<service>[A-Za-z0-9.-]+)_(?P<host>[A-Za-z0-9.-]+)_(?P<pid>[0-9]+)"
    r"_(?P<opened>[0-9]{8}T[0-9]{6}\.[0-9]{3}Z)\.jsonl(?:\.zst)?"
)
DAY_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

# Environment carrier for child processes (OpenTelemetry's env-carrier names).
ENV_TRACEPARENT = "TRACEPARENT"
ENV_TRACESTATE = "TRACESTATE"

# Where the files go: the directory configure() writes to and the CLI reads by default.
ENV_DIR = "LOGTRACE_DIR"
DEFAULT_DIR = "logtrace"

# Compacted history (``logtrace compact``, read side only): one Parquet file per batch of closed
# JSONL files of a day folder, in that folder:
#   <dir>/<YYYY-MM-DD>/compacted_<first line>_<last line>_<digest>.parquet
# The two times (UTC, FILE_TIME_FORMAT, to the second, widened outwards) let a reader pick the
# files of a time window from names alone. The names of the JSONL files a Parquet file replaced
# are in its key-value metadata under COMPACTED_SOURCES (a JSON list), so a reader never counts
# a line twice when a compaction was interrupted between writing the Parquet file and deleting
# its sources.
COMPACTED_PREFIX = "compacted_"
COMPACTED_SUFFIX = ".parquet"
COMPACTED_NAME_PATTERN = (
    r"compacted_(?P<first>[0-9]{8}T[0-9]{6})_(?P<last>[0-9]{8}T[0-9]{6})_(?P<digest>[0-9a-f]+)"
    r"\.parquet"
)
COMPACTED_SOURCES = "logtrace_sources"
# Beside each compacted file, its span rows (one row per span, start and end joined; a contract
# for other engines, versioned by SPANS_FORMAT in the key-value metadata): the same name with
# SPANS_PREFIX. A span file counts only while its compacted file exists (that one is renamed
# into place, or published, last).
SPANS_PREFIX = "spans_"
SPANS_FORMAT = "logtrace_spans_format"
SPANS_FORMAT_VERSION = 1
COMPACTED_FORMAT = "logtrace_format"
