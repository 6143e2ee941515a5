"""Reading traces back: ``logtrace.open`` and the :class:`Reader`, DuckDB views over the
files, and the questions of ``queries/``.

``open(path)`` lists the files (plain ``.jsonl``, rotated ``.jsonl.zst`` and compacted
``.parquet``) and points the views of ``queries/`` at them (:mod:`logtrace.read.views` makes
them: ``lines``, ``events``, ``spans``, ``traces``, ``logs`` ...). Every other ``.sql`` file
there is a named question, run with ``Reader.query(name, **params)``.

A JSONL file that a compacted file lists as one of its sources (a compaction interrupted
before it deleted them) is left out, so no line counts twice. A time window (``since``,
``until``) and a trace id's creation time open only the files whose time range can hold them.
Every question runs through :mod:`logtrace.read.retries` (a mixin of the Reader): a file that
vanished or does not decode is left out, and the question asked again.

This module imports DuckDB; ``import logtrace`` does not import it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from logtrace.format import fields as f
from logtrace.read.analytics.methods import Analytics
from logtrace.read.arguments import checked, text, time
from logtrace.read.arguments import name as query_name
from logtrace.read.arguments import sql as sql_text
from logtrace.read.files import (
    LONG_TRACE,
    ReadError,
    describe,
    prune,
    refused_files,
    source_name,
)
from logtrace.read.integrity import looks_whole, zstd_complete
from logtrace.read.locations import Location, find_all, locations_of
from logtrace.read.lookup import find_trace, resolve_in
from logtrace.read.queries import (
    COMPACTION_FILES,
    READER_FILES,
    VIEW_FILES,
    VIEWS,
    parameters,
    queries_dir,
    query_names,
    query_text,
)
from logtrace.read.remote import attach, is_url
from logtrace.read.retries import Retries, statement
from logtrace.read.trace import (
    AmbiguousTrace,
    Row,
    Trace,
    TraceNotFound,
    normalize_trace_id,
)
from logtrace.read.views import SETTINGS, Views, listed_sources

__all__ = [
    "COMPACTION_FILES",
    "READER_FILES",
    "VIEWS",
    "VIEW_FILES",
    "AmbiguousTrace",
    "ReadError",
    "Reader",
    "Trace",
    "TraceNotFound",
    "open",
    "parameters",
    "queries_dir",
    "query_names",
    "query_text",
]

# DuckDB's memory limit for queries: a gigabyte of history stays well under 2 GiB resident.
MEMORY_LIMIT = "1GB"


class Reader(Retries, Analytics):
    """A DuckDB connection with the views of logtrace over a set of files.

    ``reader.sql("select * from traces")`` gives a DuckDB relation (``.show()``,
    ``.fetchall()``); ``reader.query("slowest_traces", since=None, limit=5)`` runs a file of
    ``queries/``; ``reader.trace("0194f3a2")`` reads one trace. ``reader.connection`` is the
    connection itself. The analytics (``critical_path``, ``compare``, ``check``, ``advise``,
    ``timeseries`` ...) are methods too: see :mod:`logtrace.read.analytics.methods`.
    """

    def __init__(
        self,
        path: Location | Sequence[Location],
        connection: duckdb.DuckDBPyConnection,
        *,
        since: datetime | timedelta | str | None = None,
        until: datetime | timedelta | str | None = None,
        pruning: bool = True,
    ):
        # Where the files are: local directories (files, globs) and URLs of shared history.
        self.locations = [os.fspath(p) for p in locations_of(path)]
        if not self.locations:
            raise ReadError("no directory to read")
        self.path = ", ".join(self.locations)
        self._con = connection
        urls = [u for u in self.locations if is_url(u)]
        if urls:
            attach(connection, urls)
        # As the views' timestamps are: naive, in UTC (see logtrace.read.filters.when).
        self.since = time("since", since)
        self.until = time("until", until)
        self.pruning = pruning
        # The files the views read: JSONL (live and rotated) and compacted Parquet.
        self.files: list[Path] = []
        # Every file of the directory (before the time window), for lookups of one trace.
        self.all_files: list[Path] = []
        # Files DuckDB could not read (a corrupt .zst, a .parquet that is not Parquet, a line
        # past 64 MiB); left out of every query, never deleted.
        self.unreadable_files: list[Path] = []
        # Whether close() was called.
        self.closed = False
        # (path, size, mtime_ns) of Parquet files whose columns are logtrace's, once asked.
        self._ours: set[tuple[Path, int, int]] = set()
        # What looks_whole found per file: (size, mtime_ns, whole).
        self._looked: dict[Path, tuple[int, int, bool]] = {}
        # What _complete found per .jsonl.zst file: (size, mtime_ns, complete).
        self._checked: dict[Path, tuple[int, int, bool]] = {}
        # The files the last trace() answered from (fewer than all_files when pruned).
        self.trace_files: list[Path] = []
        # The views over self.files, made when a question needs them.
        self._views = Views(connection)
        self.refresh()

    # -- setup -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """List the files again (new, rotated, compacted ones) and point the views at them.

        JSONL files listed as sources by a compacted file are left out; with a time window
        (``since``/``until``, widened by LONG_TRACE), so is every file that cannot hold it.
        """
        listed_jsonl, listed_parquet, span_files = find_all(self.locations)
        for path in listed_jsonl + listed_parquet + sorted(span_files):
            if path not in self.unreadable_files and not self._looks_whole(path):
                self.unreadable_files.append(path)
        bad = set(self.unreadable_files)
        # A span file that is not whole: its compacted file's own lines give its spans.
        span_files = {p for p in span_files if p not in bad}
        jsonl = [p for p in listed_jsonl if p not in bad]
        parquet = [p for p in listed_parquet if p not in bad]
        compacted = self._compacted_sources(jsonl, parquet)
        jsonl = [p for p in jsonl if (p.parent, source_name(p)) not in compacted]
        self.all_files = sorted(jsonl + parquet)
        files = self.all_files
        if self.pruning and (self.since is not None or self.until is not None):
            files = prune(
                files, _widened(self.since, -LONG_TRACE), _widened(self.until, LONG_TRACE)
            )
        self.files = files
        self._views.point(files, span_files)

    @property
    def truncated_files(self) -> list[Path]:
        """Compressed files cut short: read up to the cut, and reported (``--verbose``, stats).

        Checked when asked, not on opening: a lookup of one trace need not walk every file.
        """
        return [p for p in self.all_files if not self._complete(p)]

    def _complete(self, path: Path) -> bool:
        """False for a ``.jsonl.zst`` file cut short; checked once per size and mtime."""
        if not path.name.endswith(f.ROTATED_SUFFIX):
            return True
        try:
            stat = path.stat()
        except OSError:
            return True  # gone: the next listing will not have it
        known = self._checked.get(path)
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            return known[2]
        complete = zstd_complete(path)
        self._checked[path] = (stat.st_size, stat.st_mtime_ns, complete)
        return complete

    @property
    def refused_files(self) -> list[Path]:
        """Files never opened: symlinks, files that are not regular, other users' files.

        Listed when asked (``--verbose``, ``stats``), not on every refresh.
        """
        local = [p for p in self.locations if not is_url(p)]
        return sorted(p for location in local for p in refused_files(location))

    def _looks_whole(self, path: Path) -> bool:
        """``looks_whole`` (magic numbers, a Parquet footer), once per size and mtime."""
        try:
            status = path.stat()
        except OSError:
            return True  # gone: the next listing will not have it
        known = self._looked.get(path)
        if known is not None and known[:2] == (status.st_size, status.st_mtime_ns):
            return known[2]
        whole = looks_whole(path)
        self._looked[path] = (status.st_size, status.st_mtime_ns, whole)
        return whole

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, with the views."""
        self._views.make()
        return self._con

    def interrupt(self) -> None:
        """Interrupt the query the connection is running (safe from another thread; the
        query raises DuckDB's interrupt error)."""
        self._con.interrupt()

    def _compacted_sources(self, jsonl: list[Path], parquet: list[Path]) -> set[tuple[Path, str]]:
        """(folder, source name) of the JSONL files that compacted files already hold.

        A compacted file's sources are in its own folder, so only the footers of compacted
        files next to JSONL files are read: after a completed compaction, none.
        """
        folders = {p.parent for p in jsonl}
        nearby = [p for p in parquet if p.parent in folders]
        try:
            return listed_sources(self._con, nearby)
        except duckdb.Error:
            pass  # one of them is not Parquet after all: find which, leave it out
        sources: set[tuple[Path, str]] = set()
        for path in nearby:
            try:
                sources |= listed_sources(self._con, [path])
            except duckdb.Error:
                self.unreadable_files.append(path)
                parquet.remove(path)
        return sources

    # -- running SQL -----------------------------------------------------------------------------

    @checked(query=sql_text)
    def sql(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """Run SQL over the views and return a DuckDB relation (lazy: fetching runs it).

        Raises:
            ReadError: the SQL does not bind (a missing table or column, a syntax error:
                DuckDB's first line), or holds no statement (empty, only comments). An error
                while fetching comes from DuckDB itself.
        """

        def bind() -> Any:
            self._views.make(query)
            return statement(self._con.sql(query, params=params))

        return self._with_retries(bind)

    @checked(query=sql_text)
    def execute(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[Row]:
        """Run SQL over the views; return its rows as dicts (JSON columns parsed).

        Files that vanish while being read (rotation, retention) are listed again and the
        query retried; a file DuckDB cannot decode is left out (see ``unreadable_files``).

        Raises:
            ReadError: the SQL fails (message: DuckDB's first line), or holds no statement.
        """
        return self._run(query, params, views=True)

    @checked(service=text)
    def cat(
        self,
        *,
        since: datetime | timedelta | str | None = None,
        until: datetime | timedelta | str | None = None,
        trace: str | None = None,
        service: str | None = None,
    ) -> Iterator[str]:
        """Every line (JSON text) of live, rotated and compacted files, oldest first, filtered:
        ``logtrace cat``. See ``logtrace.read.cat.cat_lines``; the times as ``open`` takes them.
        """
        from logtrace.read.cat import cat_lines

        return cat_lines(
            self,
            since=time("since", since),
            until=time("until", until),
            trace=trace,
            service=service,
        )

    @checked(name=query_name)
    def query(self, name: str, /, **params: Any) -> list[Row]:
        """Run ``queries/<name>.sql`` with its ``$parameters`` as keywords (missing ones NULL)."""
        return self._query(name, views=True, **params)

    # -- questions -------------------------------------------------------------------------------

    def resolve(self, trace_id: str) -> str:
        """The full trace id that ``trace_id`` (a full id or a prefix of 8+ hex digits) names.

        Raises:
            ReadError: malformed id; AmbiguousTrace: several match; TraceNotFound: none.
        """
        prefix = normalize_trace_id(trace_id)
        return resolve_in(self, prefix, views=True)

    def trace(self, trace_id: str) -> Trace:
        """Read one trace: from the span rows and compacted lines that hold ``trace_id``, or
        from its lines copied out once, then queried (see :mod:`logtrace.read.lookup`).

        Only the files whose time range can hold the trace are opened: a logtrace trace id
        begins with its creation time, so the files of [created - CLOCK_SKEW, created +
        LONG_TRACE]. The trace is read again from every file when it is not found there, or
        looks cut short (an unfinished span, no root span), or the id is not a time (another
        tracer's): pruning changes how long a lookup takes, never what it finds.

        Args:
            trace_id: a full trace id or a unique prefix of at least 8 hex digits.

        Raises:
            ReadError: malformed id; AmbiguousTrace: several match; TraceNotFound: none.
        """
        return find_trace(self, trace_id)

    def skipped(self) -> list[Row]:
        """Per file, the lines that were skipped: ``queries/skipped_lines.sql``."""
        return self.query("skipped_lines")

    def describe(self) -> str:
        """``./logtrace (3 files, 2026-11-24 13:11:34 to 2026-11-24 14:02:10)``."""
        return describe(self.locations, self.all_files)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the DuckDB connection: a question asked after it, or the next batch of a
        ``cat()`` or an export still going, is a ReadError saying the Reader is closed."""
        self.closed = True
        self._con.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _widened(bound: datetime | None, margin: timedelta) -> datetime | None:
    """``bound`` moved by ``margin``; None (no bound) past the calendar's ends."""
    if bound is None:
        return None
    try:
        return bound + margin
    except OverflowError:
        return None


def open(
    path: Location | Sequence[Location] = "logtrace",
    *,
    since: datetime | timedelta | str | None = None,
    until: datetime | timedelta | str | None = None,
    pruning: bool = True,
    memory_limit: str = MEMORY_LIMIT,
) -> Reader:
    """Open the logs under ``path`` for questions: a directory, one file, a glob, a URL of
    shared history (``s3://bucket/prefix``, see ``logtrace compact --to``), or a list of them.

    Returns a :class:`Reader`: a DuckDB connection on which the views ``events``, ``spans``,
    ``traces`` and ``logs`` (and ``lines``, the raw lines) exist, over the JSONL files and the
    compacted Parquet files alike::

        db = logtrace.open("./logtrace")
        db.sql("select name, count(*) from spans group by 1").show()
        db.query("slowest_traces", since=None, limit=5)
        db.trace("0194f3a2").spans

    Args:
        since, until: only questions about this window will be asked: the views read only
            the files that can hold it (with a margin of LONG_TRACE), not the rest. Each is a
            datetime (naive: UTC, as the views' times; aware: converted to UTC), a timedelta
            (that long ago) or text as ``--since`` takes it (``1h``, ``30m``, ``2d``,
            ``2026-11-24T13:00``); ``reader.since``/``until`` hold them as naive UTC.
        pruning: False reads every file, always (for comparisons).
        memory_limit: DuckDB's memory limit; bigger work spills to a temporary directory.

    Raises:
        ReadError: ``path`` does not exist or cannot be read, is not a path (or a list of
            them), or ``since``/``until`` is not a time.
    """
    connection = duckdb.connect(config={"memory_limit": memory_limit})
    connection.execute(SETTINGS)
    try:
        return Reader(path, connection, since=since, until=until, pruning=pruning)
    except BaseException:
        connection.close()
        raise
