"""The span kind: on start and end lines unless internal, read back as `kind` of `spans`, and
the stats of a client span kept apart from those of the server span it calls."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from _core_fixtures import read_lines, traced_dir

import logtrace
from logtrace import testing

NO_FILTERS = dict.fromkeys(
    ("since", "until", "service", "name", "status", "kind", "min_duration_ms")
)


def test_kind_is_on_start_and_end_lines_unless_internal(traced_dir: Path) -> None:
    """span(kind="client") writes kind on both lines, on failure too; an internal span (the
    default, or kind="internal") writes none."""
    with logtrace.span("GET /items/7", kind="client"):
        pass
    with pytest.raises(ValueError), logtrace.span("POST /orders", kind="server"):
        raise ValueError("boom")
    with logtrace.span("plain"), logtrace.span("explicit", kind="internal"):
        pass
    logtrace.flush()
    spans = [line for line in read_lines(traced_dir) if line.get("span") in ("start", "end")]
    kinds = {(line["name"], line["span"]): line.get("kind") for line in spans}
    # Short spans: their end lines alone (a start line, when written, carries the kind too).
    assert kinds == {
        ("GET /items/7", "end"): "client",
        ("POST /orders", "end"): "server",
        ("plain", "end"): None,
        ("explicit", "end"): None,
    }
    with testing.capture_events() as events, logtrace.span("GET /x", kind="client"):
        pass
    assert [(e["span"], e.get("kind")) for e in events] == [("start", "client"), ("end", "client")]
    failed = next(
        line for line in spans if line["name"] == "POST /orders" and line["span"] == "end"
    )
    assert (failed["status"], failed["error_type"], failed["level"]) == (
        "error",
        "ValueError",
        "error",
    )


def test_a_wrong_kind_is_internal_and_said_once_in_band(traced_dir: Path) -> None:
    """A kind OpenTelemetry does not name raises nothing: an internal span, one warning line."""
    with logtrace.span("x", kind="http"):
        pass
    logtrace.traced(kind="rpc")(lambda: None)()
    with logtrace.span("y", kind="SERVER"):
        pass
    logtrace.flush()
    lines = read_lines(traced_dir)
    ends = {line["name"]: line.get("kind") for line in lines if line.get("span") == "end"}
    assert ends["x"] is None and ends["y"] == "server"
    warnings = [line for line in lines if line.get("event") == "logtrace.misuse"]
    assert len(warnings) == 1 and "unknown span kind 'http'" in warnings[0]["reason"]


def test_traced_takes_a_kind(traced_dir: Path) -> None:
    """@traced(kind="consumer") writes the kind on each call's lines."""

    @logtrace.traced("handle message", kind="consumer")
    def handle() -> None:
        pass

    handle()
    logtrace.flush()
    ends = [line for line in read_lines(traced_dir) if line.get("span") == "end"]
    assert [(line["name"], line["kind"]) for line in ends] == [("handle message", "consumer")]


def test_an_attribute_named_kind_does_not_pass_for_the_kind(traced_dir: Path) -> None:
    """An attribute set as kind (span.set) is written as kind_, like every reserved name."""
    with logtrace.span("job") as job:
        job.set(kind="nightly")
    logtrace.flush()
    (end,) = [line for line in read_lines(traced_dir) if line.get("span") == "end"]
    assert "kind" not in end and end["kind_"] == "nightly"


def _client_and_server(directory: Path) -> None:
    """A frontend's client span and the backend's server span of the same name."""
    for service, kind in (("frontend", "client"), ("backend", "server"), ("backend", None)):
        logtrace.configure(service, directory=directory, environ={})
        with logtrace.span("GET /items/7", kind=kind):
            pass
        logtrace.shutdown()


@pytest.mark.parametrize("query", ["span_percentiles", "span_percentiles_no_attr"])
def test_stats_keep_a_client_span_apart_from_the_server_span_it_calls(
    tmp_path: Path, query: str
) -> None:
    """Spans of one name are counted per service and kind; `spans` has the kind, internal
    where the lines have none; $kind and $service filter."""
    _client_and_server(tmp_path)
    params = {
        **NO_FILTERS,
        **({"attr_key": None, "attr_value": None} if "no_attr" not in query else {}),
    }
    with logtrace.open(tmp_path) as reader:
        rows = reader.query(query, **params)
        assert sorted((r["name"], r["service"], r["kind"], r["count"]) for r in rows) == [
            ("GET /items/7", "backend", "internal", 1),
            ("GET /items/7", "backend", "server", 1),
            ("GET /items/7", "frontend", "client", 1),
        ]
        served = reader.query(query, **{**params, "kind": "server"})
        assert [(r["service"], r["kind"]) for r in served] == [("backend", "server")]
        kinds = reader.execute("SELECT kind FROM spans ORDER BY kind")
        assert [r["kind"] for r in kinds] == ["client", "internal", "server"]


def test_recent_traces_filter_by_kind_and_service(tmp_path: Path) -> None:
    """$kind keeps traces with a span of that kind, of $service when given too."""
    _client_and_server(tmp_path)
    params = {**NO_FILTERS, "attr_key": None, "attr_value": None, "limit": 10}
    with logtrace.open(tmp_path) as reader:
        assert len(reader.query("recent_traces", **{**params, "kind": "server"})) == 1
        both = {**params, "kind": "client", "service": "backend"}
        assert reader.query("recent_traces", **both) == []


def test_cli_stats_and_ls_filter_by_kind(tmp_path: Path) -> None:
    """`stats --kind server` and `ls --kind client --service frontend` keep what they name;
    a kind that is none of the five is a one-line error, exit 2."""
    from conftest import run_cli

    _client_and_server(tmp_path)
    stats = run_cli("stats", "--dir", str(tmp_path), "--kind", "server", "--json")
    assert stats.returncode == 0, stats.stderr
    spans = orjson.loads(stats.stdout)["spans"]
    assert [(r["service"], r["kind"]) for r in spans] == [("backend", "server")]
    listed = run_cli("ls", "--dir", str(tmp_path), "--kind", "client", "--service", "frontend")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 1
    wrong = run_cli("stats", "--dir", str(tmp_path), "--kind", "http")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
