"""A sampled span's successful end line made of bytes: the dict's line, byte for byte."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from _core_fixtures import KEYS, VALUES, read_lines, traced_dir
from hypothesis import given, settings
from hypothesis import strategies as st

import logtrace
from logtrace.write import end_line
from logtrace.write.context import SpanContext
from logtrace.write.pipeline import state, writing_to
from logtrace.write.redact import Scrubber
from logtrace.write.render import limits
from logtrace.write.span import Span

__all__ = ["traced_dir"]

_NAMES = st.one_of(
    st.sampled_from(["request", "row", "a long name", "ünïcode name", "名前", 'q"uote\\ \x01\n']),
    st.sampled_from(["token abcdefgh12345678", "Bearer abcdefghijklmnop", "secret12345"]),
    st.sampled_from(["x" * 300, "lone \ud800", ""]),
    st.text(max_size=20),
)
# Ids a SpanContext made by hand may hold: hex, other letters and digits, what orjson escapes,
# what it refuses.
_ODD_IDS = st.sampled_from(
    [
        "0af7651916cd43dd8448eb211c80319c",
        "ABCDEF0123456789",
        "ünï",
        'x"y',
        "a\\b",
        "\n",
        "",
        "\ud800",
    ]
)
_PARENTS = st.one_of(
    st.sampled_from(["none", "local", "local2", "remote"]),
    st.tuples(st.just("made"), _ODD_IDS, _ODD_IDS, st.booleans()),  # trace id, span id, remote
)
# Keys named like logtrace's fields (renamed: ts_, pid_…, next to a ts_ of the user's), skipped
# ones, secrets, unicode, keys that are not str.
_KEYS = KEYS | st.sampled_from(
    [
        *("ts", "ts_", "pid", "duration_ms", "span", "event", "_logtrace_origin"),
        *("attributes_dropped", "a", "b", "ключ", "pa\u017f\u017fword", 'q"k', 1, None),
    ]
)
_VALUES = VALUES | st.sampled_from(
    [
        2**70,  # orjson refuses it: the dict's way
        -(2**63),
        float("nan"),
        float("inf"),
        -0.0,
        1e16,
        1e-05,
        b"by\xfftes",
        frozenset({1}),
        datetime.datetime(2026, 1, 2, 3, 4, 5),
        "x" * 300,
        "a clean string",
        "lone \ud800",
        "secret12345 here",
        {1: "not a str key"},
        ("a", "tuple"),
    ]
)
# Keys the scrubber leaves as they are (and a few it does not): such attributes are rendered
# without a copy when no value would change either.
_PLAIN_KEYS = st.sampled_from(["task_id", "n", "note", "a", "b", "ключ", 'q"k']) | st.sampled_from(
    ["password", "ts"]
)
_ATTRIBUTES = st.dictionaries(_PLAIN_KEYS, _VALUES, max_size=4) | st.dictionaries(
    _KEYS, _VALUES, max_size=5
)
_SCRUBBERS = st.sampled_from(
    [
        lambda: Scrubber(),
        lambda: Scrubber(patterns=[r"secret\d+"]),
        lambda: Scrubber(redactor=lambda key, value: "[r]" if key == "note" else value),
        lambda: Scrubber(redact=False),
        lambda: Scrubber(max_attributes=2),
        lambda: Scrubber(max_string=10),
    ]
)
# Whole µs of a duration: common ones, and ones far past what the byte path takes (negative,
# past 10**15, past 64 bits).
_MICROS = st.one_of(
    st.integers(0, 10**7),
    st.integers(-(10**4), 2**70),
    st.sampled_from([0, 1, 999, 1000, 1001, 10**15 - 1, 10**15, 2**53 + 1]),
)
_END_WALLS = st.one_of(
    st.integers(1_767_225_600_000_000_000, 1_767_225_600_010_000_000), st.integers(-(10**12), 2**62)
)
_SPANS = st.lists(
    st.tuples(_NAMES, _PARENTS, _ATTRIBUTES, _END_WALLS, _MICROS),
    min_size=1,
    max_size=6,
)


def _opened(name: str, parent: Any, attributes: dict[Any, Any]) -> Span:
    """A sampled span of ``parent`` ("none": a new trace's root), open, not current."""
    if parent == "none":
        made = logtrace.span(name)
    elif parent in ("local", "local2"):
        outer = logtrace.span("outer")
        outer.open()
        if parent == "local2":
            middle = logtrace.span("middle", parent=outer)
            middle.open()
            outer = middle
        made = logtrace.span(name, parent=outer)
    elif parent == "remote":
        made = logtrace.span(name, parent={"traceparent": f"00-{'ab' * 16}-00f067aa0ba902b7-01"})
    else:
        _, trace_id, span_id, remote = parent
        made = logtrace.span(name, parent=SpanContext(trace_id, span_id, True, remote=remote))
    made.open()
    # Set once open (as Span.set does): keys span() would not take too (1, None), and keys the
    # start line has not judged.
    made.attributes = attributes
    assert made.sampled
    return made


def _lines_of_both_ways(
    spans: list[tuple[str, Any, dict[Any, Any], int, int]],
    scrubber: Scrubber,
    service: str,
    new_pid: int | None,
    max_line: int,
) -> list[tuple[list[bytes], list[bytes]]]:
    """The end lines of ``spans`` joined from pieces and made through the dict, four times:
    again with the same pid (from what the first time left behind), then with a forked
    child's pid, if any."""
    stamper = state.stamper
    saved = stamper.scrubber, stamper.service, stamper.pid, limits.max_line
    stamper.scrubber, stamper.service, limits.max_line = scrubber, service, max_line
    made = []
    try:
        opened = [(_opened(n, p, a), wall, micros) for n, p, a, wall, micros in spans]
        for pid in (stamper.pid, stamper.pid, stamper.pid, new_pid or stamper.pid):
            stamper.pid = pid
            joined: list[bytes] = []
            with writing_to(joined.append):
                for span, wall, micros in opened:
                    end_line.emit_sampled_end(span, wall, micros)
            by_dict: list[bytes] = []
            with writing_to(by_dict.append):
                for span, wall, micros in opened:
                    end_line._emit_by_dict(span, wall, micros)
            made.append((joined, by_dict))
    finally:
        stamper.scrubber, stamper.service, stamper.pid, limits.max_line = saved
    return made


@settings(max_examples=300, deadline=None)
@given(
    spans=_SPANS,
    scrubber=_SCRUBBERS,
    service=st.sampled_from(["bench", 'we"ird\\svc', "ünïcode", "lone \ud800"]),
    new_pid=st.sampled_from([None, 4242]),
    max_line=st.sampled_from([256 << 10, 300]),
)
def test_end_lines_made_of_bytes_are_those_of_the_dict(
    spans: list[tuple[str, Any, dict[Any, Any], int, int]],
    scrubber: Any,
    service: str,
    new_pid: int | None,
    max_line: int,
) -> None:
    """A sampled span's end line joined from pieces is byte for byte what Stamper.end_line's
    dict and orjson make (the line emit_span_end writes): names that need escaping or
    scrubbing, parents none, local, remote and made by hand with odd ids, durations of any
    size, attributes of every kind (named like logtrace's fields, secrets, values orjson
    refuses), redactors and limits, services orjson refuses, lines over max_line; the second
    time from what the first left behind, then with a fork's new pid."""
    for joined, by_dict in _lines_of_both_ways(spans, scrubber(), service, new_pid, max_line):
        assert joined == by_dict
        for line in joined:
            orjson.loads(line)


# The common case, where the line is joined: plain keys (with a secret one now and then), values
# the copy keeps or scrubs (or orjson refuses), durations and parents the byte path takes.
_COMMON_SPANS = st.lists(
    st.tuples(
        _NAMES,
        st.sampled_from(["none", "local", "local2", "remote"]),
        st.dictionaries(
            _PLAIN_KEYS,
            st.none()
            | st.booleans()
            | st.integers(-(2**63), 2**64 - 1)
            | st.floats()
            | st.text(max_size=12)
            | st.sampled_from(["a clean string", "x" * 300, "Bearer abcdefghijklmnop", "secret12"])
            | st.sampled_from([[1, "secret12"], {"password": "p"}, b"bytes", ("a",), 2**64]),
            max_size=4,
        ),
        st.integers(1_767_225_600_000_000_000, 1_767_225_600_010_000_000),
        st.integers(0, 10**7) | st.integers(0, 10**15 - 1),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(
    spans=_COMMON_SPANS,
    scrubber=st.sampled_from(
        [
            lambda: Scrubber(),
            lambda: Scrubber(patterns=[r"secret\d+"]),
            lambda: Scrubber(redact=False),
            lambda: Scrubber(max_string=10),
        ]
    ),
    new_pid=st.sampled_from([None, 4242]),
)
def test_common_end_lines_made_of_bytes_are_those_of_the_dict(
    spans: list[tuple[str, Any, dict[Any, Any], int, int]], scrubber: Any, new_pid: int | None
) -> None:
    """The lines the byte path joins itself (most of them) are the dict's too: plain keys
    with numbers, None, short, long, clean and secret strings, found plain before or not."""
    for joined, by_dict in _lines_of_both_ways(spans, scrubber(), "bench", new_pid, 256 << 10):
        assert joined == by_dict


def test_a_plain_span_takes_the_byte_path() -> None:
    """The common span (a short name, plain attributes, a root or a local child) is joined
    from pieces, not made through the dict; its line is the dict's."""
    root = logtrace.span("request", a=1, b="x", c=2.5)
    root.open()
    child = logtrace.span("a longer name", parent=root, n=None, flag=True, text="a clean string")
    child.open()
    for span in (root, child, root, child):  # the second time, from what the first left
        line = end_line._line(span, span._start_wall + 5000, 5)
        assert line is not None
        written: list[bytes] = []
        with writing_to(written.append):
            end_line._emit_by_dict(span, span._start_wall + 5000, 5)
        assert written == [line[:-1]]  # _line's line ends with its newline


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_writes_its_own_pid_on_end_lines(traced_dir: Path) -> None:
    """The fields of an end line remembered in the parent (service, pid) are not reused by a
    forked child: its spans' end lines carry the child's pid."""
    with logtrace.span("work"):
        with logtrace.span("before the fork", a=1):
            pass
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                with logtrace.span("in the child", a=1):
                    pass
                logtrace.flush(timeout=10)
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        with logtrace.span("after the fork", a=1):
            pass
    logtrace.flush(timeout=10)
    assert os.waitstatus_to_exitcode(status) == 0
    pids = {line["name"]: line["pid"] for line in read_lines(traced_dir) if line.get("span")}
    assert pids == {
        "before the fork": os.getpid(),
        "in the child": pid,
        "after the fork": os.getpid(),
        "work": os.getpid(),
    }
