"""``logtrace import``: OTLP JSON files (the Collector's file exporter's) into logtrace's files.

Each line of the input is an ``ExportTraceServiceRequest`` (``resourceSpans``) or an
``ExportLogsServiceRequest`` (``resourceLogs``); lines of other signals are skipped and counted.
Spans become start, event and end lines, log records log lines, written as closed files in
logtrace's layout: ``<dir>/<YYYY-MM-DD>/<service>_<host>_<pid>_<time>.jsonl``, one per process
(resource), named after its earliest line and dated (mtime) by its last, so every command reads
them, with the time windows of ``--since``. Ids may be hex (OTLP JSON) or base64 (the plain
protobuf JSON mapping); a span without a valid trace id, span id or time is skipped and
counted. Files are written whole under unique work names (never through a symlink), with the modes
given (0600, folders 0700, whatever the umask).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from ..format.fields import FILE_EVENT, FORMAT_VERSION, RESERVED
from ..format.folders import make_dirs, own_folder
from ..format.naming import file_name
from ..read.durable import replace_with
from ..read.files import ReadError
from .model import KIND_OF_OTLP, LOGTRACE_VERSION, SCOPE_NAME, SCOPE_VERSION, STATUS_CODE, Resource

_LEVELS = ((21, "critical"), (17, "error"), (13, "warning"), (9, "info"), (0, "debug"))
_RESERVED = RESERVED | {"event", "kind"}
_ERROR_KEYS = {"exception.type", "exception.message", "exception.stacktrace"}


@dataclass
class ImportResult:
    """What an import wrote."""

    spans: int = 0
    logs: int = 0
    skipped_lines: int = 0
    skipped_spans: int = 0  # without a valid trace id, span id or time: not written
    files: list[Path] = field(default_factory=list)

    def line(self) -> str:
        """One line for people."""
        text = (
            f"imported {_counted(self.spans, 'span')}, {_counted(self.logs, 'log record')} "
            f"into {_counted(len(self.files), 'file')}"
        )
        skipped = []
        if self.skipped_lines:
            verb = "is" if self.skipped_lines == 1 else "are"
            lines = _counted(self.skipped_lines, "line")
            skipped.append(f"{lines} that {verb} not OTLP traces or logs")
        if self.skipped_spans:
            spans = _counted(self.skipped_spans, "span")
            skipped.append(f"{spans} without a valid traceId, spanId or time")
        if skipped:
            text += "; skipped " + " and ".join(skipped)
        return text


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def import_otlp(
    sources: Iterable[IO[bytes]],
    directory: str | os.PathLike[str],
    *,
    file_mode: int = 0o600,
    dir_mode: int = 0o700,
) -> ImportResult:
    """Read OTLP JSON lines from ``sources``; write them as logtrace files under ``directory``.

    Args:
        file_mode, dir_mode: the modes of the files and of the folders made for them,
            whatever the umask (as the sink's ``file_mode`` and ``dir_mode``).

    Raises:
        ReadError: a folder or file cannot be written (a day folder that is a symlink).
    """
    per_process: dict[Resource, list[tuple[int, int, dict[str, Any]]]] = {}
    result = ImportResult()
    order = 0
    for source in sources:
        for raw in source:
            if not raw.strip():
                continue
            try:
                request = orjson.loads(raw)
            except orjson.JSONDecodeError:
                result.skipped_lines += 1
                continue
            if not isinstance(request, dict) or not (
                "resourceSpans" in request or "resourceLogs" in request
            ):
                result.skipped_lines += 1
                continue
            for resource, ts, line in _lines(request, result):
                order += 1
                per_process.setdefault(resource, []).append((ts, order, line))
    for resource, lines in sorted(per_process.items()):
        lines.sort(key=lambda item: (item[0], item[1]))
        modes = (file_mode, dir_mode)
        result.files.append(_write_file(Path(directory), resource, lines, modes))
    return result


def _lines(request: dict[str, Any], result: ImportResult) -> Iterable[tuple[Resource, int, Any]]:
    for resource_spans in request.get("resourceSpans") or []:
        resource = _resource(resource_spans.get("resource") or {})
        for scope_spans in resource_spans.get("scopeSpans") or []:
            scope = scope_spans.get("scope") or {}
            for span in scope_spans.get("spans") or []:
                lines = span_lines(span, resource, scope)
                if not lines:
                    result.skipped_spans += 1
                    continue
                result.spans += 1
                for ts, line in lines:
                    yield resource, ts, line
    for resource_logs in request.get("resourceLogs") or []:
        resource = _resource(resource_logs.get("resource") or {})
        for scope_logs in resource_logs.get("scopeLogs") or []:
            scope = scope_logs.get("scope") or {}
            for record in scope_logs.get("logRecords") or []:
                result.logs += 1
                yield resource, *log_line(record, resource, scope)


def value_of(any_value: Any) -> Any:
    """The plain value of an OTLP ``AnyValue``."""
    if not isinstance(any_value, dict):
        return None
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in any_value:
            return any_value[key]
    if "intValue" in any_value:
        try:
            return int(any_value["intValue"])
        except (TypeError, ValueError):
            return any_value["intValue"]
    if "arrayValue" in any_value:
        return [value_of(v) for v in (any_value["arrayValue"] or {}).get("values") or []]
    if "kvlistValue" in any_value:
        return attributes_of((any_value["kvlistValue"] or {}).get("values"))
    if "bytesValue" in any_value:
        return any_value["bytesValue"]
    return None


def attributes_of(key_values: Any) -> dict[str, Any]:
    """OTLP's ``KeyValue`` list as a dict."""
    out: dict[str, Any] = {}
    for item in key_values or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = value_of(item.get("value"))
    return out


def _resource(resource: dict[str, Any]) -> Resource:
    attributes = attributes_of(resource.get("attributes"))
    pid = attributes.get("process.pid")
    return Resource(
        str(attributes.get("service.name") or "unknown_service"),
        str(attributes.get("host.name") or "unknown"),
        pid if isinstance(pid, int) and pid >= 0 else 0,
    )


def hex_id(value: Any, size: int) -> str | None:
    """An id as lowercase hex: given as hex (OTLP JSON) or base64 (protobuf JSON); None if
    empty, all zeros or not ``size`` bytes."""
    if not isinstance(value, str) or not value:
        return None
    text = value.lower()
    if len(text) == 2 * size and all(c in "0123456789abcdef" for c in text):
        raw = bytes.fromhex(text)
    else:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
    if len(raw) != size or not any(raw):
        return None
    return raw.hex()


# Nanoseconds of 10000-01-01: a time past it (or before 1970) cannot be a line's ``ts``.
_LAST_NS = 253_402_300_800 * 1_000_000_000


def _ns(value: Any) -> int:
    """A ``…UnixNano`` value as an int: 0 when it is missing or not a time (see ``_time``)."""
    return _time(value) or 0


def _time(value: Any) -> int | None:
    """A ``…UnixNano`` value as an int; 0 when missing, None when it is not a number or not a
    time of years 1970 to 9999 (a span of 10^30 ns stopped the whole import)."""
    if value is None:
        return 0
    try:
        ns = int(value)
    except (TypeError, ValueError):
        return None
    return ns if 0 <= ns < _LAST_NS else None


def format_ts(ns: int) -> str:
    """Nanoseconds since the epoch as a line's ``ts`` (RFC 3339, UTC, microseconds)."""
    import time

    seconds, rest = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest // 1000:06d}Z"


def _user(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes as user fields: a name of logtrace's own gets ``_`` (as the write side does)."""
    return {(f"{k}_" if k in _RESERVED else k): v for k, v in attributes.items()}


def _head(ts: int, level: str, event: str, resource: Resource, logger: str) -> dict[str, Any]:
    return {
        "ts": format_ts(ts),
        "level": level,
        "event": event,
        "logger": logger,
        "service": resource.service,
        "pid": resource.pid,
    }


def span_lines(
    span: dict[str, Any], resource: Resource, scope: dict[str, Any]
) -> list[tuple[int, dict[str, Any]]]:
    """The start, event and end lines of an OTLP span: (ns, line) pairs; [] without valid ids
    or times."""
    trace_id, span_id = hex_id(span.get("traceId"), 16), hex_id(span.get("spanId"), 8)
    start, end = _time(span.get("startTimeUnixNano")), _time(span.get("endTimeUnixNano"))
    if trace_id is None or span_id is None or start is None or end is None:
        return []
    parent_id = hex_id(span.get("parentSpanId"), 8)
    name = str(span.get("name") or "span")
    end = max(start, end)
    ids = {"trace_id": trace_id, "span_id": span_id, "trace_flags": "01"}
    kind = KIND_OF_OTLP.get(span.get("kind") or 1, "internal")
    bound: dict[str, Any] = {"name": name, "parent_id": parent_id}
    if kind != "internal":
        bound["kind"] = kind
    attributes = attributes_of(span.get("attributes"))
    if scope.get("name") and scope["name"] != "logtrace":
        attributes[SCOPE_NAME] = scope["name"]
        if scope.get("version"):
            attributes[SCOPE_VERSION] = scope["version"]
    status = span.get("status") or {}
    code = status.get("code") or 0
    error = code == 2 or code == "STATUS_CODE_ERROR"
    head = _head(start, "info", name, resource, "logtrace")
    start_line = {**head, **ids, "span": "start", **bound, **_user(attributes)}
    out = [(start, start_line)]
    exception: dict[str, Any] = {}
    for event in span.get("events") or []:
        at = _ns(event.get("timeUnixNano"))
        event_attributes = attributes_of(event.get("attributes"))
        if event.get("name") == "exception":
            exception = event_attributes
            if error and at == end and set(event_attributes) <= _ERROR_KEYS:
                continue  # the error of the end line, as logtrace's export writes it
        line = {**_head(at, "info", str(event.get("name") or "event"), resource, "logtrace")}
        out.append((at, {**line, **ids, "span": "event", **_user(event_attributes)}))
    end_line = {**_head(end, "error" if error else "info", name, resource, "logtrace"), **ids}
    end_line.update(span="end", **bound)
    end_line["duration_ms"] = round((end - start) / 1e6, 3)
    end_line["status"] = "error" if error else "ok"
    if error:
        if exception.get("exception.type"):
            end_line["error_type"] = str(exception["exception.type"])
        message = status.get("message") or exception.get("exception.message")
        if message:
            end_line["error_message"] = str(message)
        if exception.get("exception.stacktrace"):
            end_line["exception"] = str(exception["exception.stacktrace"])
    elif code == 1 or code == "STATUS_CODE_OK":
        end_line[STATUS_CODE] = "OK"
    out.append((end, end_line))
    return out


def log_line(
    record: dict[str, Any], resource: Resource, scope: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """The log line of an OTLP log record: (ns, line)."""
    ts = _ns(record.get("timeUnixNano")) or _ns(record.get("observedTimeUnixNano"))
    severity = record.get("severityNumber") or 9
    level = next(name for floor, name in _LEVELS if isinstance(severity, int) and severity >= floor)
    body = value_of(record.get("body"))
    message = (
        body if isinstance(body, str) else ("" if body is None else orjson.dumps(body).decode())
    )
    line = _head(ts, level, message, resource, str(scope.get("name") or "otlp"))
    trace_id, span_id = hex_id(record.get("traceId"), 16), hex_id(record.get("spanId"), 8)
    if trace_id and span_id:
        flags = record.get("flags") or 0
        sampled = isinstance(flags, int) and flags & 1
        line.update(trace_id=trace_id, span_id=span_id, trace_flags="01" if sampled else "00")
    attributes = attributes_of(record.get("attributes"))
    for name, field_name in (("type", "error_type"), ("message", "error_message")):
        value = attributes.pop(f"exception.{name}", None)
        if value is not None:
            line[field_name] = str(value)
    stack = attributes.pop("exception.stacktrace", None)
    if stack is not None:
        line["exception"] = str(stack)
    line.update(_user(attributes))
    return ts, line


def _write_file(
    directory: Path,
    resource: Resource,
    lines: list[tuple[int, int, dict[str, Any]]],
    modes: tuple[int, int],
) -> Path:
    """One closed file of a process's lines, header first; named by its first line's time.

    ``modes``: the file's and the folders'. The day folder must be a folder of this user (a
    symlink there is refused); the file is written whole under a unique work name, never
    through a symlink, and replaces nothing: a name taken moves its time on 1 ms.
    """
    first, last = lines[0][0], lines[-1][0]
    ms = first // 1_000_000
    day, name = file_name(resource.service, resource.host, resource.pid, ms)
    folder = directory / day
    file_mode, dir_mode = modes
    try:
        make_dirs(folder, dir_mode)
        own_folder(folder)
    except OSError as error:
        raise ReadError(f"cannot write into {folder}: {error.strerror or error}") from None
    while os.path.lexists(folder / name):  # a second import of the same process at that ms
        ms += 1
        name = file_name(resource.service, resource.host, resource.pid, ms)[1]
    path = folder / name
    header = _head(first, "info", FILE_EVENT, resource, "logtrace")
    header.update(format=FORMAT_VERSION, host=resource.host, argv=["logtrace", "import"])
    header["python"] = f"logtrace {LOGTRACE_VERSION}"
    chunks = [orjson.dumps(header) + b"\n", *(orjson.dumps(line) + b"\n" for _, _, line in lines)]
    try:
        replace_with(path, chunks, file_mode, mtime_ns=last)
    except OSError as error:
        raise ReadError(f"cannot write {path}: {error.strerror or error}") from None
    return path
