"""``logtrace export --otlp-endpoint --follow``: new lines shipped as they are written; across a
restart and a receiver that fails for a while, nothing is lost and nothing is sent twice."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

pytest.importorskip("opentelemetry.proto")

from _export_helpers import Receiver, receiving, write_traces

import logtrace
from logtrace import ReadError
from logtrace.export.follow import Checkpoint, Shipper
from logtrace.export.otlp_http import Sender

ROOT = str(Path(__file__).resolve().parents[2])


def _follower(directory: Path, checkpoint: Path, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "logtrace", "export", "--dir", str(directory), "--otlp-endpoint",
         url, "--follow", "--checkpoint", str(checkpoint), "--poll-interval", "0.1",
         "--batch-size", "4"],
        env={**os.environ, "PYTHONPATH": ROOT}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 90
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return err


def _written_spans(directory: Path) -> list[str]:
    with logtrace.open(directory) as reader:
        return sorted(r[0] for r in reader.sql("select span_id from spans").fetchall())


def test_failing_receiver_and_restarts_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    """Files written before, during and between two runs of --follow, a receiver failing at
    first: every span arrives exactly once, every log line too."""
    directory, checkpoint = tmp_path / "logtrace", tmp_path / "checkpoint.json"
    write_traces(directory, 2)  # before: 10 spans, rotated and compressed files among them
    with receiving(failures=[503, 503, 502, 429], retry_after="0") as receiver:
        follower = _follower(directory, checkpoint, receiver.url)
        _wait_for(lambda: len(receiver.accepted_spans) >= 10, "the first spans")
        write_traces(directory, 1)  # while following
        _wait_for(lambda: len(receiver.accepted_spans) >= 15, "the spans written meanwhile")
        summary = _stop(follower)
        write_traces(directory, 1)  # while stopped
        follower = _follower(directory, checkpoint, receiver.url)
        _wait_for(lambda: len(receiver.accepted_spans) >= 20, "the spans written while stopped")
        _wait_for(lambda: len(receiver.accepted_logs) >= 8, "the log lines")
        time.sleep(0.5)  # a few more polls: anything sent twice would arrive now
        _stop(follower)
        spans = Counter(s[1] for s in receiver.accepted_spans)
        logs = Counter(receiver.accepted_logs)
    assert receiver.refused == 4 and "retries" in summary
    assert sorted(spans) == _written_spans(directory) and len(spans) == 20
    assert max(spans.values()) == 1, "a span was sent twice"
    assert len(logs) == 8 and max(logs.values()) == 1


def _line(directory: Path, **fields: object) -> None:
    folder = directory / "2026-12-01"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "svc_host_42_20261201T100000.000Z.jsonl"
    base = {"level": "info", "logger": "logtrace", "service": "svc", "pid": 42,
            "trace_id": "ab" * 16, "trace_flags": "01"}  # fmt: skip
    with path.open("ab") as out:
        out.write(orjson.dumps({**base, **fields}) + b"\n")


def test_a_span_open_across_a_restart_keeps_its_start_attributes(tmp_path: Path) -> None:
    """A start line read before a restart and its end line after it make one whole span."""
    directory, checkpoint = tmp_path / "logtrace", tmp_path / "ck.json"
    start = {"ts": "2026-12-01T10:00:01.000000Z", "event": "job", "span_id": "cd" * 8,
             "span": "start", "name": "job", "parent_id": None, "task": 42}  # fmt: skip
    _line(directory, **start)
    with receiving() as receiver:
        first = Shipper(directory, checkpoint, Sender(receiver.url, max_time=None), logs=False)
        assert first.poll() == 1 and first.drain()
        assert receiver.accepted_spans == []
        _line(directory, **{**start, "ts": "2026-12-01T10:00:03.000000Z", "span": "end",
                            "duration_ms": 2000.0, "status": "ok", "task": None})  # fmt: skip
        second = Shipper(directory, checkpoint, Sender(receiver.url, max_time=None), logs=False)
        assert second.poll() == 1 and second.drain()
        third = Shipper(directory, checkpoint, Sender(receiver.url, max_time=None), logs=False)
        assert third.poll() == 0
    assert receiver.accepted_spans == [("ab" * 16, "cd" * 8, "job")]


def test_outbox_survives_a_stop_while_the_receiver_is_down(tmp_path: Path) -> None:
    """Requests not accepted when stopped stay in the checkpoint and go out on the next run."""
    directory, checkpoint = tmp_path / "logtrace", tmp_path / "ck.json"
    _line(directory, ts="2026-12-01T10:00:01.000000Z", event="hello", span_id="cd" * 8)
    down = Receiver()  # never started: connection refused
    url = down.url
    down.server.server_close()
    sender = Sender(url, max_time=None)
    shipper = Shipper(directory, checkpoint, sender)
    shipper.poll()
    sender.stop.set()
    assert not shipper.drain()
    assert len(orjson.loads(checkpoint.read_bytes())["outbox"]) == 1
    with receiving() as receiver:
        again = Shipper(directory, checkpoint, Sender(receiver.url, max_time=None))
        assert again.drain() and again.poll() == 0
    assert [log[2] for log in receiver.accepted_logs] == ["hello"]


def test_checkpoint_never_writes_through_a_planted_symlink(tmp_path: Path) -> None:
    """A symlink planted at the checkpoint's work name (``….json.tmp``) is not followed: its
    target is untouched; the checkpoint is 0600 and the folders made for it 0700, whatever the
    umask."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious\n")
    directory = tmp_path / "logtrace"
    directory.mkdir()
    path = directory / ".otlp-checkpoint.json"
    Path(f"{path}.tmp").symlink_to(victim)
    nested = tmp_path / "state" / "follow" / "ck.json"
    old = os.umask(0o022)
    try:
        for checkpoint in (Checkpoint(path), Checkpoint(nested)):
            checkpoint.outbox.append({"signal": "logs", "request": {}, "count": 0})
            checkpoint.save()
            checkpoint.save()
    finally:
        os.umask(old)
    assert victim.read_bytes() == b"precious\n"
    assert Checkpoint(path).outbox == Checkpoint(nested).outbox != []
    modes = [stat.S_IMODE(os.lstat(p).st_mode) for p in (path, nested, nested.parent,
                                                         nested.parent.parent)]  # fmt: skip
    assert modes == [0o600, 0o600, 0o700, 0o700]
    assert sorted(p.name for p in nested.parent.iterdir()) == ["ck.json"]


