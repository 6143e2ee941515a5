"""``logtrace import``: OTLP JSON files (the Collector's file exporter's) into logtrace's files.

Each line of the input is an ``ExportTraceServiceRequest`` (``resourceSpans``) or an
``ExportLogsServiceRequest`` (``resourceLogs``); lines of other signals are skipped and counted.
Spans become start, event and end lines, log records log lines, written as closed files in
logtrace's layout: ``<dir>/<YYYY-MM-DD>/<service>_<host>_<pid>_<time>.jsonl``, one per process
(resource), named after its earliest line and dated (mtime) by its last, so every command reads
them, with the time windows of ``--since``. Ids may be hex (OTLP JSON) or base64 (the plain
protobuf JSON mapping); a span without a valid trace id, span id or time is skipped and
counted; so is an item of the wrong shape (a resource, scope, span or record holding an object
where an array belongs, say), named with its file and line in ``ImportResult.problems``, the
rest of the line imported. Names, attributes, bodies and error texts go through the writer's
redaction and limits (``scrubber``: ``logtrace import`` passes the one ``configure()`` would
make from the environment), and a line longer than ``max_line`` is cut as the writer cuts
its own. Files are written whole under unique work names (never through a symlink), with the modes
given (0600, folders 0700, whatever the umask).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from ..format.fields import RESERVED
from ..format.lines import MAX_LINE, cut_fields
from .import_files import line_head, write_file
from .model import (
    KIND_OF_OTLP,
    SCOPE_NAME,
    SCOPE_VERSION,
    STATUS_CODE,
    UNFINISHED,
    Resource,
)
from .otlp_input import (
    KIND_NUMBERS,
    SEVERITY_NUMBERS,
    STATUS_NUMBERS,
    Malformed,
    as_array,
    as_object,
    attributes_of,
    enum_of,
    hex_id,
    ns_of,
    time_of,
    value_of,
)

__all__ = ["ImportResult", "Scrub", "attributes_of", "hex_id", "import_otlp", "value_of"]

_LEVELS = ((21, "critical"), (17, "error"), (13, "warning"), (9, "info"), (0, "debug"))
_RESERVED = RESERVED | {"event", "kind"}
_ERROR_KEYS = {"exception.type", "exception.message", "exception.stacktrace"}


class Scrub(Protocol):
    """What redacts and limits imported fields: the writer's ``Scrubber`` (``logtrace.write``)."""

    def text(self, value: str, remember: bool = ...) -> str:
        """``value`` with secrets replaced and cut to the longest string kept."""

    def copy_fields(
        self,
        out: MutableMapping[Any, Any],
        fields: Mapping[Any, Any],
        rename: bool,
        skip: bool = ...,
    ) -> None:
        """The user fields of ``fields`` into ``out``, scrubbed and within the limits."""


# At most this many problems are kept to be shown; all are counted.
_PROBLEMS_SHOWN = 20
_BOM = b"\xef\xbb\xbf"


