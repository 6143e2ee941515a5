"""Reading traces back: DuckDB views over the files, and the questions of ``queries/``.

``open(path)`` lists the files (plain ``.jsonl`` and rotated ``.jsonl.zst``), hands their
names to DuckDB as a value (``SET VARIABLE logtrace_files``, never pasted into SQL) and runs
the view files of ``queries/`` in order: ``lines``, ``events``, ``spans``, ``traces``, ``logs``.
Every other ``.sql`` file there is a named question, run with ``Reader.query(name, **params)``.
The same files run unchanged in the ``duckdb`` shell.

This module imports DuckDB; ``import logtrace`` does not import it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import orjson

from ._files import ReadError, find_files, time_range

__all__ = [
    "VIEWS",
    "AmbiguousTrace",
    "ReadError",
    "Reader",
    "Trace",
    "TraceNotFound",
    "open",
    "queries_dir",
    "query_names",
    "query_text",
]

# The views, in the order they are created (each reads the ones before it).
VIEWS = ("lines", "events", "spans", "traces", "logs")
# The variable lines.sql reads the file names from.
FILES_VARIABLE = "logtrace_files"
# The schema a single trace's lines are copied into by Reader.trace().
_TRACE_SCHEMA = "one_trace"
_TRACE_ID = re.compile(r"[0-9a-f]{8,32}")
# Retries of a query whose files changed under it (rotated, removed, corrupt).
_ATTEMPTS = 3

Row = dict[str, Any]


class TraceNotFound(ReadError):
    """No trace has this id (or id prefix) in the files."""

    exit_code = 1


class AmbiguousTrace(ReadError):
    """More than one trace id begins with the given prefix."""


def queries_dir() -> Path:
    """Where the SQL files are: ``logtrace/queries`` in a wheel, ``queries/`` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "queries", here.parent / "queries"):
        if (candidate / "events.sql").is_file():
            return candidate
    raise ReadError("the SQL files of logtrace are missing (queries/events.sql)")


def query_names() -> list[str]:
    """The names of the questions in ``queries/`` (the views excluded), sorted."""
    return sorted(p.stem for p in queries_dir().glob("*.sql") if p.stem not in VIEWS)


def query_text(name: str) -> str:
    """The SQL of ``queries/<name>.sql``."""
    path = queries_dir() / f"{name}.sql"
    if not re.fullmatch(r"[a-z_]+", name) or not path.is_file():
        raise ReadError(f"no query named {name!r} (known: {', '.join(query_names())})")
    return path.read_text(encoding="utf-8")


