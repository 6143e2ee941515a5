"""The trace list from the ends of the newest files (logtrace/web/tails.py, data.py): by the
scan (logtrace/read/scan_newest.py) when it can answer, else by DuckDB over excerpts."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

import logtrace
from logtrace.read import scan_ends, scan_newest
from logtrace.web import data, tails


def _history(directory: Path, traces: int, start: datetime) -> list[str]:
    """``traces`` traces of a root and a child each, one a second, in one file."""
    lines = []
    ids = []
    for n in range(traces):
        at = start + timedelta(seconds=n)
        trace_id = f"{int(at.timestamp() * 1000):012x}{n:020x}"
        ids.append(trace_id)
        for span_id, parent, name, offset in (
            ("a" * 15 + "1", None, "root", 0),
            ("b" * 15 + "2", "a" * 15 + "1", "child", 1),
        ):
            base = {
                "level": "info",
                "logger": "logtrace",
                "service": "svc",
                "pid": 7,
                "trace_id": trace_id,
                "span_id": span_id,
                "name": name,
                "parent_id": parent,
            }
            begin = at + timedelta(milliseconds=offset)
            end = begin + timedelta(milliseconds=500 - offset)
            lines.append({**base, "ts": begin.isoformat() + "Z", "event": name, "span": "start"})
            lines.append(
                {
                    **base,
                    "ts": end.isoformat() + "Z",
                    "event": name,
                    "span": "end",
                    "duration_ms": 500.0 - offset,
                    "status": "ok",
                    "filler": "x" * 200,
                }
            )
    lines.sort(key=lambda line: line["ts"])
    day = directory / start.strftime("%Y-%m-%d")
    day.mkdir(parents=True)
    path = day / f"svc_host_7_{start.strftime('%Y%m%dT%H%M%S')}.000Z.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return ids


def test_list_from_tails_equals_a_search_of_everything(tmp_path: Path, monkeypatch) -> None:
    """With small tails the list reads only the ends of the files, and its rows equal those
    of recent_traces over the whole files."""
    start = datetime(2026, 11, 20, 10, 0, 0)
    _history(tmp_path, 2000, start)  # ~33 minutes, ~1.6 MB
    monkeypatch.setattr(tails, "TAIL_BYTES", 200_000)
    monkeypatch.setattr(data, "_scanned", lambda *args: None)  # DuckDB's way

    def no_windows(*args: object) -> None:
        raise AssertionError("the ends of the files should have answered")

    monkeypatch.setattr(data, "_windows", no_windows)
    listed = data.list_traces(str(tmp_path), {"limit": "20"})
    with logtrace.open(tmp_path) as reader:
        everything = reader.query(
            "recent_traces_no_attr",
            since=None,
            until=None,
            service=None,
            name=None,
            status=None,
            min_duration_ms=None,
            limit=20,
        )
    assert listed["traces"] == everything
    assert listed["searched_since"] > start


def test_tails_too_short_fall_back_to_the_files(tmp_path: Path, monkeypatch) -> None:
    """When the ends hold too few complete traces, the list reads more and stays right."""
    start = datetime(2026, 11, 20, 10, 0, 0)
    _history(tmp_path, 600, start)
    monkeypatch.setattr(tails, "TAIL_BYTES", 5_000)
    monkeypatch.setattr(data, "_scanned", lambda *args: None)
    listed = data.list_traces(str(tmp_path), {"limit": "100"})
    with logtrace.open(tmp_path) as reader:
        everything = reader.query(
            "recent_traces_no_attr",
            since=None,
            until=None,
            service=None,
            name=None,
            status=None,
            min_duration_ms=None,
            limit=100,
        )
    assert listed["traces"] == everything


def _everything(directory: Path, limit: int, **filters: object) -> list[dict[str, object]]:
    plain = {"service": None, "name": None, "status": None, "min_duration_ms": None}
    with logtrace.open(directory) as reader:
        return reader.query(
            "recent_traces_no_attr", **{**plain, **filters}, since=None, until=None, limit=limit
        )


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ({}, {}),
        ({"service": "svc", "limit": "7"}, {"service": "svc"}),
        ({"name": "child"}, {"name": "child"}),
        ({"status": "ok", "min_duration": "400ms"}, {"status": "ok", "min_duration_ms": 400.0}),
    ],
)
def test_plain_lists_are_scanned_without_duckdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: dict[str, str], filters: dict
) -> None:
    """A list with only the plain filters is read by the scan (no Reader opened): the rows
    of recent_traces over the whole files."""
    _history(tmp_path, 2000, datetime(2026, 11, 20, 10, 0, 0))

    def no_reader(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scan should have answered")

    monkeypatch.setattr(data, "reading", no_reader)
    listed = data.list_traces(str(tmp_path), query)
    assert listed["traces"] == _everything(tmp_path, int(query.get("limit", 50)), **filters)
    assert listed["files"] == 1


def test_traces_too_far_back_for_the_scan_start_with_a_bigger_excerpt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the scan finds the traces further back than it reads, DuckDB's first excerpt (as
    big) is skipped, and the answer is still a search of everything."""
    _history(tmp_path, 2000, datetime(2026, 11, 20, 10, 0, 0))
    for module in (scan_newest, scan_ends):
        monkeypatch.setattr(module, "MAX_BYTES", 20_000)
    monkeypatch.setattr(tails, "TAIL_BYTES", 20_000)
    sizes: list[int] = []
    excerpt = tails.excerpt

    def measured(files: list[Path], size: int, under: Path | None = None) -> object:
        sizes.append(size)
        return excerpt(files, size, under)

    monkeypatch.setattr(tails, "excerpt", measured)
    listed = data.list_traces(str(tmp_path), {"limit": "300"})
    assert data._scanned(data.trace_query({"limit": "300"}), str(tmp_path)) == "far"
    assert sizes == [160_000]
    assert listed["traces"] == _everything(tmp_path, 300)


