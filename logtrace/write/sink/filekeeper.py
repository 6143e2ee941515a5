"""The files side of the file sink: opening, heading, rotating, compressing, retention.

``FileKeeper`` is the part of ``FileSink`` that looks after its files, under the sink's io lock
(and, for compression and retention, on background threads of its own). It reads the sink's
state; ``FileSink`` holds the queue and the writer thread, ``LineWriter`` (``filewriter``) the
writing to the file and the failure accounting.
"""

from __future__ import annotations

import contextlib
import errno
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from logtrace.format.fields import ARGV, FILE_EVENT, FORMAT, FORMAT_VERSION, HOST, PYTHON
from logtrace.write.sink.livefile import LiveFile
from logtrace.write.sink.retention import apply_retention
from logtrace.write.sink.rotation import compress, compress_orphans, hold, release
from logtrace.write.sink.settings import SinkSettings

Report = Callable[[str, str, Mapping[str, Any]], bytes]


class FileKeeper:
    """Files of a ``FileSink``: the state it shares with the sink, and the file work."""

    _settings: SinkSettings
    _report: Report
    _host: str
    _file: LiveFile | None
    _last_path: Path
    _name_ms: int
    _rotate_failing: bool
    _files_opened: int
    _files_rotated: int
    _files_compressed: int
    _count_lock: threading.RLock
    _jobs: list[threading.Thread]

    def _fail(self, what: str, exc: OSError) -> None:
        """Note a failure (``LineWriter`` counts it and says it once)."""
        raise NotImplementedError

    def _check_file(self) -> None:
        live = self._file
        if live is None:
            self._use(self._new_file())
        elif live.gone():
            gone = FileNotFoundError(errno.ENOENT, "deleted or moved while open", str(live.path))
            self._fail("the live file went away; opening a new one", gone)
            live.close()
            self._file = None
            self._use(self._new_file())
        elif live.has_lines and live.age() >= self._settings.rotate_seconds:
            self._rotate()

    def _new_file(self, quiet: bool = False) -> LiveFile | None:
        """Open, lock and head a new file; None if that fails (noted unless ``quiet``)."""
        s = self._settings
        fields = {
            FORMAT: FORMAT_VERSION,
            HOST: self._host,
            ARGV: list(sys.argv),
            PYTHON: platform.python_version(),
        }
        header = self._render("info", FILE_EVENT, fields)
        try:
            return LiveFile.create(
                s.directory,
                s.service,
                self._host,
                self._name_ms + 1,
                (s.file_mode, s.dir_mode),
                header,
            )
        except OSError as exc:
            if not quiet:
                self._fail(f"cannot open a new file in {s.directory}", exc)
            return None

    def _use(self, live: LiveFile | None) -> None:
        if live is not None:
            self._file, self._last_path, self._name_ms = live, live.path, live.opened_ms
            self._files_opened += 1

    def _rotate(self) -> LiveFile | None:
        """Switch to a new file and return it, then compress the old one in the background;
        None if no new file can be opened (writing then goes on into the old one)."""
        old = self._file
        new = self._new_file(quiet=True)
        if old is None or new is None:
            if not self._rotate_failing:
                self._rotate_failing = True
                say(f"logtrace: cannot open a new file to rotate {self._last_path}; writing on")
            return None
        self._rotate_failing = False
        self._use(new)
        self._files_rotated += 1
        # The compressor takes over the old descriptor, and with it the lock, until it is done.
        fd = hold(old.fd)
        if not self._spawn(self._finish, "logtrace-compress", fd, old.path):
            release(fd)
        return new

    def _finish(self, fd: int, path: Path) -> None:
        """Background: compress a rotated file (still locked by ``fd``), then apply retention."""
        try:
            compress(fd, path)
            with self._count_lock:
                self._files_compressed += 1
        except Exception as exc:
            say(f"logtrace: cannot compress {path}: {exc}; leaving it uncompressed")
        finally:
            release(fd)
        self._retain()

    def _tidy(self) -> None:
        """Background, at start: compress the files of dead processes, then apply retention."""
        try:
            done = compress_orphans(self._settings.directory)
            with self._count_lock:
                self._files_compressed += len(done)
        except Exception as exc:
            say(f"logtrace: cannot compress old files in {self._settings.directory}: {exc}")
        self._retain()

    def _retain(self) -> None:
        s = self._settings
        try:
            apply_retention(s.directory, s.retention_days, s.retention_bytes)
        except Exception as exc:
            say(f"logtrace: retention failed in {s.directory}: {exc}")

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> bool:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._jobs = [job for job in self._jobs if job.is_alive()]
        try:
            thread.start()
        except RuntimeError:  # interpreter shutting down: the next start picks the file up
            return False
        self._jobs.append(thread)
        return True

    def _join_jobs(self, deadline: float) -> None:
        for job in list(self._jobs):
            job.join(max(0.0, deadline - time.monotonic()))

    def _render(self, level: str, event: str, fields: Mapping[str, Any]) -> bytes:
        try:
            return self._report(level, event, fields) + b"\n"
        except Exception:
            return b""


def say(message: str) -> None:
    """Say ``message`` on stderr (fd 2), never raising."""
    # Straight to fd 2: sys.stderr may be routed into logging, and so back into the sink.
    with contextlib.suppress(OSError):
        os.write(2, (message + "\n").encode("utf-8", "replace"))
