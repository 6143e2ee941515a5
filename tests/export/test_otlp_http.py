"""OTLP/HTTP export against a receiver on 127.0.0.1 that decodes with opentelemetry-proto."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.proto")

from _export_helpers import logtrace_cli, receiving, written

import logtrace
from logtrace import export
from logtrace.export.otlp_http import Sender, endpoints, parse_headers

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
    assert parse_headers("a=1, b = x%20y ,bad") == {"a": "1", "b": "x y"}


def test_bad_endpoint_is_one_line(written: Path) -> None:
    """A URL that is not http(s) is a one-line error, exit 2."""
    result = logtrace_cli("export", "--dir", str(written), "--otlp-endpoint", "ftp://x")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
