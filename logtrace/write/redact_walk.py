"""The structure walk of redaction: a value of any type made safe to write (``Scrubber.value``).

Containers are copied, never modified, and walked to ``max_depth``: a mapping's keys judged as
keys (a secret-named one hides its value, a payload-named one omits it), a namedtuple's or a
dataclass's field names as a mapping's keys, a list of ``(name, value)`` pairs (a header list)
as pairs, an Enum member as its value, bytes decoded (cut first), and any other object as its
``repr``. Every text found goes through ``Scrubber.text``. Nothing here raises: what fails while
walked is a marker naming its type, never its repr.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from logtrace.format.lines import TOO_DEEP as TOO_DEEP
from logtrace.write.redact_keys import HIDDEN, PAYLOAD, REDACTED, SENSITIVE, key_text

PAYLOAD_OMITTED = "[payload omitted]"

# Text shorter than this holds nothing a rule finds (``pw=x``: a key of two letters, ``=`` and a
# character; the value rules' secrets are 8 characters or more): the hot paths pass it by.
SCANNED_FROM = 4

# Characters past ``max_string`` still searched for secrets before the cut.
SCAN_MARGIN = 1024

# The most items of containers (entries of dicts, items of lists) walked for one line, all
# its fields together: a dict of a million keys costs what one of this many does, and the
# rest is cut, said in the line (a line that big is cut at ``max_line`` anyway).
MAX_ITEMS = 10_000
# Where a dict's entries past MAX_ITEMS are said.
ITEMS_CUT_KEY = "…"

# Values copied as they are (the stamper's end line copies plain keys' values inline).
PLAIN_VALUES = (int, float, bool, type(None))
# Objects that carry no free text: orjson writes them as they are. Not an Enum member: orjson
# writes its value, which may be any text or structure.
_KEPT_AS_IS = (*PLAIN_VALUES, datetime.datetime, datetime.date, datetime.time, uuid.UUID)
# Keys orjson writes as they are (OPT_NON_STR_KEYS); any other is written as its text.
_KEYS_AS_IS = (str, *_KEPT_AS_IS)


class Walk:
    """The walk over a value's structure; :class:`~logtrace.write.redact.Scrubber` is one, and
    gives it ``text`` (a string scrubbed and cut), ``_flags`` (what a key is) and the limits."""

    __slots__ = ()

    redact: bool
    max_depth: int
    max_string: int

    def text(self, value: str, remember: bool = True) -> str:
        raise NotImplementedError

    def _flags(self, key: Any) -> int:
        raise NotImplementedError

    def value(self, value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
        """A copy of ``value`` safe to write (containers are copied, never modified).

        Never raises: a value that fails while being walked (its ``__iter__`` or ``items``
        raise, say) is written as a marker naming its type and the error. Not as its repr,
        which could show what key-based redaction would have hidden.

        ``budget``: how many more container items may be walked (``[MAX_ITEMS]`` when None),
        shared by the fields of one line; items past it are cut and said.
        """
        if budget is None:
            budget = [MAX_ITEMS]
        try:
            if isinstance(value, str):
                return self.text(value)
            if isinstance(value, _KEPT_AS_IS):
                if isinstance(value, datetime.datetime) and value.tzinfo is not None:
                    # orjson calls utcoffset() itself and crashes the process when it raises.
                    value.utcoffset()
                return value
            if depth >= self.max_depth:
                return TOO_DEEP
            if isinstance(value, enum.Enum):
                return self.value(value.value, depth + 1, budget)
            if isinstance(value, Mapping):
                return self._mapping(value.items(), depth, budget, len(value))
            names = getattr(value, "_fields", None) if isinstance(value, tuple) else None
            if isinstance(names, tuple):
                # A namedtuple: its field names are keys like any other.
                return self._mapping(zip(names, value, strict=False), depth, budget, len(value))
            if isinstance(value, (list, tuple, set, frozenset)):
                return self._items(value, depth, budget)
            if isinstance(value, (bytes, bytearray, memoryview)):
                return self._bytes(value)
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                return self.value(
                    {field.name: getattr(value, field.name) for field in dataclasses.fields(value)},
                    depth,
                    budget,
                )
        except Exception as exc:
            return f"<unwalkable {type(value).__name__}: {type(exc).__name__}>"
        try:
            return self.text(repr(value))
        except Exception:
            return f"<unrepresentable {type(value).__name__}>"

    def _mapping(
        self, items: Iterable[tuple[Any, Any]], depth: int, budget: list[int], size: int
    ) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for walked, (key, item) in enumerate(items):
            if budget[0] <= 0:
                out[ITEMS_CUT_KEY] = _cut(size - walked)
                break
            budget[0] -= 1
            if not isinstance(key, _KEYS_AS_IS):
                key = self._key(key)
            flags = self._flags(key_text(key))
            if self.redact and isinstance(key, str) and len(key) >= SCANNED_FROM:
                key = self.text(key)  # a key may be a secret itself: {"sk_live_…": 1}
            out[key] = (
                REDACTED
                if flags & SENSITIVE
                else PAYLOAD_OMITTED
                if flags & PAYLOAD
                else self.value(item, depth + 1, budget)
            )
        return out

    def _items(self, value: Any, depth: int, budget: list[int]) -> list[Any]:
        out = []
        for walked, item in enumerate(value):
            if budget[0] <= 0:
                out.append(_cut(len(value) - walked))
                break
            budget[0] -= 1
            out.append(self._item(item, depth + 1, budget))
        return out

    @staticmethod
    def _key(key: Any) -> Any:
        """A key as it will be written: an Enum member as its value (as orjson writes it),
        bytes as they are (judged as text), anything else orjson cannot write as a key as
        ``str()`` (as the renderer's fallback writes it): each then judged by that text."""
        for _ in range(16):
            if not isinstance(key, enum.Enum) or isinstance(key, _KEYS_AS_IS):
                break
            key = key.value
        if isinstance(key, (*_KEYS_AS_IS, bytes, bytearray)):
            return key
        try:
            return str(key)
        except Exception:
            return f"<unrepresentable {type(key).__name__}>"

    def _item(self, item: Any, depth: int, budget: list[int]) -> Any:
        """An item of a list: a ``(name, value)`` pair (a header list) hides a secret's value."""
        if (
            type(item) in (tuple, list)
            and len(item) == 2
            and isinstance(item[0], (str, bytes))
            and self._flags(key_text(item[0])) & HIDDEN
        ):
            hidden = REDACTED if self._flags(key_text(item[0])) & SENSITIVE else PAYLOAD_OMITTED
            return [self.value(item[0], depth + 1, budget), hidden]
        return self.value(item, depth, budget)

    def _bytes(self, value: bytes | bytearray | memoryview) -> str:
        """Bytes as text: cut before decoding, so a huge value costs what a small one does."""
        limit = self.max_string
        head = bytes(value[: limit + SCAN_MARGIN])
        text = self.text(head.decode("utf-8", "backslashreplace"))
        if len(head) == len(value):
            return text
        body = text if len(text) <= limit else text[:limit]
        return f"{body}…[truncated {len(value) - limit} bytes]"


def _cut(count: int) -> str:
    return f"[{count} more items cut: over {MAX_ITEMS} in this line]"
