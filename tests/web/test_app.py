"""The JSON endpoints of ``logtrace ui`` (logtrace/web/app.py, data.py) over real files."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from _web_fixtures import demo_dir, demo_trace, server
from _web_helpers import write_big_trace

import logtrace
from logtrace.web.server import background


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    """An HTTP client of a real server over the demo's files."""
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


@contextlib.contextmanager
def serving(directory: Path, **options: bool) -> Iterator[httpx.Client]:
    with background(str(directory), **options) as url, httpx.Client(base_url=url) as client:
        yield client


def test_traces_lists_the_demo_trace(client: httpx.Client, demo_trace: str) -> None:
    """/api/traces lists the newest traces with the columns of the traces view."""
    answer = client.get("/api/traces").json()
    assert [t["trace_id"] for t in answer["traces"]] == [demo_trace]
    trace = answer["traces"][0]
    assert trace["root_name"] == "coordinate tasks" and trace["status"] == "error"
    assert trace["start_ts"].endswith("Z") and answer["files"] >= 4


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ({"status": "error"}, True),
        ({"status": "ok"}, False),
        ({"service": "worker-1"}, True),
        ({"service": "nobody"}, False),
        ({"name": "run subprocess"}, True),
        ({"min_duration": "1h"}, False),
        ({"attr": "task=2"}, True),
        ({"attr": "task=999"}, False),
        ({"text": "CHECKSUM computed"}, True),
        ({"text": "no such words"}, False),
        ({"since": "1d"}, True),
        ({"until": "2000-01-01T00:00"}, False),
        ({"kind": "internal"}, True),
        ({"kind": "server"}, False),
        ({"kind": "internal", "text": "CHECKSUM computed"}, True),
        ({"kind": "server", "text": "CHECKSUM computed"}, False),
        ({"kind": "server", "service": "worker-1", "attr": "task=2"}, False),
    ],
)
def test_traces_filters_as_ls(
    client: httpx.Client, demo_trace: str, query: dict[str, str], found: bool
) -> None:
    """The filters of `logtrace ls` (and log text) narrow the list as ls does."""
    traces = client.get("/api/traces", params=query).json()["traces"]
    assert [t["trace_id"] for t in traces] == ([demo_trace] if found else [])


def test_traces_id_prefix_search(client: httpx.Client, demo_trace: str) -> None:
    """q= finds a trace by the first digits of its id, and nothing for other digits."""
    assert client.get("/api/traces", params={"q": demo_trace[:6]}).json()["traces"]
    other = "f" if demo_trace[12] != "f" else "e"
    wrong = demo_trace[:12] + other
    assert client.get("/api/traces", params={"q": wrong}).json()["traces"] == []


def test_traces_bad_filter_is_one_line_400(client: httpx.Client) -> None:
    """A filter that does not parse is a 400 with the CLI's one-line message."""
    for query in ({"since": "yesterday-ish"}, {"q": "not-hex"}, {"limit": "many"}, {"kind": "x"}):
        response = client.get("/api/traces", params=query)
        assert response.status_code == 400
        assert "\n" not in response.json()["error"]


