"""OTLP/HTTP export against a receiver on 127.0.0.1 that decodes with opentelemetry-proto."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.proto")

from _export_helpers import logtrace_cli, receiving, written

import logtrace
from logtrace import export
from logtrace.export.otlp_http import (
    HeaderError,
    Sender,
    bad_header_pairs,
    endpoints,
    masked,
    parse_headers,
    without_credentials,
)

__all__ = ["written"]


def _span_ids(directory: Path) -> list[str]:
    with logtrace.open(directory) as reader:
        return sorted(r[0] for r in reader.sql("select span_id from spans").fetchall())


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_every_span_and_log_arrives_once(written: Path, protocol: str) -> None:
    """All spans and log lines reach the receiver, decoded, in batches, each once."""
    with receiving() as receiver, logtrace.open(written) as reader:
        sender = Sender(receiver.url, protocol=protocol)
        summary = export.send(reader, sender, batch_size=3)
    assert sorted(s[1] for s in receiver.accepted_spans) == _span_ids(written)
    assert summary.ok and summary.spans == 10 and summary.logs == len(receiver.accepted_logs)
    assert summary.requests >= 4  # ten spans in batches of three
    kinds = {"http/protobuf": "application/x-protobuf", "http/json": "application/json"}
    assert {kind for _, kind in receiver.requests} == {kinds[protocol]}
    assert {path for path, _ in receiver.requests} == {"/v1/traces", "/v1/logs"}


def test_retries_429_and_5xx_then_nothing_is_lost(written: Path) -> None:
    """A receiver answering 503, 429, 500 first gets everything afterwards, nothing twice."""
    with receiving(failures=[503, 429, 500], retry_after="0") as receiver:
        with logtrace.open(written) as reader:
            sender = Sender(receiver.url, max_time=30)
            summary = export.send(reader, sender, logs=False)
    assert summary.ok and summary.retries == 3
    ids = [s[1] for s in receiver.accepted_spans]
    assert sorted(ids) == _span_ids(written) and len(ids) == len(set(ids))


def test_gives_up_within_its_time_and_says_what_was_not_sent(written: Path) -> None:
    """A receiver that keeps failing: the batch is given up after --max-time, exit 1, summary."""
    with receiving(failures=[503] * 100) as receiver:
        result = logtrace_cli("export", "--dir", str(written), "--otlp-endpoint", receiver.url,
                              "--max-time", "1", "--no-logs")  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "NOT sent: 10 spans" in result.stderr and "HTTP 503" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_4xx_is_final(written: Path) -> None:
    """400 is not retried: the batch is counted as not sent."""
    with receiving(failures=[400] * 5) as receiver, logtrace.open(written) as reader:
        summary = export.send(reader, Sender(receiver.url), logs=False)
    assert not summary.ok and summary.retries == 0 and summary.failed_spans == 10


def test_headers_from_the_environment_and_the_command_line(written: Path) -> None:
    """OTEL_EXPORTER_OTLP_HEADERS and --header arrive; the summary is on stderr, gzip works."""
    with logtrace.open(written) as reader:
        trace_id = reader.sql("select min(trace_id) from traces").fetchall()[0][0]
    with receiving() as receiver:
        result = logtrace_cli(
            "export", "--dir", str(written), "--otlp-endpoint", f"{receiver.url}/v1/traces",
            "--header", "X-Team: shop", "--compression", "gzip", trace_id[:12],
            env={"OTEL_EXPORTER_OTLP_HEADERS": "api-key=s%3Dcret,x-tenant=7"},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "sent 5 spans, 2 log records" in result.stderr
    headers = {k.lower(): v for k, v in receiver.headers[0].items()}  # names: any case
    assert headers["api-key"] == "s=cret" and headers["x-tenant"] == "7"
    assert headers["x-team"] == "shop" and headers["content-encoding"] == "gzip"
    assert {s[0] for s in receiver.accepted_spans} == {trace_id}


def test_endpoint_and_header_forms() -> None:
    """A base URL gets /v1/traces and /v1/logs; a signal URL is kept; headers percent-decoded."""
    assert endpoints("http://c:4318/") == {"traces": "http://c:4318/v1/traces",
                                           "logs": "http://c:4318/v1/logs"}  # fmt: skip
    assert endpoints("http://c:4318/v1/traces")["logs"] == "http://c:4318/v1/logs"
    # A query stays on each signal's URL (it went before the path: /v1/traces?key=abc/v1/logs).
    assert endpoints("http://c:4318/v1/traces?key=abc") == {
        "traces": "http://c:4318/v1/traces?key=abc",
        "logs": "http://c:4318/v1/logs?key=abc",
    }
    assert endpoints("http://c:4318#x")["traces"] == "http://c:4318/v1/traces"
    assert parse_headers("a=1, b = x%20y ,bad") == {"a": "1", "b": "x y"}
    assert bad_header_pairs("a=1, b = x%20y ,bad,,=v,") == [3, 5]
    bare = ("https://c:4318/x", ("u@x", "p:w"))
    assert without_credentials("https://u%40x:p%3Aw@c:4318/x") == bare
    assert masked("https://u:p@c:4318/x") == "https://***@c:4318/x"
    assert masked("http://c:4318/") == "http://c:4318/"


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--header", "Authorization: Bearer hun\nter2"], {}, "header Authorization of --header"),
        (["--header", "X-Key: hun\r\nHost: ter2"], {}, "header X-Key of --header"),
        (["--header", "X-Key: hun\x1bter2"], {}, "header X-Key of --header"),
        (["--header", "X-Key: hun\u2028ter2"], {}, "header X-Key of --header"),
        (["--header", "a=1", "--header", "Authorization Bearer hunter2"], {}, "header 2 of"),
        ([], {"OTEL_EXPORTER_OTLP_HEADERS": "a=1,api-key=hun%0Ater2"}, "header api-key of OTEL"),
    ],
)
def test_a_header_http_cannot_send_is_refused_by_name_never_shown(
    written: Path, args: list[str], env: dict[str, str], named: str
) -> None:
    """A header value with a newline (or another control character, or outside Latin-1), or
    a --header without its separator: exit 2 before anything is sent, one line naming the
    header by name (or by place), never its value; with --json and --follow too."""
    with receiving() as receiver:
        for extra in ([], ["--json"], ["--follow"]):
            result = logtrace_cli("export", "--dir", str(written), "--otlp-endpoint",
                                  receiver.url, *args, *extra, "--no-logs", env=env)  # fmt: skip
            assert result.returncode == 2, result.stderr
            (line,) = result.stderr.splitlines()
            assert line.startswith(named) and "not shown" in line, line
            shown = result.stdout + result.stderr
            assert "hun" not in shown and "ter2" not in shown
    assert receiver.requests == []


def test_a_header_refused_by_http_client_never_reaches_the_summary(written: Path) -> None:
    """Sender refuses a header value HTTP cannot send, by name; and should one reach the
    request anyway, the summary's last error says a header could not go, not its text."""
    with pytest.raises(HeaderError, match="header X-Key of headers") as refused:
        Sender("http://127.0.0.1:9", headers={"X-Key": "hun\nter2"})
    assert "hun" not in str(refused.value) and "ter2" not in str(refused.value)
    with receiving() as receiver, logtrace.open(written) as reader:
        sender = Sender(receiver.url, max_time=0)
        sender.headers["X-Key"] = "hun\nter2"  # past the check
        summary = export.send(reader, sender, logs=False)
    shown = str(summary.to_json()) + summary.line()
    assert not summary.ok and "hun" not in shown and "ter2" not in shown
    assert "a header could not be sent" in summary.to_json()["last_error"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://x", "give an http(s):// URL"),
        ("http://a b", "a URL holds no spaces"),  # it was InvalidURL's own message
        ("http://host:4318/ä", "characters outside ASCII"),  # "a header could not be sent"
        ("http://", "give a host"),  # it was retried as if the network were down
        ("http://h:xx/", "its port is not a number"),
    ],
)
def test_bad_endpoint_is_one_line(written: Path, url: str, says: str) -> None:
    """A URL that cannot be sent to is a one-line error, exit 2, before anything is sent."""
    result = logtrace_cli("export", "--dir", str(written), "--otlp-endpoint", url)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert says in result.stderr


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_nothing_counts_as_sent(written: Path, status: int) -> None:
    """A receiver answering a redirect: not followed (the --header with the key does not go to
    the place it names), nothing counted as sent, exit 1, one reason naming the redirect."""
    with receiving() as elsewhere, receiving([status] * 100, location=elsewhere.url) as first:
        result = logtrace_cli("export", "--dir", str(written), "--otlp-endpoint", first.url,
                              "--header", "Authorization: Bearer k3y", "--no-logs")  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "sent 0 spans" in result.stderr and "NOT sent: 10 spans" in result.stderr
    reason = f"the endpoint answered {status} (a redirect to {elsewhere.url}); give the final URL"
    assert reason in result.stderr
    assert elsewhere.requests == [] and len(first.requests) == 1  # not retried, not followed
    assert result.stderr.count("\n") == 1


