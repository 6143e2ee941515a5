"""Publishing compacted history to a shared directory: many hosts, crashes, one history."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_compact import history

import logtrace
from logtrace.read.compact import compact
from logtrace.read.files import find_compacted, find_files, find_span_files
from logtrace.read.publish import PublishError, publish

PUBLISHER = """
import sys
from pathlib import Path
from logtrace.read.compact import compact
from logtrace.read.publish import publish
print("ready", flush=True)
compact(Path(sys.argv[1]), batch_bytes=int(sys.argv[3]))
publish(Path(sys.argv[1]), sys.argv[2])
"""


def publisher(root: Path, dest: Path | str) -> subprocess.Popen[str]:
    """``compact`` then ``publish`` to ``dest`` in a child process, once it has imported
    logtrace."""
    child = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, str(root), str(dest), "1"],
        env=env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def publisher_run(root: Path, dest: Path | str) -> float:
    """Seconds a whole publisher run takes, from ready to its end."""
    child = publisher(root, dest)
    started = time.monotonic()
    assert child.wait(timeout=300) == 0
    return time.monotonic() - started


def host_history(root: Path, host: str, seed: int, hours: int = 4) -> None:
    """Hand-made history (test_compact.history) as written on ``host``."""
    history(root, hours=hours, seed=seed)
    for path in find_files(root):
        path.rename(path.with_name(path.name.replace("_host_", f"_{host}_")))


def view(locations: Any) -> dict[str, Any]:
    """What the views say, without file names (a line's place changes when published)."""
    with logtrace.open(locations, pruning=False) as reader:
        events = reader.execute("SELECT * EXCLUDE (filename) FROM events")
        spans = reader.execute("SELECT * EXCLUDE (filename) FROM spans")
        traces = reader.execute("SELECT * FROM traces")
    return {
        "events": sorted(map(_text, events)),
        "spans": sorted(map(_text, spans)),
        "traces": sorted(map(_text, traces)),
    }


def _text(row: dict[str, Any]) -> str:
    """A row as comparable text: keys sorted, numbers as floats (a compacted line is rebuilt
    from typed columns: its keys in their order, ``40`` as ``40.0``)."""
    return orjson.dumps(_floats(row), option=orjson.OPT_SORT_KEYS, default=str).decode()


def _floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def merged(*views: dict[str, Any]) -> dict[str, Any]:
    """The views of several hosts' histories as one."""
    return {key: sorted(x for v in views for x in v[key]) for key in views[0]}


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LOGTRACE_")}


def test_two_hosts_publishing_at_once_make_one_history(tmp_path: Path) -> None:
    """Two hosts compacting and publishing into one directory at once: every line, once."""
    shared = tmp_path / "shared"
    shared.mkdir()
    roots = [tmp_path / "a" / "logtrace", tmp_path / "b" / "logtrace"]
    host_history(roots[0], "app-1", seed=1)
    host_history(roots[1], "app-2", seed=2)
    expected = merged(*(view(r) for r in roots))
    children = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(r), str(shared), "1"],
            env=env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for r in roots
    ]
    for child in children:
        assert child.wait(timeout=120) == 0
    assert view(shared) == expected
    for root in roots:
        assert find_compacted(root) == [] and not find_span_files(root)
    names = [p.name for p in shared.rglob("*.parquet")]
    assert len(names) == len(set(names)) == 2 * 2 * 8  # per host 8 batches, 2 files each
    assert all(p.parent.name == "day=2026-11-24" for p in shared.rglob("*.parquet"))


def test_killed_mid_publish_loses_and_doubles_nothing(tmp_path: Path) -> None:
    """Compact --to killed (SIGKILL) at random points: local plus shared history is whole."""
    root = tmp_path / "logtrace"
    shared = tmp_path / "shared"
    shared.mkdir()
    host_history(root, "app-1", seed=3, hours=8)
    before = view(root)
    # How long a whole run takes on this machine, on a copy: the kills fall inside that time.
    calibration = tmp_path / "calibration"
    shutil.copytree(root, calibration / "logtrace")
    (calibration / "shared").mkdir()
    whole = publisher_run(calibration / "logtrace", calibration / "shared")
    rng = random.Random(7)
    kills = 0
    for _ in range(10):
        child = publisher(root, shared)
        time.sleep(rng.uniform(0.02, 0.9) * whole)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=120)
        # Readers given both places count each batch once, wherever it is.
        assert view([root, shared]) == before
        if not find_files(root) and not find_compacted(root):
            break
    assert kills >= 1
    compact(root)
    publish(root, str(shared))
    assert find_compacted(root) == [] and view(shared) == before
    assert not [p for p in shared.rglob(".*") if p.is_file()]


