"""``logtrace import``: OTLP JSON into logtrace's files; export, import, show: the same tree."""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Iterator
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
    result = import_otlp([io.BytesIO(out.getvalue())], tmp_path / "imp", scrubber=None)
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
    result = import_otlp([io.BytesIO(data.encode())], tmp_path / "imp", scrubber=None)
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


# One span of coordinator/vm/12154, at 2026-12-03T13:35:56.599Z, and its file's names.
_START_NS = 1_796_304_956_599_000_000
_DAY, _NAME = "2026-12-03", "coordinator_vm_12154_20261203T133556.599Z.jsonl"


def _request(*trace_ids: str) -> bytes:
    resource = {"attributes": [
        {"key": "service.name", "value": {"stringValue": "coordinator"}},
        {"key": "host.name", "value": {"stringValue": "vm"}},
        {"key": "process.pid", "value": {"intValue": "12154"}}]}  # fmt: skip
    spans = [
        {"traceId": trace_id, "spanId": f"{n + 1:016x}", "name": f"s{n}",
         "startTimeUnixNano": str(_START_NS + n), "endTimeUnixNano": str(_START_NS + 10**6)}
        for n, trace_id in enumerate(trace_ids)
    ]  # fmt: skip
    request = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
    return orjson.dumps(request) + b"\n"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask (022), which would leave files 0644 and folders 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_import_never_writes_through_planted_symlinks(tmp_path: Path, umask_022: None) -> None:
    """A symlink planted at the work file's (predictable) name is not followed: its target is
    untouched; the file is written, 0600, its folders 0700, whatever the umask."""
    source = tmp_path / "in.otlp.jsonl"
    source.write_bytes(_request("ab" * 16))
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious\n")
    os.chmod(victim, 0o644)
    folder = tmp_path / "imported" / _DAY
    os.makedirs(folder)
    (folder / f".{_NAME}.tmp").symlink_to(victim)
    directory = tmp_path / "new" / "imported"
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "imported"))
    assert result.returncode == 0, result.stderr
    assert victim.read_bytes() == b"precious\n" and _mode(victim) == 0o644
    assert os.stat(victim).st_mtime_ns != _START_NS + 10**6
    (written,) = [p for p in folder.iterdir() if not p.is_symlink()]
    assert written.name == _NAME and _mode(written) == 0o600
    result = logtrace_cli("import", str(source), "--dir", str(directory))
    assert result.returncode == 0, result.stderr
    (written,) = (directory / _DAY).iterdir()
    assert written.name == _NAME and _mode(written) == 0o600
    assert [_mode(p) for p in (directory.parent, directory, directory / _DAY)] == [0o700] * 3


def test_import_takes_the_configured_modes(tmp_path: Path, umask_022: None) -> None:
    """LOGTRACE_FILE_MODE and LOGTRACE_DIR_MODE give the modes, as for the sink and compact."""
    source = tmp_path / "in.otlp.jsonl"
    source.write_bytes(_request("ab" * 16))
    env = {"LOGTRACE_FILE_MODE": "640", "LOGTRACE_DIR_MODE": "750"}
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "d"), env=env)
    assert result.returncode == 0, result.stderr
    assert [_mode(tmp_path / "d"), _mode(tmp_path / "d" / _DAY)] == [0o750, 0o750]
    assert _mode(tmp_path / "d" / _DAY / _NAME) == 0o640


@pytest.mark.parametrize("mode", ["4755", "2770", "1777", "0o1000", "rw"])
def test_import_refuses_a_mode_with_more_than_permission_bits(tmp_path: Path, mode: str) -> None:
    """LOGTRACE_FILE_MODE=4755 would make the imported file setuid: one line, exit 2, nothing
    written."""
    source = tmp_path / "in.otlp.jsonl"
    source.write_bytes(_request("ab" * 16))
    result = logtrace_cli(
        "import", str(source), "--dir", str(tmp_path / "d"), env={"LOGTRACE_FILE_MODE": mode}
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "LOGTRACE_FILE_MODE" in result.stderr
    assert "from 000 to 777" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "d").exists()