def test_credentials_in_the_endpoint_are_basic_auth_and_never_shown(written: Path) -> None:
    """``http://user:s3cret@host`` sends ``Authorization: Basic``; the password is in no
    message, neither when the endpoint fails nor when the URL is refused."""
    with receiving() as receiver:
        url = receiver.url.replace("http://", "http://us%40er:s3cret@")
        result = logtrace_cli("export", "--dir", str(written), "--otlp-endpoint", url + "/",
                              "--no-logs")  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = "Basic " + base64.b64encode(b"us@er:s3cret").decode()
    assert {h["Authorization"] for h in receiver.headers} == {expected}
    assert len(receiver.accepted_spans) == 10
    down = receiver.url.replace("http://", "http://user:s3cret@")  # shut down: refused
    failed = logtrace_cli("export", "--dir", str(written), "--otlp-endpoint", down,
                          "--max-time", "0", "--no-logs", "--json")  # fmt: skip
    assert failed.returncode == 1 and "last_error" in failed.stdout
    for args in (
        ("--otlp-endpoint", "ftp://user:s3cret@x"),
        ("--otlp-endpoint", down, "--header", "Authorization: Bearer k"),
    ):
        refused = logtrace_cli("export", "--dir", str(written), *args)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert "***@" in refused.stderr
    for shown in (failed, refused):
        assert "s3cret" not in shown.stdout + shown.stderr


