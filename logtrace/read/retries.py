"""Running SQL over a Reader's files, again when they changed under it: :class:`Retries`, a
mixin :class:`logtrace.read.reader.Reader` inherits.

Files change while they are read: the writer rotates and compresses them, retention and
compaction delete them, and a file may not decode (a ``.zst`` cut short, a ``.parquet`` that
is not Parquet, a line past 64 MiB). Every question of the Reader runs through
:meth:`Retries._with_retries`: after an error naming one of the files, that file is left out
(``reader.unreadable_files``) and the question asked again; after another IO error, the
files are listed again; any other DuckDB error is a ReadError (its first line).

Rows are fetched whole (``_run``) or in batches on a cursor of their own (``_batches``: ``cat``
and the exports, which the Reader answers other questions between).

This module imports DuckDB; ``import logtrace`` does not import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from logtrace.format import fields as f
from logtrace.read.files import ReadError, find_files, span_file_of
from logtrace.read.queries import parameters, query_text
from logtrace.read.remote import is_url
from logtrace.read.trace import Row
from logtrace.read.views import Views, as_rows, first_line, foreign_parquet

# Retries of a query whose files changed under it (rotated, removed, corrupt).
ATTEMPTS = 3
# The error of a question asked, or a batch fetched, after Reader.close().
CLOSED = (
    "this Reader is closed (close() was called, or its with block ended): "
    "open the files again with logtrace.open()"
)
_T = TypeVar("_T")


class Retries:
    """How a Reader runs SQL over its files: retried when the files changed under it.

    The Reader sets the attributes below (see ``Reader.__init__``) and lists its files again
    with ``refresh``.
    """

    _con: duckdb.DuckDBPyConnection
    _views: Views
    locations: list[str]
    files: list[Path]
    all_files: list[Path]
    trace_files: list[Path]
    unreadable_files: list[Path]
    closed: bool
    # (path, size, mtime_ns) of the Parquet files found to be logtrace's (_foreign_parquet).
    _ours: set[tuple[Path, int, int]]

    def refresh(self) -> None:
        """List the files again and point the views at them: the Reader's."""
        raise NotImplementedError

    def _query(self, name: str, /, *, views: bool = False, **params: Any) -> list[Row]:
        """``queries/<name>.sql`` run with its ``$parameters`` (missing ones NULL)."""
        text = query_text(name)
        return self._run(text, {**dict.fromkeys(parameters(text)), **params}, views=views)

    def _run(
        self,
        query: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        views: bool = False,
    ) -> list[Row]:
        """``execute``; ``views=False`` within a trace's own schema, which has its own."""

        def fetch() -> list[Row]:
            cursor = self._cursor(query, params, views=views)
            return as_rows(cursor.description or [], cursor.fetchall())

        return self._with_retries(fetch)

    def _cursor(
        self,
        query: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        views: bool = True,
    ) -> duckdb.DuckDBPyConnection:
        """``query`` run, its rows not fetched yet: for ``_with_retries`` (``_run``)."""
        if views:
            self._views.make(query)  # binding them opens the files: it may fail like a query
        return statement(self._con.execute(query, params or {}))

    def _batches(
        self, query: str, params: Mapping[str, Any], size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of ``query`` over the views, ``size`` at a time (a result larger than
        memory streams through), while the Reader answers other questions between batches:
        fetched from a cursor of its own (:meth:`Views.cursor`), since the next query on the
        Reader's connection would end a result pending there, and ``fetchmany`` would give
        ``[]`` as if it were done (``cat``, exports).

        Until the first batch, a file that vanished or does not decode is left out and the
        query run again (``_with_retries``); after it, nothing is run again (the rows given
        would come twice), and an error is a ReadError (DuckDB's first line).
        """

        def first() -> tuple[duckdb.DuckDBPyConnection, list[tuple[Any, ...]]]:
            self._views.make(query)
            cursor = self._views.cursor()
            try:
                return cursor, statement(cursor.execute(query, params)).fetchmany(size)
            except BaseException:
                cursor.close()
                raise

        cursor, rows = self._with_retries(first)
        try:
            while rows:
                yield rows
                try:
                    rows = cursor.fetchmany(size)
                except duckdb.Error as error:
                    raise ReadError(CLOSED if self.closed else first_line(error)) from None
        finally:
            cursor.close()

    def _with_retries(self, action: Callable[[], _T]) -> _T:
        """Run ``action``; after an error naming one of the files (one that does not decode, a
        Parquet file that is not one, a line too long), leave that file out and retry; after
        another IO error (a file gone), list the files again and retry. Any DuckDB error in the
        end is a ReadError (its first line)."""
        io_errors = 0
        while True:
            try:
                return action()
            except duckdb.Error as error:
                if self.closed:
                    raise ReadError(CLOSED) from None
                left_out = self._foreign_parquet(error) or self._file_named_in(str(error))
                if left_out:
                    self._con.execute("SET schema = 'main'")
                    self.unreadable_files.extend(left_out)
                    self.refresh()
                    continue
                io_errors += 1
                if not isinstance(error, duckdb.IOException) or io_errors >= ATTEMPTS:
                    raise ReadError(first_line(error)) from None
                self._recover()

    def _file_named_in(self, message: str) -> list[Path]:
        """The existing file, not yet left out, whose path a DuckDB error message names (a
        list of one, or empty)."""
        known = {*self.all_files, *self.files, *self.trace_files, *self._views.span_files}
        for path in sorted(known, key=lambda p: len(str(p)), reverse=True):
            if str(path) in message and path not in self.unreadable_files and path.exists():
                return [path]
        return []

    def _foreign_parquet(self, error: duckdb.Error) -> list[Path]:
        """After an error that is not IO (a Binder error, a schema mismatch): the Parquet files
        the question read that are not logtrace's (``views.foreign_parquet``). A file found to
        be logtrace's is not read again while its size and mtime stay."""
        if isinstance(error, duckdb.IOException):
            return []
        read = {*self.files, *self.trace_files}
        compacted = [p for p in read if p.name.endswith(f.COMPACTED_SUFFIX)]
        spans = [span_file_of(p) for p in compacted if span_file_of(p) in self._views.span_files]
        candidates = {}
        for path in sorted({*compacted, *spans} - set(self.unreadable_files)):
            try:
                status = path.stat()
            except OSError:
                continue  # gone: the next listing will not have it
            if (path, status.st_size, status.st_mtime_ns) not in self._ours:
                candidates[path] = (path, status.st_size, status.st_mtime_ns)
        foreign = foreign_parquet(self._con, list(candidates))
        self._ours |= {key for path, key in candidates.items() if path not in foreign}
        return foreign

    def _recover(self) -> None:
        """After an IO error: list the files again and leave out the ones DuckDB cannot read."""
        self._con.execute("SET schema = 'main'")
        local = [p for p in self.locations if not is_url(p)]
        for path in [p for location in local for p in find_files(location)]:
            if path in self.unreadable_files:
                continue
            try:
                self._con.execute(
                    "SELECT count(*) FROM read_json_objects($f, format = 'newline_delimited', "
                    "ignore_errors = true, maximum_object_size = 67108864)",
                    {"f": str(path)},
                ).fetchall()
            except duckdb.Error:
                if path.exists():
                    self.unreadable_files.append(path)
        self.refresh()


def statement(result: _T | None) -> _T:
    """DuckDB's result of a query; DuckDB gives None for SQL without a statement."""
    if result is None:
        raise ReadError(
            "the SQL holds no statement (it is empty or only comments): "
            "give one, such as 'select * from traces limit 5'"
        )
    return result


__all__ = ["ATTEMPTS", "Retries", "statement"]
