"""``logtrace export --otlp-endpoint URL --follow``: the files as a buffer in front of a backend.

Each poll reads the lines written since the last one (a live ``.jsonl`` from where it stopped,
a rotated ``.jsonl.zst`` past what its live file already gave), puts spans together as their
end lines arrive (start lines wait, in memory and in the checkpoint), turns what is complete
into OTLP requests and sends them. The checkpoint file (JSON, replaced atomically) holds, per
file, how far it was read, the spans still open, and the requests not yet accepted (the
outbox). It is written before anything is sent and after each accepted request, so a restart
sends what was not accepted, and nothing that was: nothing twice, nothing lost. The one gap is
a crash between the receiver's "200" and the next checkpoint write: that request is sent again.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from logtrace.format.lines import json_value

from ..format.fields import LIVE_SUFFIX, ROTATED_SUFFIX, SPAN, SPAN_END, SPAN_ID, TRACE_ID
from ..format.folders import make_dirs
from ..read.durable import replace_with
from ..read.files import ReadError, find_files, source_name
from .assemble import SpanParts, build_log, build_span, host_of, is_span_line, resource_of
from .model import Log, Resource, Span
from .otlp_http import Sender, Summary
from .otlp_json import log_requests, trace_requests

CHECKPOINT_VERSION = 1
# Lines read per poll at most (the rest waits for the next): bounds the outbox.
LINES_PER_POLL = 20_000
# Spans whose start was seen and whose end was not, kept at most; past that the oldest go
# (their end line alone still makes the span, without the start line's attributes).
MAX_PENDING = 10_000
_READ_BYTES = 8 * 1024 * 1024


class Checkpoint:
    """Where following stopped: per file, bytes read; open spans; requests not yet accepted."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.files: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, SpanParts] = {}
        self.outbox: list[dict[str, Any]] = []
        self.dropped_pending = 0
        self.dropped_requests = 0
        if os.path.lexists(self.path):
            self._load()

    def _load(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise ReadError(f"checkpoint {self.path}: a symlink, not followed") from None
            raise ReadError(f"checkpoint {self.path}: unreadable ({error})") from None
        try:
            with os.fdopen(fd, "rb") as file:
                data = orjson.loads(file.read())
        except (OSError, orjson.JSONDecodeError) as error:
            raise ReadError(f"checkpoint {self.path}: unreadable ({error})") from None
        if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
            raise ReadError(f"checkpoint {self.path}: not a logtrace checkpoint")
        self.files = dict(data.get("files") or {})
        self.pending = {k: SpanParts.from_json(v) for k, v in (data.get("pending") or {}).items()}
        self.outbox = list(data.get("outbox") or [])
        self.dropped_pending = int(data.get("dropped_pending") or 0)
        self.dropped_requests = int(data.get("dropped_requests") or 0)

    def save(self) -> None:
        """Write the checkpoint: a new file (0600, under a unique name: never through a
        symlink), synced, renamed over the old one; folders made for it are 0700."""
        data = {
            "version": CHECKPOINT_VERSION,
            "files": self.files,
            "pending": {k: v.to_json() for k, v in self.pending.items()},
            "outbox": self.outbox,
            "dropped_pending": self.dropped_pending,
            "dropped_requests": self.dropped_requests,
        }
        # Owner only: it holds lines of the logs (open spans' attributes, unsent requests).
        make_dirs(self.path.parent, 0o700)
        replace_with(self.path, [orjson.dumps(data)], 0o600)


class Shipper:
    """Follows the files under ``directory`` and sends what they gain through ``sender``.

    Args:
        directory: the log directory (or file, or glob), as for ``logtrace.open``.
        checkpoint: the checkpoint file's path.
        sender: an ``otlp_http.Sender`` (give it ``max_time=None`` to retry until stopped).
        logs: send log lines too (as OTLP logs).
        batch_size: spans (or log records) per request at most.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        checkpoint: str | os.PathLike[str],
        sender: Sender,
        *,
        logs: bool = True,
        batch_size: int = 512,
    ) -> None:
        self.directory = os.fspath(directory)
        self.checkpoint = Checkpoint(checkpoint)
        self.sender = sender
        self.logs = logs
        self.batch_size = batch_size

    @property
    def summary(self) -> Summary:
        """What was sent so far."""
        return self.sender.summary

    def run(self, poll_interval: float = 1.0, stop: threading.Event | None = None) -> Summary:
        """Poll and send until ``stop`` is set (the sender's stop event by default), or until
        the endpoint redirects (``sender.redirected``: the requests left stay in the outbox)."""
        stop = stop or self.sender.stop
        while not stop.is_set():
            self.drain()
            if stop.is_set() or self.sender.redirected:
                break
            if not self.poll() and not self.checkpoint.outbox:
                stop.wait(poll_interval)
        self.checkpoint.save()
        return self.summary

    def drain(self) -> bool:
        """Send the outbox, request by request; False when stopped with some left, or when the
        endpoint redirects (a wrong URL: what is left waits for the right one)."""
        box = self.checkpoint.outbox
        while box:
            entry = box[0]
            accepted = self.sender.send(entry["signal"], entry["request"], entry["count"])
            if not accepted and (self.sender.stop.is_set() or self.sender.redirected):
                return False
            if not accepted:  # refused for good (a 4xx), or out of time: counted, dropped
                self.checkpoint.dropped_requests += 1
            box.pop(0)
            self.checkpoint.save()
        return True

    def poll(self) -> int:
        """Read what the files gained, queue it as requests, save the checkpoint: lines read."""
        spans: list[Span] = []
        logs: list[Log] = []
        count = 0
        for line, host in self._new_lines():
            count += 1
            self._take(line, host, spans, logs)
        if not count:
            return 0
        pending = self.checkpoint.pending.items()
        known = {_ids(key): _resource(parts) for key, parts in pending}
        box = self.checkpoint.outbox
        for request in trace_requests(spans, max_spans=self.batch_size, known=known):
            box.append({"signal": "traces", "request": request, "count": _count(request)})
        if self.logs:
            for request in log_requests(logs, max_logs=self.batch_size):
                box.append({"signal": "logs", "request": request, "count": _count(request)})
        self.checkpoint.save()
        return count

    def _take(self, line: dict[str, Any], host: str, spans: list[Span], logs: list[Log]) -> None:
        pending = self.checkpoint.pending
        if not is_span_line(line):
            log = build_log(line, host)
            if log is not None:
                logs.append(log)
            return
        key = f"{line[TRACE_ID]}:{line[SPAN_ID]}"
        parts = pending.get(key)
        if parts is None:
            parts = pending[key] = SpanParts(host)
            if len(pending) > MAX_PENDING:
                del pending[next(iter(pending))]
                self.checkpoint.dropped_pending += 1
        parts.add(line)
        if line.get(SPAN) == SPAN_END:
            del pending[key]
            span = build_span(parts)
            if span is not None:
                spans.append(span)

    def _new_lines(self) -> Iterator[tuple[dict[str, Any], str]]:
        files = self.checkpoint.files
        try:
            paths = find_files(self.directory)
        except ReadError:
            if os.path.isdir(self.directory):
                return
            raise
        present = {source_name(p) for p in paths}
        for name in [n for n in files if n not in present]:
            del files[name]  # removed (retention): forget it
        budget = LINES_PER_POLL
        for path in paths:
            if budget <= 0:
                return
            name = source_name(path)
            entry = files.setdefault(name, {"offset": 0, "done": False})
            if entry["done"]:
                continue
            host = host_of(path.name)
            for raw in _read_from(path, entry, budget):
                budget -= 1
                line = json_value(raw)  # NaN too, as the views read it
                if isinstance(line, dict):
                    yield line, host


def _read_from(path: Path, entry: dict[str, Any], budget: int) -> Iterator[bytes]:
    """Whole lines of ``path`` past ``entry["offset"]`` (at most ``budget``); moves the offset.

    A live file is read to its last newline (a line being written waits); a rotated file is
    read to its end, then marked done.
    """
    offset = int(entry["offset"])
    if path.name.endswith(ROTATED_SUFFIX):
        data = _decompressed(path)
        if data is None:
            return
        rest = data[offset:]
        lines = rest.split(b"\n")
        if len(lines) > budget:
            taken = lines[:budget]
            entry["offset"] = offset + sum(len(line) + 1 for line in taken)
            yield from (line for line in taken if line.strip())
            return
        entry["offset"], entry["done"] = len(data), True
        yield from (line for line in lines if line.strip())
        return
    if not path.name.endswith(LIVE_SUFFIX):
        return
    try:
        with path.open("rb") as file:
            file.seek(offset)
            data = file.read(_READ_BYTES)
    except OSError:
        return
    end = data.rfind(b"\n")
    if end < 0:
        return
    lines = data[:end].split(b"\n")[:budget]
    entry["offset"] = offset + sum(len(line) + 1 for line in lines)
    yield from (line for line in lines if line.strip())


def _decompressed(path: Path) -> bytes | None:
    try:
        import zstandard

        with path.open("rb") as file:
            return zstandard.ZstdDecompressor().stream_reader(file).read()
    except Exception:  # vanished, or cut short: the next poll tries again
        return None


def _ids(key: str) -> tuple[str, str]:
    """The (trace id, span id) of a pending span's key, ``<trace id>:<span id>``."""
    trace_id, _, span_id = key.partition(":")
    return trace_id, span_id


def _resource(parts: SpanParts) -> Resource:
    line = parts.start or parts.end or {}
    return resource_of(line, parts.host)


def _count(request: dict[str, Any]) -> int:
    from .otlp_http import count_items

    return count_items(request)
