"""The fault table of docs/faults.md: one row per scenario, as the scenario tests recorded them.

Each scenario test checks its own row when it records it (``_faults_report.record``), which
works in any order and on any xdist worker; this module checks the table as a whole.
"""

from __future__ import annotations

import subprocess
import sys

import _faults_report as report


def test_the_table_has_every_scenario_in_order_and_nothing_else() -> None:
    """The document's normal-run table lists exactly the scenarios of ROWS, in their order,
    each with the five columns."""
    rows = report.shown_rows("normal")
    assert list(rows) == list(report.ROWS.values()), (
        f"{report.table_document().name}: print the table with "
        "`python tests/faults/_faults_report.py` and paste it between the FAULT-TABLE markers"
    )
    for line in rows.values():
        assert line.count("|") == len(report.COLUMNS) + 1, line
        assert line.rstrip("| ").endswith(("0", "—")), f"lines lost must be 0: {line}"


def test_the_table_is_what_the_records_render() -> None:
    """Where the latest runs left records for every scenario of a mode and the document has
    that mode's table, the table is exactly what the records render."""
    for mode in report.MODES:
        records = report.load(mode)
        if set(records) != set(report.ROWS) or report.HEADINGS[mode] not in report.shown_block():
            continue  # a fresh checkout, a partial run, a mode never pasted: rows check themselves
        rendered = report.render_table(mode, records)
        assert rendered in report.shown_block(), f"the {mode} table differs from its records"


def test_the_report_script_prints_the_block_between_markers() -> None:
    """`python tests/faults/_faults_report.py` prints the block, markers included."""
    done = subprocess.run(
        [sys.executable, str(report.ROOT / "tests" / "faults" / "_faults_report.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert lines[0] == report.BEGIN and lines[-1] == report.END