def test_import_refuses_a_symlinked_day_folder(tmp_path: Path) -> None:
    """A day folder that is a symlink: one line naming it, exit 2, nothing written there."""
    source = tmp_path / "in.otlp.jsonl"
    source.write_bytes(_request("ab" * 16))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "imported").mkdir()
    (tmp_path / "imported" / _DAY).symlink_to(elsewhere)
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "imported"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert str(tmp_path / "imported" / _DAY) in result.stderr and "symlink" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_spans_with_bad_ids_are_counted_as_skipped(tmp_path: Path) -> None:
    """A span whose traceId is not an id is not written, and the summary says it skipped it."""
    source = tmp_path / "in.otlp.jsonl"
    source.write_bytes(_request("ab" * 16, "zz", "00" * 16))
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "imported 1 span, 0 log records into 1 file; "
        "skipped 2 spans without a valid traceId, spanId or time\n"
    )
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "d"), "--json")
    assert orjson.loads(result.stdout)["skipped_spans"] == 2


def test_spans_with_times_out_of_range_are_counted_as_skipped(tmp_path: Path) -> None:
    """A startTimeUnixNano of 10^30, one past OTLP's fixed64 (2^64, the year 2554; logtrace's
    export puts no time there, and it took to the year 9999), a negative one or one that is not
    a number: that span is skipped and counted, the others imported (10^30 stopped the whole
    import with OverflowError)."""
    request = orjson.loads(_request("ab" * 16, "cd" * 16, "ef" * 16, "12" * 16, "34" * 16))
    spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[1]["startTimeUnixNano"] = str(10**30)
    spans[2]["endTimeUnixNano"] = "-5"
    spans[3]["startTimeUnixNano"] = "soon"
    spans[4]["endTimeUnixNano"] = str(2**64)
    source = tmp_path / "in.otlp.jsonl"
    source.write_bytes(orjson.dumps(request) + b"\n")
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("skipped 4 spans without a valid traceId, spanId or time\n")
    shown = logtrace_cli("show", "ab" * 16, "--dir", str(tmp_path / "d"))
    assert shown.returncode == 0 and "s0" in shown.stdout, shown.stderr


def _span(n: int, **fields: object) -> dict[str, object]:
    """A valid span of trace ``ab…``, span id ``n``, with ``fields`` added or replaced."""
    span = {"traceId": "ab" * 16, "spanId": f"{n:016x}", "name": f"s{n}",
            "startTimeUnixNano": str(_START_NS + n),
            "endTimeUnixNano": str(_START_NS + 10**6)}  # fmt: skip
    span.update(fields)
    return span


def _spans_line(*spans: object, resource: object = None) -> dict[str, object]:
    entry = {"scopeSpans": [{"spans": list(spans)}]}
    if resource is not None:
        entry["resource"] = resource
    return {"resourceSpans": [entry]}


def _raw_lines(directory: Path) -> list[dict[str, object]]:
    return [orjson.loads(x) for p in sorted(directory.rglob("*.jsonl"))
            for x in p.read_bytes().splitlines()]  # fmt: skip


def test_malformed_items_are_skipped_named_and_the_rest_imported(tmp_path: Path) -> None:
    """Containers of the wrong type (a string resource or status, an object of scopeSpans, an
    event that is a number) skip their item with one line naming file, line and item; the rest
    of the file is imported (they stopped the import with AttributeError)."""
    big = {"key": "big", "value": {"intValue": "99999999999999999999999"}}
    record = {"timeUnixNano": str(_START_NS), "severityNumber": 3.5, "body": {"stringValue": "hi"}}
    lines = [
        {"resourceSpans": "abc"},
        {"resourceSpans": [{"resource": "x", "scopeSpans": [{"spans": [_span(1)]}]}]},
        _spans_line(_span(2, status="bad"), _span(3)),
        {"resourceSpans": [{"scopeSpans": {"spans": [_span(4)]}}]},
        _spans_line(_span(5, events=[1]), _span(6, attributes=[big]), 7),
        {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]},
    ]
    source = tmp_path / "in.otlp.jsonl"
    source.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    spans = "resourceSpans[0].scopeSpans[0].spans"
    assert result.stderr.splitlines() == [
        f"{source} line 1: resourceSpans is not an array; skipped",
        f"{source} line 2: resourceSpans[0]: resource is not an object; skipped",
        f"{source} line 3: {spans}[0]: status is not an object; skipped",
        f"{source} line 4: resourceSpans[0]: scopeSpans is not an array; skipped",
        f"{source} line 5: {spans}[0]: an event is not an object; skipped",
        f"{source} line 5: {spans}[2]: it is not an object; skipped",
        "imported 2 spans, 1 log record into 1 file; skipped 6 malformed items",
    ]
    raw = _raw_lines(tmp_path / "d")
    assert sorted(line["name"] for line in raw if line.get("span") == "end") == ["s3", "s6"]
    (s6,) = [line for line in raw if line.get("span") == "start" and line["name"] == "s6"]
    assert s6["big"] == "99999999999999999999999"  # past 64 bits: its text, as the writer does
    (log,) = [line for line in raw if line.get("event") == "hi"]
    assert log["level"] == "info"  # a severityNumber that is not one reads as a missing one
    shown = logtrace_cli("show", "ab" * 16, "--dir", str(tmp_path / "d"))
    assert shown.returncode == 0 and "s6" in shown.stdout, shown.stderr
    as_json = logtrace_cli("import", str(source), "--dir", str(tmp_path / "e"), "--json")
    report = orjson.loads(as_json.stdout)
    assert report["skipped_items"] == 6 and len(report["problems"]) == 6


