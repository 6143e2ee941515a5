"""W3C trace context across boundaries: traceparent parsing, carriers, environments."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _core_fixtures import read_lines, traced_dir
from hypothesis import example, given
from hypothesis import strategies as st

import logtrace
from logtrace import testing
from logtrace.write.pipeline import emit
from logtrace.write.propagation import (
    extract_env,
    format_traceparent,
    parse_traceparent,
    parse_tracestate,
)

__all__ = ["traced_dir"]

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
VALID = f"00-{TRACE}-{SPAN}-01"

trace_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).filter(
    lambda s: s != "0" * 32
)
span_ids = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16).filter(
    lambda s: s != "0" * 16
)
flag_bytes = st.integers(0, 255).map(lambda n: f"{n:02x}")


@given(st.text())
@example("00-" + "0" * 32 + "-" + SPAN + "-01")
@example("\x00" * 55)
@example(VALID + "-")
def test_arbitrary_strings_never_raise(value: str) -> None:
    """parse_traceparent and extract accept any string and return a context or None."""
    parsed = parse_traceparent(value)
    assert parsed is None or parsed.remote
    with testing.capture_events():
        extracted = logtrace.extract({"traceparent": value, "tracestate": value, "baggage": value})
    assert (extracted is None) == (parsed is None)


@given(
    st.dictionaries(
        st.one_of(st.text(), st.binary()),
        st.one_of(st.text(), st.binary(), st.none(), st.integers(), st.lists(st.text())),
    )
)
def test_arbitrary_carriers_never_raise(carrier: dict[Any, Any]) -> None:
    """extract() never raises, whatever the carrier's keys and values are."""
    with testing.capture_events():
        logtrace.extract(carrier)


@given(trace_ids, span_ids, st.sampled_from(["00", "01"]))
def test_valid_headers_round_trip_exactly(trace_id: str, span_id: str, flags: str) -> None:
    """A valid version-00 header parses and formats back to the same string."""
    header = f"00-{trace_id}-{span_id}-{flags}"
    ctx = parse_traceparent(header)
    assert ctx is not None
    assert (ctx.trace_id, ctx.span_id, ctx.sampled) == (trace_id, span_id, flags == "01")
    assert format_traceparent(ctx) == header


@given(trace_ids, span_ids, flag_bytes)
def test_only_the_sampled_bit_of_the_flags_is_kept(trace_id: str, span_id: str, flags: str) -> None:
    """Any flags byte is accepted; sampled iff bit 0 is set; passed on as 00 or 01."""
    ctx = parse_traceparent(f"00-{trace_id}-{span_id}-{flags}")
    assert ctx is not None and ctx.sampled == bool(int(flags, 16) & 1)
    assert format_traceparent(ctx).endswith("-01" if ctx.sampled else "-00")


@given(
    st.integers(1, 254).map(lambda n: f"{n:02x}"),
    trace_ids,
    span_ids,
    flag_bytes,
    st.one_of(st.just(""), st.text(max_size=40).map(lambda s: "-" + s)),
)
def test_future_versions_are_read_as_the_spec_asks(
    version: str, trace_id: str, span_id: str, flags: str, tail: str
) -> None:
    """A version above 00 is parsed by its first four fields; anything after a '-' is ignored."""
    ctx = parse_traceparent(f"{version}-{trace_id}-{span_id}-{flags}{tail}")
    assert ctx is not None and (ctx.trace_id, ctx.span_id) == (trace_id, span_id)
    assert format_traceparent(ctx).startswith("00-")  # downgraded when passed on


@given(
    trace_ids,
    span_ids,
    st.text(min_size=1, max_size=5).filter(lambda s: s[0] != "-" and s.rstrip(" \t") != ""),
)
def test_future_versions_reject_a_tail_without_a_dash(
    trace_id: str, span_id: str, tail: str
) -> None:
    """A future-version header longer than 55 characters must continue with '-'."""
    assert parse_traceparent(f"cc-{trace_id}-{span_id}-01{tail}") is None


@pytest.mark.parametrize(
    "header",
    [
        VALID.upper(),
        f"00-{TRACE.upper()}-{SPAN}-01",
        f"00-{TRACE}-{SPAN.upper()}-01",
        f"00-{TRACE}-{SPAN}-0A",
        "0A" + VALID[2:],
        f"00-{'0' * 32}-{SPAN}-01",
        f"00-{TRACE}-{'0' * 16}-01",
        f"ff-{TRACE}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-01-extra",
        f"00-{TRACE}-{SPAN}-1",
        f"00-{TRACE[:-1]}-{SPAN}-01",
        f"00-{TRACE}a-{SPAN}-01",
        f"00-{TRACE}-{SPAN[:-1]}-01",
        f"00-{TRACE}-{SPAN}0-01",
        f"0-{TRACE}-{SPAN}-01",
        f"00_{TRACE}_{SPAN}_01",
        f"00-{TRACE[:-1]}g-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-01,00-{TRACE}-{SPAN}-01",
        "",
    ],
)
def test_invalid_headers_are_rejected(header: str) -> None:
    """Uppercase, all-zero ids, version ff, wrong lengths and separators are all invalid."""
    assert parse_traceparent(header) is None


