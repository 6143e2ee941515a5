"""LiveFile: a batch lands whole or not at all; a file that went away is noticed."""

from __future__ import annotations

from pathlib import Path

from _sink_fixtures import run_child

from logtrace.write.sink.livefile import LiveFile

CUT_BACK = """
import resource
from logtrace.write.sink.livefile import LiveFile
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
live = LiveFile.create(directory, "svc", "host", 0, (0o600, 0o700), b"header\\n")
live.append([b"a" * 500, b"\\n"])
try:
    live.append([b"b" * 800, b"\\n"])  # half of it fits: it must not stay
except OSError as exc:
    print(exc.errno, live.size, live.path.stat().st_size)
"""


def test_a_batch_that_does_not_fit_is_cut_back_out(tmp_path: Path) -> None:
    """When a write stops part way (file size limit), the file is cut back to the last batch."""
    out = run_child(CUT_BACK, tmp_path).stdout.split()
    assert out == [b"27", b"508", b"508"]  # EFBIG; header + first batch, nothing torn


MANY_PARTS = """
import resource
from logtrace.write.sink import livefile
from logtrace.write.sink.livefile import LiveFile
lines = [b"%05d\\n" % i for i in range(3 * livefile._IOV_MAX)]  # 6 bytes each: three writevs
live = LiveFile.create(directory, "svc", "host", 0, (0o600, 0o700), b"header\\n")
live.append(lines)
whole = live.path.read_bytes() == b"header\\n" + b"".join(lines)
# The limit falls in the second writev of the next batch: what the first wrote goes too.
limit = live.size + 6 * livefile._IOV_MAX + 100
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    live.append(lines)
except OSError as exc:
    print(whole, exc.errno, live.size == live.path.stat().st_size == 7 + 18 * livefile._IOV_MAX)
"""


def test_a_batch_of_more_parts_than_one_writev_lands_whole_or_not_at_all(tmp_path: Path) -> None:
    """A batch spread over several writev calls lands in order; one that stops part way
    through its second call is cut back to where the batch began."""
    out = run_child(MANY_PARTS, tmp_path).stdout.split()
    assert out == [b"True", b"27", b"True"]


def test_gone_sees_deletion_and_replacement(tmp_path: Path) -> None:
    """gone() is False for the file in place, True once deleted or replaced under its name."""
    live = LiveFile.create(tmp_path, "svc", "host", 0, (0o600, 0o700), b"")
    assert not live.gone() and not live.has_lines
    live.path.unlink()
    assert live.gone()
    live.path.write_bytes(b"someone else's")
    assert live.gone()
    live.close()


def test_deleted_sees_deletion_but_not_a_move(tmp_path: Path) -> None:
    """deleted() is True once the file has no name left; a file moved away still has one."""
    live = LiveFile.create(tmp_path, "svc", "host", 0, (0o600, 0o700), b"")
    assert not live.deleted()
    moved = live.path.rename(tmp_path / "moved.jsonl")
    assert not live.deleted() and live.gone()
    moved.unlink()
    assert live.deleted()
    live.close()
    assert not live.deleted()  # closed: nothing to tell