@dataclass
class ImportResult:
    """What an import wrote."""

    spans: int = 0
    logs: int = 0
    skipped_lines: int = 0
    skipped_spans: int = 0  # without a valid trace id, span id or time: not written
    duplicate_spans: int = 0  # a trace id and span id given again: the first copy is kept
    skipped_items: int = 0  # resources, scopes, spans or records of the wrong shape
    lines_cut: int = 0  # over max_line: user fields dropped, as the writer does
    files: list[Path] = field(default_factory=list)
    # "<file> line <n>: <where>: <what>; skipped", the first _PROBLEMS_SHOWN of skipped_items.
    problems: list[str] = field(default_factory=list)

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
        if self.duplicate_spans:
            spans = _counted(self.duplicate_spans, "duplicate span")
            skipped.append(f"{spans} (a traceId and spanId given again: the first is kept)")
        if self.skipped_items:
            skipped.append(f"{_counted(self.skipped_items, 'malformed item')}")
        if skipped:
            text += "; skipped " + " and ".join(skipped)
        if self.lines_cut:
            text += f"; cut {_counted(self.lines_cut, 'line')} over the longest line"
        return text

    def skip_line(self, where: str, what: str) -> None:
        """Count a line that is no OTLP request, and say which (the first few)."""
        self.skipped_lines += 1
        if len(self.problems) < _PROBLEMS_SHOWN:
            self.problems.append(f"{where}: {what}; skipped")

    def skip(self, where: str, path: str, error: Exception) -> None:
        """Count an item skipped for its shape, and say which."""
        self.skipped_items += 1
        if len(self.problems) < _PROBLEMS_SHOWN:
            what = str(error) if isinstance(error, Malformed) else type(error).__name__
            self.problems.append(f"{where}: {path + ': ' if path else ''}{what}; skipped")


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def import_otlp(
    sources: Iterable[IO[bytes]],
    directory: str | os.PathLike[str],
    *,
    scrubber: Scrub | None,
    max_line: int = MAX_LINE,
    file_mode: int = 0o600,
    dir_mode: int = 0o700,
) -> ImportResult:
    """Read OTLP JSON lines from ``sources``; write them as logtrace files under ``directory``.

    Args:
        scrubber: what names, attributes, log bodies and error texts go through, as the
            writer's lines do: ``logtrace.write.config.env_scrubber()[0]`` is ``configure()``'s
            (redaction on unless ``LOGTRACE_REDACT=0``); None writes them as they are.
        max_line: the longest line, in bytes; a longer one keeps logtrace's fields only.
        file_mode, dir_mode: the modes of the files and of the folders made for them,
            whatever the umask (as the sink's ``file_mode`` and ``dir_mode``).

    Raises:
        ReadError: a folder or file cannot be written (a day folder that is a symlink).
    """
    per_process: dict[Resource, list[tuple[int, int, bytes]]] = {}
    result = ImportResult()
    read = _Read(result, scrubber, max_line)
    order = 0
    for source in sources:
        name = str(getattr(source, "name", "-"))
        for number, raw in enumerate(source, 1):
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]  # a UTF-8 byte order mark, as some editors write
            if not raw.strip():
                continue
            where = f"{name} line {number}"
            try:
                request = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                # orjson counts characters of the decoded line, not bytes; so does the column.
                end = len(error.doc.rstrip())
                at = "its end" if error.pos >= end else f"column {error.pos + 1}"
                what = f"not a line of JSON ({error.msg} at {at}; one request per line is read)"
                result.skip_line(where, what)
                continue
            if not isinstance(request, dict) or not (
                "resourceSpans" in request or "resourceLogs" in request
            ):
                result.skip_line(where, "JSON, but no resourceSpans or resourceLogs")
                continue
            for resource, ts, data in read.lines(request, where):
                order += 1
                per_process.setdefault(resource, []).append((ts, order, data))
    for resource, lines in sorted(per_process.items()):
        lines.sort(key=lambda item: (item[0], item[1]))
        modes = (file_mode, dir_mode)
        result.files.append(write_file(Path(directory), resource, lines, modes))
    return result


# What the items of a request are called: resources, their scopes, the scopes' items.
_SPANS = ("resourceSpans", "scopeSpans", "spans")
_LOGS = ("resourceLogs", "scopeLogs", "logRecords")


def _items(
    request: dict[str, Any], names: tuple[str, str, str], where: str, result: ImportResult
) -> Iterator[tuple[str, Resource, dict[str, Any], dict[str, Any]]]:
    """(path, resource, scope, item) of each span or record of ``request``; an item of the
    wrong shape is skipped (a resource or scope with all it holds) and counted."""
    resources_name, scopes_name, items_name = names
    try:
        resources = as_array(request.get(resources_name), resources_name)
    except Malformed as error:
        result.skip(where, "", error)
        return
    for r, resource_item in enumerate(resources):
        path = f"{resources_name}[{r}]"
        try:
            resource_item = as_object(resource_item, "it")
            resource = _resource(as_object(resource_item.get("resource"), "resource"))
            scopes = as_array(resource_item.get(scopes_name), scopes_name)
        except (Malformed, TypeError, AttributeError) as error:
            result.skip(where, path, error)
            continue
        for s, scope_item in enumerate(scopes):
            scope_path = f"{path}.{scopes_name}[{s}]"
            try:
                scope_item = as_object(scope_item, "it")
                scope = as_object(scope_item.get("scope"), "scope")
                items = as_array(scope_item.get(items_name), items_name)
            except Malformed as error:
                result.skip(where, scope_path, error)
                continue
            for n, item in enumerate(items):
                item_path = f"{scope_path}.{items_name}[{n}]"
                if isinstance(item, dict):
                    yield item_path, resource, scope, item
                else:
                    result.skip(where, item_path, Malformed("it is not an object"))