def test_traces_unknown_status_is_400_naming_the_values(client: httpx.Client) -> None:
    """``status=bogus`` is a 400 naming ok, error and unfinished, not an empty list."""
    response = client.get("/api/traces", params={"status": "bogus"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "'bogus'" in error and "ok, error, unfinished" in error and "\n" not in error


def test_compare_says_what_is_wrong_with_a_and_b(client: httpx.Client) -> None:
    """Given a and b that are not trace ids, /api/compare names them; given neither, asks."""
    both = client.get("/api/compare", params={"a": "zz", "b": "yy"})
    assert both.status_code == 400
    assert both.json()["error"].startswith("a='zz' and b='yy': not a trace id")
    one = client.get("/api/compare", params={"a": "0123456789abcdef", "b": "yy"})
    assert one.status_code == 400 and one.json()["error"].startswith("b='yy': not a trace id")
    neither = client.get("/api/compare")
    assert neither.status_code == 400 and neither.json()["error"].startswith("give a and b")


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"by": "versoin", "a": "1", "b": "2"}, "no traces in A (versoin=1) or B (versoin=2): "),
        ({"a_since": "1d", "b_since": "2d", "threshold": "50"}, "/api/compare: unknown "),
        ({"a_since": "yesterday", "b_since": "1d"}, "a_since 'yesterday': give a duration"),
        ({"a_since": "1d", "b_until": "then"}, "b_until 'then': give a duration"),
        ({"a_since": "1d", "b_since": "2d", "by": "task"}, "give by=KEY with a and b"),
        ({"a_since": "1d", "a": "0123456789abcdef"}, "give by=KEY with a and b"),
    ],
)
def test_compare_refuses_what_logtrace_compare_refuses(
    client: httpx.Client, query: dict[str, str], error: str
) -> None:
    """An attribute no trace has (both sides empty: the CLI exits 2), a parameter compare does
    not take, a time that is none (named as given), by and windows together: a one-line 400,
    not 200 with empty sides or the parameter ignored."""
    response = client.get("/api/compare", params=query)
    assert response.status_code == 400
    message = response.json()["error"]
    assert message.startswith(error) and "\n" not in message, message
    assert client.get("/api/compare", params={"by": "task", "a": "1", "b": "2"}).status_code == 200


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("threshold_pct", "1e30", "threshold_pct 1e+30: give a number from 0 to 10000"),
        ("threshold_pct", "-5", "threshold_pct -5: give a number from 0 to 10000"),
        ("threshold_pct", "much", "threshold_pct 'much': give a number from 0 to 10000"),
        ("alpha", "2", "alpha 2: give a number between 0 and 1"),
        ("min_samples", "-1", "min_samples -1: give a whole number from 0 to "),
    ],
)
def test_compare_options_are_checked_as_the_python_api_checks_them(
    client: httpx.Client, option: str, value: str, error: str
) -> None:
    """threshold_pct, alpha and min_samples go to reader.compare, whose checks refuse them
    in one line, as --threshold 1e30 is refused (they were not taken at all); in range, the
    comparison uses them."""
    windows = {"a_since": "1d", "b_since": "2d"}
    response = client.get("/api/compare", params={**windows, option: value})
    assert response.status_code == 400
    assert response.json()["error"].startswith(error), response.json()
    taken = client.get("/api/compare", params={**windows, "threshold_pct": "50", "alpha": "0.01"})
    assert (taken.json()["result"]["threshold_pct"], taken.json()["result"]["alpha"]) == (50, 0.01)


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("alpha", "2", "alpha 2: give a number between 0 and 1"),
        ("alpha", "nan", "alpha nan: give a number between 0 and 1"),
        ("threshold_pct", "1e30", "threshold_pct 1e+30: give a number from 0 to 10000"),
        ("min_samples", "lots", "min_samples 'lots': give a whole number from 0 to "),
    ],
)
def test_compare_of_two_traces_checks_its_options(
    client: httpx.Client, demo_trace: str, option: str, value: str, error: str
) -> None:
    """Two trace ids with alpha=2 (or any option out of its range) are a 400, as `logtrace
    compare A B --alpha 2` exits 2 (the options were not looked at: 200); in range, they are
    taken and the traces compared."""
    ids = {"a": demo_trace, "b": demo_trace}
    response = client.get("/api/compare", params={**ids, option: value})
    assert response.status_code == 400
    assert response.json()["error"].startswith(error), response.json()
    assert client.get("/api/compare", params={**ids, "alpha": "0.01"}).status_code == 200


@pytest.mark.parametrize(
    "value",
    ["01a2", "0" * 33, "01a2 339e", "0x01a2339e", "gggggggg", "\u0661" * 16, "01a2\t339e"],
)
def test_compare_refuses_what_is_no_trace_id(client: httpx.Client, value: str) -> None:
    """Too short, too long, a space inside, 0x, not hex, other digits: a 400 naming it."""
    response = client.get("/api/compare", params={"a": value, "b": "0123456789abcdef"})
    assert response.status_code == 400
    message = response.json()["error"]
    assert message == f"a={value!r}: not a trace id (give 8 to 32 hex digits)", message


