"""The read side's library: ``logtrace.open``, the views, trees, and real files' rough edges."""

from __future__ import annotations

import multiprocessing
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Written, log_line, span_lines, write_jsonl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logtrace
from logtrace.format import fields as f
from logtrace.read.files import find_files
from logtrace.read.integrity import zstd_complete
from logtrace.read.reader import (
    AmbiguousTrace,
    ReadError,
    TraceNotFound,
    queries_dir,
    query_text,
)

TRACE = "0194f3a2000000000000000000000001"


def tree_of(reader: Any, trace_id: str) -> list[tuple[Any, ...]]:
    """The rows of trace_tree.sql as (depth, span_id, parent_id, name, service, status, attrs)."""
    return [
        (
            r["depth"],
            r["span_id"],
            r["parent_id"],
            r["name"],
            r["service"],
            r["status"],
            r["attributes"],
        )
        for r in reader.query("trace_tree", trace_id=trace_id)
    ]


def test_trees_rebuilt_from_real_files_equal_what_was_written(written: Written) -> None:
    """Traces of several processes, rotated and compressed, come back exactly as written."""
    files = find_files(written.directory)
    assert any(p.name.endswith(".jsonl.zst") for p in files)
    assert len({p.name.split("_")[2] for p in files}) >= 4  # coordinator, workers, crasher
    with logtrace.open(written.directory) as reader:
        assert len(written.trace_ids()) == 3
        for trace_id in written.trace_ids():
            assert tree_of(reader, trace_id) == written.tree(trace_id)


def test_reader_trace_matches_the_tree_query(written: Written) -> None:
    """Reader.trace (lines copied out by text match) gives the same tree as the full views."""
    trace_id = written.trace_ids()[1]
    with logtrace.open(written.directory) as reader:
        trace = reader.trace(trace_id[:16])
        assert trace.trace_id == trace_id
        assert [(s["span_id"], s["depth"]) for s in trace.spans] == [
            (s["span_id"], s["depth"]) for s in reader.query("trace_tree", trace_id=trace_id)
        ]
        assert trace.summary["status"] == "error"
        assert trace.summary["services"] == ["coord", "worker"]
        messages = [log["message"] for log in trace.logs]
        assert "task 1 failed" in messages
        assert messages.count("checkpoint") == 2
        assert all(log["span_name"] for log in trace.logs)


def test_crashed_process_leaves_an_unfinished_span(written: Written) -> None:
    """A span whose process died before its end line is 'unfinished', and so is its trace."""
    with logtrace.open(written.directory) as reader:
        rows = reader.execute("SELECT name, status, service FROM spans WHERE status='unfinished'")
        assert rows == [{"name": "doomed", "status": "unfinished", "service": "crasher"}]
        traces = {r["trace_id"]: r for r in reader.execute("SELECT * FROM traces")}
        assert traces[written.trace_ids()[2]]["status"] == "unfinished"
        assert traces[written.trace_ids()[2]]["unfinished_count"] == 1


def test_plain_and_compressed_files_are_read_alike(logs_dir: Path) -> None:
    """A .jsonl and a .jsonl.zst holding spans are both read."""
    write_jsonl(
        logs_dir / "d" / "a_h_1_20261124T130000.000Z.jsonl",
        span_lines(TRACE, "a" * 16, None, "root", 0, 5),
    )
    write_jsonl(
        logs_dir / "d" / "a_h_2_20261124T130000.000Z.jsonl.zst",
        span_lines(TRACE, "b" * 16, "a" * 16, "child", 1, 2),
    )
    with logtrace.open(logs_dir) as reader:
        assert [r["name"] for r in reader.query("trace_tree", trace_id=TRACE)] == ["root", "child"]


def test_rotation_in_progress_reads_the_compressed_copy_only(logs_dir: Path) -> None:
    """While x.jsonl and x.jsonl.zst both exist, the lines are counted once."""
    lines = span_lines(TRACE, "a" * 16, None, "root", 0, 5)
    write_jsonl(logs_dir / "x.jsonl", lines)
    write_jsonl(logs_dir / "x.jsonl.zst", lines)
    write_jsonl(logs_dir / ".x.jsonl.zst.tmp", lines)
    assert find_files(logs_dir) == [logs_dir / "x.jsonl.zst"]
    with logtrace.open(logs_dir) as reader:
        assert reader.execute("SELECT count(*) AS n FROM events") == [{"n": 2}]