def test_a_symlinked_checkpoint_is_refused(tmp_path: Path) -> None:
    """A checkpoint that is a symlink is neither read nor replaced: one line naming it."""
    victim = tmp_path / "victim"
    victim.write_bytes(b'{"version": 1}')
    path = tmp_path / "ck.json"
    path.symlink_to(victim)
    with pytest.raises(ReadError, match=r"^checkpoint .*ck\.json: a symlink, not followed$"):
        Checkpoint(path)
    assert path.is_symlink() and victim.read_bytes() == b'{"version": 1}'


def test_a_redirect_stops_following_and_keeps_the_outbox(tmp_path: Path) -> None:
    """A receiver answering 302: --follow sends nothing there, stops by itself (exit 1, the
    redirect named), and the requests stay in the checkpoint for the right URL."""
    directory, checkpoint = tmp_path / "logtrace", tmp_path / "ck.json"
    _line(directory, ts="2026-12-01T10:00:01.000000Z", event="hello", span_id="cd" * 8)
    with receiving() as elsewhere, receiving([302] * 100, location=elsewhere.url) as first:
        process = _follower(directory, checkpoint, first.url)
        try:
            _, err = process.communicate(timeout=60)
        finally:
            process.kill()  # it should have stopped by itself
    assert process.returncode == 1, err
    assert "answered 302 (a redirect to" in err and "give the final URL" in err
    assert elsewhere.requests == [] and len(first.requests) == 1
    assert len(orjson.loads(checkpoint.read_bytes())["outbox"]) == 1
    with receiving() as receiver:
        assert Shipper(directory, checkpoint, Sender(receiver.url, max_time=None)).drain()
    assert [log[2] for log in receiver.accepted_logs] == ["hello"]
