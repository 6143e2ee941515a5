"""What the analytics mixins read through: the Reader they need (:class:`Reads`), the times
they take (:data:`When`), a row of a query (:data:`Row`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

__all__ = ["Reads", "Row", "When"]

When = datetime | timedelta | str | None
Row = dict[str, Any]


class Reads(Protocol):
    """What the mixins need of the Reader."""

    path: str

    def query(self, name: str, /, **params: Any) -> list[Row]: ...

    def trace(self, trace_id: str) -> Any: ...