def test_compare_reads_trace_ids_as_show_does(client: httpx.Client, demo_trace: str) -> None:
    """Upper case and spaces around are the same trace id, given back as show gives it: in
    lower case (a and b were echoed as typed)."""
    given = {"a": demo_trace.upper(), "b": f" {demo_trace} "}
    answer = client.get("/api/compare", params=given).json()
    assert (answer["mode"], answer["a"], answer["b"]) == ("traces", demo_trace, demo_trace)


@pytest.mark.parametrize(
    ("path", "query", "error"),
    [
        (
            "/api/compare",
            {"a_since": "soon", "b_since": "1d"},
            "a_since 'soon': give a duration (30s, 15m, 1h, 2d, 1w) or a UTC time"
            " (2026-11-24T13:00)",
        ),
        (
            "/api/operations/task/timeseries",
            {"since": "soon"},
            "since 'soon': give a duration (30s, 15m, 1h, 2d, 1w) or a UTC time (2026-11-24T13:00)",
        ),
        (
            "/api/operations/task/timeseries",
            {"until": "1e30h"},
            "until '1e30h': give a duration (30s, 15m, 1h, 2d, 1w) or a UTC time"
            " (2026-11-24T13:00)",
        ),
        (
            "/api/operations/task/timeseries",
            {"every": "0"},
            "every '0': give a bucket width from 1us to 10000w (30s, 5m, 1h; a bare number is"
            " seconds)",
        ),
        (
            "/api/operations/task/timeseries",
            {"every": "nan"},
            "every 'nan': give a bucket width from 1us to 10000w (30s, 5m, 1h; a bare number is"
            " seconds)",
        ),
    ],
)
def test_analytics_times_say_what_a_query_string_can_give(
    client: httpx.Client, path: str, query: dict[str, str], error: str
) -> None:
    """A time or bucket width that does not parse is refused in the CLI's words, named as
    the parameter: they said "give a datetime (naive: UTC), a timedelta", which no query
    string holds, and "a number of ms" for every, where a bare number is seconds."""
    response = client.get(path, params=query)
    assert response.status_code == 400
    assert response.json()["error"] == error


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/traces", {"since": "0001-01-01T00:00+05:00"}),
        ("/api/operations", {"until": "9999-12-31T23:00-05:00"}),
        ("/api/operations/task/histogram", {"since": "0001-01-01T00:00+05:00"}),
        ("/api/operations/task/timeseries", {"since": "0001-01-01T00:00+05:00"}),
        ("/api/compare", {"a_since": "0001-01-01T00:00+05:00", "b_since": "1d"}),
    ],
)
def test_a_zoned_time_past_the_calendar_is_a_400(
    client: httpx.Client, path: str, query: dict[str, str]
) -> None:
    """A time whose UTC falls outside years 1 to 9999 is a one-line 400 naming it (/api/traces,
    /api/operations and the histogram answered 500 Internal Server Error: an OverflowError)."""
    response = client.get(path, params=query)
    assert response.status_code == 400
    ((name, value),) = [(k, v) for k, v in query.items() if k != "b_since"]
    message = response.json()["error"]
    assert f"{name} {value!r}: give a duration (30s" in message and "\n" not in message, message


