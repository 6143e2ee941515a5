"""Span rows: beside each compacted file, one Parquet row per span, start and end joined.

``logtrace compact`` writes, for each batch, ``spans_<first>_<last>_<digest>.parquet`` from the
compacted file it has just written (``queries/compact_spans.sql``: a columnar read of the span
lines, no JSON parsed again), under a hidden name, synced, and renamed into place *before* the
compacted file: the compacted file is the commit point, so a span file counts only beside it.
A span whose start and end lines are in different batches is a fragment in each (``has_start``
<> ``has_end``); readers merge fragments with each other and with the span lines of files not
compacted yet (``queries/loose_span_lines.sql``), so published files are never rewritten.

The columns are a contract for other engines (Spark, chdb, Dask): docs/scaling.md lists them,
and ``SPANS_FORMAT`` in the key-value metadata gives their version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from logtrace.format import fields as f
from logtrace.read.durable import fsync, sql_literal

# How both files of a batch are written. zstd level 1, not DuckDB's default 3: as small here
# (random ids do not compress at any level) and a fifth faster to write (docs/scaling.md).
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"
# Row groups of 32k spans, as compacted files: a lookup of one trace decodes one small row group;
# "p95 per span name" is no slower than with bigger ones (docs/scaling.md, the layout table).
ROW_GROUP_SIZE = 32_768
# The columns of a span file, in order, with their DuckDB types: the contract (version 1).
COLUMNS: tuple[tuple[str, str], ...] = (
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
    ("source", "VARCHAR"),
)


def write_span_rows(con: Any, compacted: Path, target: Path, sources: list[str]) -> int:
    """Write the span rows of the compacted file ``compacted`` to ``target``; return how many.

    Args:
        con: a DuckDB connection.
        compacted: the batch's compacted lines (a Parquet file written by compaction).
        target: where to write (a hidden work name; the caller renames it into place).
        sources: the JSONL files of the batch (kept in the metadata, as in the compacted file).
    """
    from logtrace.read.queries import query_text

    con.execute("SET VARIABLE compact_parquet = ?", [str(compacted)])
    select = query_text("compact_spans").rstrip().rstrip(";")
    metadata = {
        f.COMPACTED_SOURCES: orjson.dumps(sources).decode(),
        f.SPANS_FORMAT: str(f.SPANS_FORMAT_VERSION),
    }
    options = ", ".join(f"{key}: {sql_literal(value)}" for key, value in metadata.items())
    row = con.execute(
        f"COPY ({select}) TO {sql_literal(str(target))} ({PARQUET_OPTIONS}, "
        f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}, KV_METADATA {{{options}}})"
    ).fetchone()
    fsync(target)
    return int(row[0]) if row else 0