# Another process rotating the files of a big folder as fast as it can: each step creates a
# live file, compresses the one created COMPRESS_AT steps before (its .zst renamed in, then the
# plain name removed) and removes the one KEEP steps before (retention); ``counter`` is the
# number of steps done.
KEEP, COMPRESS_AT = 1200, 600


def _rotated_name(step: int) -> str:
    return f"svc_host_{100000 + step}.20261203T083500{step % 1000:03d}Z.jsonl"


def _rotate_forever(folder: str, counter: Any, stop: Any) -> None:
    step = 0
    while not stop.is_set():
        Path(folder, _rotated_name(step)).touch()
        if step >= COMPRESS_AT:
            plain = Path(folder, _rotated_name(step - COMPRESS_AT))
            work = Path(folder, f".{plain.name}.zst.tmp")
            work.touch()
            work.rename(f"{plain}.zst")
            plain.unlink()
        if step >= KEEP:
            Path(folder, _rotated_name(step - KEEP) + ".zst").unlink()
        step += 1
        counter.value = step


def test_a_file_compressed_while_its_folder_is_listed_is_found(tmp_path: Path) -> None:
    """A folder of 1,200 files takes several reads of the directory; a file compressed between
    two of them (its .zst renamed in where the listing had read, its plain name removed where it
    had not) is found under one of its names all the same: every file that exists from before a
    listing to after it is in it, while another process rotates files as fast as it can."""
    folder = tmp_path / "svc"
    folder.mkdir()
    context = multiprocessing.get_context("spawn")
    counter, stop = context.Value("q", 0, lock=False), context.Event()
    rotator = context.Process(target=_rotate_forever, args=(str(folder), counter, stop))
    rotator.start()
    try:
        while counter.value < KEEP + 10:
            assert rotator.is_alive()
            time.sleep(0.01)
        missed: list[str] = []
        overlapped = 0  # listings during which the rotator moved
        for _ in range(100):
            before = counter.value
            found = {p.name.removesuffix(".zst") for p in find_files(tmp_path)}
            after = counter.value
            # Created before the listing began, removed (by retention) after it ended.
            lasting = {_rotated_name(step) for step in range(after - KEEP + 1, before)}
            missed += sorted(lasting - found)
            overlapped += after > before
    finally:
        stop.set()
        rotator.join(timeout=30)
    assert overlapped, "the rotator stood still during every listing: nothing was tried"
    assert not missed, f"{len(missed)} files missed in {overlapped} listings, e.g. {missed[0]}"


def test_torn_garbage_and_foreign_lines_are_skipped_and_counted(logs_dir: Path) -> None:
    """Torn last lines, text, other programs' JSON and empty files never fail a query."""
    good = span_lines(TRACE, "a" * 16, None, "root", 0, 5)
    write_jsonl(logs_dir / "a.jsonl", [*good, "Traceback (most recent call last):", "[1, 2]"])
    (logs_dir / "b.jsonl").write_bytes(
        orjson_line(log_line(TRACE, "a" * 16, "hi", 1)) + b'{"ts": "2026'
    )
    (logs_dir / "empty.jsonl").write_bytes(b"")
    write_jsonl(logs_dir / "c.jsonl", [{"msg": "from another logger", "time": 5}])
    with logtrace.open(logs_dir) as reader:
        assert reader.execute("SELECT count(*) AS n FROM spans") == [{"n": 1}]
        assert [r["message"] for r in reader.execute("SELECT message FROM logs")] == ["hi"]
        skipped = {Path(r["filename"]).name: r for r in reader.skipped()}
        assert (skipped["a.jsonl"]["unreadable"], skipped["a.jsonl"]["other_json"]) == (1, 1)
        assert (skipped["b.jsonl"]["unreadable"], skipped["b.jsonl"]["other_json"]) == (1, 0)
        assert (skipped["c.jsonl"]["unreadable"], skipped["c.jsonl"]["other_json"]) == (0, 1)
        assert "empty.jsonl" not in skipped


def orjson_line(line: dict[str, Any]) -> bytes:
    """One line of JSON with its newline."""
    import orjson

    return orjson.dumps(line) + b"\n"


def test_a_key_first_seen_in_a_late_file_is_reachable(logs_dir: Path) -> None:
    """fields->>'key' finds a key that appears only after many files and rows."""
    for i in range(40):
        write_jsonl(
            logs_dir / f"f{i:02d}.jsonl", [log_line(None, None, "x", j) for j in range(600)]
        )
    write_jsonl(logs_dir / "f99.jsonl", [log_line(None, None, "late", 1, user_id="u42")])
    with logtrace.open(logs_dir) as reader:
        rows = reader.execute("SELECT event FROM events WHERE fields->>'user_id' = 'u42'")
        assert rows == [{"event": "late"}]


