"""The read side's errors are public: logtrace.ReadError, TraceNotFound, AmbiguousTrace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import logs_dir, span_lines, write_jsonl

import logtrace


def test_trace_errors_are_exported_and_raised(logs_dir: Path) -> None:
    """trace() raises logtrace.TraceNotFound for an unknown id and logtrace.AmbiguousTrace for a
    prefix of two traces; both are logtrace.ReadError."""
    for trace_id in ("4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4737"):
        write_jsonl(
            logs_dir / "2026-11-24" / f"svc_h_{trace_id[-1]}_20261124T130000.000Z.jsonl",
            span_lines(trace_id, "a" * 16, None, "root", 0, 5),
        )
    with logtrace.open(logs_dir) as reader:
        with pytest.raises(logtrace.TraceNotFound):
            reader.trace("ffffffffffffffff")
        with pytest.raises(logtrace.AmbiguousTrace):
            reader.trace("4bf92f3577b34da6")
        with pytest.raises(logtrace.ReadError):
            reader.execute("select nonsense from nowhere")
    assert issubclass(logtrace.TraceNotFound, logtrace.ReadError)
    assert issubclass(logtrace.AmbiguousTrace, logtrace.ReadError)


def test_sql_that_does_not_bind_and_an_id_that_is_not_text_are_read_errors(
    logs_dir: Path,
) -> None:
    """Reader.sql() of a missing table or bad syntax raises ReadError with DuckDB's first line
    (it raised duckdb's own exceptions, which the docs' ReadError does not catch), and
    trace(None) says the id is malformed (it raised AttributeError)."""
    write_jsonl(
        logs_dir / "2026-11-24" / "svc_h_1_20261124T130000.000Z.jsonl",
        span_lines("4bf92f3577b34da6a3ce929d0e0e4736", "a" * 16, None, "root", 0, 5),
    )
    with logtrace.open(logs_dir) as reader:
        with pytest.raises(logtrace.ReadError, match=r"^Catalog Error: Table with name nope"):
            reader.sql("select * from nope")
        with pytest.raises(logtrace.ReadError, match=r"^Parser Error: syntax error"):
            reader.sql("selec 1")
        assert reader.sql("select count(*) from spans").fetchall() == [(1,)]
        for wrong in (None, 123):
            with pytest.raises(logtrace.ReadError, match="malformed trace id"):
                reader.trace(wrong)  # type: ignore[arg-type]


def test_importing_the_errors_imports_no_duckdb() -> None:
    """logtrace.ReadError and friends are there without DuckDB being imported."""
    code = (
        "import sys, logtrace\n"
        "logtrace.ReadError, logtrace.TraceNotFound, logtrace.AmbiguousTrace\n"
        "assert 'duckdb' not in sys.modules, 'duckdb imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
