"""The analytics behind the pages: critical path, time series, compare, from the Reader.

Thin adapters over ``reader.critical_path``, ``reader.timeseries`` and ``reader.compare``
(``logtrace/read/analytics/``): they turn a page's query string into arguments and the
answers into JSON values. When the installed logtrace has no such method, the endpoint says
so (501) and the page shows it, rather than guessing.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from typing import Any

import logtrace

from .._cli import filter_params
from .._files import ReadError

Row = dict[str, Any]


class Unavailable(ReadError):
    """This logtrace has no such analysis (``logtrace/read/analytics/`` is older)."""


def _method(reader: Any, name: str) -> Any:
    method = getattr(reader, name, None)
    if method is None:
        raise Unavailable(f"this logtrace has no reader.{name}()")
    return method


def critical_path(directory: str, trace_id: str) -> Row:
    """``{"trace_id", "sections": [...]}``: the parts of spans on the trace's critical path."""
    with logtrace.open(directory) as reader:
        answer = _method(reader, "critical_path")(trace_id)
    return {"trace_id": trace_id, "sections": jsonable(answer)}


def timeseries(directory: str, name: str, query: Mapping[str, str]) -> Row:
    """``{"name", "every", "buckets": [...]}``: one span name over time."""
    params = filter_params(
        argparse.Namespace(
            since=query.get("since") or None,
            until=query.get("until") or None,
            service=query.get("service") or None,
            name=name,
            status=None,
            errors=False,
            min_duration=None,
            attr=None,
        )
    )
    every = query.get("every") or "5m"
    with logtrace.open(directory, since=params["since"], until=params["until"]) as reader:
        rows = _method(reader, "timeseries")(
            every=every,
            since=params["since"],
            until=params["until"],
            name=name,
            service=params["service"],
        )
    return {"name": name, "every": every, "buckets": jsonable(rows)}


def compare(directory: str, query: Mapping[str, str]) -> Row:
    """``{"a", "b", "result"}``: trace ``a`` against trace ``b`` (or two windows/values)."""
    a, b = (query.get("a") or "").strip(), (query.get("b") or "").strip()
    if not a or not b:
        raise ReadError("give a and b: two trace ids")
    with logtrace.open(directory) as reader:
        result = _method(reader, "compare")(a, b)
    return {"a": a, "b": b, "result": jsonable(result)}


def jsonable(value: Any) -> Any:
    """Dataclasses (and lists of them) as dicts; everything else as it is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value