def test_timeseries_bare_every_is_seconds(client: httpx.Client) -> None:
    """every=30 is 30 s buckets, as stats --every 30, whatever the width's error says."""
    buckets = client.get("/api/operations/task/timeseries", params={"every": "30"}).json()
    ms = [b["bucket_ms"] for b in buckets["buckets"]]
    assert ms and all(m % 30_000 == 0 for m in ms) and buckets["every"] == "30"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api", {"x": "1"}),
        ("/api/traces", {"stauts": "error"}),
        ("/api/trace/0123456789abcdef", {"full": "1"}),
        ("/api/trace/0123456789abcdef/critical-path", {"full": "1"}),
        ("/api/operations", {"limit": "5"}),
        ("/api/operations/task/histogram", {"status": "error"}),
        ("/api/operations/task/timeseries", {"name": "other"}),
        ("/api/live", {"tarce": "01a2339e"}),
    ],
)
def test_a_parameter_an_endpoint_does_not_take_is_a_400_naming_it(
    client: httpx.Client, path: str, query: dict[str, str]
) -> None:
    """As the CLI refuses an unknown option, each endpoint refuses a parameter it does not
    take in one line naming it (a misspelt filter answered as if none were given; the
    histogram took status and min_duration and left them out)."""
    with client.stream("GET", path, params=query) as response:  # the live stream never ends
        assert response.status_code == 400
        response.read()
    (name,) = query
    message = response.json()["error"]
    assert message.startswith(f"{path}: unknown parameter {name!r}; ") and "\n" not in message


@pytest.mark.parametrize("limit", ["0", "-5", "2.5", str(2**63)])
def test_traces_limit_is_checked_as_ls_checks_it(client: httpx.Client, limit: str) -> None:
    """A limit below 1 (ls -n 0 is refused) or no whole number is a one-line 400 (it was
    taken as 1); a limit past the list's most is its most."""
    response = client.get("/api/traces", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"limit {limit}: give a whole number from 1 ")
    assert client.get("/api/traces", params={"limit": "5000"}).status_code == 200


def test_live_refuses_a_trace_that_is_no_trace_id(client: httpx.Client) -> None:
    """/api/live?trace=zz is a one-line 400, as logtrace tail --trace zz exits 2 (it streamed
    nothing, forever)."""
    with client.stream("GET", "/api/live", params={"trace": "zz"}) as response:
        assert response.status_code == 400
        response.read()
    assert response.json()["error"].startswith("malformed trace id 'zz'")


