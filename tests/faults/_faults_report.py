"""What the fault suite did, recorded by the tests themselves, and the manual's table made from it.

Each scenario test of ``tests/faults/test_faults_*.py`` ends with :func:`record`: it writes its row
(load held, faults survived, inputs tried, lines lost) to ``bench-results/faults/<mode>/<key>.json``
and checks that the table in docs/faults.md says exactly that. One file per row, written by the test
that owns the row, so ``pytest -n 2`` (tests spread over worker processes, in any order) needs no
coordination. Rows hold only numbers the scenario fixes (sizes, fault counts, examples tried), never
timings or counts that vary from run to run, so the table changes only when the suite does.

The mode is ``normal`` (what ``tox`` runs) or ``soak`` (``LOGTRACE_SOAK=1``, ``tox -e soak``:
the same scenarios, bigger). Run this file to print the table block from the latest records::

    python tests/faults/_faults_report.py           # print the block to paste into docs/faults.md
    python tests/faults/_faults_report.py --check   # exit 1 if docs/faults.md says something else
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "bench-results" / "faults"
BEGIN, END = "<!-- FAULT-TABLE -->", "<!-- /FAULT-TABLE -->"
MODES = ("normal", "soak")
SOAK = os.environ.get("LOGTRACE_SOAK", "").strip().lower() in ("1", "true", "yes", "on")
MODE = "soak" if SOAK else "normal"
HEADINGS = {
    "normal": "Every `tox` run (`pytest -n 2`):",
    "soak": "`tox -e soak` (`LOGTRACE_SOAK=1`, the same scenarios, bigger):",
}
COLUMNS = ("scenario", "load held", "faults survived", "inputs tried", "lines lost")

# The rows, in table order: key (the record's file name) and the scenario as the table names it.
ROWS = {
    "load": "load: processes x threads x events, rotating",
    "overflow": "queue overflow: a tiny queue under load",
    "sigkill": "`kill -9` at random moments",
    "disk_full": "disk full (a tiny tmpfs), then space again",
    "read_only": "log folder read-only (a read-only mount over it), then writable",
    "file_size_limit": "file size limit (`RLIMIT_FSIZE`)",
    "fd_limit": "no file descriptors left (`RLIMIT_NOFILE`) at rotation",
    "moved_away": "live file moved away or deleted, folder removed or blocked by a file",
    "fork": "pre-fork server: configure, then fork workers",
    "traceparent": "fuzzed `traceparent` / `tracestate` (hypothesis)",
    "hostile_values": "hostile values: huge, deep, cyclic, unserializable, non-UTF-8, NaN",
    "read_garbage": "read side: random bytes, cut zstd, garbage mid-file, foreign JSON",
    "sql_injection": "SQL injection through every CLI argument that reaches a query",
    "owner_only": "files `0600`, folders `0700` under umask `000`",
    "redaction": "redaction canary: secrets planted everywhere",
    "canary": "redaction canary, 6-character pieces, after `compact` (Parquet)",
    "owner_only_all": "everything made `0600`/`0700` under umask `000`, Parquet included",
    "symlinks": "symlinks planted in the log folder",
    "poison": "poison lines and files: each x every command",
    "deep_tree": "a parent chain 100,000 deep (foreign data)",
}


def scale(normal: int, soak: int) -> int:
    """``normal`` in the normal suite, ``soak`` under ``LOGTRACE_SOAK=1``."""
    return soak if SOAK else normal


@dataclass(frozen=True)
class Row:
    """One line of the table. ``None`` is shown as a dash (the column does not apply)."""

    key: str
    held: str
    faults: int | None = None
    inputs: int | None = None
    lost: int | None = None

    def cells(self) -> list[str]:
        """The row as the table prints it."""
        numbers = [_number(n) for n in (self.faults, self.inputs, self.lost)]
        return [ROWS[self.key], self.held, *numbers]


def _number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def count(n: int) -> str:
    """A number as the table writes it: ``32,000``."""
    return f"{n:,}"


def record(row: Row) -> None:
    """Save the row of the current mode, then fail unless the manual's table shows it."""
    if row.key not in ROWS:
        raise KeyError(f"no row {row.key!r} in ROWS")
    folder = RECORDS / MODE
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f".{row.key}.{os.getpid()}.tmp"
    work.write_bytes(orjson.dumps(asdict(row), option=orjson.OPT_INDENT_2))
    os.replace(work, folder / f"{row.key}.json")
    wanted = _line(row.cells())
    shown = shown_rows(MODE).get(ROWS[row.key])
    assert shown == wanted, (
        f"the fault table of docs/faults.md ({MODE}) says\n  {shown}\n"
        f"but this run produced\n  {wanted}\n"
        "print the table with `python tests/faults/_faults_report.py` and paste it into "
        "docs/faults.md"
    )


def load(mode: str) -> dict[str, Row]:
    """The rows recorded by the latest run of ``mode``."""
    folder = RECORDS / mode
    rows: dict[str, Row] = {}
    for key in ROWS:
        path = folder / f"{key}.json"
        if path.is_file():
            rows[key] = Row(**orjson.loads(path.read_bytes()))
    return rows


def render_table(mode: str, rows: dict[str, Row]) -> str:
    """The Markdown table of one mode, rows in ``ROWS`` order (missing rows left out)."""
    lines = [HEADINGS[mode], "", _line(list(COLUMNS)), _line(["---"] * len(COLUMNS))]
    lines += [_line(rows[key].cells()) for key in ROWS if key in rows]
    return "\n".join(lines)


def render_block() -> str:
    """What goes between the FAULT-TABLE markers: a table per mode that has records."""
    parts = [
        "Each row is written by the test that ran it (`tests/faults/test_faults_*.py`); a test "
        "fails when its row here is not what it just did. *Lines lost* counts lines that are "
        "neither in the files nor in a `logtrace.dropped` count: it must be 0."
    ]
    for mode in MODES:
        rows = load(mode)
        if rows:
            parts.append(render_table(mode, rows))
    return "\n\n".join(parts)


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table_document() -> Path:
    """The page of the manual that holds the table: docs/faults.md."""
    return ROOT / "docs" / "faults.md"


def shown_block() -> str:
    """The text between the markers, as the document has it now."""
    text = table_document().read_text(encoding="utf-8")
    match = re.search(re.escape(BEGIN) + r"\n?(.*?)\n?" + re.escape(END), text, re.S)
    return "" if match is None else match[1].strip()


def shown_rows(mode: str) -> dict[str, str]:
    """The rows of one mode's table in the document: scenario → the whole Markdown line."""
    block = shown_block()
    heading = HEADINGS[mode]
    if heading not in block:
        return {}
    table = block.split(heading, 1)[1].strip().split("\n\n", 1)[0]
    rows: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = line.strip()
    return rows


def main(argv: list[str]) -> int:
    """Print the block; with ``--check``, compare it with the document instead."""
    block = render_block()
    if "--check" in argv:
        if shown_block() != block:
            print(f"{table_document().name}: the fault table differs from the records:\n")
            print(block)
            return 1
        return 0
    print(f"{BEGIN}\n{block}\n{END}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