def test_a_field_whose_type_changes_between_files_does_not_fail(logs_dir: Path) -> None:
    """pid as text and a user field as number in one file, other types in another: no error."""
    write_jsonl(logs_dir / "a.jsonl", [log_line(TRACE, "a" * 16, "one", 1, task=42)])
    odd = log_line(TRACE, "a" * 16, "two", 2, task={"id": 42})
    odd[f.PID], odd[f.DURATION_MS] = "not-a-pid", "slow"
    write_jsonl(logs_dir / "b.jsonl", [odd])
    with logtrace.open(logs_dir) as reader:
        rows = reader.execute("SELECT event, pid, fields->>'task' AS task FROM events ORDER BY ts")
        assert rows == [
            {"event": "one", "pid": 100, "task": "42"},
            {"event": "two", "pid": None, "task": '{"id":42}'},
        ]


def test_an_end_whose_start_was_rotated_away_still_appears(logs_dir: Path) -> None:
    """An end line alone gives a span with its name, parent and a start from its duration."""
    _, end = span_lines(TRACE, "b" * 16, "a" * 16, "orphan", 10, 4.5)
    write_jsonl(logs_dir / "a.jsonl", [end])
    with logtrace.open(logs_dir) as reader:
        (span,) = reader.execute("SELECT * FROM spans")
        assert (span["name"], span["parent_id"], span["status"]) == ("orphan", "a" * 16, "ok")
        assert (span["has_start"], span["has_end"]) == (False, True)
        assert (span["end_ts"] - span["start_ts"]).total_seconds() * 1000 == pytest.approx(4.5)
        (row,) = reader.query("trace_tree", trace_id=TRACE)
        assert (row["depth"], row["top_reason"]) == (0, "missing_parent")


def test_children_sit_under_their_parent_whatever_the_clocks_say(logs_dir: Path) -> None:
    """A child whose clock runs behind its parent's stays under it, siblings by start time."""
    root, child_late, child_early = "a" * 16, "b" * 16, "c" * 16
    lines = [
        *span_lines(TRACE, root, None, "root", 100, 50),
        *span_lines(TRACE, child_late, root, "late", 120, 5, service="worker"),
        # Its process's clock is 200 ms behind: it "starts" before its parent.
        *span_lines(TRACE, child_early, root, "skewed", -100, 5, service="worker"),
    ]
    write_jsonl(logs_dir / "a.jsonl", lines)
    with logtrace.open(logs_dir) as reader:
        rows = reader.query("trace_tree", trace_id=TRACE)
        assert [(r["depth"], r["name"]) for r in rows] == [(0, "root"), (1, "skewed"), (1, "late")]


def test_cycles_in_bad_data_end_and_show_every_span(logs_dir: Path) -> None:
    """Parent ids that loop (a->b->a, c->c) end the query; each loop is cut at the top."""
    a, b, c, d = "a" * 16, "b" * 16, "c" * 16, "d" * 16
    lines = [
        *span_lines(TRACE, a, b, "a", 0, 5),
        *span_lines(TRACE, b, a, "b", 1, 5),
        *span_lines(TRACE, c, c, "c", 2, 5),
        *span_lines(TRACE, d, b, "d", 3, 5),
    ]
    write_jsonl(logs_dir / "a.jsonl", lines)
    with logtrace.open(logs_dir) as reader:
        rows = reader.query("trace_tree", trace_id=TRACE)
        shape = [(r["depth"], r["name"], r["top_reason"]) for r in rows]
        assert shape == [(0, "a", "cycle"), (1, "b", None), (2, "d", None), (0, "c", "cycle")]


def test_a_deep_chain_is_followed(logs_dir: Path) -> None:
    """A chain of 300 nested spans comes back whole, depths 0 to 299."""
    ids = [f"{i + 1:016x}" for i in range(300)]
    lines = [
        line
        for i, span_id in enumerate(ids)
        for line in span_lines(TRACE, span_id, ids[i - 1] if i else None, f"s{i}", i, 1000 - i)
    ]
    write_jsonl(logs_dir / "a.jsonl", lines)
    with logtrace.open(logs_dir) as reader:
        rows = reader.query("trace_tree", trace_id=TRACE)
        assert [r["depth"] for r in rows] == list(range(300))


