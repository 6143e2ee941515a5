"""``logtrace export`` on the command line: formats to files, selections, one-line errors."""

from __future__ import annotations

import os
import stat
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


def test_output_file_is_owner_only_and_never_a_symlink(written: Path, tmp_path: Path) -> None:
    """-o FILE: a new file is 0600 under umask 022; a file of yours is overwritten and keeps
    its mode; a symlink is refused in one line (exit 2) and its target left as it was."""
    new, mine, link, victim = (tmp_path / n for n in ("new.json", "mine.json", "link", "victim"))
    mine.write_bytes(b"old\n" * 10_000)
    os.chmod(mine, 0o644)
    victim.write_bytes(b"precious\n")
    link.symlink_to(victim)
    umask_022 = {"preexec_fn": lambda: os.umask(0o022)}
    for out in (new, mine):
        result = logtrace_cli("export", "--dir", str(written), "-o", str(out), **umask_022)
        assert result.returncode == 0, result.stderr
        assert orjson.loads(out.read_bytes().splitlines()[0])
    assert stat.S_IMODE(new.stat().st_mode) == 0o600 and new.read_bytes() == mine.read_bytes()
    assert stat.S_IMODE(mine.stat().st_mode) == 0o644
    result = logtrace_cli("export", "--dir", str(written), "-o", str(link), **umask_022)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert str(link) in result.stderr and "symlink" in result.stderr
    assert victim.read_bytes() == b"precious\n" and link.is_symlink()


def test_a_json_line_that_is_not_an_object_is_skipped(written: Path, tmp_path: Path) -> None:
    """A foreign line that is JSON but not an object (an array, a number, a string, null, true)
    is skipped by every format: the traces are exported, not an AttributeError."""
    import shutil

    folder = tmp_path / "logs"
    shutil.copytree(written, folder)
    day = next(p for p in folder.iterdir() if p.is_dir())
    (day / "other_host_1_20261124T130000.000Z.jsonl").write_text(
        '[1, 2]\n42\n"text"\nnull\ntrue\n{"msg": "an object"}\n'
    )
    for fmt in ("otlp-json", "chrome", "jaeger", "zipkin"):
        result = logtrace_cli("export", "--dir", str(folder), "-f", fmt, "-o", "-")
        assert result.returncode == 0, (fmt, result.stderr)
        assert "exported 10 spans" in result.stderr, (fmt, result.stderr)


def test_a_duration_too_large_for_nanoseconds_is_no_duration(written: Path, tmp_path: Path) -> None:
    """Another program's span that lasts 1e308 ms (1e303 and up are infinite in nanoseconds):
    every export died on it (``logtrace: OverflowError: cannot convert float infinity to
    integer``, exit 2, nothing exported; ``--follow`` at every start). Now, as the views read
    it, a duration past 1e12 ms is none: the span is exported at its end time, in every format,
    with all the others."""
    import shutil

    directory = tmp_path / "logtrace"
    shutil.copytree(written, directory)
    day = next(p for p in directory.iterdir() if p.is_dir())
    line = {"ts": "2026-11-24T13:00:00.000000Z", "event": "huge", "span": "end", "name": "huge",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
            "duration_ms": 1e308, "status": "ok"}  # fmt: skip
    (day / "other_host-1_9_20261124T130000.000Z.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    for fmt in ("otlp-json", "chrome", "jaeger", "zipkin"):
        result = logtrace_cli("export", "--dir", str(directory), "-f", fmt)
        assert result.returncode == 0, result.stderr
        assert "exported 11 spans" in result.stderr, result.stderr
        assert "huge" in result.stdout
    out = logtrace_cli("export", "--dir", str(directory), "-f", "zipkin", "4bf92f3577b34da6")
    (span,) = [s for s in orjson.loads(out.stdout) if s["name"] == "huge"]
    assert span["timestamp"] == 1795525200000000 and span.get("duration", 0) <= 1
