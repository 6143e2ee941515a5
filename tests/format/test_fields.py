"""The manual's description of the event format (docs/format.md) matches what logtrace writes."""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest
from _core_fixtures import read_lines, traced_dir

import logtrace
from logtrace.format import fields as _fields

FORMAT_PAGE = Path(__file__).resolve().parents[2] / "docs" / "format.md"


def documented_fields() -> list[str]:
    """The field names of the format page's table, in table order."""
    text = FORMAT_PAGE.read_text(encoding="utf-8")
    section = text.split("<!-- EVENT-FORMAT -->")[1].split("<!-- /EVENT-FORMAT -->")[0]
    table = section.split("| field |")[1].split("\n\n")[0]
    return re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M)


def test_every_reserved_field_is_documented_and_nothing_else() -> None:
    """The format page's table names exactly the reserved fields plus `event`."""
    assert sorted(documented_fields()) == sorted(_fields.RESERVED | {_fields.EVENT})


def test_written_lines_use_documented_fields_in_documented_order(traced_dir: Path) -> None:
    """Real lines carry only documented fields (plus user fields) in the table's order."""
    order = documented_fields()
    with logtrace.span("work", task_id=7) as span:
        span.event("tick", n=1)
        logging.getLogger("app").warning("inside")
        with pytest.raises(ValueError), logtrace.span("fails"):
            raise ValueError("boom")
        logtrace.flush()  # "work" is open: its start line is written now
    logtrace.flush()
    lines = [x for x in read_lines(traced_dir) if x.get("trace_id") == span.trace_id]
    assert {x.get("span") for x in lines} == {"start", "end", "event", None}
    user_fields = {"task_id", "n"}
    for line in lines:
        ours = [k for k in line if k not in user_fields]
        assert set(ours) <= set(order), ours
        assert ours == sorted(ours, key=order.index), ours
    for key in ("ts", "level", "event", "logger", "service", "pid", "trace_id", "span_id"):
        assert all(key in line for line in lines)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", lines[0]["ts"])
    header = read_lines(traced_dir)[0]
    assert header["event"] == "logtrace.file" and header["format"] == _fields.FORMAT_VERSION


def test_cut_down_lines_put_the_limit_fields_where_the_page_says(traced_dir: Path) -> None:
    """User fields, then attributes_dropped, then a log line's error fields; line_truncated
    last, its line without user fields and traceback, as docs/format.md says."""
    log = logging.getLogger("app")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("many", extra={f"k{i}": i for i in range(130)})
        log.exception("huge", extra={f"k{i}": "x" * 16_000 for i in range(20)})
    logtrace.flush()
    many, huge = [x for x in read_lines(traced_dir) if x.get("event") in ("many", "huge")]
    assert list(many)[-4:] == ["attributes_dropped", "error_type", "error_message", "exception"]
    assert list(many)[-5] == "k127" and many["attributes_dropped"] == 2
    assert list(huge)[-1] == "line_truncated" and huge["line_truncated"] > 256 * 1024
    assert "exception" not in huge and not any(k.startswith("k") for k in huge)


def test_format_page_documents_every_self_report_event() -> None:
    """Each event logtrace writes about itself is on the format page."""
    text = FORMAT_PAGE.read_text(encoding="utf-8")
    for name in (
        _fields.FILE_EVENT,
        _fields.DROPPED_EVENT,
        _fields.WRITE_ERROR_EVENT,
        _fields.BAD_TRACEPARENT_EVENT,
    ):
        assert f"`{name}`" in text
    # And every other "logtrace.<event>" the write side names: those of span_notes, render…
    package = FORMAT_PAGE.parents[1] / "logtrace"
    named = set()
    for path in [*(package / "write").rglob("*.py"), package / "format" / "fields.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and re.fullmatch(r"logtrace\.[a-z_]+", value):
                named.add(value)
    modules = {f"logtrace.{p.stem}" for p in package.iterdir() if p.suffix == ".py" or p.is_dir()}
    # Only a Scrubber put into a structlog chain of the program's own writes this one.
    events = named - modules - {"logtrace.redaction_error"}
    assert {"logtrace.misuse", "logtrace.render_error"} <= events
    assert not [name for name in sorted(events) if f"`{name}`" not in text]
