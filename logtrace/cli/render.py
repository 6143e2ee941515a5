"""What the CLI prints: the waterfall of one trace, one line per trace, tables, tailed lines.

Everything is built as ``rich.text.Text``; the console decides whether styles become colours
(a terminal without ``NO_COLOR``) or vanish (a pipe, a file). Every string of the files passes
through :func:`~logtrace.cli.visible.visible` on its way in (here, where it is formatted), so an
ESC, a newline or a bidi override a program logged is printed as an escape, not obeyed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.text import Text

from logtrace.cli.visible import visible
from logtrace.format import fields as f
from logtrace.read.trace import Row, Trace

# Fields of a line that are ours, not the user's: left out of "key=value" extras.
_OURS = f.RESERVED | {f.EVENT, f.FORMAT}
_MAX_EXTRAS = 160
_NAME_WIDTH = 48

LEVEL_STYLES = {
    "debug": "dim",
    "info": "",
    "warning": "yellow",
    "error": "bold red",
    "critical": "bold white on red",
}


def duration(ms: float | None) -> str:
    """``0.029 ms``, ``12.3 ms``, ``1.23 s``, ``2m03s``."""
    if ms is None:
        return "-"
    if ms < 1:
        return f"{ms:.3f} ms"
    if ms < 1000:
        return f"{ms:.3g} ms" if ms < 100 else f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def timestamp(ts: datetime | None, *, date: bool = True) -> str:
    """``2026-11-24 13:26:03.138792`` (UTC) or, without the date, ``13:26:03.138792``."""
    if ts is None:
        return "-" * (26 if date else 15)
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f" if date else "%H:%M:%S.%f")


def extras(fields: Mapping[str, Any] | None, limit: int = _MAX_EXTRAS) -> str:
    """A line's user fields as ``key=value key=value``, cut at ``limit`` characters."""
    if not fields:
        return ""
    parts = []
    for key, value in fields.items():
        if key in _OURS:
            continue
        shown = value if isinstance(value, str) and " " not in value else _json(value)
        parts.append(f"{key}={shown}")
    text = visible(" ".join(parts))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def process(row: Mapping[str, Any]) -> str:
    """``worker[4242]``: the service and pid of a span or line."""
    pid = row.get("pid")
    return visible(f"{row.get('service') or '?'}[{pid if pid is not None else '?'}]")


def trace_line(row: Mapping[str, Any]) -> Text:
    """One trace of ``ls``: start, id, status, duration, spans, root name, services."""
    status = row["status"]
    text = Text()
    text.append(timestamp(row["start_ts"])[:23], style="dim")
    text.append("  ")
    text.append(visible(row["trace_id"]), style="cyan")
    text.append("  ")
    text.append(f"{status:<10}", style=_status_style(status))
    text.append(f"{duration(row['duration_ms']):>10}  ")
    spans = f"{row['span_count']} spans"
    if row["error_count"]:
        spans += f", {row['error_count']} failed"
    if row["unfinished_count"]:
        spans += f", {row['unfinished_count']} unfinished"
    text.append(f"{spans:<28}")
    text.append(visible(row["root_name"] or "?"), style="bold")
    text.append("  " + _services(row["services"]), style="dim")
    return text


def _services(services: list[str] | None) -> str:
    return visible(",".join(services or []))


def _status_style(status: str | None) -> str:
    return {"error": "bold red", "unfinished": "yellow"}.get(status or "", "green")


# -- the waterfall ---------------------------------------------------------------------------


# Spans deeper than this are not drawn: one line says how many there are. A parent chain of
# foreign data can be 100,000 long, and each level draws a wider prefix.
DRAW_DEPTH = 64


@dataclass
class _Node:
    span: Row
    children: list[_Node] = field(default_factory=list)
    logs: list[Row] = field(default_factory=list)


def waterfall(trace: Trace, bar_width: int = 40) -> list[Text]:
    """One trace as text: a header, then the span tree with bars to scale and logs in place."""
    roots, stray = _build_tree(trace.spans, trace.logs)
    begin, end = _window(trace)
    total = max((end - begin).total_seconds() * 1000, 1e-3) if begin and end else 1e-3
    name_width = min(
        _NAME_WIDTH,
        max([len(visible(s["name"] or "?")) + 3 * s["depth"] for s in trace.spans] or [10]),
    )
    out = [_header(trace)]
    layout = _Layout(begin, total, bar_width, name_width, end)
    for i, node in enumerate(roots):
        _render_node(node, "", i == len(roots) - 1, True, layout, out)
    if stray:
        out.append(Text("logs of spans not in the files:", style="yellow"))
        out.extend(Text("   ") + _log_text(log) for log in stray)
    return out


@dataclass
class _Layout:
    begin: datetime | None
    total_ms: float
    bar_width: int
    name_width: int
    end: datetime | None


