"""`logtrace cat`: every line as JSONL from live, rotated and compacted files, in time order,
filtered by time, trace and service; grep keeps working after `logtrace compact`."""

from __future__ import annotations

from pathlib import Path

import orjson
from conftest import log_line, logs_dir, run_cli, span_lines, write_jsonl

import logtrace

TRACE_A = "01a2339e00000000aaaaaaaaaaaaaaaa"
TRACE_B = "01a2339e00000000bbbbbbbbbbbbbbbb"
DAY = "2026-11-24"


def _history(directory: Path) -> None:
    """Compacted history (a JSONL and a rotated .zst file), then a newer JSONL file."""
    a = span_lines(TRACE_A, "a" * 16, None, "a", 0, 30, pid=1, service="coord")
    a.insert(1, log_line(TRACE_A, "a" * 16, "needle in a", 10, pid=1, service="coord"))
    b = span_lines(TRACE_B, "b" * 16, None, "b", 5, 10, pid=2, service="worker")
    write_jsonl(directory / DAY / "coord_h_1_20261124T130000.000Z.jsonl", a)
    write_jsonl(directory / DAY / "worker_h_2_20261124T130000.005Z.jsonl.zst", b)
    done = run_cli("compact", "--dir", str(directory))
    assert done.returncode == 0, done.stderr
    assert not list(directory.rglob("*.jsonl*")), "everything was compacted"
    c = [log_line(None, None, "needle later", 40, pid=3, service="coord")]
    write_jsonl(directory / DAY / "coord_h_3_20261124T130000.040Z.jsonl", c)


def _events(out: str) -> list[str]:
    return [orjson.loads(line)["event"] for line in out.splitlines()]


def test_cat_prints_every_source_in_time_order(logs_dir: Path) -> None:
    """Compacted and live lines come out as JSON lines, oldest first, and grep finds them."""
    _history(logs_dir)
    done = run_cli("cat", "--dir", str(logs_dir))
    assert done.returncode == 0, done.stderr
    assert _events(done.stdout) == ["a", "b", "needle in a", "b", "a", "needle later"]
    assert [line for line in done.stdout.splitlines() if "needle" in line] == [
        line
        for line in done.stdout.splitlines()
        if orjson.loads(line)["event"].startswith("needle")
    ]
    first = orjson.loads(done.stdout.splitlines()[0])
    assert (first["trace_id"], first["span"], first["service"]) == (TRACE_A, "start", "coord")


def test_cat_filters_by_trace_service_and_time(logs_dir: Path) -> None:
    """--trace (a prefix), --service and --since/--until narrow the lines."""
    _history(logs_dir)
    by_trace = run_cli("cat", "--dir", str(logs_dir), "--trace", TRACE_B[:20])
    assert _events(by_trace.stdout) == ["b", "b"]
    by_service = run_cli("cat", "--dir", str(logs_dir), "--service", "coord")
    assert _events(by_service.stdout) == ["a", "needle in a", "a", "needle later"]
    window = run_cli(
        "cat", "--dir", str(logs_dir), "--since", "2026-11-24T13:00:00.008",
        "--until", "2026-11-24T13:00:00.031",
    )  # fmt: skip
    assert _events(window.stdout) == ["needle in a", "b", "a"]
    bad = run_cli("cat", "--dir", str(logs_dir), "--trace", "xyz")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_reader_cat_is_the_library_function(logs_dir: Path) -> None:
    """Reader.cat gives the same lines to Python."""
    _history(logs_dir)
    with logtrace.open(logs_dir) as reader:
        lines = list(reader.cat(service="worker"))
    assert [orjson.loads(line)["span"] for line in lines] == ["start", "end"]