class _Read:
    """The lines of the requests of one import: spans and records read, scrubbed, encoded
    and cut; each span once (by trace id and span id: the first copy read is kept)."""

    def __init__(self, result: ImportResult, scrubber: Scrub | None, max_line: int) -> None:
        self.result = result
        self.scrubber = scrubber
        self.max_line = max_line
        self.seen: set[tuple[str, str]] = set()

    def lines(self, request: dict[str, Any], where: str) -> Iterator[tuple[Resource, int, bytes]]:
        """(resource, ns, encoded line) of each line of ``request``'s spans and records; an
        item that cannot be read or written is skipped and counted in the result."""
        result = self.result
        for path, resource, scope, span in _items(request, _SPANS, where, result):
            try:
                lines = span_lines(span, resource, scope, self.scrubber)
                if not lines:
                    result.skipped_spans += 1
                    continue
                ids = (lines[0][1]["trace_id"], lines[0][1]["span_id"])
                if ids in self.seen:
                    result.duplicate_spans += 1
                    continue
                encoded = [(ts, *self._encoded(line)) for ts, line in lines]
            except (Malformed, TypeError, AttributeError) as error:
                result.skip(where, path, error)
                continue
            self.seen.add(ids)
            result.spans += 1
            for ts, data, cut in encoded:
                result.lines_cut += cut
                yield resource, ts, data
        for path, resource, scope, record in _items(request, _LOGS, where, result):
            try:
                ts, line = log_line(record, resource, scope, self.scrubber)
                data, cut = self._encoded(line)
            except (Malformed, TypeError, AttributeError) as error:
                result.skip(where, path, error)
                continue
            result.logs += 1
            result.lines_cut += cut
            yield resource, ts, data

    def _encoded(self, line: dict[str, Any]) -> tuple[bytes, bool]:
        """``line`` as JSON, and whether its user fields were dropped (over ``max_line``).

        Raises:
            Malformed: a value orjson cannot write (a string value holding raw JSON nested
                past orjson's 254 levels, say).
        """
        try:
            data = orjson.dumps(line)
            if len(data) <= self.max_line:
                return data, False
            return orjson.dumps(cut_fields(line, len(data))), True
        except orjson.JSONEncodeError as error:
            raise Malformed(f"a value that cannot be written as JSON ({error})") from None


def _resource(resource: dict[str, Any]) -> Resource:
    attributes = attributes_of(resource.get("attributes"))
    pid = attributes.get("process.pid")
    return Resource(
        str(attributes.get("service.name") or "unknown_service"),
        str(attributes.get("host.name") or "unknown"),
        pid if isinstance(pid, int) and not isinstance(pid, bool) and pid >= 0 else 0,
    )


def _user(attributes: dict[str, Any], scrubber: Scrub | None) -> dict[str, Any]:
    """Attributes as user fields: a name of logtrace's own gets ``_`` (as the write side does),
    scrubbed and within the limits as the writer's are."""
    fields = {(f"{k}_" if k in _RESERVED else k): v for k, v in attributes.items()}
    if scrubber is None:
        return fields
    out: dict[str, Any] = {}
    scrubber.copy_fields(out, fields, rename=False, skip=False)
    return out


def _text(value: str, scrubber: Scrub | None) -> str:
    """A name, message or error text, scrubbed as the writer's are."""
    return value if scrubber is None else scrubber.text(value)


