"""Trace and span ids: OS randomness drawn in batches, fresh after fork, never all-zero.

A trace id is 32 lowercase hex digits: 12 for the creation time in milliseconds since the epoch
(so a reader can go straight to the files of the right time), then 20 random ones. The low 64
bits are random because OpenTelemetry's ``TraceIdRatioBased`` sampler decides on them. A span id
is 16 random hex digits.

``os.urandom`` is the source, so ``random.seed()`` cannot repeat ids. Calling it per id costs
about a microsecond; instead one call fills a batch, and ids are handed out with ``next()`` on a
list iterator, which is atomic under the GIL, so threads never share an id. A fork copies the
iterators, so a fork hook replaces them in the child.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

_BATCH = 512
_ZERO_SPAN = "0" * 16

_span_ids: Iterator[str] = iter(())
_trace_tails: Iterator[str] = iter(())
_fork_hook_installed = False


def _refill_span_ids() -> Iterator[str]:
    global _span_ids
    _install_fork_hook()
    _span_ids = iter(_span_id_batch(os.urandom(8 * _BATCH)))
    return _span_ids


def _span_id_batch(raw: bytes) -> list[str]:
    """``raw`` as span ids, 8 bytes each in hex, the all-zero id left out.

    Cut by ``bytes.hex``'s separator and ``str.split``, in C: a comprehension slicing the hex
    cost about twice as much an id.
    """
    batch = raw.hex(" ", 8).split(" ")
    if _ZERO_SPAN in batch:
        batch = [s for s in batch if s != _ZERO_SPAN]
    return batch


def _refill_trace_tails() -> Iterator[str]:
    global _trace_tails
    _install_fork_hook()
    # 10 bytes each in hex, cut in C as span ids are.
    _trace_tails = iter(os.urandom(10 * _BATCH).hex(" ", 10).split(" "))
    return _trace_tails


def _forget_batches() -> None:
    global _span_ids, _trace_tails
    _span_ids = iter(())
    _trace_tails = iter(())


def _install_fork_hook() -> None:
    global _fork_hook_installed
    if not _fork_hook_installed:
        _fork_hook_installed = True
        os.register_at_fork(after_in_child=_forget_batches)


def new_span_id() -> str:
    """Return a fresh span id: 16 lowercase hex digits, never all zero."""
    try:
        return next(_span_ids)
    except StopIteration:
        return next(_refill_span_ids())


# The last millisecond a trace id was made in, and its 12 hex digits.
# No real millisecond is -2**80: the first id made always formats its own.
_prefix: tuple[int, str] = (-(1 << 80), "")


def new_trace_id() -> str:
    """Return a fresh trace id: 12 hex digits of milliseconds, then 20 random hex digits."""
    global _prefix
    try:
        tail = next(_trace_tails)
    except StopIteration:
        tail = next(_refill_trace_tails())
    ms = time.time_ns() // 1_000_000
    prefix = _prefix
    if prefix[0] != ms:
        prefix = _prefix = (ms, "%012x" % (ms & 0xFFFFFFFFFFFF))
    return prefix[1] + tail


def trace_time_ms(trace_id: str) -> int:
    """Return the creation time (ms since the epoch) encoded in a logtrace trace id."""
    return int(trace_id[:12], 16)


def is_valid_trace_id(value: str) -> bool:
    """Tell whether ``value`` is 32 lowercase hex digits and not all zero."""
    return len(value) == 32 and _is_lower_hex(value) and value != "0" * 32


def is_valid_span_id(value: str) -> bool:
    """Tell whether ``value`` is 16 lowercase hex digits and not all zero."""
    return len(value) == 16 and _is_lower_hex(value) and value != _ZERO_SPAN


_HEX = frozenset("0123456789abcdef")


def _is_lower_hex(value: str) -> bool:
    return _HEX.issuperset(value)
