"""Following the files of a directory as they grow, across processes (``logtrace tail``).

Each poll lists the files again. A live file known from the start is read from its end on, a
file that appears later from its beginning. A live file stays open until its name is gone
(rotated: compressed, then removed), and is read to its end first, so nothing written before
the rotation is missed. A compressed file that appears without its live file ever having been
seen (a short-lived process) is read whole. No DuckDB here: lines are parsed one by one.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from logtrace.format import fields as f
from logtrace.read.files import ReadError, find_files, glob_folder

# A line longer than this is skipped (and counted), as the DuckDB views skip it.
MAX_LINE = 16 * 2**20


class Follower:
    """The new lines of the log files under ``path``, poll after poll.

    Args:
        path: a directory, file or glob, as for ``logtrace.open``.
        from_start: read existing files from their beginning instead of their end.
    """

    def __init__(self, path: str | os.PathLike[str], from_start: bool = False) -> None:
        self.path = os.fspath(path)
        self._open: dict[Path, _Followed] = {}
        self._seen: set[Path] = set()
        self._pending_whole: list[Path] = []
        self.skipped = 0  # lines that are not JSON objects (or longer than MAX_LINE)
        self.unreadable = 0  # closed files that do not decode
        # From the start, the lines already written come in time order, not file by file.
        self._in_time_order = from_start
        self._from_start = from_start
        # Whether the files there at the start are known: a listing that fails then (a
        # directory being changed under us) leaves them to the first poll that lists, which
        # takes them as existing files, not as new ones written since.
        self._listed = False
        folder = glob_folder(self.path)
        if folder is not None and not os.path.isdir(folder):
            # No file can ever match (a folder that is there but empty is followed: processes
            # may start writing into it).
            raise ReadError(f"cannot read {self.path}: no such directory {folder}")
        self._take_existing(self._list())

    def _take_existing(self, files: list[Path] | None) -> None:
        if files is None:
            return
        self._listed = True
        for file in files:
            self._seen.add(file)
            if file.name.endswith(f.LIVE_SUFFIX):
                self._follow(file, at_end=not self._from_start)
            elif self._from_start:
                self._pending_whole.append(file)

    @property
    def file_count(self) -> int:
        """How many files are known (followed or seen)."""
        return len(self._seen)

    def poll(self) -> Iterator[dict[str, Any]]:
        """The lines written since the last poll, parsed; lines that are not JSON are skipped.

        With ``from_start``, the first poll gives the lines already written in time order
        (``ts``), every file's merged; later polls give new lines as they come.
        """
        lines = self._parsed()
        if self._in_time_order:
            ordered = sorted(lines, key=lambda line: str(line.get(f.TS) or ""))
            self._in_time_order = not self._listed  # until the existing files are read
            yield from ordered
            return
        yield from lines

    def _parsed(self) -> Iterator[dict[str, Any]]:
        for raw in self._poll_raw():
            try:
                value = orjson.loads(raw) if len(raw) <= MAX_LINE else None
            except orjson.JSONDecodeError:
                value = None
            if isinstance(value, dict):
                yield value
            else:
                self.skipped += 1

    def close(self) -> None:
        """Close the files still open."""
        for followed in self._open.values():
            followed.file.close()
        self._open.clear()

    def _list(self) -> list[Path] | None:
        """The files now, or None when a directory being changed under us cannot be listed
        this time (the next poll tries again)."""
        try:
            return find_files(self.path)
        except ReadError:
            if os.path.isdir(self.path):
                return None
            raise

    def _follow(self, path: Path, at_end: bool) -> None:
        try:
            file = path.open("rb")
        except OSError:
            return
        if at_end:
            file.seek(0, io.SEEK_END)
        self._open[path] = _Followed(file)

    def _poll_raw(self) -> Iterator[bytes]:
        listed = self._list()
        if listed is not None and self._listed and not self._seen.issuperset(listed):
            listed = self._fill_gaps(listed)
        if not self._listed:
            self._take_existing(listed)  # this listing's files are the existing ones
            if not self._listed:
                return
        for path in self._pending_whole:
            yield from self._whole(path)
        self._pending_whole = []
        current = None if listed is None else set(listed)
        # Files already followed first: a rotated file's last lines come before its successor's.
        for path, followed in list(self._open.items()):
            yield from followed.read()
            if current is not None and path not in current:
                # Rotated away (or removed): what it held is read; its .zst is not read again.
                yield from followed.rest()
                followed.file.close()
                del self._open[path]
        if current is None:
            return  # not listed this time: no file is taken for rotated away, none is new
        # Then new files, oldest first (a name ends with the time the file was opened).
        for path in sorted(current - self._seen):
            self._seen.add(path)
            if path.name.endswith(f.LIVE_SUFFIX):
                self._follow(path, at_end=False)
                if path in self._open:
                    yield from self._open[path].read()
                else:
                    # Rotated between listing and opening: its compressed copy holds the lines
                    # (it is in place before the plain file goes).
                    compressed = Path(f"{path}.zst")
                    self._seen.update((path, compressed))
                    yield from self._whole(compressed)
            elif Path(str(path)[: -len(".zst")]) not in self._seen:
                yield from self._whole(path)

    def _fill_gaps(self, listed: list[Path]) -> list[Path]:
        """``listed``, with the files a second listing finds older than its newest new file.

        A folder of a few hundred files takes more than one read of the directory to list. A
        file compressed meanwhile (its .zst renamed in where the listing had already read, its
        plain name removed where it had not yet) is then in the listing under neither name,
        while its successor may be: its lines would come after the successor's. The second
        listing has its .zst. Newer files found there wait for the next poll, so that a file
        the second listing misses the same way does not come after them.
        """
        again = self._list()
        if again is None:
            return listed
        newest = max(path for path in listed if path not in self._seen)
        known = set(listed)
        return listed + [path for path in again if path not in known and path < newest]

    def _whole(self, path: Path) -> Iterator[bytes]:
        """The lines of a closed file, read in pieces: a zstd bomb or a huge line costs a
        bounded amount of memory (a line past MAX_LINE is skipped as it streams by)."""
        try:
            yield from _lines(path)
        except Exception:  # a file that vanished or does not decode: what it gave is shown
            self.unreadable += 1


class _Followed:
    __slots__ = ("file", "partial")

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.partial = b""

    def read(self) -> Iterator[bytes]:
        data = self.file.read()
        if not data:
            return
        data = self.partial + data
        *complete, self.partial = data.split(b"\n")
        yield from (line for line in complete if line.strip())

    def rest(self) -> Iterator[bytes]:
        if self.partial.strip():
            yield self.partial
        self.partial = b""


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as raw:
        stream: BinaryIO = raw
        if path.name.endswith(".zst"):
            import zstandard

            stream = zstandard.ZstdDecompressor().stream_reader(raw)
        partial = b""
        too_long = False
        while chunk := stream.read(1 << 20):
            *complete, rest = chunk.split(b"\n")
            for line in complete:
                if too_long or len(partial) + len(line) > MAX_LINE:
                    yield b"\0"  # counted as skipped, never parsed
                elif (whole := partial + line).strip():
                    yield whole
                partial, too_long = b"", False
            if too_long or len(partial) + len(rest) > MAX_LINE:
                partial, too_long = b"", True
            else:
                partial += rest
        if too_long:
            yield b"\0"
        elif partial.strip():
            yield partial