def span_lines(
    span: dict[str, Any], resource: Resource, scope: dict[str, Any], scrubber: Scrub | None
) -> list[tuple[int, dict[str, Any]]]:
    """The start, event and end lines of an OTLP span: (ns, line) pairs; [] without valid ids
    or times. A span exported unfinished (``logtrace.unfinished``) has no end line.

    Raises:
        Malformed: a part of the span has the wrong type (``status`` not an object).
    """
    trace_id, span_id = hex_id(span.get("traceId"), 16), hex_id(span.get("spanId"), 8)
    start, end = time_of(span.get("startTimeUnixNano")), time_of(span.get("endTimeUnixNano"))
    if trace_id is None or span_id is None or start is None or end is None:
        return []
    status = as_object(span.get("status"), "status")
    events = [as_object(event, "an event") for event in as_array(span.get("events"), "events")]
    attributes = attributes_of(span.get("attributes"))
    unfinished = attributes.pop(UNFINISHED, None) is True
    parent_id = hex_id(span.get("parentSpanId"), 8)
    name = _text(str(span.get("name") or "span"), scrubber)
    end = max(start, end)
    ids = {"trace_id": trace_id, "span_id": span_id, "trace_flags": "01"}
    kind = KIND_OF_OTLP.get(enum_of(span.get("kind"), KIND_NUMBERS), "internal")
    bound: dict[str, Any] = {"name": name, "parent_id": parent_id}
    if kind != "internal":
        bound["kind"] = kind
    if scope.get("name") and scope["name"] != "logtrace":
        attributes[SCOPE_NAME] = scope["name"]
        if scope.get("version"):
            attributes[SCOPE_VERSION] = scope["version"]
    code = enum_of(status.get("code"), STATUS_NUMBERS)
    error = code == 2
    head = line_head(start, "info", name, resource, "logtrace")
    start_line = {**head, **ids, "span": "start", **bound, **_user(attributes, scrubber)}
    out = [(start, start_line)]
    exception: dict[str, Any] = {}
    for event in events:
        at = ns_of(event.get("timeUnixNano"))
        event_attributes = attributes_of(event.get("attributes"))
        if event.get("name") == "exception":
            exception = event_attributes
            if error and at == end and set(event_attributes) <= _ERROR_KEYS:
                continue  # the error of the end line, as logtrace's export writes it
        event_name = _text(str(event.get("name") or "event"), scrubber)
        line = {**line_head(at, "info", event_name, resource, "logtrace")}
        out.append((at, {**line, **ids, "span": "event", **_user(event_attributes, scrubber)}))
    if unfinished:
        return out  # as the writer leaves a span that never ended: a start line, no end line
    end_line = {**line_head(end, "error" if error else "info", name, resource, "logtrace"), **ids}
    end_line.update(span="end", **bound)
    end_line["duration_ms"] = round((end - start) / 1e6, 3)
    end_line["status"] = "error" if error else "ok"
    if error:
        if exception.get("exception.type"):
            end_line["error_type"] = str(exception["exception.type"])
        message = status.get("message") or exception.get("exception.message")
        if message:
            end_line["error_message"] = _text(str(message), scrubber)
        if exception.get("exception.stacktrace"):
            end_line["exception"] = _text(str(exception["exception.stacktrace"]), scrubber)
    elif code == 1:
        end_line[STATUS_CODE] = "OK"
    out.append((end, end_line))
    return out


def log_line(
    record: dict[str, Any], resource: Resource, scope: dict[str, Any], scrubber: Scrub | None
) -> tuple[int, dict[str, Any]]:
    """The log line of an OTLP log record: (ns, line); a ``severityNumber`` unknown (or
    missing) reads as info.

    Raises:
        Malformed: a part of the record has the wrong type (``attributes`` not an array).
    """
    ts = ns_of(record.get("timeUnixNano")) or ns_of(record.get("observedTimeUnixNano"))
    severity = enum_of(record.get("severityNumber"), SEVERITY_NUMBERS) or 9
    level = next((name for floor, name in _LEVELS if severity >= floor), "info")  # below 0
    body = value_of(record.get("body"))
    try:
        message = (
            body if isinstance(body, str) else "" if body is None else orjson.dumps(body).decode()
        )
    except orjson.JSONEncodeError as error:
        raise Malformed(f"a body that cannot be written as JSON ({error})") from None
    line = line_head(
        ts, level, _text(message, scrubber), resource, str(scope.get("name") or "otlp")
    )
    trace_id, span_id = hex_id(record.get("traceId"), 16), hex_id(record.get("spanId"), 8)
    if trace_id and span_id:
        flags = record.get("flags") or 0
        sampled = isinstance(flags, int) and flags & 1
        line.update(trace_id=trace_id, span_id=span_id, trace_flags="01" if sampled else "00")
    attributes = attributes_of(record.get("attributes"))
    for name, field_name in (("type", "error_type"), ("message", "error_message")):
        value = attributes.pop(f"exception.{name}", None)
        if value is not None:
            line[field_name] = str(value) if name == "type" else _text(str(value), scrubber)
    stack = attributes.pop("exception.stacktrace", None)
    if stack is not None:
        line["exception"] = _text(str(stack), scrubber)
    line.update(_user(attributes, scrubber))
    return ts, line
