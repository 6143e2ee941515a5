"""What a line over ``max_line`` becomes: the same for the writer's lines and imported ones;
and a line's JSON as the readers take it (``json_value``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from . import fields as f

# The default longest line, in bytes (``LOGTRACE_MAX_LINE``).
MAX_LINE = 256 * 1024

# What a value nested deeper than the writer keeps becomes (the writer's walk, the exports).
TOO_DEEP = "[nested too deep]"

KEPT_WHEN_CUT = frozenset(f.RESERVED - {f.EXCEPTION, f.ERROR_MESSAGE}) | {f.EVENT}


def cut_fields(line: Mapping[str, Any], size: int) -> dict[str, Any]:
    """The fields of a line of ``size`` bytes, over ``max_line``: logtrace's own kept (texts
    cut to 1024 characters), user fields dropped, the size noted in ``line_truncated``."""
    kept = {k: v for k, v in line.items() if k in KEPT_WHEN_CUT}
    for key in (f.EVENT, f.NAME, f.ERROR_MESSAGE):
        value = line.get(key)
        if isinstance(value, str):
            kept[key] = value[:1024]
    kept[f.LINE_TRUNCATED] = size
    return kept


def json_value(text: str | bytes) -> Any:
    """A line's (or a JSON column's) value as DuckDB's reader takes it: orjson's, and for
    what orjson refuses and Python's ``json`` reads (``NaN``, ``Infinity``, as ``json.dumps``
    writes them) ``json``'s; ``text`` itself when neither reads it (a torn line)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        import json  # rarely needed

        try:
            return json.loads(text)
        except ValueError:
            return text