def _build_tree(spans: list[Row], logs: list[Row]) -> tuple[list[_Node], list[Row]]:
    roots: list[_Node] = []
    stack: list[_Node] = []
    by_id: dict[str, _Node] = {}
    for span in spans:
        node = _Node(span)
        by_id[span["span_id"]] = node
        depth = span["depth"]
        del stack[depth:]
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    stray = []
    for log in logs:
        owner = by_id.get(log["span_id"] or "")
        if owner is None:
            stray.append(log)
        else:
            owner.logs.append(log)
    return roots, stray


def _window(trace: Trace) -> tuple[datetime | None, datetime | None]:
    starts = [s["start_ts"] for s in trace.spans if s["start_ts"] is not None]
    ends = [s["end_ts"] or s["start_ts"] for s in trace.spans if s["start_ts"] is not None]
    ends += [log["ts"] for log in trace.logs if log["ts"] is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def _header(trace: Trace) -> Text:
    s = trace.summary
    text = Text()
    text.append("trace ", style="bold")
    text.append(visible(trace.trace_id), style="bold cyan")
    if s:
        text.append("  " + visible(s["root_name"] or "?"), style="bold")
        text.append(f"  {s['status']}", style=_status_style(s["status"]))
        text.append(f"  {duration(s['duration_ms'])}  {s['span_count']} spans")
        if s["error_count"]:
            text.append(f", {s['error_count']} failed", style="red")
        if s["unfinished_count"]:
            text.append(f", {s['unfinished_count']} unfinished", style="yellow")
        text.append(f"  {timestamp(s['start_ts'])} UTC  ", style="dim")
        text.append(_services(s["services"]), style="dim")
    return text


def _render_node(
    node: _Node, prefix: str, last: bool, top: bool, layout: _Layout, out: list[Text]
) -> None:
    span = node.span
    branch = "" if top else ("└─ " if last else "├─ ")
    out.append(_span_text(span, prefix + branch, layout))
    inner = prefix if top else prefix + ("   " if last else "│  ")
    if span["depth"] >= DRAW_DEPTH and (node.children or node.logs):
        hidden, logs = _below(node)
        out.append(
            Text(
                f"{inner}└┄ {hidden:,} spans and {logs:,} log lines deeper than {DRAW_DEPTH} "
                "levels, not drawn (--json has them)",
                style="yellow",
            )
        )
        return
    items: list[tuple[Any, int, _Node | Row]] = [
        (c.span["start_ts"] or datetime.max, 1, c) for c in node.children
    ]
    items += [(log["ts"] or datetime.max, 0, log) for log in node.logs]
    items.sort(key=lambda item: (item[0], item[1]))
    for i, (_, kind, item) in enumerate(items):
        is_last = i == len(items) - 1
        if kind == 1:
            assert isinstance(item, _Node)
            _render_node(item, inner, is_last, False, layout, out)
        else:
            assert isinstance(item, dict)
            line = Text(inner + ("└· " if is_last else "├· "))
            out.append(line + _log_text(item))


def _below(node: _Node) -> tuple[int, int]:
    """How many spans and log lines lie below ``node`` (counted without recursion)."""
    spans, logs = 0, len(node.logs)
    stack = list(node.children)
    while stack:
        child = stack.pop()
        spans += 1
        logs += len(child.logs)
        stack.extend(child.children)
    return spans, logs


def _span_text(span: Row, lead: str, layout: _Layout) -> Text:
    name = visible(span["name"] or "?")
    label = lead + name
    if len(label) > layout.name_width:
        label = label[: layout.name_width - 1] + "…"
    text = Text(lead)
    status = span["status"]
    text.append(label[len(lead) :], style="bold red" if status == "error" else "bold")
    text.append(" " * max(1, layout.name_width - len(label) + 1))
    text.append(f"{process(span):<22}", style="dim")
    shown = "unfinished" if status == "unfinished" else duration(span["duration_ms"])
    text.append(f"{shown:>11} ", style=_status_style(status) if status != "ok" else "")
    text.append_text(_bar(span, layout))
    if span.get("collapsed"):
        text.append_text(_folded(span))
    if span.get("critical_ms"):
        text.append(f"  ◆ critical {duration(span['critical_ms'])}", style="bold magenta")
    reason = span.get("top_reason")
    if reason == "missing_parent":
        text.append(f"  parent {visible(span['parent_id'])} not in the files", style="yellow")
    elif reason == "cycle":
        text.append("  parent ids loop here (bad data)", style="yellow")
    if status == "error":
        text.append("  " + _error(span), style="red")
    more = extras(span.get("attributes"), 80)
    if more:
        text.append("  " + more, style="dim")
    return text


def _folded(span: Row) -> Text:
    """What a row of folded siblings adds: their p50/p95/max, failures, what it hides."""
    text = Text(
        f"  p50 {duration(span['p50_ms'])}  p95 {duration(span['p95_ms'])}"
        f"  max {duration(span['max_ms'])}",
        style="cyan",
    )
    if span.get("failed"):
        text.append(f", {span['failed']} failed", style="red")
    if span.get("unfinished"):
        text.append(f", {span['unfinished']} unfinished", style="yellow")
    text.append(f"  ({span['hidden']} spans folded)", style="dim")
    return text


def _bar(span: Row, layout: _Layout) -> Text:
    width = layout.bar_width
    start = span["start_ts"]
    if layout.begin is None or start is None:
        return Text("│" + " " * width + "│", style="dim")
    offset = (start - layout.begin).total_seconds() * 1000
    if span["status"] == "unfinished":
        end = layout.end or start
        length_ms = max((end - start).total_seconds() * 1000, 0)
        char, style = "░", "yellow"
    else:
        length_ms = span["duration_ms"] or 0.0
        char, style = "█", "red" if span["status"] == "error" else "green"
    left = min(width - 1, max(0, round(offset / layout.total_ms * width)))
    size = min(width - left, max(1, round(length_ms / layout.total_ms * width)))
    text = Text("│", style="dim")
    text.append(" " * left)
    text.append(char * size, style=style)
    text.append(" " * (width - left - size))
    text.append("│", style="dim")
    return text


def _error(row: Mapping[str, Any]) -> str:
    kind = row.get("error_type") or "error"
    message = row.get("error_message")
    return visible(f"{kind}: {message}" if message else kind)


def _log_text(log: Row) -> Text:
    text = Text()
    text.append(timestamp(log["ts"], date=False), style="dim")
    level = log["level"] or ""
    if log.get("is_span_event"):
        text.append(" event ", style="magenta")
    else:
        text.append(f" {visible(level):<8}", style=LEVEL_STYLES.get(level, ""))
        text.append(visible(log["logger"] or "?") + ": ", style="dim")
    text.append(visible(log["message"] or ""))
    if log.get("error_type"):
        text.append("  " + _error(log), style="red")
    more = extras(log.get("fields"))
    if more:
        text.append("  " + more, style="dim")
    return text


# -- tables ----------------------------------------------------------------------------------


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = 60) -> list[Text]:
    """Rows as aligned plain columns (a header, then one line per row), cells cut at ``limit``."""
    cells = [[_cell(v, limit) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    header = Text("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    header.stylize("bold")
    lines = [header]
    for row in cells:
        lines.append(Text("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()))
    return lines


def _cell(value: Any, limit: int) -> str:
    if value is None:
        text = "NULL"
    elif isinstance(value, datetime):
        text = timestamp(value)
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (dict, list)):
        text = _json(value)
    else:
        text = str(value)
    text = visible(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- tail ------------------------------------------------------------------------------------


TAIL_ID_DIGITS = 20


def tail_line(line: Mapping[str, Any]) -> Text:
    """One line of the files as ``tail`` shows it: time, process, trace, then what happened."""
    text = Text()
    ts = visible(str(line.get(f.TS) or ""))
    text.append((ts[11:26] if len(ts) >= 26 else ts).ljust(15), style="dim")
    text.append(f" {process(line):<20} ", style="dim")
    trace_id = line.get(f.TRACE_ID)
    # 20 digits: logtrace ids begin with 12 of creation time, so 8 would not tell traces of
    # the same millisecond apart; 20 do, and paste into `show`.
    text.append(
        visible(str(trace_id)[:TAIL_ID_DIGITS]) if trace_id else "-" * TAIL_ID_DIGITS, style="cyan"
    )
    text.append(" ")
    marker = line.get(f.SPAN)
    name = visible(str(line.get(f.NAME) or line.get(f.EVENT) or ""))
    if marker == f.SPAN_START:
        text.append("▶ ", style="blue")
        text.append(name, style="bold")
    elif marker == f.SPAN_END:
        status = line.get(f.STATUS)
        failed = status == f.STATUS_ERROR
        text.append("■ ", style="red" if failed else "green")
        text.append(name, style="bold red" if failed else "bold")
        ms = line.get(f.DURATION_MS)
        text.append(f" {duration(ms if isinstance(ms, (int, float)) else None)}")
        if failed:
            text.append("  " + _error(line), style="red")
    elif marker == f.SPAN_EVENT:
        text.append("· event ", style="magenta")
        text.append(name)
    else:
        level = str(line.get(f.LEVEL) or "")
        text.append(f"{visible(level):<7} ", style=LEVEL_STYLES.get(level, ""))
        text.append(visible(str(line.get(f.LOGGER) or "?")) + ": ", style="dim")
        text.append(visible(str(line.get(f.EVENT) or "")))
        if line.get(f.ERROR_TYPE):
            text.append("  " + _error(line), style="red")
    more = extras(line)
    if more:
        text.append("  " + more, style="dim")
    return text
