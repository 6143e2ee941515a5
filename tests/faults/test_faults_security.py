"""Security basics, end to end: owner-only files whatever the umask, and no secret on disk."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from _faults_helpers import log_files, run, start
from _faults_report import Row, record
from write import test_redact

# Under umask 000, configure() with default modes, rotating (so compressed files exist too).
OWNER_ONLY = """
import logging, os, sys, logtrace
os.umask(0)
logtrace.configure(service="modes", directory=sys.argv[1], rotate_bytes=2048, environ={})
for i in range(200):
    with logtrace.span("op", i=i):
        logging.getLogger("app").info("line %d", i)
logtrace.shutdown()
"""


def test_files_and_folders_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """Under umask 000, every file logtrace creates (live, rotated, compressed) is 0600 and
    every folder (the log folder, its parents it made, the day folders) is 0700."""
    directory = tmp_path / "made" / "by" / "logtrace"
    run(OWNER_ONLY, directory)
    files = log_files(directory)
    assert any(p.name.endswith(".zst") for p in files) and any(
        p.name.endswith(".jsonl") for p in files
    )
    everything = [p for p in (tmp_path / "made").rglob("*")] + [tmp_path / "made"]
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in everything}
    assert {p: m for p, m in modes.items() if p.is_dir() and m != 0o700} == {}
    assert {p: m for p, m in modes.items() if p.is_file() and m != 0o600} == {}
    record(Row("owner_only", "live, rotated and compressed files; every folder made"))


def test_redaction_canary_runs_here_too(tmp_path: Path) -> None:
    """The canary of tests/write/test_redact.py: planted secrets, nor any 4-character piece of
    them, reach no file (live or compressed)."""
    test_redact.test_canary_no_secret_nor_any_4_char_piece_reaches_any_file(tmp_path)
    planted = test_redact.CANARY_PROGRAM.count('s["')
    record(
        Row(
            "redaction",
            "attributes, nested fields, messages, URLs, tracebacks, argv",
            inputs=planted + 1,  # and the one on the command line
            lost=None,
        )
    )


# Start a sink (retention and the orphan sweep run at start), write a span, wait for both.
RETENTION = """
import sys, time, logtrace
logtrace.configure(service="v", directory=sys.argv[1], retention_days=1, environ={})
with logtrace.span("op"):
    pass
time.sleep(1)
logtrace.shutdown()
"""


def test_retention_and_the_orphan_sweep_never_work_through_a_symlinked_day_folder(
    tmp_path: Path,
) -> None:
    """A day folder planted as a symlink to a folder elsewhere: the files there named like a
    rotated file, a dead process's file and a work file, all weeks old, are neither deleted
    nor compressed by retention and the start-up sweep; stderr says once it was left alone."""
    logs, outside = tmp_path / "logs", tmp_path / "outside"
    logs.mkdir(mode=0o700)
    outside.mkdir()
    names = [
        "svc_host_1_20200101T000000.000Z.jsonl.zst",
        "svc_host_2_20200101T000000.000Z.jsonl",
        ".svc_host_3_20200101T000000.000Z.jsonl.new",
    ]
    weeks_ago = time.time() - 30 * 86400
    for name in names:
        (outside / name).write_text("precious\n")
        os.utime(outside / name, (weeks_ago, weeks_ago))
    (logs / "2020-01-01").symlink_to(outside)
    child = start(RETENTION, logs)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert sorted(p.name for p in outside.iterdir()) == sorted(names)
    assert all(p.read_text() == "precious\n" for p in outside.iterdir())
    said = [line for line in err.decode().splitlines() if str(logs / "2020-01-01") in line]
    assert len(said) == 1 and "symlink" in said[0], err
    assert log_files(logs)