@pytest.mark.parametrize(
    ("query", "found"),
    [({"since": "2026-11-20T10:04"}, 50), ({"text": "nothing"}, 0), ({"q": "01a1f86"}, 50)],
)
def test_other_lists_ask_duckdb(tmp_path: Path, query: dict[str, str], found: int) -> None:
    """since, text, a trace id prefix: not the scan's questions; DuckDB answers them."""
    _history(tmp_path, 300, datetime(2026, 11, 20, 10, 0, 0))
    assert data._scanned(data.trace_query(query), str(tmp_path)) is None
    assert len(data.list_traces(str(tmp_path), query)["traces"]) == found


def test_complete_needs_a_root_after_the_cut() -> None:
    """A row counts only with a root span that starts CLOCK_SKEW or more after the cut."""
    cut = datetime(2026, 1, 1, 12, 0)
    late = cut + scan_newest.CLOCK_SKEW + timedelta(seconds=1)
    assert scan_newest.complete({"has_root": True, "start_ts": late}, cut)
    assert not scan_newest.complete({"has_root": False, "start_ts": late}, cut)
    assert not scan_newest.complete({"has_root": True, "start_ts": cut}, cut)
    assert scan_newest.complete({"has_root": False, "start_ts": cut}, None)


def test_excerpts_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """Under umask 000, the excerpt's folders are 0700 and the ends it copies out 0600."""
    start = datetime(2026, 11, 24, 13, 0, 0)
    _history(tmp_path / "logs", 3000, start)
    files = sorted((tmp_path / "logs").rglob("*.jsonl"))
    old = os.umask(0)
    try:
        with tails.excerpt(files, 64 * 1024, tmp_path) as (work, since):
            assert since is not None
            made = [work, *work.rglob("*")]
            modes = {p: (p.is_dir(), stat.S_IMODE(p.lstat().st_mode)) for p in made}
    finally:
        os.umask(old)
    assert any(not folder for folder, _ in modes.values())
    wrong = {p: oct(m) for p, (folder, m) in modes.items() if m != (0o700 if folder else 0o600)}
    assert wrong == {}