def test_a_different_file_under_the_same_name_is_never_replaced(tmp_path: Path) -> None:
    """Publishing refuses to overwrite a different file, and keeps its local copy."""
    root = tmp_path / "logtrace"
    shared = tmp_path / "shared"
    host_history(root, "app-1", seed=4)
    compact(root)
    (compacted,) = find_compacted(root)
    target = shared / "day=2026-11-24" / compacted.name
    target.parent.mkdir(parents=True)
    target.write_bytes(b"another host's file")
    with pytest.raises(PublishError, match="a different file has that name"):
        publish(root, str(shared))
    assert compacted.exists() and target.read_bytes() == b"another host's file"


def test_publishing_twice_changes_nothing(tmp_path: Path) -> None:
    """A batch found already published, byte for byte, counts as published; local copy removed."""
    root = tmp_path / "logtrace"
    shared = tmp_path / "shared"
    shared.mkdir()
    host_history(root, "app-1", seed=5)
    compact(root)
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(root, copy)
    first = publish(root, str(shared))
    assert len(first.published) == 2 and first.already == []
    again = publish(copy, str(shared))  # as if killed after the upload, before the deletes
    assert again.published == [] and len(again.already) == 2
    assert find_compacted(copy) == []


def test_cli_compact_to_and_read_several_dirs(tmp_path: Path, cli: Any) -> None:
    """compact --to publishes; ls, stats and show read local and shared history together."""
    root = tmp_path / "logtrace"
    shared = tmp_path / "shared"
    shared.mkdir()
    host_history(root, "app-1", seed=8)
    expected = view(root)
    done = cli("compact", "--dir", str(root), "--to", str(shared), "--json")
    assert done.returncode == 0, done.stderr
    report = orjson.loads(done.stdout)
    assert len(report["publish"]["published"]) == 2 and find_compacted(root) == []
    assert view([root, shared]) == expected
    listed = cli("ls", "--dir", str(root), "--dir", str(shared), "-n", "100", "--json")
    assert listed.returncode == 0, listed.stderr
    trace_id = orjson.loads(listed.stdout)[0]["trace_id"]
    assert len(orjson.loads(listed.stdout)) == len(expected["traces"])
    shown = cli("show", "--dir", str(shared), trace_id, "--json")
    assert shown.returncode == 0 and trace_id in shown.stdout
    stats = cli("stats", "--dir", str(root), "--dir", str(shared), "--json")
    assert stats.returncode == 0, stats.stderr


def test_cli_compact_refuses_a_url_or_several_dirs(tmp_path: Path, cli: Any) -> None:
    """compact works on one local directory: a URL or two --dir are a one-line error."""
    done = cli("compact", "--dir", "s3://bucket/x")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "one local --dir" in done.stderr


def test_a_missing_shared_directory_is_refused_and_nothing_is_made_or_lost(tmp_path: Path) -> None:
    """``--to`` a directory that does not exist (an unmounted share, a typo) is refused with
    what to do, before anything is published: no directory is made on the local disk and the
    compacted files stay where they are."""
    root = tmp_path / "logtrace"
    host_history(root, "app-1", seed=3)
    compact(root)
    before = sorted(find_compacted(root))
    missing = tmp_path / "mnt" / "shared"
    with pytest.raises(logtrace.ReadError, match="no such directory \\(create it, or mount"):
        publish(root, str(missing))
    assert not missing.exists() and sorted(find_compacted(root)) == before


