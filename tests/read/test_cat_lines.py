"""``cat_lines`` (logtrace/read/cat.py): files that change or fail under it, over real files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import orjson
import pytest
from conftest import logs_dir, span_lines, write_jsonl

import logtrace
from logtrace.read.files import ReadError

TRACE = "01a2339e00000000aaaaaaaaaaaaaaaa"
DAY = "2026-11-24"
# A zstd frame's magic number and then no frame: the listing takes it, only DuckDB finds out.
NOT_ZSTD = b"\x28\xb5\x2f\xfd" + b"garbage" * 100


def _kept(directory: Path) -> list[str]:
    """A file of one span (two lines), the one that stays readable."""
    write_jsonl(
        directory / DAY / "svc_h_1_20261124T130000.000Z.jsonl",
        span_lines(TRACE, "a" * 16, None, "kept", 0, 1),
    )
    return ["kept", "kept"]


def _names(lines: list[str]) -> list[str]:
    return [orjson.loads(line)["name"] for line in lines]


@pytest.mark.parametrize("change", ["removed", "no longer decodes"])
def test_a_file_changed_after_listing_is_left_out_before_the_first_line(
    logs_dir: Path, change: str
) -> None:
    """A file removed, or overwritten with bytes that do not decode, between listing and
    reading: cat leaves it out and runs again, as the Reader's questions do (a raw DuckDB
    IOException came out)."""
    kept = _kept(logs_dir)
    other = write_jsonl(
        logs_dir / DAY / "svc_h_2_20261124T130000.005Z.jsonl.zst",
        span_lines(TRACE, "b" * 16, None, "other", 5, 1),
    )
    with logtrace.open(logs_dir) as reader:
        lines = reader.cat()
        if change == "removed":
            other.unlink()
        else:
            other.write_bytes(NOT_ZSTD)
        assert _names(list(lines)) == kept
        assert reader.unreadable_files == ([] if change == "removed" else [other])


def test_a_duckdb_error_no_retry_mends_is_a_read_error(logs_dir: Path) -> None:
    """A Parquet file of another program under a compacted file's name (no ts column): cat
    raises ReadError with DuckDB's first line, as every other question does (it raised
    duckdb.BinderException)."""
    _kept(logs_dir)
    foreign = logs_dir / DAY / "compacted_20261124T130000_20261124T130002_849f89f3214c.parquet"
    duckdb.connect().execute(f"COPY (SELECT 1 AS x) TO '{foreign}' (FORMAT parquet)")
    with logtrace.open(logs_dir) as reader, pytest.raises(ReadError) as caught:
        list(reader.cat())
    message = str(caught.value)
    assert message.startswith("Binder Error: ") and "\n" not in message, message