def test_malformed_header_starts_a_new_trace_with_a_warning() -> None:
    """A span whose parent carrier is malformed starts a new trace and a warning names the value."""
    bad = "00-" + "z" * 200
    with testing.capture_events() as events, logtrace.span("work", parent={"traceparent": bad}):
        pass
    warning, start, _ = events
    assert warning["event"] == "logtrace.bad_traceparent" and warning["level"] == "warning"
    assert warning["logger"] == "logtrace"
    assert warning["value"] == bad[:64] + "…"
    assert start["parent_id"] is None and start["trace_id"] != TRACE


def test_malformed_header_inside_a_span_starts_a_new_trace_still() -> None:
    """Inside an open span too, a malformed carrier starts a new trace, as its warning says
    (it used to continue the current span); a carrier without a traceparent continues it."""
    with testing.capture_events() as events, logtrace.span("request") as outer:
        with logtrace.span("bad", parent={"traceparent": "garbage"}) as bad:
            pass
        with logtrace.span("none", parent={"tracestate": "vendor=1"}) as none:
            pass
    warning = next(e for e in events if e["event"] == "logtrace.bad_traceparent")
    assert warning["action"] == "started a new trace"
    assert bad.trace_id != outer.trace_id and bad.parent_id is None
    assert (none.trace_id, none.parent_id) == (outer.trace_id, outer.span_id)
    ends = {e["name"]: e for e in events if e.get("duration_ms") is not None}
    assert ends["bad"]["trace_id"] == bad.trace_id and ends["bad"].get("parent_id") is None


def test_a_traceparent_value_itself_is_a_parent() -> None:
    """span(parent="00-…-01") continues that context; a malformed string starts a new trace
    with the warning (it was ignored without one)."""
    with testing.capture_events() as events:
        with logtrace.span("handle", parent=VALID) as joined:
            pass
        with logtrace.span("bad", parent="00-nope") as bad:
            pass
    assert (joined.trace_id, joined.parent_id) == (TRACE, SPAN)
    assert bad.trace_id != TRACE and bad.parent_id is None
    assert [e["value"] for e in events if e["event"] == "logtrace.bad_traceparent"] == ["00-nope"]


def test_header_given_twice_is_malformed() -> None:
    """Two traceparent values in one carrier (a repeated header) are rejected with a warning."""
    with testing.capture_events() as events:
        assert logtrace.extract({"traceparent": [VALID, VALID.replace("-01", "-00")]}) is None
    assert [e["event"] for e in events] == ["logtrace.bad_traceparent"]


def test_keys_match_case_insensitively_and_bytes_are_read() -> None:
    """Traceparent, TRACEPARENT and byte keys and values are all found."""
    for carrier in (
        {"Traceparent": VALID},
        {"TRACEPARENT": VALID},
        {b"traceparent": VALID.encode()},
        {"traceparent": [VALID]},
    ):
        ctx = logtrace.extract(carrier)
        assert ctx is not None and (ctx.trace_id, ctx.span_id) == (TRACE, SPAN), carrier


def test_span_continues_an_extracted_context() -> None:
    """span(name, parent=carrier) joins the carrier's trace as a child of its span."""
    with testing.capture_events() as events:
        with logtrace.span("handle", parent={"traceparent": VALID}) as span:
            assert logtrace.current_trace_id() == TRACE
    assert span.trace_id == TRACE and span.parent_id == SPAN
    assert events[0]["parent_id"] == SPAN and events[0]["trace_id"] == TRACE


def test_inject_writes_the_current_span_and_passes_state_through() -> None:
    """inject() writes the current span's traceparent; tracestate and baggage travel unchanged."""
    incoming = {
        "traceparent": VALID,
        "tracestate": "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7",
        "baggage": "user=42",
    }
    with testing.capture_events(), logtrace.span("a", parent=incoming) as span:
        out = logtrace.inject({})
    assert out == {
        "traceparent": f"00-{TRACE}-{span.span_id}-01",
        "tracestate": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
        "baggage": "user=42",
    }


def test_inject_outside_any_span_writes_nothing() -> None:
    """Outside a span, inject() leaves the carrier as it was."""
    assert logtrace.inject({"x": "1"}) == {"x": "1"}


