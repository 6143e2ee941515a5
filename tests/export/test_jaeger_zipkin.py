"""Jaeger UI upload JSON and Zipkin v2 JSON of real traces: the shapes those tools read."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import orjson
from _export_helpers import written

import logtrace
from logtrace import export

HEX = re.compile(r"[0-9a-f]+")

__all__ = ["written"]


def _document(directory: Path, fmt: str) -> Any:
    out = io.BytesIO()
    with logtrace.open(directory) as reader:
        export.write(reader, out, fmt)
    return orjson.loads(out.getvalue())


def test_jaeger_upload_shape(written: Path) -> None:
    """{data: [trace]}: each trace's spans reference their parent, name a process, typed tags."""
    document = _document(written, "jaeger")
    assert len(document["data"]) == 2
    for trace in document["data"]:
        ids = {s["spanID"] for s in trace["spans"]}
        assert len(trace["spans"]) == 5 and HEX.fullmatch(trace["traceID"])
        assert {p["serviceName"] for p in trace["processes"].values()} == {"coordinator", "worker"}
        for span in trace["spans"]:
            assert span["processID"] in trace["processes"] and len(span["spanID"]) == 16
            assert isinstance(span["startTime"], int) and isinstance(span["duration"], int)
            for ref in span["references"]:
                assert ref["refType"] == "CHILD_OF" and ref["spanID"] in ids
            assert all(t["type"] in ("string", "bool", "int64", "float64") for t in span["tags"])
        failed = next(s for s in trace["spans"] if s["operationName"] == "validate")
        assert {"key": "error", "type": "bool", "value": True} in failed["tags"]
        root = next(s for s in trace["spans"] if s["operationName"] == "request")
        assert {"key": "ratio", "type": "float64", "value": 0.5} in root["tags"]
        assert root["logs"][0]["fields"][0] == {"key": "event", "type": "string",
                                                "value": "checkpoint"}  # fmt: skip


def test_zipkin_v2_shape(written: Path) -> None:
    """A list of spans: hex ids, µs times, string tags, events as annotations, errors tagged."""
    spans = _document(written, "zipkin")
    assert len(spans) == 10
    for span in spans:
        assert len(span["traceId"]) == 32 and len(span["id"]) == 16
        assert isinstance(span["timestamp"], int) and span["duration"] >= 1
        assert all(isinstance(v, str) for v in span["tags"].values())
        assert "kind" not in span  # logtrace's own spans are internal
    root = next(s for s in spans if s["name"] == "request")
    assert root["annotations"][0]["value"] == "checkpoint" and root["tags"]["tags"] == '["a","b"]'
    assert next(s for s in spans if s["name"] == "validate")["tags"]["error"] == "bad input"
    work = next(s for s in spans if s["name"] == "work")
    assert work["localEndpoint"] == {"serviceName": "worker"} and "parentId" in work
