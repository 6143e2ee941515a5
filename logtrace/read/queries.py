"""The SQL files of ``queries/``: where they are, which are views and which are questions.

Each ``.sql`` file holds one query, named by its stem, with a comment header saying what it
returns and which ``$parameters`` it takes. The view files are run by ``logtrace.open`` in the
order below; every other file is a question (``Reader.query(name, **params)``, ``logtrace sql
NAME``). This module does not import DuckDB.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from logtrace.format.shown import short_repr
from logtrace.read.files import ReadError

# The views that read JSONL files, with the columns of the empty stand-in used when there is
# none (DuckDB's readers refuse an empty list). The view of compacted files is compacted.sql,
# and no_compacted.sql its stand-in.
SOURCE_VIEWS: dict[str, tuple[tuple[str, str], ...]] = {
    "jsonl_lines": (("filename", "VARCHAR"), ("json", "JSON")),
    "jsonl_span_lines": (
        ("ts", "TIMESTAMP"),
        ("trace_id", "VARCHAR"),
        ("span_id", "VARCHAR"),
        ("span", "VARCHAR"),
        ("name", "VARCHAR"),
        ("parent_id", "VARCHAR"),
        ("duration_ms", "DOUBLE"),
        ("status", "VARCHAR"),
        ("error_type", "VARCHAR"),
        ("error_message", "VARCHAR"),
        ("exception", "VARCHAR"),
        ("service", "VARCHAR"),
        ("pid", "BIGINT"),
        ("filename", "VARCHAR"),
    ),
}
_SPAN_LINE = SOURCE_VIEWS["jsonl_span_lines"]
SOURCE_VIEWS["jsonl_span_lines"] = (*_SPAN_LINE, ("kind", "VARCHAR"))
# The views that read span files and compacted files without a span file, each with the
# variable that lists its files and the columns of its empty stand-in.
SPAN_VIEWS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "span_rows": (
        "logtrace_span_rows",
        (
            ("trace_id", "VARCHAR"),
            ("span_id", "VARCHAR"),
            ("parent_id", "VARCHAR"),
            ("name", "VARCHAR"),
            ("kind", "VARCHAR"),
            ("service", "VARCHAR"),
            ("host", "VARCHAR"),
            ("pid", "BIGINT"),
            ("start_ts", "TIMESTAMP"),
            ("end_ts", "TIMESTAMP"),
            ("duration_ms", "DOUBLE"),
            ("status", "VARCHAR"),
            ("error_type", "VARCHAR"),
            ("error_message", "VARCHAR"),
            ("exception", "VARCHAR"),
            ("attributes", "JSON"),
            ("has_start", "BOOLEAN"),
            ("has_end", "BOOLEAN"),
            ("filename", "VARCHAR"),
        ),
    ),
    "compacted_span_lines": (
        "logtrace_parquet_bare",
        (*_SPAN_LINE, ("kind", "VARCHAR"), ("attributes", "JSON")),
    ),
}
# The columns of a compacted file, as compaction writes them (docs/history.md): a file under
# such a name that lacks one is not logtrace's, and is left out as one that does not decode
# (``views.foreign_parquet``; a span file's are ``spanrows.COLUMNS``).
COMPACTED_COLUMNS = (
    *("ts", "level", "event", "logger", "service", "pid", "trace_id", "span_id"),
    *("trace_flags", "span", "name", "parent_id", "duration_ms", "status", "error_type"),
    *("error_message", "exception", "attributes", "line", "readable", "source"),
)
# The views over those, in the order they are created (each reads the ones before it).
VIEWS = (
    "lines",
    "events",
    "span_lines",
    "loose_span_lines",
    "span_attributes",
    "spans",
    "traces",
    "logs",
)
# Views of VIEWS with a file standing in for theirs when there is nothing to join: `spans` is
# the span rows as they are when every file is compacted with its span file and no span is
# split across files (the reader asks split_spans.sql).
STAND_INS = {"spans": "whole_spans"}
# Files of queries/ that define views (not questions): the above, and the stand-in of
# jsonl_span_lines over lines already copied out for one trace.
VIEW_FILES = (
    *SOURCE_VIEWS,
    "compacted",
    "no_compacted",
    *SPAN_VIEWS,
    *(f"no_{view}" for view in SPAN_VIEWS),
    *VIEWS,
    *STAND_INS.values(),
    "copied_span_lines",
)
# Files of queries/ that only compaction runs (they need its variables and tables).
COMPACTION_FILES = ("compact_lines", "compact_spans")
# Files of queries/ that only the reader runs, on its variables, to choose the views.
READER_FILES = ("split_spans",)
# The variables the views read the file names from: JSONL files, compacted files.
FILES_VARIABLE = "logtrace_files"
PARQUET_VARIABLE = "logtrace_parquet"


@functools.cache
def queries_dir() -> Path:
    """Where the SQL files are: ``logtrace/queries`` in a wheel, ``queries/`` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "queries", here.parent.parent / "queries"):
        if (candidate / "events.sql").is_file():
            return candidate
    raise ReadError("the SQL files of logtrace are missing (queries/events.sql)")