def test_cat_says_which_files_it_left_out_without_verbose(logs_dir: Path) -> None:
    """A file that does not decode is left out of cat's lines and said on stderr in one line
    even without -v (it was silent); the other files' lines all come out."""
    a = span_lines(TRACE_A, "a" * 16, None, "a", 0, 30, pid=1, service="coord")
    write_jsonl(logs_dir / DAY / "coord_h_1_20261124T130000.000Z.jsonl", a)
    (logs_dir / DAY / "worker_h_2_20261124T130000.005Z.jsonl.zst").write_bytes(b"not zstd at all")
    done = run_cli("cat", "--dir", str(logs_dir))
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(a)
    assert done.stderr == "logtrace cat: 1 file left out (not decodable) (see --verbose)\n"


def test_cat_gives_the_demo_s_lines_back_as_written_after_compaction(tmp_path: Path) -> None:
    """The demo's processes write span, log and header lines (root spans with a null
    parent_id, errors, attributes); after `compact`, `cat` gives each line back byte for byte,
    keys in the writer's order (parent_id came first on compacted span lines)."""
    directory = tmp_path / "demo"
    # Every span's start line at once: with the default flush, a demo that ends within a flush
    # interval writes end lines only (one line per short span), and start lines are the point.
    demo = run_cli("demo", "--dir", str(directory), env={"LOGTRACE_FLUSH": "always"})
    assert demo.returncode == 0, demo.stderr
    before = run_cli("cat", "--dir", str(directory))
    assert run_cli("compact", "--dir", str(directory)).returncode == 0
    assert not list(directory.rglob("*.jsonl*")), "everything was compacted"
    after = run_cli("cat", "--dir", str(directory))
    assert before.returncode == after.returncode == 0, after.stderr
    lines = before.stdout.splitlines()
    assert any('"span":"start"' in line and '"parent_id":null' in line for line in lines)
    assert sorted(after.stdout.splitlines()) == sorted(lines)


def test_cat_leaves_out_a_file_only_duckdb_finds_undecodable(logs_dir: Path) -> None:
    """A .zst whose magic number is right and whose frame is garbage: cat prints the other
    files' lines and says in one line that it left one out, exit 0, as ls does (it printed
    nothing and exited 2 with DuckDB's IOException)."""
    a = span_lines(TRACE_A, "a" * 16, None, "a", 0, 30, pid=1, service="coord")
    write_jsonl(logs_dir / DAY / "coord_h_1_20261124T130000.000Z.jsonl", a)
    bad = logs_dir / DAY / "worker_h_2_20261124T130000.005Z.jsonl.zst"
    bad.write_bytes(b"\x28\xb5\x2f\xfd" + b"garbage" * 100)
    done = run_cli("cat", "--dir", str(logs_dir))
    assert done.returncode == 0, done.stderr
    assert _events(done.stdout) == ["a", "a"]
    assert done.stderr == "logtrace cat: 1 file left out (not decodable) (see --verbose)\n"


def test_cat_leaves_out_another_programs_parquet_under_our_name(logs_dir: Path) -> None:
    """A Parquet file of another program under a compacted file's name: cat prints the other
    files' lines and says in one line that it left one out, exit 0, as for a file that does
    not decode (it exited 2 with DuckDB's Binder Error, and printed nothing)."""
    import duckdb

    a = span_lines(TRACE_A, "a" * 16, None, "a", 0, 30, pid=1, service="coord")
    write_jsonl(logs_dir / DAY / "coord_h_1_20261124T130000.000Z.jsonl", a)
    foreign = logs_dir / DAY / "compacted_20261124T130000_20261124T130002_849f89f3214c.parquet"
    duckdb.connect().execute(f"COPY (SELECT 1 AS x) TO '{foreign}' (FORMAT parquet)")
    done = run_cli("cat", "--dir", str(logs_dir))
    assert done.returncode == 0, done.stderr
    assert _events(done.stdout) == ["a", "a"]
    assert done.stderr == "logtrace cat: 1 file left out (not decodable) (see --verbose)\n"
    assert foreign.exists()
