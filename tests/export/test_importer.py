"""``logtrace import``: OTLP JSON into logtrace's files; export, import, show: the same tree."""

from __future__ import annotations

import io
import os
from pathlib import Path

import orjson
import pytest
from _export_helpers import logtrace_cli, written

import logtrace
from logtrace import export
from logtrace.export.importer import import_otlp

TREE = ("depth", "span_id", "parent_id", "name", "service", "pid", "status", "duration_ms",
        "error_type", "error_message", "attributes", "start_ts")  # fmt: skip

__all__ = ["written"]


def _trees(directory: Path) -> dict[str, list[tuple[object, ...]]]:
    with logtrace.open(directory) as reader:
        ids = [r[0] for r in reader.sql("select trace_id from traces order by 1").fetchall()]
        out = {}
        for trace_id in ids:
            trace = reader.trace(trace_id)
            spans = [tuple(row[k] for k in TREE) for row in trace.spans]
            logs = [(row["message"], row["span_id"], row["ts"], row["level"]) for row in trace.logs]
            out[trace_id] = spans + logs  # type: ignore[operator]
        return out


def test_round_trip_gives_the_same_trees(written: Path, tmp_path: Path) -> None:
    """Exported as OTLP JSON and imported again, every trace has the same tree and logs."""
    exported = tmp_path / "traces.otlp.jsonl"
    result = logtrace_cli("export", "--dir", str(written), "-o", str(exported))
    assert result.returncode == 0, result.stderr
    imported = tmp_path / "imported"
    result = logtrace_cli("import", str(exported), "--dir", str(imported))
    assert result.returncode == 0 and "imported 10 spans" in result.stderr, result.stderr
    assert _trees(imported) == _trees(written)
    for trace_id in _trees(written):
        before = logtrace_cli("show", trace_id, "--dir", str(written), "--width", "30")
        after = logtrace_cli("show", trace_id, "--dir", str(imported), "--width", "30")
        assert before.returncode == after.returncode == 0
        assert after.stdout == before.stdout


def test_imported_files_follow_the_layout(written: Path, tmp_path: Path) -> None:
    """One file per process in a day folder, named for its first line, dated by its last."""
    out = io.BytesIO()
    with logtrace.open(written) as reader:
        export.write(reader, out)
    result = import_otlp([io.BytesIO(out.getvalue())], tmp_path / "imp")
    assert len(result.files) == 3 and result.spans == 10
    with logtrace.open(written) as reader:
        originals = {p.name.split("_")[0] + "_" + p.name.split("_")[2] for p in reader.files}
    assert {p.name.split("_")[0] + "_" + p.name.split("_")[2] for p in result.files} == originals
    for path in result.files:
        lines = [orjson.loads(x) for x in path.read_bytes().splitlines()]
        assert lines[0]["event"] == "logtrace.file" and lines[0]["format"] == 2
        assert path.parent.name == lines[1]["ts"][:10]
        last = lines[-1]["ts"]
        assert abs(os.stat(path).st_mtime - _seconds(last)) < 1


def _seconds(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def test_sdk_output_imports_with_kind_scope_and_base64_ids(tmp_path: Path) -> None:
    """Lines of the SDK's file exporter import; base64 ids (plain protobuf JSON) too; other
    lines are skipped and counted."""
    pytest.importorskip("opentelemetry.exporter.otlp.json.file")
    from opentelemetry.exporter.otlp.json.file import FileSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import SpanKind

    stream = io.StringIO()
    provider = TracerProvider(resource=Resource({"service.name": "billing", "process.pid": 7}))
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(stream=stream)))
    tracer = provider.get_tracer("billing.api", "1.0")
    with tracer.start_as_current_span("POST /pay", kind=SpanKind.SERVER) as root:
        with tracer.start_as_current_span("charge", kind=SpanKind.CLIENT):
            pass
    trace_id = format(root.get_span_context().trace_id, "032x")
    lines = stream.getvalue().splitlines()
    as_base64 = orjson.loads(lines[0])
    span = as_base64["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    import base64

    for key in ("traceId", "spanId", "parentSpanId"):
        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    data = "\n".join([orjson.dumps(as_base64).decode(), lines[1], '{"resourceMetrics": []}', "x"])
    result = import_otlp([io.BytesIO(data.encode())], tmp_path / "imp")
    assert result.spans == 2 and result.skipped_lines == 2
    assert result.line() == (
        "imported 2 spans, 0 log records into 1 file; "
        "skipped 2 lines that are not OTLP traces or logs"
    )
    with logtrace.open(tmp_path / "imp") as reader:
        trace = reader.trace(trace_id)
    assert [(s["depth"], s["name"], s["service"], s["pid"]) for s in trace.spans] == [
        (0, "POST /pay", "billing", 7), (1, "charge", "billing", 7)]  # fmt: skip
    raw = [orjson.loads(x) for p in (tmp_path / "imp").rglob("*.jsonl")
           for x in p.read_bytes().splitlines()]  # fmt: skip
    kinds = {line["name"]: line.get("kind") for line in raw if line.get("span") == "start"}
    assert kinds == {"POST /pay": "server", "charge": "client"}
    assert {line.get("otel.scope.name") for line in raw if line.get("span") == "start"} == {
        "billing.api"}  # fmt: skip


def test_unreadable_input_is_one_line(tmp_path: Path) -> None:
    """A missing input file: one line on stderr, exit 2, no traceback."""
    result = logtrace_cli("import", str(tmp_path / "nope.jsonl"), "--dir", str(tmp_path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
