"""``logtrace export`` on the command line: formats to files, selections, one-line errors."""

from __future__ import annotations

from pathlib import Path

import orjson
from _export_helpers import logtrace_cli, written

__all__ = ["written"]


def test_formats_to_a_file(written: Path, tmp_path: Path) -> None:
    """Each format writes a file and says what it wrote on stderr."""
    for fmt in ("otlp-json", "chrome", "jaeger", "zipkin"):
        out = tmp_path / f"out.{fmt}"
        result = logtrace_cli("export", "--dir", str(written), "-f", fmt, "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert "exported 10 spans" in result.stderr
        first = out.read_bytes().splitlines()[0]
        assert orjson.loads(first)


def test_selection_by_id_and_filter(written: Path) -> None:
    """A trace id exports one trace; --status ok exports none of these (both failed)."""
    listed = logtrace_cli("ls", "--dir", str(written), "--json", "-n", "1000")
    ids = [row["trace_id"] for row in orjson.loads(listed.stdout)]
    trace_id = ids[0]
    # An abbreviated id, long enough to be unique: traces begun within 256 ms of each other
    # share their first 10 digits (the time), and an ambiguous prefix is refused.
    size = next(n for n in range(10, 33) if sum(i.startswith(trace_id[:n]) for i in ids) == 1)
    one = logtrace_cli("export", "--dir", str(written), "-f", "zipkin", trace_id[:size])
    assert {s["traceId"] for s in orjson.loads(one.stdout)} == {trace_id}
    none = logtrace_cli("export", "--dir", str(written), "-f", "zipkin", "--status", "ok")
    assert orjson.loads(none.stdout) == []


def test_bad_input_is_one_line(written: Path) -> None:
    """Unknown trace, bad format, --follow without an endpoint: one line, exit non-zero."""
    cases = [("0000000000000000",), ("-f", "svg"), ("--follow",), ("--since", "yesterday")]
    for extra in cases:
        result = logtrace_cli("export", "--dir", str(written), *extra)
        assert result.returncode in (1, 2), extra
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, extra


def test_help_documents_the_command() -> None:
    """`logtrace export --help` shows the docstring's examples."""
    result = logtrace_cli("export", "--help")
    assert result.returncode == 0 and "--otlp-endpoint" in result.stdout
    assert "ui.perfetto.dev" in result.stdout
