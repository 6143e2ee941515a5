"""The file a sink is writing: open, locked, appended to in whole batches.

Only the sink's writer (under its io lock) touches a ``LiveFile``. A batch either lands whole or
not at all: when a write fails part way (disk full, file size limit), the file is cut back to
where the batch began, so the next batch never runs into a torn line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Sequence
from pathlib import Path

from logtrace.write.sink.rotation import open_live

# Buffers per writev call (Linux's IOV_MAX is 1024).
_IOV_MAX = 512


class LiveFile:
    """An open, ``flock``-ed, plain JSONL file of this process."""

    def __init__(self, fd: int, path: Path, opened_ms: int, size: int) -> None:
        self.fd = fd
        self.path = path
        self.opened_ms = opened_ms
        self.size = size
        self.header_size = size
        self.opened_at = time.monotonic()
        self._torn = False

    @classmethod
    def create(
        cls,
        directory: Path,
        service: str,
        host: str,
        not_before_ms: int,
        modes: tuple[int, int],
        header: bytes,
    ) -> LiveFile:
        """Create a new live file (``modes``: file, directory) starting with ``header``.

        Raises OSError; a file whose header cannot be written is removed again.
        """
        fd, path, opened_ms = open_live(directory, service, host, not_before_ms, *modes)
        live = cls(fd, path, opened_ms, 0)
        try:
            live.append([header])
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(path)
            live.close()
            raise
        live.header_size = live.size
        return live

    @property
    def has_lines(self) -> bool:
        """Whether anything but the header has been written."""
        return self.size > self.header_size

    def age(self) -> float:
        """Seconds since the file was opened."""
        return time.monotonic() - self.opened_at

    def append(self, parts: Sequence[bytes | memoryview]) -> None:
        """Write ``parts``, in order, at the end of the file: all of them, or (on OSError) none.

        The parts go to ``os.writev`` as they are, ``_IOV_MAX`` a call: the kernel copies
        them from where they lie, so a batch is never joined into one big buffer first (for
        a batch of small lines, joining cost four times the writing: docs/benchmarks.md).
        """
        if self._torn:
            parts = [b"\n", *parts]
        start, done, at = self.size, 0, 0
        try:
            while at < len(parts):
                batch = parts[at : at + _IOV_MAX]
                at += len(batch)
                size = sum(map(len, batch))
                if not size:
                    continue
                written = os.writev(self.fd, batch)
                if written <= 0:
                    raise OSError(errno.EIO, "write returned nothing", str(self.path))
                done += written
                if written < size:  # a short write: the rest of this batch goes again
                    parts = [*_after(batch, written), *parts[at:]]
                    at = 0
        except OSError:
            if done:
                try:
                    os.ftruncate(self.fd, start)
                except OSError:
                    # Cannot cut it back: end the torn line before the next batch.
                    self.size, self._torn = start + done, True
            raise
        self.size, self._torn = start + done, False

    def gone(self) -> bool:
        """Whether the file's name no longer leads to it (deleted, moved, replaced)."""
        try:
            named = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return True
        except OSError:
            return False
        held = os.fstat(self.fd)
        return (named.st_dev, named.st_ino) != (held.st_dev, held.st_ino)

    def deleted(self) -> bool:
        """Whether the file has no name left (deleted, or its folder removed): one ``fstat``,
        cheaper than ``gone``, which also sees a file moved away or replaced."""
        try:
            return os.fstat(self.fd).st_nlink == 0
        except OSError:
            return False

    def close(self) -> None:
        """Close the file, dropping its lock: from now on it is a dead process's file."""
        fd, self.fd = self.fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


def _after(parts: Sequence[bytes | memoryview], offset: int) -> list[bytes | memoryview]:
    """What is left of ``parts`` once the first ``offset`` bytes are written."""
    for index, part in enumerate(parts):
        if offset < len(part):
            return [memoryview(part)[offset:], *parts[index + 1 :]]
        offset -= len(part)
    return []
