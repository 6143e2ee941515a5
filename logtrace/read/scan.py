"""One trace read without DuckDB: the pruned files scanned for its id, as ``grep -F`` does.

``logtrace show`` of a recent trace opens a few JSONL files (``files.prune`` narrows them by the
time its id begins with). Importing DuckDB costs more than the scan itself, so :func:`lookup`
finds the id in those files' bytes (``mmap`` for live files, decompressed ``.jsonl.zst``),
parses only the lines that hold it and builds the same :class:`~logtrace.read.trace.Trace`
that ``Reader.trace`` builds with ``queries/`` (see :mod:`logtrace.read.scan_rows`).

It answers only what it can answer identically; everything else raises :class:`CannotScan`,
and the caller asks the DuckDB ``Reader`` instead: shared history (URLs), compacted Parquet in
the files read, a ``.jsonl.zst`` cut short, a matching line DuckDB might read differently (a
value of an unexpected type, a line over 16 MiB, JSON with NaN). Lines that are not JSON (a
torn last line, another program's text) are skipped, as the views skip them; ``--verbose``
counts them with the Reader.

No DuckDB here, nor anything that imports it.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from logtrace.format import fields as f
from logtrace.read.files import (
    CLOCK_SKEW,
    LONG_TRACE,
    describe,
    find_history,
    prune,
)
from logtrace.read.integrity import looks_whole, zstd_complete
from logtrace.read.remote import is_url
from logtrace.read.scan_rows import CannotScan, build_trace
from logtrace.read.trace import (
    Trace,
    TraceNotFound,
    created_between,
    is_complete,
    normalize_trace_id,
    only_trace_id,
)

__all__ = [
    "CannotScan",
    "Listing",
    "decompressed",
    "list_files",
    "line_at",
    "lookup",
    "parsed_line",
]

# What the DuckDB path reads of a line at most (trace_lines.sql: max_line_size).
_MAX_LINE = 16_777_216
Location = str | os.PathLike[str]


@dataclass(frozen=True)
class Listing:
    """The files a Reader of ``locations`` would read: ``all_files`` as ``Reader.all_files``."""

    locations: list[str]
    all_files: list[Path]

    def describe(self) -> str:
        """As ``Reader.describe()``: ``./logtrace (3 files, 2026-11-24 13:11:34 to …)``."""
        return describe(self.locations, self.all_files)


def list_files(path: Location | Sequence[Location]) -> Listing:
    """The files under ``path`` as ``Reader.refresh`` lists them, without DuckDB.

    Raises:
        CannotScan: a URL, or a compacted file beside JSONL files (it may list them as its
            sources, which only its Parquet footer says).
        ReadError: a location does not exist or cannot be read.
    """
    given = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    locations = [os.fspath(p) for p in given]
    if not locations or any(is_url(p) for p in locations):
        raise CannotScan("shared history")
    jsonl: set[Path] = set()
    parquet: dict[str, Path] = {}
    for location in locations:
        found, compacted, _ = find_history(location)
        jsonl.update(found)
        for compacted_path in compacted:
            parquet.setdefault(compacted_path.name, compacted_path)
    whole = [p for p in sorted(jsonl) + sorted(parquet.values()) if looks_whole(p)]
    folders = {p.parent for p in whole if not p.name.endswith(f.COMPACTED_SUFFIX)}
    if any(p.name.endswith(f.COMPACTED_SUFFIX) and p.parent in folders for p in whole):
        raise CannotScan("compacted files beside JSONL files")
    return Listing(locations, sorted(whole))


def lookup(path: Location | Sequence[Location], trace_id: str) -> Trace:
    """``Reader.trace(trace_id)`` (pruning on) answered by scanning the files' bytes.

    The same steps: the files the id's creation time can be in first; when the trace is not
    there, or looks cut short, every file.

    Raises:
        ReadError: malformed id (before anything is read); AmbiguousTrace, TraceNotFound: as
            the Reader says them. CannotScan: only the Reader can answer.
    """
    prefix = normalize_trace_id(trace_id)
    listing = list_files(path)
    if not listing.all_files:
        raise CannotScan("no files")  # the Reader's hint says where logs may be
    window = created_between(prefix)
    if window is not None:
        files = prune(listing.all_files, window[0] - CLOCK_SKEW, window[1] + LONG_TRACE)
        if len(files) < len(listing.all_files):
            try:
                found: Trace | None = _trace_in(prefix, files, listing)
            except TraceNotFound:
                found = None
            if found is not None and is_complete(found):
                return found
    return _trace_in(prefix, listing.all_files, listing)


def _trace_in(prefix: str, files: list[Path], listing: Listing) -> Trace:
    if not files:
        raise TraceNotFound(f"no trace {prefix} in {listing.describe()}")
    needle = prefix.encode()
    lines: list[tuple[str, dict[str, object]]] = []
    for path in files:
        lines.extend((str(path), line) for line in _matching_lines(path, needle))
    full = _resolve(prefix, lines, listing)
    return build_trace(full, lines)


def _resolve(prefix: str, lines: list[tuple[str, dict[str, object]]], listing: Listing) -> str:
    """As ``queries/trace_ids.sql`` and ``Reader._resolve_in``: the one id with this prefix."""
    ids: set[str] = set()
    for _, line in lines:
        value = line.get(f.TRACE_ID)
        if value is None:
            continue
        if not isinstance(value, str):
            raise CannotScan("a trace id that is not a string")
        if value.startswith(prefix):
            ids.add(value)
    return only_trace_id(prefix, ids, listing.describe())


def _matching_lines(path: Path, needle: bytes) -> list[dict[str, object]]:
    """The JSON objects of ``path`` whose line holds ``needle``; other lines holding it that
    are not JSON objects are skipped, as ``try_cast(line AS JSON)`` and ``->>`` skip them."""
    name = path.name
    if name.endswith(f.COMPACTED_SUFFIX):
        raise CannotScan("compacted files")
    try:
        if name.endswith(f.ROTATED_SUFFIX):
            return _objects(decompressed(path), needle)
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size == 0:
                return []
            with mmap.mmap(file.fileno(), size, access=mmap.ACCESS_READ) as data:
                return _objects(data, needle)
    except OSError as error:  # gone, rotated under us: the Reader retries such reads
        raise CannotScan(f"cannot read {path}: {error}") from None


def decompressed(path: Path, at_most: int = -1) -> bytes:
    """The lines of a ``.jsonl.zst`` file, decompressed.

    Raises:
        CannotScan: the file is cut short or does not decode (the Reader says how), or it
            holds more than ``at_most`` bytes (when given).
    """
    import zstandard

    if not zstd_complete(path):
        raise CannotScan("a compressed file cut short")
    try:
        with path.open("rb") as file:
            reader = zstandard.ZstdDecompressor().stream_reader(file, read_across_frames=True)
            if at_most < 0:
                whole: bytes = reader.read()
                return whole
            parts: list[bytes] = []
            held = 0
            while part := reader.read(1 << 20):
                parts.append(part)
                held += len(part)
                if held > at_most:
                    raise CannotScan(f"{path} holds more than {at_most} bytes")
    except zstandard.ZstdError:
        raise CannotScan(f"{path} does not decode") from None
    return b"".join(parts)


def line_at(data: bytes | mmap.mmap, at: int) -> tuple[int, int]:
    """The bounds ``[begin, end)`` of the line of ``data`` that holds offset ``at`` (its
    newline left out; the end of ``data`` for a last line without one)."""
    end = data.find(b"\n", at)
    return data.rfind(b"\n", 0, at) + 1, len(data) if end < 0 else end


def parsed_line(line: bytes, longest: int = _MAX_LINE) -> dict[str, Any] | None:
    """The JSON object of a line, None for a line that is not one (as read_json skips it).

    Raises:
        CannotScan: a line DuckDB may read otherwise: longer than ``longest`` (the reader's
            maximum_object_size), or an object orjson refuses and DuckDB's reader takes.
    """
    if len(line) > longest:
        raise CannotScan("a line DuckDB reads differently")
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        # Not JSON for DuckDB either (torn, another program's text), unless it is an object
        # orjson refuses and DuckDB's reader takes (NaN, a trailing comma).
        if line.rstrip().endswith(b"}"):
            raise CannotScan("a line DuckDB may read as JSON") from None
        return None
    return value if isinstance(value, dict) else None


def _objects(data: bytes | mmap.mmap, needle: bytes) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    at = data.find(needle)
    while at >= 0:
        start, end = line_at(data, at)
        line = data[start:end]
        if b"\x01" in line:
            raise CannotScan("a line DuckDB reads differently")
        value = parsed_line(line)
        if value is not None:
            found.append(value)
        at = data.find(needle, end)
    return found
