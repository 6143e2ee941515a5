"""The views of logtrace on a DuckDB connection, and what the reader needs of DuckDB besides.

:class:`Views` points the views at a set of files: it hands their names to DuckDB as values
(``SET VARIABLE logtrace_files``, ``logtrace_parquet`` and the span files', never pasted into
SQL) and runs the view files of ``queries/``: first the views that read the files
(``jsonl_lines``, ``jsonl_span_lines``, ``compacted``, ``span_rows``,
``compacted_span_lines``), then ``lines``, ``events``, ``span_lines``, ``span_attributes``,
``spans``, ``traces``, ``logs``. A kind of file with no file gets an empty stand-in, since
DuckDB's readers refuse an empty list. The same files run unchanged in the ``duckdb`` shell.

Besides: the sources compacted files list in their metadata, result rows as dicts, an error's
first line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson

from logtrace.format import fields as f
from logtrace.format.lines import json_value
from logtrace.read.files import span_file_of
from logtrace.read.integrity import looks_whole
from logtrace.read.queries import (
    COMPACTED_COLUMNS,
    FILES_VARIABLE,
    PARQUET_VARIABLE,
    SOURCE_VIEWS,
    SPAN_VIEWS,
    STAND_INS,
    VIEWS,
    query_text,
    view_text,
    views_used,
)
from logtrace.read.spanrows import COLUMNS as SPAN_FILE_COLUMNS
from logtrace.read.trace import Row

# What every connection of a Reader sets. DuckDB draws a progress bar on the terminal for long
# queries: not in a CLI's output. Every view over Parquet files reads their footers when it is
# bound, and a question binds the span files' view several times (spans.sql reads it for whole
# spans and fragments): cached, a footer is parsed once per connection (again if the file's
# mtime changes).
SETTINGS = "SET enable_progress_bar = false; SET parquet_metadata_cache = true"


class Views:
    """The views of logtrace on ``connection``, made when a question needs them.

    :meth:`point` sets the variables that list the files (binding nothing); :meth:`make`
    creates the views a query reads, and again only when a kind of file appears or disappears
    (an empty list needs the empty stand-in instead): binding a view opens its files, which a
    lookup of one trace does not need.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self._con = connection
        # The span files beside compacted files (they count only beside their compacted file).
        self._span_files: set[Path] = set()
        # Which kinds of file (JSONL, compacted, span files, compacted files without one) the
        # views were created for, and are needed for.
        self._kinds: tuple[bool, ...] | None = None
        self._wanted: tuple[bool, ...] = (False, False, False, False)
        # The views created for those kinds (only those a question needed so far), with the
        # SQL each was made from (a view with a stand-in is made again when the other is due).
        self._made: dict[str, str] = {}
        # The span files the views read, and whether one holds a fragment (split_spans.sql),
        # once asked.
        self._span_list: list[str] = []
        self._split: tuple[list[str], bool] | None = None
        # The value each file variable was last set to (a lookup sets two of four, then back).
        self._variables: dict[str, list[str]] = {}

    @property
    def span_files(self) -> set[Path]:
        """The span files the views may read (those beside the compacted files listed)."""
        return self._span_files

    def point(self, files: list[Path], span_files: set[Path]) -> None:
        """Point the views at ``files`` (``span_files``: the span files that exist): set the
        variables the views read when queried; the views are made on first use (:meth:`make`).
        """
        self._span_files = span_files
        lists = self.set_variables(files)
        self._wanted = tuple(bool(kind) for kind in lists)
        self._span_list = lists[2]

    def set_variables(self, files: list[Path]) -> tuple[list[str], ...]:
        """Set the variables that list the files of each kind; return the four lists (JSONL,
        compacted, span files, compacted files without a span file).

        A compacted file's span lines are read from its span file when it has one (whole
        spans as rows), else from the compacted file itself. A lookup of one trace sets them
        to its own files, then back with :meth:`point`'s files.
        """
        jsonl = [str(p) for p in files if not p.name.endswith(f.COMPACTED_SUFFIX)]
        compacted = [p for p in files if p.name.endswith(f.COMPACTED_SUFFIX)]
        spans = [span_file_of(p) for p in compacted if span_file_of(p) in self._span_files]
        bare = [str(p) for p in compacted if span_file_of(p) not in self._span_files]
        lists = (jsonl, [str(p) for p in compacted], [str(p) for p in spans], bare)
        variables = (FILES_VARIABLE, PARQUET_VARIABLE, *(v for v, _ in SPAN_VIEWS.values()))
        for variable, values in zip(variables, lists, strict=True):
            if self._variables.get(variable) != values:
                self._con.execute(f"SET VARIABLE {variable} = ?", [values])
                self._variables[variable] = values
        return lists

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own to the same database, with the variables that list the
        files (and SETTINGS) set on it as on the Reader's: the views are the database's,
        variables, settings and the schema each connection's. For a result fetched while
        other questions are asked: the next query on a connection ends the result it had
        pending."""
        cursor = self._con.cursor()
        try:
            cursor.execute(SETTINGS)
            for variable, values in self._variables.items():
                cursor.execute(f"SET VARIABLE {variable} = ?", [values])
        except BaseException:
            cursor.close()
            raise
        return cursor

    def forget(self) -> None:
        """Make every view again on its next use (a lookup replaced some over its own files)."""
        self._kinds = None

    def make(self, sql: str | None = None) -> None:
        """Create the views that ``sql`` reads (None: every view), unless they exist already.

        Only those: binding a view reads the footers of its files, and a question about span
        rows need not bind the views of lines. All are made again when a kind of file appears
        or disappears (an empty list needs the empty stand-in instead).
        """
        if self._wanted != self._kinds:
            self._made = {}
            self._kinds = self._wanted
        stand_ins = self._stand_ins(sql)
        wanted = None if sql is None else views_used(sql, stand_ins)
        for view, text in self._texts(stand_ins):
            if self._made.get(view) != text and (wanted is None or view in wanted):
                self._con.execute(text)
                self._made[view] = text

    def _texts(self, stand_ins: frozenset[str]) -> Iterator[tuple[str, str]]:
        """(name, SQL) of every view, in the order of creation, for the kinds of file listed;
        the views named in ``stand_ins`` from their stand-in file (STAND_INS)."""
        jsonl, parquet, spans, bare = self._wanted
        for view in SOURCE_VIEWS:
            yield view, query_text(view) if jsonl else empty_view(view)
        yield "compacted", query_text("compacted" if parquet else "no_compacted")
        for view, present in zip(SPAN_VIEWS, (spans, bare), strict=True):
            yield view, query_text(view) if present else empty_view(view)
        for view in VIEWS:
            yield view, view_text(view, stand_ins)

    def _stand_ins(self, sql: str | None) -> frozenset[str]:
        """The views to make from their stand-in: ``spans`` from whole_spans.sql when every file
        is compacted with its span file and none holds a fragment (nothing to join), else none.
        The files are asked only when ``sql`` (None: every view) reads ``spans``.
        """
        jsonl, _, spans, bare = self._wanted
        if jsonl or bare or not spans or (sql is not None and "spans" not in views_used(sql)):
            return frozenset()
        if self._split is None or self._split[0] != self._span_list:
            (row,) = self._con.execute(query_text("split_spans")).fetchall()
            self._split = (self._span_list, bool(row[0]))
        return frozenset() if self._split[1] else frozenset(STAND_INS)


def listed_sources(con: duckdb.DuckDBPyConnection, compacted: list[Path]) -> set[tuple[Path, str]]:
    """(folder, source name) of the JSONL files that these compacted files hold, from the list
    each keeps in its Parquet metadata (read from the footers only)."""
    if not compacted:
        return set()
    rows = con.execute(
        "SELECT file_name, decode(value) FROM parquet_kv_metadata($files) WHERE decode(key) = $key",
        {"files": [str(p) for p in compacted], "key": f.COMPACTED_SOURCES},
    ).fetchall()
    return {
        (Path(name).parent, str(source)) for name, value in rows for source in orjson.loads(value)
    }


def foreign_parquet(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> list[Path]:
    """The compacted and span files among ``paths`` whose footer lacks a column the views read
    (``queries.COMPACTED_COLUMNS``, ``spanrows.COLUMNS``) or cannot be read: another program's
    Parquet file under logtrace's name. Its rows would fail every query over the files (a
    Binder error, a schema mismatch), so the reader leaves it out and names it, as a file that
    does not decode. Only the footers are read."""
    try:
        found = _columns(con, paths)
    except duckdb.Error:  # one footer does not read: find which
        found = {}
        for path in paths:
            try:
                found |= _columns(con, [path])
            except duckdb.Error:
                found[str(path)] = set()
    foreign = []
    for path in paths:
        spans = path.name.startswith(f.SPANS_PREFIX)
        needed = [c for c, _ in SPAN_FILE_COLUMNS] if spans else COMPACTED_COLUMNS
        if not found.get(str(path), set()).issuperset(needed):
            foreign.append(path)
    return foreign


def not_ours(paths: list[Path]) -> list[Path]:
    """The compacted and span files among ``paths`` that are not logtrace's: not shaped like
    Parquet (``integrity.looks_whole``), or ``foreign_parquet`` (on a connection of its own).
    What must never be moved or deleted as history (``compact``, ``compact --to``)."""
    if not paths:
        return []
    shaped = [p for p in paths if looks_whole(p)]
    with duckdb.connect() as con:
        return [p for p in paths if p not in shaped] + foreign_parquet(con, shaped)


def _columns(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> dict[str, set[str]]:
    if not paths:
        return {}
    rows = con.execute(
        "SELECT file_name, list(name) FROM parquet_schema($files) GROUP BY file_name",
        {"files": [str(p) for p in paths]},
    ).fetchall()
    return {name: set(columns) for name, columns in rows}


def empty_view(name: str) -> str:
    """An empty stand-in for a view that reads files, when there are none of its kind."""
    return f"CREATE OR REPLACE VIEW {name} AS {empty_select(name)}"


def empty_select(name: str) -> str:
    """A query with no rows and the columns of the view ``name`` of SOURCE_VIEWS/SPAN_VIEWS."""
    shape = SOURCE_VIEWS[name] if name in SOURCE_VIEWS else SPAN_VIEWS[name][1]
    columns = ", ".join(f"CAST(NULL AS {kind}) AS {column}" for column, kind in shape)
    return f"SELECT {columns} WHERE false"


def as_rows(description: Sequence[Any], rows: list[tuple[Any, ...]]) -> list[Row]:
    names = [d[0] for d in description]
    json_columns = [i for i, d in enumerate(description) if str(d[1]) == "JSON"]
    result = []
    for row in rows:
        values = list(row)
        for i in json_columns:
            if isinstance(values[i], str):
                values[i] = json_value(values[i])
        result.append(dict(zip(names, values, strict=True)))
    return result


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
