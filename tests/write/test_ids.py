"""Trace and span ids: format, time prefix, uniqueness across seeds, threads and forks."""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given
from hypothesis import strategies as st

from logtrace.write import ids as _ids

HEX = set("0123456789abcdef")


def test_trace_id_is_32_lowercase_hex_with_time_prefix() -> None:
    """A trace id is 32 lowercase hex digits whose first 12 are its creation time in ms."""
    before = time.time_ns() // 1_000_000
    trace_id = _ids.new_trace_id()
    after = time.time_ns() // 1_000_000
    assert len(trace_id) == 32 and set(trace_id) <= HEX
    assert before <= _ids.trace_time_ms(trace_id) <= after


def test_span_id_is_16_lowercase_hex_never_zero() -> None:
    """Span ids are 16 lowercase hex digits and never the invalid all-zero id."""
    ids = [_ids.new_span_id() for _ in range(20_000)]
    assert all(len(i) == 16 and set(i) <= HEX and i != "0" * 16 for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_batch_of_span_ids_leaves_out_the_all_zero_id() -> None:
    """Random bytes that happen to hold 8 zero bytes at an id's place give no all-zero id."""
    raw = bytes(range(1, 9)) + bytes(8) + bytes(range(9, 17)) + bytes(8)
    assert _ids._span_id_batch(raw) == ["0102030405060708", "090a0b0c0d0e0f10"]
    assert _ids._span_id_batch(bytes(range(16))) == ["0001020304050607", "08090a0b0c0d0e0f"]


def test_low_64_bits_of_trace_ids_are_random() -> None:
    """The low 64 bits vary freely (OpenTelemetry's ratio sampler decides on them)."""
    lows = [int(_ids.new_trace_id()[16:], 16) for _ in range(4000)]
    assert len(set(lows)) == len(lows)
    below_half = sum(low < 2**63 for low in lows)
    assert 1600 < below_half < 2400


def test_ids_do_not_repeat_after_random_seed() -> None:
    """random.seed() cannot make ids repeat: they come from the OS."""
    random.seed(7)
    first = [_ids.new_span_id() for _ in range(1000)] + [_ids.new_trace_id() for _ in range(100)]
    random.seed(7)
    second = [_ids.new_span_id() for _ in range(1000)] + [_ids.new_trace_id() for _ in range(100)]
    assert not set(first) & set(second)


def test_ids_unique_across_threads() -> None:
    """Threads drawing from the same batch never receive the same id."""
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [_ids.new_span_id() for _ in range(5000)], range(8)))
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids)


def test_ids_unique_after_fork() -> None:
    """A forked child does not hand out the ids its parent will hand out next."""
    _ids.new_span_id()  # a batch is in memory when the fork happens
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        child = " ".join(_ids.new_span_id() for _ in range(200))
        child += " " + " ".join(_ids.new_trace_id() for _ in range(50))
        os.write(write_end, child.encode())
        os._exit(0)
    os.close(write_end)
    parent = {_ids.new_span_id() for _ in range(200)} | {_ids.new_trace_id() for _ in range(50)}
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    child_ids = set(b"".join(chunks).decode().split())
    assert len(child_ids) == 250
    assert not parent & child_ids


@given(st.text(max_size=40))
def test_validators_accept_only_lowercase_hex_of_the_right_length(value: str) -> None:
    """Id validation accepts exactly lowercase hex of the right length, not all zero."""
    expected_trace = len(value) == 32 and set(value) <= HEX and value != "0" * 32
    expected_span = len(value) == 16 and set(value) <= HEX and value != "0" * 16
    assert _ids.is_valid_trace_id(value) is expected_trace
    assert _ids.is_valid_span_id(value) is expected_span