def test_sampled_flag_crosses_the_boundary() -> None:
    """An unsampled parent: child spans write no lines, log lines carry 00, inject sends -00."""
    unsampled = {"traceparent": VALID[:-2] + "00"}
    with testing.capture_events() as events, logtrace.span("child", parent=unsampled) as span:
        emit("info", {"event": "line"})  # a log line, as structlog or logging would make it
        header = logtrace.inject({})["traceparent"]
    assert header == f"00-{TRACE}-{span.span_id}-00"
    assert [e.get("span") for e in events] == [None]
    assert events[0]["trace_flags"] == "00" and events[0]["trace_id"] == TRACE


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("congo=t61rcWkgMzE", "congo=t61rcWkgMzE"),
        (" a=1 ,, b=2 ", "a=1,b=2"),
        ("tenant@system=x", "tenant@system=x"),
        ("a=1,a=2", None),
        ("A=1", None),
        ("a=", None),
        ("a=b,c", None),
        ("a=b=c", None),
        (",".join(f"k{i}=v" for i in range(33)), None),
        ("", None),
    ],
)
def test_tracestate_is_validated(header: str, expected: str | None) -> None:
    """tracestate members follow the spec's grammar; invalid lists are dropped, not the trace."""
    assert parse_tracestate(header) == expected
    ctx = logtrace.extract({"traceparent": VALID, "tracestate": header})
    assert ctx is not None and ctx.tracestate == expected


def test_long_tracestate_is_truncated_by_whole_members() -> None:
    """Past 512 characters, members over 128 characters go first, then members from the end."""
    long_member = "big=" + "x" * 200
    members = [f"k{i:02d}=" + "v" * 40 for i in range(20)]
    out = parse_tracestate(",".join([members[0], long_member, *members[1:]]))
    assert out is not None and len(out) <= 512 and "big=" not in out
    assert out.split(",") == members[: len(out.split(","))]


def test_child_env_carries_and_clears_the_context() -> None:
    """child_env() sets TRACEPARENT/TRACESTATE/BAGGAGE in a span and removes stale ones outside."""
    stale = {"TRACEPARENT": VALID, "TRACESTATE": "a=1", "BAGGAGE": "b=2", "PATH": "/bin"}
    assert logtrace.child_env(stale) == {"PATH": "/bin"}
    incoming = {"traceparent": VALID, "tracestate": "a=1", "baggage": "b=2"}
    with testing.capture_events(), logtrace.span("a", parent=incoming) as span:
        env = logtrace.child_env({"PATH": "/bin"})
    assert env["TRACEPARENT"] == f"00-{TRACE}-{span.span_id}-01"
    assert (env["TRACESTATE"], env["BAGGAGE"], env["PATH"]) == ("a=1", "b=2", "/bin")
    ctx = extract_env(env)
    assert ctx is not None and ctx.span_id == span.span_id and ctx.baggage == "b=2"


def test_child_process_continues_the_trace(traced_dir: Path, tmp_path: Path) -> None:
    """A child started with child_env() and configure() writes its first span into our trace."""
    code = textwrap.dedent(
        f"""
        import logtrace
        logtrace.configure(service="child", directory={str(traced_dir)!r})
        with logtrace.span("in child"):
            pass
        logtrace.shutdown()
        """
    )
    with logtrace.span("parent") as parent:
        subprocess.run(
            [sys.executable, "-c", code], env=logtrace.child_env(), check=True, timeout=60
        )
    logtrace.flush()
    child = [e for e in read_lines(traced_dir) if e.get("name") == "in child"]
    # A short span: its end line alone (it ended before the child's first flush).
    assert [e["span"] for e in child] == ["end"] and child[0]["service"] == "child"
    assert child[0]["trace_id"] == parent.trace_id and child[0]["parent_id"] == parent.span_id


def test_unsampled_child_process_writes_no_span_but_logs(traced_dir: Path) -> None:
    """A child started inside an unsampled trace writes no span lines; its logs carry flags 00."""
    code = textwrap.dedent(
        f"""
        import logging, logtrace
        logtrace.configure(service="child", directory={str(traced_dir)!r})
        with logtrace.span("in child"):
            logging.getLogger("child").info("hello")
        logtrace.shutdown()
        """
    )
    env = logtrace.child_env(context=parse_traceparent(VALID[:-2] + "00"))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    lines = [e for e in read_lines(traced_dir) if e["service"] == "child"]
    assert [e["event"] for e in lines if e["logger"] != "logtrace"] == ["hello"]
    hello = next(e for e in lines if e["event"] == "hello")
    assert hello["trace_id"] == TRACE and hello["trace_flags"] == "00"
    assert not any(e.get("span") for e in lines)


def test_an_empty_traceparent_variable_is_no_parent() -> None:
    """TRACEPARENT set but empty (``TRACEPARENT= cmd``): no parent and no bad_traceparent
    warning, as OpenTelemetry reads it (it was reported as malformed)."""
    with testing.capture_events() as events:
        assert extract_env({"TRACEPARENT": ""}) is None
        assert extract_env({"TRACEPARENT": "  "}) is None
    assert events == []