def test_protobuf_json_enum_names_are_read(tmp_path: Path) -> None:
    """MessageToJson's enums as names (SPAN_KIND_SERVER, STATUS_CODE_ERROR,
    SEVERITY_NUMBER_ERROR) import as their numbers do (kind was internal; severity crashed)."""
    pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    from google.protobuf.json_format import MessageToJson
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    traces = ExportTraceServiceRequest()
    span = traces.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id = bytes.fromhex("ab" * 16), bytes.fromhex("01" * 8)
    span.name, span.kind = "GET /x", Span.SPAN_KIND_SERVER
    span.start_time_unix_nano, span.end_time_unix_nano = _START_NS, _START_NS + 10**6
    span.status.code, span.status.message = Status.STATUS_CODE_ERROR, "boom"
    logs = ExportLogsServiceRequest()
    record = logs.resource_logs.add().scope_logs.add().log_records.add()
    record.time_unix_nano, record.severity_number = _START_NS, 17  # SEVERITY_NUMBER_ERROR
    record.body.string_value = "failed"
    texts = [MessageToJson(traces), MessageToJson(logs)]
    assert '"SPAN_KIND_SERVER"' in texts[0] and '"STATUS_CODE_ERROR"' in texts[0]
    assert '"SEVERITY_NUMBER_ERROR"' in texts[1]
    source = tmp_path / "in.json"
    source.write_bytes(b"".join(orjson.dumps(orjson.loads(t)) + b"\n" for t in texts))
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "d"))
    assert result.stderr == "imported 1 span, 1 log record into 1 file\n"
    raw = _raw_lines(tmp_path / "d")
    (end,) = [line for line in raw if line.get("span") == "end"]
    assert (end["kind"], end["status"], end["error_message"]) == ("server", "error", "boom")
    (log,) = [line for line in raw if line.get("event") == "failed"]
    assert log["level"] == "error"


UNFINISHED_WRITER = r"""
import os, sys
import logtrace

logtrace.configure(service="dies", directory=sys.argv[1], flush="always")
with logtrace.span("done"):
    pass
with logtrace.span("job"):
    with logtrace.span("stuck"):
        os._exit(0)
"""


def test_unfinished_spans_come_back_unfinished(tmp_path: Path) -> None:
    """A span that never ended, exported with logtrace.unfinished, imports as a start line
    without an end: unfinished again, not ok with the made-up duration."""
    import subprocess
    import sys

    written = tmp_path / "written"
    subprocess.run([sys.executable, "-c", UNFINISHED_WRITER, str(written)], check=True)
    exported = tmp_path / "out.otlp.jsonl"
    result = logtrace_cli("export", "--dir", str(written), "-o", str(exported))
    assert result.returncode == 0, result.stderr
    assert b"logtrace.unfinished" in exported.read_bytes()
    result = logtrace_cli("import", str(exported), "--dir", str(tmp_path / "imported"))
    assert result.returncode == 0 and "imported 3 spans" in result.stderr, result.stderr
    with logtrace.open(tmp_path / "imported") as reader:
        rows = reader.sql("select name, status, has_end from spans order by name").fetchall()
    assert rows == [("done", "ok", True), ("job", "unfinished", False),
                    ("stuck", "unfinished", False)]  # fmt: skip
    assert _trees(tmp_path / "imported") == _trees(written)
    raw = _raw_lines(tmp_path / "imported")
    assert not any("logtrace.unfinished" in line for line in raw)