def test_a_symlinked_partition_folder_is_refused_and_named_by_readers(
    tmp_path: Path, cli: Any
) -> None:
    """day=… planted as a symlink in the shared directory: compact --to writes nothing through
    it (one line, exit 2, local copies kept); ls -v over the share names the symlink."""
    root = tmp_path / "logtrace"
    shared = tmp_path / "shared"
    elsewhere = tmp_path / "elsewhere"
    shared.mkdir()
    elsewhere.mkdir()
    host_history(root, "app-1", seed=6)
    (shared / "day=2026-11-24").symlink_to(elsewhere)
    done = cli("compact", "--dir", str(root), "--to", str(shared))
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert "is not a folder (a symlink?): refused, the local copy kept" in line
    assert list(elsewhere.iterdir()) == [] and len(find_compacted(root)) == 1
    listed = cli("ls", "--dir", str(root), "--dir", str(shared), "-v")
    assert listed.returncode == 0, listed.stderr
    assert f"  {shared / 'day=2026-11-24'}: not read (a symlink" in listed.stderr


def test_files_not_logtraces_are_neither_published_nor_deleted(tmp_path: Path, cli: Any) -> None:
    """Under compacted and span files' names in the log directory: another program's Parquet
    file and random bytes. compact --to names them and leaves them where they are, byte for
    byte; ours is published (it uploaded them to the share and deleted the local copies)."""
    import duckdb

    root = tmp_path / "logtrace"
    shared = tmp_path / "shared"
    shared.mkdir()
    host_history(root, "app-1", seed=9)
    expected = view(root)
    day = root / "2026-11-24"
    theirs = day / "compacted_20261124T010000_20261124T020000_0123456789ab.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 1 AS x, 'y' AS y) TO '{theirs}' (FORMAT parquet)")
    garbage = day / "compacted_20261124T030000_20261124T040000_ba9876543210.parquet"
    garbage.write_bytes(b"PAR1 not a parquet file at all")
    their_spans = day / ("spans_" + theirs.name[len("compacted_") :])
    their_spans.write_bytes(theirs.read_bytes())
    kept = {p: p.read_bytes() for p in (theirs, garbage, their_spans)}

    done = cli("compact", "--dir", str(root), "--to", str(shared), "-v")
    assert done.returncode == 0, done.stderr
    (summary,) = [line for line in done.stdout.splitlines() if line.startswith("published")]
    assert "published 2 files" in summary
    assert "3 files not logtrace's left alone, not published (see --verbose)" in summary
    for path in kept:
        assert f"  {path}: not logtrace's, left alone, not published" in done.stderr
    assert f"  {theirs}: not logtrace's (not Parquet, or lacking logtrace's columns)" in (
        done.stderr
    )
    assert {p: p.read_bytes() for p in kept} == kept
    names = {p.name for p in shared.rglob("*") if p.is_file()}
    assert len(names) == 2 and not names & {p.name for p in kept}
    for path in kept:
        path.unlink()
    assert view([root, shared]) == expected


def test_compact_names_another_programs_parquet_file(tmp_path: Path) -> None:
    """compact leaves another program's Parquet file under a compacted file's name alone and
    names it in CompactResult.foreign (it said nothing of it)."""
    import duckdb

    root = tmp_path / "logtrace"
    host_history(root, "app-1", seed=10)
    theirs = root / "2026-11-24" / "compacted_20261124T010000_20261124T020000_0123456789ab.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 1 AS x) TO '{theirs}' (FORMAT parquet)")
    # Under the name of a span file without its compacted file (a leftover compaction
    # removes): another program's Parquet file, and random bytes. Ours is removed.
    day = root / "2026-11-24"
    their_spans = day / "spans_20261124T050000_20261124T060000_0123456789ab.parquet"
    their_spans.write_bytes(theirs.read_bytes())
    garbage = day / "spans_20261124T070000_20261124T080000_ba9876543210.parquet"
    garbage.write_bytes(b"not parquet")
    result = compact(root)
    assert sorted(result.foreign) == sorted([theirs, their_spans, garbage])
    assert result.unreadable == [] and all(p.exists() for p in result.foreign)
    assert len(result.written) == 1 and str(theirs) in result.as_dict()["foreign"]
    (ours,) = find_span_files(root) - set(result.foreign)
    leftover = day / ("spans_20261124T090000_20261124T100000_" + "c" * 12 + ".parquet")
    shutil.copyfile(ours, leftover)
    again = compact(root)
    assert not leftover.exists() and sorted(again.foreign) == sorted(result.foreign)