def query_names() -> list[str]:
    """The names of the questions in ``queries/`` (the views excluded), sorted."""
    internal = (*VIEW_FILES, *COMPACTION_FILES, *READER_FILES)
    return sorted(p.stem for p in queries_dir().glob("*.sql") if p.stem not in internal)


def query_text(name: str) -> str:
    """The SQL of ``queries/<name>.sql``."""
    if not re.fullmatch(r"[a-z_]+", name):
        raise _no_query(name)
    return _read_query(name)


def _no_query(name: str) -> ReadError:
    return ReadError(f"no query named {short_repr(name)} (known: {', '.join(query_names())})")


@functools.lru_cache(maxsize=256)
def _read_query(name: str) -> str:
    """The text of a query file, read once per process (a lookup runs a dozen of them)."""
    path = queries_dir() / f"{name}.sql"
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    except OSError:  # a name too long for a file name (ENAMETOOLONG) is no query's either
        pass
    raise _no_query(name)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def views_used(sql: str, stand_ins: frozenset[str] = frozenset()) -> frozenset[str]:
    """The views of logtrace that ``sql`` reads, directly or through other views; those named
    in ``stand_ins`` read as their stand-in file of STAND_INS does."""
    return _views_in(_code(sql), stand_ins)


def view_text(view: str, stand_ins: frozenset[str] = frozenset()) -> str:
    """The SQL that creates ``view``: its stand-in's when ``view`` is in ``stand_ins``."""
    return query_text(STAND_INS[view] if view in stand_ins else view)


@functools.lru_cache(maxsize=256)
def _views_in(code: str, stand_ins: frozenset[str]) -> frozenset[str]:
    views = (*SOURCE_VIEWS, "compacted", *SPAN_VIEWS, *VIEWS)
    named = set(_NAME.findall(code)) & set(views)
    found: set[str] = set()
    while named:
        view = named.pop()
        if view not in found:
            found.add(view)
            named |= set(_NAME.findall(_code(view_text(view, stand_ins)))) & set(views)
    return frozenset(found)


def _code(sql: str) -> str:
    """``sql`` without its ``--`` comments."""
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def parameters(sql: str) -> list[str]:
    """The ``$name`` parameters an SQL text uses (outside ``--`` comments), in order, once each."""
    return list(dict.fromkeys(_PARAMETER.findall(_code(sql))))


# Parameters that name what a query is about: without them it can only answer nothing.
_REQUIRED = ("trace_id", "prefix", "text")


def missing_parameters(sql: str, given: Iterable[str]) -> list[str]:
    """The parameters of ``sql`` that must be given (a trace id, a prefix) and are not; the
    others may be NULL ("any", "no limit")."""
    have = set(given)
    return [name for name in parameters(sql) if name in _REQUIRED and name not in have]