def test_import_redacts_as_the_writer_does(tmp_path: Path) -> None:
    """Secrets in names, attributes, event names and log bodies are redacted by default, as
    live spans are; LOGTRACE_REDACT=0 turns it off, as for the writer."""
    password = {"key": "password", "value": {"stringValue": "hunter2"}}
    event = {"name": "retry token=abcdefgh12345678", "timeUnixNano": str(_START_NS + 5)}
    span = _span(1, name="login password=hunter2", attributes=[password], events=[event])
    record = {"timeUnixNano": str(_START_NS), "body": {"stringValue": "user password=hunter2"},
              "attributes": [password]}  # fmt: skip
    source = tmp_path / "in.otlp.jsonl"
    source.write_bytes(
        orjson.dumps(_spans_line(span)) + b"\n" + orjson.dumps(
            {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}) + b"\n"
    )  # fmt: skip
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    data = b"".join(p.read_bytes() for p in (tmp_path / "d").rglob("*.jsonl"))
    assert b"hunter2" not in data and b"abcdefgh12345678" not in data
    raw = _raw_lines(tmp_path / "d")
    (start,) = [line for line in raw if line.get("span") == "start"]
    assert start["password"] == "[REDACTED]" and start["name"] == "login password=[REDACTED]"
    result = logtrace_cli(
        "import", str(source), "--dir", str(tmp_path / "e"), env={"LOGTRACE_REDACT": "0"}
    )
    assert result.returncode == 0, result.stderr
    assert b"hunter2" in b"".join(p.read_bytes() for p in (tmp_path / "e").rglob("*.jsonl"))


def test_import_keeps_lines_within_the_writers_limits(tmp_path: Path) -> None:
    """A 30 MB attribute is cut to max_string as the writer cuts it, and a line still over
    max_line keeps logtrace's fields only (line_truncated, counted): the span is readable (it
    was one 30 MB line every reader dropped)."""
    huge = {"key": "blob", "value": {"stringValue": "x" * 30_000_000}}
    source = tmp_path / "in.otlp.jsonl"
    source.write_bytes(orjson.dumps(_spans_line(_span(1, attributes=[huge]))) + b"\n")
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "d"))
    assert result.stderr == "imported 1 span, 0 log records into 1 file\n"
    assert max(len(x) for p in (tmp_path / "d").rglob("*.jsonl")
               for x in p.read_bytes().splitlines()) < 256 * 1024  # fmt: skip
    with logtrace.open(tmp_path / "d") as reader:
        (span,) = reader.trace("ab" * 16).spans
    assert span["name"] == "s1" and "[truncated 29983616 chars]" in str(span["attributes"])
    env = {"LOGTRACE_MAX_LINE": "8k"}
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "e"), env=env)
    assert result.stderr == (
        "imported 1 span, 0 log records into 1 file; cut 1 line over the longest line\n"
    )
    (start,) = [line for line in _raw_lines(tmp_path / "e") if line.get("span") == "start"]
    assert "blob" not in start and start["line_truncated"] > 8192 and start["name"] == "s1"
    with logtrace.open(tmp_path / "e") as reader:
        assert [s["name"] for s in reader.trace("ab" * 16).spans] == ["s1"]


def test_a_file_with_nothing_to_import_exits_2_naming_its_lines(tmp_path: Path) -> None:
    """Pretty-printed OTLP JSON (one request over many lines), and JSON that holds no request:
    nothing imported is exit 2 with what to give, and the lines are named by what they are
    (it said "imported 0 spans … not OTLP traces or logs", exit 0). A file starting with a
    UTF-8 byte order mark imports its first line (it was skipped)."""
    pretty = tmp_path / "pretty.json"
    pretty.write_text(
        orjson.dumps(orjson.loads(_request("ab" * 16)), option=orjson.OPT_INDENT_2).decode()
    )
    other = tmp_path / "metrics.jsonl"
    other.write_bytes(b'{"resourceMetrics": []}\n')
    done = logtrace_cli("import", str(other), str(pretty), "--dir", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert (
        f"{pretty} line 1: not a line of JSON (unexpected end of data at its end; one request "
        "per line is read); skipped"
    ) in done.stderr
    assert f"{other} line 1: JSON, but no resourceSpans or resourceLogs; skipped" in done.stderr
    assert done.stderr.rstrip().splitlines()[-1].startswith("nothing imported: give OTLP JSON")
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + _request("cd" * 16))
    kept = logtrace_cli("import", str(bom), "--dir", str(tmp_path / "bom"))
    assert kept.returncode == 0 and "imported 1 span," in kept.stderr + kept.stdout


