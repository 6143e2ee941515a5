"""The values of OTLP JSON as ``logtrace import`` reads them: ids, times, enums, attributes.

Both JSON forms are read: OTLP JSON (hex ids, enums as integers) and protobuf's own JSON mapping
(``MessageToJson``: base64 ids, enums as names such as ``"SPAN_KIND_SERVER"``). A container of
the wrong type (an object where an array belongs, a string where an object does) raises
``Malformed``: the importer skips the item that holds it, and says so.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..format.lines import TOO_DEEP
from .model import OTLP_KIND

# What a 64-bit intValue may be (int64; uint64 written by some producers): larger ones are kept
# as their text, as the writer keeps ints past 64 bits.
_INT_RANGE = range(-(2**63), 2**64)
# The deepest an array or kvlist value is read; deeper ones are the writer's marker for values
# nested too deep. Well past the writer's own limit (16), and inside orjson's (254 levels), so a
# line read is a line that can be written, with redaction off too.
DEEPEST = 64


class Malformed(ValueError):
    """An item of the wrong shape; the message says which part (``status is not an object``)."""


def as_object(value: Any, what: str) -> dict[str, Any]:
    """``value`` if it is an object; ``{}`` if missing; ``Malformed`` otherwise."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not an object")
    return value


def as_array(value: Any, what: str) -> list[Any]:
    """``value`` if it is an array; ``[]`` if missing; ``Malformed`` otherwise."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{what} is not an array")
    return value


def value_of(any_value: Any, depth: int = 0) -> Any:
    """The plain value of an OTLP ``AnyValue``; an ``intValue`` past 64 bits as its text; an
    array or kvlist nested deeper than ``DEEPEST`` as ``"[nested too deep]"``."""
    if not isinstance(any_value, dict):
        return None
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in any_value:
            return any_value[key]
    if "intValue" in any_value:
        text = any_value["intValue"]
        try:
            number = int(text)
        except (TypeError, ValueError):
            return text
        return number if number in _INT_RANGE else str(text)
    if "arrayValue" in any_value or "kvlistValue" in any_value:
        if depth >= DEEPEST:
            return TOO_DEEP
        if "arrayValue" in any_value:
            array = as_object(any_value["arrayValue"], "arrayValue")
            values = as_array(array.get("values"), "arrayValue.values")
            return [value_of(v, depth + 1) for v in values]
        kvlist = as_object(any_value["kvlistValue"], "kvlistValue")
        return attributes_of(kvlist.get("values"), depth + 1)
    if "bytesValue" in any_value:
        return any_value["bytesValue"]
    return None


def attributes_of(key_values: Any, depth: int = 0) -> dict[str, Any]:
    """OTLP's ``KeyValue`` list as a dict (``Malformed`` if it is not a list); ``depth``: how
    deep in a value it lies (``value_of``)."""
    out: dict[str, Any] = {}
    for item in as_array(key_values, "attributes"):
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = value_of(item.get("value"), depth)
    return out


def hex_id(value: Any, size: int) -> str | None:
    """An id as lowercase hex: given as hex (OTLP JSON) or base64 (protobuf JSON); None if
    empty, all zeros or not ``size`` bytes."""
    if not isinstance(value, str) or not value:
        return None
    if _is_hex(value, size):
        return only_hex_id(value, size)  # None when all zeros
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != size or not any(raw):
        return None
    return raw.hex()


def only_hex_id(value: Any, size: int) -> str | None:
    """An id given as hex only (logtrace's lines): ``size`` bytes of hex, lowercased; None if
    it is anything else, or all zeros."""
    if not isinstance(value, str) or not _is_hex(value, size) or not value.strip("0"):
        return None
    return value.lower()


def _is_hex(text: str, size: int) -> bool:
    return len(text) == 2 * size and all(c in "0123456789abcdef" for c in text.lower())


# OTLP's times are fixed64: nanoseconds from 1970 to 2554-07-21, the range logtrace's export
# writes (it puts a line's time outside it at the nearest end); a value past it is no OTLP time.
_LAST_NS = 2**64


def ns_of(value: Any) -> int:
    """A ``…UnixNano`` value as an int: 0 when it is missing or not a time (see ``time_of``)."""
    return time_of(value) or 0


def time_of(value: Any) -> int | None:
    """A ``…UnixNano`` value as an int; 0 when missing, None when it is not a number or not a
    time OTLP's fixed64 holds, 1970 to 2554 (a span of 10^30 ns stopped the whole import)."""
    if value is None:
        return 0
    try:
        ns = int(value)
    except (TypeError, ValueError):
        return None
    return ns if 0 <= ns < _LAST_NS else None


# Enum names of protobuf's JSON mapping, and their numbers.
KIND_NUMBERS = {f"SPAN_KIND_{name.upper()}": number for name, number in OTLP_KIND.items()}
STATUS_NUMBERS = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
_SEVERITY_FIRSTS = (
    ("TRACE", 1),
    ("DEBUG", 5),
    ("INFO", 9),
    ("WARN", 13),
    ("ERROR", 17),
    ("FATAL", 21),
)
SEVERITY_NUMBERS = {
    f"SEVERITY_NUMBER_{name}{'' if step == 0 else step + 1}": first + step
    for name, first in _SEVERITY_FIRSTS
    for step in range(4)
}


def enum_of(value: Any, names: dict[str, int]) -> int:
    """An enum given as its number or its name (``names``); 0 (unspecified) for anything else:
    an unknown value reads as a missing one."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value in names:
            return names[value]
        if value.isdigit():
            return int(value)
    return 0