_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def parameters(sql: str) -> list[str]:
    """The ``$name`` parameters an SQL text uses (outside ``--`` comments), in order, once each."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return list(dict.fromkeys(_PARAMETER.findall(code)))


def normalize_trace_id(text: str) -> str:
    """A trace id or abbreviation as typed, checked and lowercased.

    Raises:
        ReadError: not 8 to 32 hex digits.
    """
    value = text.strip().lower()
    if not _TRACE_ID.fullmatch(value):
        raise ReadError(f"malformed trace id {text!r}: expected 8 to 32 hex digits")
    return value


@dataclass(frozen=True)
class Trace:
    """One trace read back: its summary, its spans as a tree, its log lines.

    ``spans`` are rows of ``queries/trace_tree.sql`` in display order (``depth``, ``top_reason``
    and every column of the ``spans`` view); ``logs`` are rows of ``trace_logs.sql`` in time
    order; ``summary`` is its row of the ``traces`` view.
    """

    trace_id: str
    summary: Row
    spans: list[Row] = field(default_factory=list)
    logs: list[Row] = field(default_factory=list)


class Reader:
    """A DuckDB connection with the views of logtrace over a set of files.

    ``reader.sql("select * from traces")`` gives a DuckDB relation (``.show()``,
    ``.fetchall()``); ``reader.query("slowest_traces", since=None, limit=5)`` runs a file of
    ``queries/``; ``reader.trace("0194f3a2")`` reads one trace. ``reader.connection`` is the
    connection itself.
    """

    def __init__(self, path: str | os.PathLike[str], connection: duckdb.DuckDBPyConnection):
        self.path = os.fspath(path)
        self.connection = connection
        self.files: list[Path] = []
        # Files DuckDB could not read (a corrupt .zst); left out of every query.
        self.unreadable_files: list[Path] = []
        self.refresh()

    # -- setup -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """List the files again (new ones, rotated ones) and point the views at them."""
        bad = set(self.unreadable_files)
        self.files = [p for p in find_files(self.path) if p not in bad]
        con = self.connection
        con.execute(f"SET VARIABLE {FILES_VARIABLE} = ?", [[str(p) for p in self.files]])
        if self.files:
            con.execute(query_text("lines"))
        else:
            # read_json_objects refuses an empty list: an empty view of the same shape.
            con.execute(
                "CREATE OR REPLACE VIEW lines AS "
                "SELECT CAST(NULL AS VARCHAR) AS filename, CAST(NULL AS JSON) AS json WHERE false"
            )
        for view in VIEWS[1:]:
            con.execute(query_text(view))

    # -- running SQL -----------------------------------------------------------------------------

    def sql(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """Run SQL over the views and return a DuckDB relation (lazy: fetching runs it)."""
        return self.connection.sql(query, params=params)

    def execute(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[Row]:
        """Run SQL over the views; return its rows as dicts (JSON columns parsed).

        Files that vanish while being read (rotation, retention) are listed again and the
        query retried; a file DuckDB cannot decode is left out (see ``unreadable_files``).

        Raises:
            ReadError: the SQL fails (message: DuckDB's first line).
        """
        for attempt in range(_ATTEMPTS):
            try:
                cursor = self.connection.execute(query, params or {})
                return _rows(cursor.description or [], cursor.fetchall())
            except duckdb.IOException as error:
                if attempt == _ATTEMPTS - 1:
                    raise ReadError(_first_line(error)) from None
                self._recover()
            except duckdb.Error as error:
                raise ReadError(_first_line(error)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def query(self, name: str, /, **params: Any) -> list[Row]:
        """Run ``queries/<name>.sql`` with its ``$parameters`` as keywords (missing ones NULL)."""
        text = query_text(name)
        return self.execute(text, {**dict.fromkeys(parameters(text)), **params})

    # -- questions -------------------------------------------------------------------------------

    def resolve(self, trace_id: str) -> str:
        """The full trace id that ``trace_id`` (a full id or a prefix of 8+ hex digits) names.

        Raises:
            ReadError: malformed id; AmbiguousTrace: several match; TraceNotFound: none.
        """
        prefix = normalize_trace_id(trace_id)
        return self._resolve_in(prefix)

    def trace(self, trace_id: str) -> Trace:
        """Read one trace: the lines holding ``trace_id`` are copied out once, then queried.

        Args:
            trace_id: a full trace id or a unique prefix of at least 8 hex digits.

        Raises:
            ReadError: malformed id; AmbiguousTrace: several match; TraceNotFound: none.
        """
        prefix = normalize_trace_id(trace_id)
        con = self.connection
        if not self.files:
            raise TraceNotFound(f"no trace {prefix} in {self.describe()}")
        self._with_retries(
            lambda: (
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {_TRACE_SCHEMA}"),
                con.execute(
                    f"CREATE OR REPLACE TABLE {_TRACE_SCHEMA}.lines AS "
                    + query_text("trace_lines").rstrip().rstrip(";"),
                    {"text": prefix},
                ),
            )
        )
        con.execute(f"SET schema = '{_TRACE_SCHEMA}'")
        try:
            for view in VIEWS[1:]:
                con.execute(query_text(view))
            full = self._resolve_in(prefix)
            summary = self.execute("SELECT * FROM traces WHERE trace_id = $t", {"t": full})
            spans = self.query("trace_tree", trace_id=full)
            logs = self.query("trace_logs", trace_id=full)
        finally:
            con.execute("SET schema = 'main'")
        return Trace(trace_id=full, summary=summary[0] if summary else {}, spans=spans, logs=logs)

    def skipped(self) -> list[Row]:
        """Per file, the lines that were skipped: ``queries/skipped_lines.sql``."""
        return self.query("skipped_lines")

    def describe(self) -> str:
        """``./logtrace (3 files, 2026-11-24 13:11:34 to 2026-11-24 14:02:10)``."""
        shown = display_path(self.path)
        count = len(self.files)
        noun = "file" if count == 1 else "files"
        span = time_range(self.files)
        if span is None:
            return f"{shown} ({count} {noun})"
        first, last = (t.strftime("%Y-%m-%d %H:%M:%S") for t in span)
        return f"{shown} ({count} {noun}, {first} to {last})"

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.connection.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------

    def _resolve_in(self, prefix: str) -> str:
        found = [row["trace_id"] for row in self.query("trace_ids", prefix=prefix)]
        if not found:
            raise TraceNotFound(f"no trace {prefix} in {self.describe()}")
        if len(found) > 1:
            shown = ", ".join(found[:2]) + (", …" if len(found) > 2 else "")
            raise AmbiguousTrace(f"trace id {prefix} is ambiguous: {shown} (give more digits)")
        return str(found[0])

    def _with_retries(self, action: Callable[[], object]) -> None:
        for attempt in range(_ATTEMPTS):
            try:
                action()
                return
            except duckdb.IOException as error:
                if attempt == _ATTEMPTS - 1:
                    raise ReadError(_first_line(error)) from None
                self._recover()
            except duckdb.Error as error:
                raise ReadError(_first_line(error)) from None

    def _recover(self) -> None:
        """After an IO error: list the files again and leave out the ones DuckDB cannot read."""
        self.connection.execute("SET schema = 'main'")
        for path in find_files(self.path):
            if path in self.unreadable_files:
                continue
            try:
                self.connection.execute(
                    "SELECT count(*) FROM read_json_objects($f, format = 'newline_delimited', "
                    "ignore_errors = true)",
                    {"f": str(path)},
                ).fetchall()
            except duckdb.Error:
                if path.exists():
                    self.unreadable_files.append(path)
        self.refresh()


def open(path: str | os.PathLike[str] = "logtrace") -> Reader:
    """Open the logs under ``path`` for questions: a directory, one file, or a glob.

    Returns a :class:`Reader`: a DuckDB connection on which the views ``events``, ``spans``,
    ``traces`` and ``logs`` (and ``lines``, the raw lines) exist::

        db = logtrace.open("./logtrace")
        db.sql("select name, count(*) from spans group by 1").show()
        db.query("slowest_traces", since=None, limit=5)
        db.trace("0194f3a2").spans

    Raises:
        ReadError: ``path`` does not exist or cannot be read.
    """
    connection = duckdb.connect()
    # DuckDB draws a progress bar on the terminal for long queries: not in a CLI's output.
    connection.execute("SET enable_progress_bar = false")
    return Reader(path, connection)


def display_path(path: str) -> str:
    """``logtrace`` as ``./logtrace``: a relative path shown as one."""
    if os.path.isabs(path) or path.startswith(".") or any(c in path for c in "*?["):
        return path
    return f".{os.sep}{path}"


def _rows(description: Sequence[Any], rows: list[tuple[Any, ...]]) -> list[Row]:
    names = [d[0] for d in description]
    json_columns = [i for i, d in enumerate(description) if str(d[1]) == "JSON"]
    result = []
    for row in rows:
        values = list(row)
        for i in json_columns:
            if isinstance(values[i], str):
                values[i] = orjson.loads(values[i])
        result.append(dict(zip(names, values, strict=True)))
    return result


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
