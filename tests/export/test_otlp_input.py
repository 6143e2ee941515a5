"""OTLP JSON's values as ``logtrace import`` reads them: enums, ints, containers."""

from __future__ import annotations

import pytest

from logtrace.export.otlp_input import (
    KIND_NUMBERS,
    SEVERITY_NUMBERS,
    STATUS_NUMBERS,
    Malformed,
    as_array,
    as_object,
    attributes_of,
    enum_of,
    value_of,
)


def test_enums_read_as_numbers_or_names() -> None:
    """An enum is its number, its protobuf JSON name or a digit string; anything else is 0."""
    assert enum_of(2, KIND_NUMBERS) == enum_of("SPAN_KIND_SERVER", KIND_NUMBERS) == 2
    assert enum_of("STATUS_CODE_ERROR", STATUS_NUMBERS) == enum_of("2", STATUS_NUMBERS) == 2
    assert SEVERITY_NUMBERS["SEVERITY_NUMBER_ERROR"] == 17
    assert SEVERITY_NUMBERS["SEVERITY_NUMBER_FATAL4"] == 24
    assert [enum_of(v, SEVERITY_NUMBERS) for v in (3.5, "bad", True, None, [1])] == [0] * 5


def test_int_values_past_64_bits_are_kept_as_text() -> None:
    """An intValue orjson cannot write (past 64 bits) is its text; others are ints."""
    assert value_of({"intValue": "99999999999999999999999"}) == "99999999999999999999999"
    assert value_of({"intValue": str(2**64 - 1)}) == 2**64 - 1
    assert value_of({"intValue": "-9223372036854775808"}) == -(2**63)


@pytest.mark.parametrize("value", ["abc", {"values": []}, 7])
def test_containers_of_the_wrong_type_are_malformed(value: object) -> None:
    """An array that is not one, or an object that is not one, raises Malformed naming it."""
    with pytest.raises(Malformed, match="attributes is not an array"):
        attributes_of(value)
    if not isinstance(value, dict):
        with pytest.raises(Malformed, match="status is not an object"):
            as_object(value, "status")
    assert as_array(None, "events") == [] and as_object(None, "status") == {}
