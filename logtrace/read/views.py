"""What the reader needs of DuckDB beyond the SQL files: stand-ins for views with no files, the
sources compacted files list in their metadata, result rows as dicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson

from logtrace.format import fields as f
from logtrace.read.queries import SOURCE_VIEWS, SPAN_VIEWS
from logtrace.read.trace import Row


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
                values[i] = orjson.loads(values[i])
        result.append(dict(zip(names, values, strict=True)))
    return result


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