# -- the same tree from shuffled lines --------------------------------------------------------


@st.composite
def traces(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """A random tree of spans (with skewed clocks) as lines, and its expected (depth, id) list."""
    count = draw(st.integers(min_value=1, max_value=14))
    parents = [None] + [draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, count)]
    starts = [draw(st.integers(min_value=-50, max_value=200)) for _ in range(count)]
    unfinished = draw(st.sets(st.integers(min_value=0, max_value=count - 1), max_size=3))
    ids = [f"{i + 1:016x}" for i in range(count)]
    lines: list[dict[str, Any]] = []
    for i in range(count):
        parent = None if parents[i] is None else ids[parents[i]]
        duration = None if i in unfinished else 10.0 + i
        lines += span_lines(TRACE, ids[i], parent, f"s{i}", starts[i], duration, pid=i)
        lines.append(log_line(TRACE, ids[i], f"log {i}", starts[i] + 1))

    expected: list[tuple[int, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        children = [i for i in range(count) if parents[i] == parent]
        for i in sorted(children, key=lambda i: (starts[i], ids[i])):
            expected.append((depth, ids[i]))
            walk(i, depth + 1)

    walk(None, 0)
    return lines, expected


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=traces(), seed=st.integers(), files=st.integers(min_value=1, max_value=4))
def test_the_same_tree_from_shuffled_lines(
    tmp_path_factory: pytest.TempPathFactory,
    case: tuple[list[dict[str, Any]], list[tuple[int, str]]],
    seed: int,
    files: int,
) -> None:
    """Lines in any order, spread over any files, give the same tree."""
    lines, expected = case
    shuffled = list(lines)
    random.Random(seed).shuffle(shuffled)
    directory = tmp_path_factory.mktemp("shuffled")
    for n in range(files):
        write_jsonl(directory / f"p{n}.jsonl{'.zst' if n % 2 else ''}", shuffled[n::files])
    with logtrace.open(directory) as reader:
        rows = reader.query("trace_tree", trace_id=TRACE)
        assert [(r["depth"], r["span_id"]) for r in rows] == expected
        trace = reader.trace(TRACE[:8])
        assert len(trace.logs) == len(expected)
        assert all(log["span_name"] == f"s{int(log['span_id'], 16) - 1}" for log in trace.logs)


# -- ids, errors, packaging ----------------------------------------------------------------


def test_abbreviated_ids_resolve_like_git(logs_dir: Path) -> None:
    """A unique prefix of 8+ digits names a trace; a shared one is ambiguous; none is not found."""
    other = "0194f3a2ffffffffffffffffffffffff"
    write_jsonl(
        logs_dir / "a.jsonl",
        [
            *span_lines(TRACE, "a" * 16, None, "one", 0, 1),
            *span_lines(other, "b" * 16, None, "two", 0, 1),
        ],
    )
    with logtrace.open(logs_dir) as reader:
        assert reader.resolve("0194F3A20") == TRACE
        assert reader.trace("0194f3a2f").trace_id == other
        with pytest.raises(AmbiguousTrace, match="ambiguous"):
            reader.trace("0194f3a2")
        with pytest.raises(TraceNotFound, match=r"^no trace 0194f3a3 in .* \(1 file, "):
            reader.trace("0194f3a3")
        with pytest.raises(ReadError, match="malformed trace id"):
            reader.trace("0194f3")


def test_a_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    """open() of a path that does not exist raises ReadError naming it."""
    with pytest.raises(ReadError, match="no such directory"):
        logtrace.open(tmp_path / "nope")


def test_a_path_that_is_no_path_is_one_read_error(logs_dir: Path) -> None:
    """open(42), open(None) and open([42]) say what a path is (they raised TypeError: 'int'
    object is not iterable)."""
    for wrong in (42, None, [logs_dir, 42]):
        with pytest.raises(ReadError, match=r"^path .*: give a folder, a file, a glob, a URL"):
            logtrace.open(wrong)  # type: ignore[arg-type]


def test_since_and_until_take_what_the_cli_takes(logs_dir: Path) -> None:
    """since/until take text (1h, 30m, 2d, a UTC time), a timedelta and an aware datetime, as
    naive UTC (they raised TypeError: text minus a timedelta; naive against aware)."""
    from datetime import datetime, timedelta, timezone

    from conftest import T0

    write_jsonl(logs_dir / "a.jsonl", span_lines(TRACE, "a" * 16, None, "kept", 0, 1))
    paris = timezone(timedelta(hours=1))
    for since, until, expected in [
        (
            T0.replace(tzinfo=paris),
            "2026-11-24T13:30",
            (T0 - timedelta(hours=1), T0.replace(minute=30)),
        ),
        (T0.replace(tzinfo=timezone.utc), None, (T0, None)),
        ("2026-11-24T14:00+01:00", T0, (T0, T0)),
    ]:
        with logtrace.open(logs_dir, since=since, until=until) as reader:
            assert (reader.since, reader.until) == expected
            assert reader.execute("SELECT name FROM spans") == [{"name": "kept"}]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for ago, width in (("1h", timedelta(hours=1)), ("30m", timedelta(minutes=30)),
                       (timedelta(days=2), timedelta(days=2))):  # fmt: skip
        with logtrace.open(logs_dir, since=ago, until=ago) as reader:
            assert reader.since is not None and reader.until is not None
            assert abs(reader.since - (now - width)) < timedelta(minutes=1)
    for wrong in ("soon", 42, True, "1000000w"):
        with pytest.raises(ReadError, match=r"^since .*: give a datetime .* a duration \(30s"):
            logtrace.open(logs_dir, since=wrong)  # type: ignore[arg-type]
    with pytest.raises(ReadError, match=r"^until 'soon': give"):
        logtrace.open(logs_dir, until="soon")
    with logtrace.open(logs_dir, since=datetime.min, until=datetime.max) as reader:
        assert reader.execute("SELECT name FROM spans") == [{"name": "kept"}]


def test_an_empty_directory_has_empty_views(logs_dir: Path) -> None:
    """With no files every view exists and is empty."""
    with logtrace.open(logs_dir) as reader:
        for view in ("events", "spans", "traces", "logs"):
            assert reader.execute(f"SELECT count(*) AS n FROM {view}") == [{"n": 0}]
        with pytest.raises(TraceNotFound, match=r"\(0 files\)"):
            reader.trace(TRACE)


def test_a_file_removed_after_open_is_dropped_on_retry(logs_dir: Path) -> None:
    """A file that vanishes (retention, rotation) between listing and reading is listed again."""
    write_jsonl(logs_dir / "a.jsonl", span_lines(TRACE, "a" * 16, None, "kept", 0, 1))
    gone = write_jsonl(logs_dir / "b.jsonl", span_lines(TRACE, "b" * 16, None, "gone", 0, 1))
    with logtrace.open(logs_dir) as reader:
        gone.unlink()
        assert reader.execute("SELECT name FROM spans") == [{"name": "kept"}]


def test_a_corrupt_compressed_file_is_left_out(logs_dir: Path) -> None:
    """A .zst that does not decode is reported in unreadable_files; the rest is read."""
    write_jsonl(logs_dir / "a.jsonl", span_lines(TRACE, "a" * 16, None, "kept", 0, 1))
    (logs_dir / "b.jsonl.zst").write_bytes(b"this is not zstd at all")
    with logtrace.open(logs_dir) as reader:
        assert reader.execute("SELECT name FROM spans") == [{"name": "kept"}]
        assert reader.unreadable_files == [logs_dir / "b.jsonl.zst"]


@pytest.mark.parametrize("checksum", [False, True])
def test_a_cut_compressed_file_is_told_from_a_whole_one(tmp_path: Path, checksum: bool) -> None:
    """Whole files (one frame, several frames, a skippable frame, the zstd command's output)
    are complete; every cut of them, down to one byte, is not; nor is an empty file."""
    import shutil

    import zstandard

    text = b"".join(b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * (i % 97)) for i in range(20_000))
    compressor = zstandard.ZstdCompressor(write_checksum=checksum)
    skippable = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"12345"
    whole = {
        "one": compressor.compress(text),
        "two": compressor.compress(text[:5000]) + compressor.compress(text[5000:]),
        "skippable": skippable + compressor.compress(text),
        "rle": compressor.compress(b"\n" * 300_000),
    }
    if shutil.which("zstd"):
        made = subprocess.run(["zstd", "-q", "-c"], input=text, capture_output=True, check=True)
        whole["zstd command"] = made.stdout
    for name, data in whole.items():
        path = tmp_path / f"{name}.jsonl.zst"
        path.write_bytes(data)
        assert zstd_complete(path), name
        for cut in {1, 4, 8, len(data) // 3, len(data) // 2, len(data) - 4, len(data) - 1}:
            path.write_bytes(data[:cut])
            assert not zstd_complete(path), (name, cut)
    (tmp_path / "empty.jsonl.zst").write_bytes(b"")
    assert not zstd_complete(tmp_path / "empty.jsonl.zst")


def test_bad_sql_is_a_read_error_with_one_line(logs_dir: Path) -> None:
    """An SQL error surfaces as ReadError with DuckDB's first line only."""
    with logtrace.open(logs_dir) as reader, pytest.raises(ReadError) as caught:
        reader.execute("SELECT nope FROM spans")
    assert "\n" not in str(caught.value)


def test_sql_without_a_statement_is_one_read_error(logs_dir: Path) -> None:
    """execute() and sql() of empty, blank or comment-only SQL, or of no text, raise ReadError
    in one line (execute raised AttributeError: 'NoneType' object has no attribute
    'description'; sql returned None)."""
    with logtrace.open(logs_dir) as reader:
        for empty in ("", "   \n", "-- just a comment", "/* a comment */", ";"):
            for run in (reader.execute, reader.sql):
                with pytest.raises(ReadError, match=r"^the SQL holds no statement .*: give one"):
                    run(empty)
        for wrong in (None, 42):
            with pytest.raises(ReadError, match=r"^query .*: give SQL text"):
                reader.execute(wrong)  # type: ignore[arg-type]
            with pytest.raises(ReadError, match=r"^name .*: give a name"):
                reader.query(wrong)  # type: ignore[arg-type]
        assert reader.execute("select 1 as n -- a comment") == [{"n": 1}]


def test_user_values_are_parameters_never_sql_text(logs_dir: Path) -> None:
    """A value full of quotes is matched as a value (the views take files by variable)."""
    evil = "x'); DROP VIEW spans; --"
    write_jsonl(logs_dir / "a.jsonl", span_lines(TRACE, "a" * 16, None, evil, 0, 1))
    with logtrace.open(logs_dir) as reader:
        rows = reader.query(
            "span_percentiles",
            since=None, until=None, service=None, name=evil, status=None,
            min_duration_ms=None, attr_key=None, attr_value=None,
        )  # fmt: skip
        assert [r["name"] for r in rows] == [evil]
        assert reader.execute("SELECT count(*) AS n FROM spans") == [{"n": 1}]


@pytest.mark.parametrize("name", ["span_attributes", "compact_lines"])
def test_attributes_leave_out_exactly_the_reserved_fields(name: str) -> None:
    """Attributes (and compacted lines' other fields) leave out exactly the format's fields."""
    patch = re.search(r"'(\{\"ts\": null.*?\})'", query_text(name), re.S)
    assert patch is not None
    import orjson

    ours = set(f.RESERVED) | {f.EVENT}
    if name == "compact_lines":  # the limit markers stay: they are columns nowhere else;
        # the span kind stays too (span_lines reads it from a compacted line's attributes)
        ours -= {f.ATTRIBUTES_DROPPED, f.LINE_TRUNCATED, f.KIND}
    assert set(orjson.loads(patch[1])) == ours


def test_queries_are_found_in_a_checkout() -> None:
    """queries_dir() finds the SQL files next to the package in a source checkout."""
    assert (queries_dir() / "events.sql").is_file()


def test_importing_logtrace_imports_neither_duckdb_nor_rich() -> None:
    """import logtrace stays light; logtrace.open brings DuckDB in on first use."""
    code = (
        "import sys, logtrace\n"
        "assert 'duckdb' not in sys.modules and 'rich' not in sys.modules, 'eager import'\n"
        "assert callable(logtrace.open) and 'duckdb' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_interrupt_ends_the_running_query_from_another_thread(written: Written) -> None:
    """A watchdog (or the CLI's Ctrl-C thread) ends a runaway query with ``interrupt()``: the
    query raises DuckDB's interrupt error, and the reader still answers afterwards."""
    import threading

    import duckdb

    with logtrace.open(written.directory) as db:
        done = threading.Event()

        def watchdog() -> None:
            while not done.wait(0.2):  # again until it ends: the first may precede the query
                db.interrupt()

        thread = threading.Thread(target=watchdog, daemon=True)
        thread.start()
        try:
            with pytest.raises((duckdb.InterruptException, RuntimeError), match="nterrupt"):
                db.sql("select count(*) from range(1000000000000)").fetchall()
        finally:
            done.set()
            thread.join(30)
        assert db.sql("select count(*) from spans").fetchall()[0][0] > 0