def test_traces_widen_window_until_the_limit_is_met(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Newest first from the newest files, widening the window: equal to a search of all
    (DuckDB's way; the scan of the files' ends, which would answer first, left out)."""
    import orjson

    from logtrace.web import data

    monkeypatch.setattr(data, "_scanned", lambda *args: None)

    old_day = tmp_path / "2026-01-01"
    old_day.mkdir()
    old = {
        "ts": "2026-01-01T10:00:00.000000Z",
        "level": "info",
        "event": "old",
        "logger": "x",
        "service": "s",
        "pid": 1,
        "trace_id": "0" * 31 + "1",
        "span_id": "a" * 16,
        "span": "start",
        "name": "old",
    }
    end = {
        **old,
        "span": "end",
        "duration_ms": 1.0,
        "status": "ok",
        "ts": "2026-01-01T10:00:00.001000Z",
    }
    (old_day / "s_h_1_20260101T100000.000Z.jsonl").write_bytes(
        orjson.dumps(old) + b"\n" + orjson.dumps(end) + b"\n"
    )
    recent = write_big_trace(tmp_path, batches=1, items=1)
    with serving(tmp_path) as client:
        one = client.get("/api/traces", params={"limit": "1"}).json()
        both = client.get("/api/traces", params={"limit": "5"}).json()
    assert [t["trace_id"] for t in one["traces"]] == [recent]
    assert one["searched_since"] is not None
    assert [t["trace_id"] for t in both["traces"]] == [recent, "0" * 31 + "1"]
    with logtrace.open(tmp_path) as reader:
        everything = reader.query("recent_traces_no_attr", limit=5)
    assert [t["trace_id"] for t in everything] == [t["trace_id"] for t in both["traces"]]


def test_trace_has_spans_in_tree_order_and_logs(client: httpx.Client, demo_trace: str) -> None:
    """/api/trace/{id}: the summary, spans in tree order with depth, logs with offsets."""
    answer = client.get(f"/api/trace/{demo_trace[:12]}").json()
    assert answer["trace"]["trace_id"] == demo_trace
    spans = answer["spans"]
    assert spans[0]["depth"] == 0 and spans[0]["name"] == "coordinate tasks"
    failed = [s for s in spans if s["status"] == "error"]
    assert failed and all(s["error_message"] for s in failed)
    assert all(log["offset_ms"] is not None and log["offset_ms"] >= 0 for log in answer["logs"])
    assert answer["files"] and answer["directory"]


def test_trace_json_is_compact(client: httpx.Client, demo_trace: str) -> None:
    """Spans and logs carry no nulls and no trace id; their file is an index into files."""
    answer = client.get(f"/api/trace/{demo_trace}").json()
    rows = answer["spans"] + answer["logs"]
    assert all(None not in row.values() and "trace_id" not in row for row in rows)
    # A demo worker's tidy thread may have compressed a worker that ended before it started.
    assert all(answer["files"][row["file"]].endswith((".jsonl", ".jsonl.zst")) for row in rows)
    assert any("error_message" in s for s in answer["spans"])


def test_answers_follow_the_files(tmp_path: Path) -> None:
    """The one Reader and the answers kept across requests see a trace written between two
    requests (list and trace), and a trace's spans grow as its lines are written."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    first = write_big_trace(tmp_path, 1, 1, seed=1, start=now - timedelta(minutes=5))
    with serving(tmp_path) as client:
        listed = client.get("/api/traces").json()["traces"]
        assert [t["trace_id"] for t in listed] == [first]
        assert client.get("/api/traces").json()["traces"] == listed  # asked again: the same
        spans = client.get(f"/api/trace/{first}").json()["spans"]
        assert len(spans) == 3
        second = write_big_trace(tmp_path, 2, 2, seed=2, start=now - timedelta(minutes=4))
        listed = client.get("/api/traces").json()["traces"]
        assert {t["trace_id"] for t in listed} == {first, second}
        assert len(client.get(f"/api/trace/{second}").json()["spans"]) == 7
        (path,) = (p for p in tmp_path.rglob("*.jsonl") if first not in p.read_text())
        lines = path.read_bytes()
        path.write_bytes(lines.replace(second.encode(), first.encode()))  # its spans move
        assert len(client.get(f"/api/trace/{first}").json()["spans"]) == 3 + 7
        assert client.get(f"/api/trace/{second}").status_code == 404


def test_trace_errors(client: httpx.Client) -> None:
    """A malformed id is 400, an unknown one 404, each with one line."""
    assert client.get("/api/trace/zz").status_code == 400
    missing = client.get("/api/trace/" + "0" * 32)
    assert missing.status_code == 404 and "no trace" in missing.json()["error"]


def test_an_unknown_endpoint_or_method_is_one_line_of_json(client: httpx.Client) -> None:
    """Under /api, a path no endpoint serves is a 404 and a wrong method a 405, each
    {"error": one line} saying where the list is, as the endpoints' own errors; a page path
    that does not exist stays Starlette's plain text."""
    missing = client.get("/api/tracez")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no endpoint /api/tracez: GET /api lists them"}
    long = client.get("/api/" + "x" * 5000)
    assert long.status_code == 404 and len(long.json()["error"]) < 300
    wrong = client.post("/api/traces")
    assert wrong.status_code == 405 and "allow" in wrong.headers
    assert wrong.json() == {"error": "POST is not served at /api/traces: see GET /api"}
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/plain")


def test_operations_as_stats(client: httpx.Client, demo_dir: Path) -> None:
    """/api/operations: per span name the rows of `logtrace stats`."""
    rows = client.get("/api/operations").json()["operations"]
    with logtrace.open(demo_dir) as reader:
        expected = reader.query(
            "span_percentiles_no_attr",
            since=None,
            until=None,
            service=None,
            name=None,
            status=None,
            min_duration_ms=None,
        )
    assert [(r["name"], r["count"], r["errors"]) for r in rows] == [
        (r["name"], r["count"], r["errors"]) for r in expected
    ]
    only = client.get("/api/operations", params={"service": "coordinator"}).json()
    assert {r["name"] for r in only["operations"]} == {"coordinate tasks", "task"}


def test_histogram_counts_every_finished_span(client: httpx.Client) -> None:
    """/api/operations/{name}/histogram: buckets whose counts add up to the span count."""
    rows = {r["name"]: r for r in client.get("/api/operations").json()["operations"]}
    buckets = client.get("/api/operations/task/histogram").json()["buckets"]
    assert sum(b["count"] for b in buckets) == rows["task"]["count"]
    assert sum(b["errors"] for b in buckets) == rows["task"]["errors"]
    assert all(b["low_ms"] < b["high_ms"] for b in buckets)


def test_pages_and_assets_are_served(client: httpx.Client) -> None:
    """Each page is a static HTML file; its scripts and stylesheet come from /static."""
    for path in ("/", "/trace", "/operations", "/compare", "/live"):
        response = client.get(path)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"]
        assert '<script src="/static/common.js"' in response.text
    assert client.get("/static/trace.js").status_code == 200
    assert client.get("/static/app.css").headers["content-type"].startswith("text/css")


def test_read_only_and_sql_off_by_default(client: httpx.Client) -> None:
    """Nothing but GET is served, and SQL from the page is refused without --allow-sql."""
    assert client.post("/api/traces").status_code == 405
    assert client.delete("/api/trace/" + "0" * 32).status_code == 405
    refused = client.post("/api/sql", json={"sql": "select 1"})
    assert refused.status_code == 403 and "--allow-sql" in refused.json()["error"]


def test_sql_with_allow_sql(demo_dir: Path) -> None:
    """With --allow-sql, POST /api/sql runs SQL over the views; other sites' posts are refused."""
    with serving(demo_dir, allow_sql=True) as client:
        answer = client.post("/api/sql", json={"sql": "select count(*) as n from traces"})
        bad = client.post("/api/sql", json={"sql": "select nonsense from nowhere"})
        form = client.post(
            "/api/sql",
            content=b"sql=select 1",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        other = client.post(
            "/api/sql", json={"sql": "select 1"}, headers={"origin": "http://evil.example"}
        )
    assert answer.json()["rows"] == [{"n": 1}]
    assert bad.status_code == 400
    assert form.status_code == 403 and other.status_code == 403


def test_api_index_lists_every_endpoint(client: httpx.Client) -> None:
    """GET /api names each endpoint the pages use."""
    endpoints = client.get("/api").json()["endpoints"]
    assert {"/api/traces", "/api/trace/{id}", "/api/operations", "/api/live"} <= set(endpoints)


def test_trace_of_compacted_history(client: httpx.Client, demo_dir: Path, demo_trace: str) -> None:
    """A trace in compacted Parquet (which the JSONL scan cannot read) comes from the Reader:
    the same spans and logs as from the JSONL files."""
    import shutil

    from logtrace.read.compact import compact

    copy = demo_dir.parent / "compacted-copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(demo_dir, copy)
    compact(copy)
    assert list(copy.rglob("*.parquet")) and not list(copy.rglob("*.jsonl"))
    plain = client.get(f"/api/trace/{demo_trace}").json()
    with serving(copy) as other:
        compacted = other.get(f"/api/trace/{demo_trace}").json()
    same = ("name", "span_id", "status", "depth")
    assert [[s.get(k) for k in same] for s in compacted["spans"]] == [
        [s.get(k) for k in same] for s in plain["spans"]
    ]
    assert [log["message"] for log in compacted["logs"]] == [
        log["message"] for log in plain["logs"]
    ]


def test_connections_are_tcp_so_responses_are_not_held_back() -> None:
    """The listening socket is made as TCP's own (IPPROTO_TCP), so asyncio sets TCP_NODELAY
    on each connection it accepts: a response's head and body are not held back by Nagle's
    algorithm waiting on the client's delayed ACK (some 40 ms a request on a kept-alive
    connection)."""
    import socket

    from logtrace.web.server import listen

    with listen("127.0.0.1", 0) as sock:
        with socket.create_connection(sock.getsockname()[:2]):
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP  # what asyncio's _set_nodelay asks