def test_a_broken_line_of_non_ascii_text_is_placed_by_characters(tmp_path: Path) -> None:
    """Where a line that is not JSON breaks is said in characters, as orjson counts them and an
    editor shows them: a torn line of accented text is broken "at its end" (the check compared
    characters with bytes and said "column 24" of a 23-character line)."""
    torn = tmp_path / "torn.jsonl"
    torn.write_text('{"resourceSpans": "éééé\n{"é": é}\n', encoding="utf-8")
    done = logtrace_cli("import", str(torn), "--dir", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert f"{torn} line 1: not a line of JSON (" in done.stderr
    assert "at its end; one request per line is read); skipped" in done.stderr
    assert f"{torn} line 2: not a line of JSON (" in done.stderr
    assert "at column 7; one request" in done.stderr


def test_a_span_given_twice_is_imported_once_and_counted(tmp_path: Path) -> None:
    """The same traceId and spanId in two requests (a file exporter's retry, a file given
    twice): the first copy is written, the second counted (it said "imported 2 spans" of a
    trace that shows one)."""
    source = tmp_path / "in.otlp.jsonl"
    again = _spans_line(_span(1, name="again"), _span(2))
    source.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in (_spans_line(_span(1)), again)))
    result = logtrace_cli("import", str(source), str(source), "--dir", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "imported 2 spans, 0 log records into 1 file; skipped 4 duplicate spans (a traceId "
        "and spanId given again: the first is kept)\n"
    )
    with logtrace.open(tmp_path / "d") as reader:
        assert sorted(s["name"] for s in reader.trace("ab" * 16).spans) == ["s1", "s2"]
    spans = [x for x in _raw_lines(tmp_path / "d") if "span" in x]
    assert len(spans) == 4  # a start and an end line each
    result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "e"), "--json")
    assert orjson.loads(result.stdout)["duplicate_spans"] == 1


def _nested(depth: int, leaf: object) -> object:
    for _ in range(depth):
        leaf = {"arrayValue": {"values": [leaf]}}
    return leaf


@pytest.mark.parametrize("scrubbed", [True, False])
def test_values_nested_past_orjsons_limit_are_marked_or_skipped(
    tmp_path: Path, scrubbed: bool
) -> None:
    """An attribute nested 300 arrays deep is kept to 64 levels (16 by the writer's limits,
    which ``logtrace import`` applies with redaction on or off), then the writer's marker. A
    stringValue holding raw JSON nested past what orjson writes: cut by the limits, or, with
    no scrubber at all (``import_otlp(scrubber=None)``), its span skipped and named, the rest
    imported. (Both stopped the import with orjson's "Recursion limit reached".)"""
    raw: object = "x"
    for _ in range(300):
        raw = [raw]
    deep = [{"key": "deep", "value": _nested(300, {"stringValue": "leaf"})}]
    spans = (_span(1, attributes=deep), _span(2, attributes=[{"key": "raw", "value":
             {"stringValue": raw}}]), _span(3))  # fmt: skip
    source = tmp_path / "in.otlp.jsonl"
    source.write_text(json.dumps(_spans_line(*spans)) + "\n")  # orjson writes 254 levels
    if scrubbed:
        env = {"LOGTRACE_REDACT": "0"}
        result = logtrace_cli("import", str(source), "--dir", str(tmp_path / "d"), env=env)
        assert result.stderr == "imported 3 spans, 0 log records into 1 file\n"
    else:
        with source.open("rb") as given:
            imported = import_otlp([given], tmp_path / "d", scrubber=None)
        assert imported.problems == [
            f"{source} line 1: resourceSpans[0].scopeSpans[0].spans[1]: a value that cannot "
            "be written as JSON (Recursion limit reached); skipped"
        ]
        assert (imported.spans, imported.skipped_items) == (2, 1)
        record = {"timeUnixNano": str(_START_NS), "body": {"stringValue": raw}}
        logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
        imported = import_otlp([io.BytesIO(json.dumps(logs).encode())], tmp_path / "logs",
                               scrubber=None)  # fmt: skip
        assert (imported.logs, imported.problems) == (0, [
            "- line 1: resourceLogs[0].scopeLogs[0].logRecords[0]: a body that cannot be "
            "written as JSON (Recursion limit reached); skipped"])  # fmt: skip
    with logtrace.open(tmp_path / "d") as reader:
        spans_read = {s["name"]: s for s in reader.trace("ab" * 16).spans}
    assert sorted(spans_read) == (["s1", "s2", "s3"] if scrubbed else ["s1", "s3"])
    for name, key in (("s1", "deep"), ("s2", "raw")):
        if name not in spans_read:
            continue
        value, depth = spans_read[name]["attributes"][key], 0
        while isinstance(value, list):
            (value,) = value
            depth += 1
        assert (value, depth) == ("[nested too deep]", 16 if scrubbed else 64)
