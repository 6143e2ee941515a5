"""The files ``logtrace ui`` reads: one Reader kept open across requests, and answers kept
while the files they came from are unchanged.

Opening a Reader lists the files, checks each one's magic numbers and makes a DuckDB
connection; a page would pay that on every request. ``Source`` opens one Reader on first use
and only refreshes it (a listing and a ``stat`` per file) before each use; requests take
turns on it (one DuckDB connection, one question at a time).

An answer (the JSON bytes of an endpoint) is kept with the state of the files it was read
from: the path, size and modification time of every file of the directory. The same question
asked again while no file has changed gets the same bytes without reading anything; any
change (a line written, a file rotated or compacted) reads again. A question whose answer
depends on the clock (``since=1h``) never repeats: its parameters hold the resolved time.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from datetime import datetime
from pathlib import Path

from logtrace.read.reader import open as open_reader

from ..read.files import ReadError, find_history
from ..read.reader import Reader
from ..read.remote import is_url

# How many answers are kept (the newest used); a 10,000-span trace is some 3 MB of JSON.
KEPT = 16
# How many excerpts the scratch Reader reads before it is opened again.
SCRATCH_USES = 200
Fingerprint = tuple[tuple[str, int, int], ...]


class Source:
    """The directory of ``logtrace ui`` through one long-lived Reader.

    Args:
        directory: a log directory, file or glob, as for ``logtrace.open``.
    """

    def __init__(self, directory: str):
        self.directory = directory
        self._lock = threading.RLock()
        self._reader: Reader | None = None
        self._kept: OrderedDict[Hashable, tuple[Fingerprint, bytes]] = OrderedDict()
        self._kept_lock = threading.Lock()
        # The trace list's excerpts (see :mod:`tails`) go into this folder, one at a time, and
        # one more Reader reads them: a new DuckDB connection per list costs more than a read.
        self._scratch: Path | None = None
        self._scratch_reader: Reader | None = None
        self._scratch_uses = 0

    @contextlib.contextmanager
    def reader(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[Reader]:
        """The Reader, refreshed, its views over the files of ``[since, until)``; the caller
        has it alone until the block ends."""
        with self._lock:
            reader = self._open()
            reader.since, reader.until = since, until
            try:
                reader.refresh()
                yield reader
            except ReadError:
                raise  # a bad question, a missing trace: the Reader is as good as before
            except BaseException:
                self.close()  # anything else: a fresh Reader next time
                raise
            finally:
                reader.since = reader.until = None

    def answer(self, key: Hashable, compute: Callable[[], bytes]) -> bytes:
        """The bytes ``compute`` gives for ``key``, kept while the files are unchanged.

        ``compute`` runs outside the lock (a trace read by scanning needs no Reader; what
        needs one takes it): the state is taken before, so a change made meanwhile is seen
        by the next ask."""
        state = self.fingerprint()
        with self._kept_lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == state:
                self._kept.move_to_end(key)
                return kept[1]
        body = compute()
        with self._kept_lock:
            self._kept[key] = (state, body)
            self._kept.move_to_end(key)
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return body

    def fingerprint(self) -> Fingerprint:
        """Path, size and modification time of every file of the directory, listed again
        (by the Reader only for shared history, which is not a local listing)."""
        if is_url(self.directory):
            with self.reader() as reader:
                files = list(reader.all_files)
        else:
            jsonl, compacted, spans = find_history(self.directory)
            files = sorted({*jsonl, *compacted, *spans})
        return tuple(_stat(path) for path in files)

    def warm(self) -> None:
        """Open the Reader now (in the background of a starting server), not on first use."""
        with contextlib.suppress(Exception), self.reader():
            pass

    def scratch(self) -> Path:
        """The folder the trace list's excerpts go into (made on first use)."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="logtrace-ui-"))
        return self._scratch

    def scratch_reader(self) -> Reader:
        """The Reader of :meth:`scratch`, refreshed (the caller holds :meth:`reader`'s turn).
        Each excerpt has new file names, so it is opened again now and then: what it keeps
        per file name stays small."""
        if self._scratch_reader is not None and self._scratch_uses >= SCRATCH_USES:
            self._scratch_reader.close()
            self._scratch_reader = None
        if self._scratch_reader is None:
            self._scratch_reader = open_reader(self.scratch())
            self._scratch_uses = 0
        self._scratch_uses += 1
        self._scratch_reader.refresh()
        return self._scratch_reader

    def _open(self) -> Reader:
        if self._reader is None:
            self._reader = open_reader(self.directory)
        return self._reader

    def close(self) -> None:
        """Close the Reader (the next use opens another)."""
        with self._lock:
            for reader in (self._reader, self._scratch_reader):
                if reader is not None:
                    with contextlib.suppress(Exception):
                        reader.close()
            self._reader = self._scratch_reader = None
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
                self._scratch = None


def _stat(path: Path) -> tuple[str, int, int]:
    try:
        status = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), status.st_size, status.st_mtime_ns)


@contextlib.contextmanager
def reading(
    source: Source | str, since: datetime | None = None, until: datetime | None = None
) -> Iterator[Reader]:
    """A Reader of ``source``: the Source's own, or one opened for this block (a directory)."""
    if isinstance(source, Source):
        with source.reader(since, until) as reader:
            yield reader
    else:
        with open_reader(source, since=since, until=until) as reader:
            yield reader


__all__ = ["KEPT", "Source", "reading"]
