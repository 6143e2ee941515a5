"""What to export, read from the files through the Reader (``logtrace.open``).

One trace, several, those a filter picks (the filters of ``logtrace ls``), or everything. The
lines come from ``queries/export_lines.sql`` one trace after another, so a trace is put
together whole and memory holds one trace (and a chunk of lines) at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from logtrace.format.lines import json_value

from .assemble import assemble, host_of
from .model import Batch

# Lines fetched from DuckDB at a time; log lines outside traces per batch.
FETCH = 10_000
_FILTERS = ("since", "until", "service", "name", "status", "min_duration_ms")


def select_traces(
    reader: Any, trace_ids: list[str] | None = None, filters: Mapping[str, Any] | None = None
) -> list[str] | None:
    """The full ids of the traces to export; None for every trace.

    Args:
        trace_ids: ids or unique prefixes (8+ hex digits), as ``logtrace show`` takes them.
        filters: ``since``, ``until``, ``service``, ``name``, ``status``, ``min_duration_ms``,
            ``attr_key``/``attr_value``, as for ``queries/recent_traces.sql``; None values and
            missing keys mean "any".

    Raises:
        ReadError: a malformed, unknown or ambiguous id.
    """
    chosen = [reader.resolve(t) for t in trace_ids] if trace_ids else None
    given = {k: v for k, v in (filters or {}).items() if v is not None}
    if not given:
        return chosen
    params = {k: given.get(k) for k in _FILTERS}
    if given.get("attr_key") is not None:
        rows = reader.query(
            "recent_traces",
            limit=None,
            attr_key=given["attr_key"],
            attr_value=given.get("attr_value"),
            **params,
        )
    else:
        rows = reader.query("recent_traces_no_attr", limit=None, **params)
    found = [row["trace_id"] for row in rows]
    return found if chosen is None else [t for t in chosen if t in set(found)]


def batches(
    reader: Any, trace_ids: list[str] | None = None, *, untraced: bool = False
) -> Iterator[Batch]:
    """The spans and log lines of these traces (None: all), one ``Batch`` per trace.

    The lines are fetched from a cursor of their own (``Reader._batches``): the Reader can
    be asked other questions meanwhile. Until the first lines, a file that vanished or does
    not decode is left out and the query run again, as for every question of the Reader.

    Args:
        untraced: also the log lines outside any trace (at the end, in batches).

    Raises:
        ReadError: SQL that fails (DuckDB's first line).
    """
    if trace_ids is not None and not trace_ids:
        return
    from ..read.queries import query_text

    params = {"trace_ids": trace_ids, "untraced": untraced}
    yield from _grouped(reader._batches(query_text("export_lines"), params, FETCH))


def _grouped(fetched: Iterable[list[tuple[Any, ...]]]) -> Iterator[Batch]:
    """Batches of the rows of export_lines.sql: one per trace, then the untraced lines."""
    current: str | None = None
    lines: list[tuple[dict[str, Any], str]] = []
    hosts: dict[str, str] = {}
    for rows in fetched:
        for trace_id, text, filename in rows:
            if lines and (trace_id != current or (trace_id is None and len(lines) >= FETCH)):
                yield assemble(lines)
                lines = []
            current = trace_id
            line = json_value(text)  # NaN too, as the views read it
            if not isinstance(line, dict):
                continue  # torn, or a foreign line of JSON that is not an object
            host = hosts.get(filename)
            if host is None:
                host = hosts[filename] = host_of(filename)
            lines.append((line, host))
    if lines:
        yield assemble(lines)