def test_grpc_and_bad_headers_in_the_environment_are_named(written: Path) -> None:
    """OTEL_EXPORTER_OTLP_PROTOCOL=grpc: one line, http/protobuf is used; a pair of
    OTEL_EXPORTER_OTLP_HEADERS that is not key=value: one line naming its place, not its
    text (it may hold a key); the good pairs still go."""
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
           "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a1,Bearer s3cret,"}  # fmt: skip
    with receiving() as receiver:
        result = logtrace_cli("export", "--dir", str(written), "--otlp-endpoint", receiver.url,
                              "--no-logs", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any("OTEL_EXPORTER_OTLP_PROTOCOL='grpc'" in x and "using 'http/protobuf'" in x
               for x in lines)  # fmt: skip
    bad_pair = "logtrace: OTEL_EXPORTER_OTLP_HEADERS: pair 2 of 3 is not key=value; ignoring it"
    assert bad_pair in lines
    assert "s3cret" not in result.stderr and len(lines) == 3
    assert {kind for _, kind in receiver.requests} == {"application/x-protobuf"}
    sent = [{k.lower(): v for k, v in h.items()} for h in receiver.headers]
    assert {h.get("api-key") for h in sent} == {"a1"} and not any("bearer" in h for h in sent)
    quiet = logtrace_cli("export", "--dir", str(written), "-o", "-", env=env)
    assert "OTEL_EXPORTER" not in quiet.stderr  # not sending: nothing to say


def test_another_programs_ids_and_times_do_not_stop_the_export(
    written: Path, tmp_path: Path
) -> None:
    """Lines of another program beside logtrace's: a decimal span id, an upper-case trace id,
    a log line with ids that are not hex, a span of year 2603, one before 1970. The export
    used to die on them (``BadId: … is not hex``, ``ParseError: Value out of range``); now
    every span OTLP can carry arrives, decoded by opentelemetry-proto, with ids lowercase and
    times in range, the log lines with bad ids arrive without them, and a span whose ids no
    OTLP span can carry is left out."""
    import shutil

    import orjson

    directory = tmp_path / "logtrace"
    shutil.copytree(written, directory)
    day = next(p for p in directory.iterdir() if p.is_dir())
    upper = "4BF92F3577B34DA6A3CE929D0E0E4736"
    lines = [
        {"ts": "2026-11-24T13:00:00.000000Z", "event": "theirs", "trace_id": upper,
         "span_id": "1234567890123456789", "span": "end", "name": "theirs", "duration_ms": 1},
        {"ts": "2026-11-24T13:00:00.000000Z", "event": "log", "trace_id": "xyz",
         "span_id": "12", "level": "info"},
        {"ts": "2026-11-24T13:00:01.000000Z", "event": "upper", "trace_id": upper,
         "span_id": "00F067AA0BA902B7", "span": "end", "name": "upper", "duration_ms": 1e300},
        {"ts": "1960-01-01T00:00:00.000000Z", "event": "old", "trace_id": upper,
         "span_id": "00f067aa0ba902b8", "span": "end", "name": "old", "duration_ms": 1},
    ]  # fmt: skip
    other = day / "other_host-1_9_20261124T130000.000Z.jsonl"
    other.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    with receiving() as receiver, logtrace.open(directory) as reader:
        for protocol in ("http/protobuf", "http/json"):
            summary = export.send(reader, Sender(receiver.url, protocol=protocol))
            assert summary.ok, summary.notes
    names = [name for _, _, name in receiver.accepted_spans]
    assert names.count("upper") == names.count("old") == 2 and "theirs" not in names
    assert ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "upper") in (
        receiver.accepted_spans
    )
    assert [log for log in receiver.accepted_logs if log[2] == "log"] == [("", "", "log")] * 2


def test_an_answer_that_is_not_http_is_retried_then_said(written: Path) -> None:
    """An endpoint that answers something other than HTTP (gRPC's port, 4317): the export
    does not die on http.client's BadStatusLine (exit 2, a traceback's last line); it is
    retried as no answer, then reported, with the hint about OTLP/HTTP's port."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def answer() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"\x00\x00\x06\x04\x00\x00\x00\x00\x00garbage")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        result = logtrace_cli("export", "--dir", str(written), "--otlp-endpoint", url,
                              "--no-logs", "--max-time", "1")  # fmt: skip
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "BadStatusLine" in result.stdout + result.stderr
    assert "4317 is OTLP/gRPC's port" in result.stdout + result.stderr
