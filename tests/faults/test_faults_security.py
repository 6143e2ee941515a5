"""Security basics, end to end: owner-only files whatever the umask, and no secret on disk."""

from __future__ import annotations

import stat
from pathlib import Path

from _faults_helpers import log_files, run
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
