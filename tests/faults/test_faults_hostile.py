"""Hostile input and a shared machine (issue 15), end to end with real processes and files:
secrets on disk, modes under umask 000, symlink attacks, poison files, deep parent chains."""

from __future__ import annotations

import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import duckdb
import orjson
import pytest
import zstandard
from _faults_helpers import clean_env, run
from _faults_report import Row, record
from conftest import log_line, run_cli, span_lines, write_jsonl

NON_HEX = "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ"
DAY = "2026-11-24"
GOOD = "0194f3a2" + "0" * 8 + "1" * 16  # the good trace of every poison folder

# Every place a secret was seen to leak, and the places that already held.
CANARY = """
import collections, json, logging, sys, structlog, logtrace
s = json.load(open(sys.argv[1]))
logtrace.configure(service="canary", directory="out", rotate_bytes=2048, environ={})
log, slog = logging.getLogger("app"), structlog.get_logger("app")
Login = collections.namedtuple("Login", "user password")
with logtrace.span("login", password=s["attr"], request={"user": {"secret": s["nested"]}},
                   url="https://bob:" + s["url"] + "@db.example.com/x") as span:
    slog.info("structlog", token=s["kw_token"])
    log.info("stdlib", extra={"authorization": "Bearer " + s["bearer"]})
    log.info("GET /cb?access_token=" + s["access_token"] + "&state=1")
    log.info("POST /t?x=1&refresh_token=" + s["refresh_token"])
    log.info("oidc ?id_token=" + s["id_token"])
    log.info("env aws_secret_access_key=" + s["aws_secret"])
    log.info('reply {"access_token": "' + s["json_token"] + '", "expires": 3600}')
    log.info("made Model(user_password='" + s["repr_password"] + "')")
    log.info("password=correct horse " + s["multiword"])
    slog.info("structures", login=Login("bob", s["namedtuple"]),
              raw={b"password": s["bytes_key"]},
              headers=[(b"x-api-key", s["header"].encode())],
              keys={"sk_live_" + s["key_itself"]: 1})
    log.warning("warned with password=" + s["stderr"])
    for n in range(60):
        log.info("filler line %d to force rotation", n)
    try:
        raise ValueError("login failed for token=" + s["exception"])
    except ValueError:
        log.exception("handled")
    try:
        with logtrace.span("inner"):
            raise PermissionError("denied, api_key=" + s["span_exception"])
    except PermissionError:
        pass
logtrace.shutdown()
"""
ARGV_SECRETS = ("argv_password", "argv_api_key", "argv_client_secret", "argv_secret_key")


def _secret(rng: random.Random) -> str:
    return "".join(rng.choice(NON_HEX) for _ in range(24))


def _everything_on_disk(directory: Path) -> str:
    """Every byte under ``directory`` as text: plain files, zstd decompressed, Parquet decoded."""
    texts = []
    with duckdb.connect() as con:
        for path in sorted(p for p in directory.rglob("*") if p.is_file() and not p.is_symlink()):
            data = path.read_bytes()
            texts.append(data.decode("utf-8", "replace"))
            if path.name.endswith(".zst"):
                texts.append(zstandard.ZstdDecompressor().decompressobj().decompress(data).decode())
            elif path.name.endswith(".parquet"):
                rows = con.execute("SELECT * FROM read_parquet($p)", {"p": str(path)}).fetchall()
                texts.append(repr(rows))
                meta = con.execute(
                    "SELECT decode(value) FROM parquet_kv_metadata($p)", {"p": str(path)}
                ).fetchall()
                texts.append(repr(meta))
    return "\n".join(texts)


def test_canary_no_6_char_piece_of_any_secret_is_on_disk_after_compaction(tmp_path: Path) -> None:
    """A unique secret in every place (argv forms, prefixed keys in text, structures, the
    stderr handler, the places that already held), compacted: no 6-character piece of any of
    them in any file, plain, decompressed or Parquet, nor on stderr."""
    rng = random.Random(20261202)
    names = [
        *(n for n in CANARY.split('s["')[1:]),
    ]
    secrets = {name.split('"')[0]: _secret(rng) for name in names}
    secrets.update({name: _secret(rng) for name in ARGV_SECRETS})
    (tmp_path / "secrets.json").write_text(orjson.dumps(secrets).decode())
    argv = [
        *("--password", secrets["argv_password"]),
        *("--api-key", secrets["argv_api_key"]),
        *("--client-secret", secrets["argv_client_secret"]),
        "--secret-key=" + secrets["argv_secret_key"],
    ]
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CANARY), "secrets.json", *argv],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    compacted = run_cli("compact", "--dir", str(tmp_path / "out"))
    assert compacted.returncode == 0, compacted.stderr
    parquet = list((tmp_path / "out").rglob("*.parquet"))
    assert parquet and not list((tmp_path / "out").rglob("*.jsonl*")), "not compacted"
    everything = _everything_on_disk(tmp_path / "out") + done.stderr
    assert everything.count("[REDACTED]") >= len(secrets) and "filler line 59" in everything
    found = [
        (name, secret[i : i + 6])
        for name, secret in secrets.items()
        for i in range(len(secret) - 5)
        if secret[i : i + 6] in everything
    ]
    assert found == []
    pieces = sum(len(s) - 5 for s in secrets.values())
    record(
        Row(
            "canary",
            f"{len(secrets)} secrets in argv, text, structures, stderr; compacted to Parquet; "
            f"{pieces:,} 6-character pieces looked for",
            inputs=len(secrets),
            lost=len(found),
        )
    )


UMASK_000 = """
import logging, os, sys, logtrace
os.umask(0)
logtrace.configure(service="modes", directory=sys.argv[1], rotate_bytes=2048, environ={})
for i in range(200):
    with logtrace.span("op", i=i):
        logging.getLogger("app").info("line %d", i)
logtrace.shutdown()
from logtrace.read.compact import compact
compact(sys.argv[1])
"""


def test_everything_made_is_owner_only_under_umask_000_parquet_included(tmp_path: Path) -> None:
    """Under umask 000: the files logtrace writes and compacts (live, rotated, Parquet, span
    rows, the compaction lock) are 0600, every folder (spill folder too) 0700."""
    directory = tmp_path / "made" / "logtrace"
    run(UMASK_000, directory)
    everything = [*(tmp_path / "made").rglob("*"), tmp_path / "made"]
    assert any(p.name.endswith(".parquet") for p in everything)
    assert any(p.name == ".compact.lock" for p in everything)
    modes = {p: stat.S_IMODE(p.lstat().st_mode) for p in everything}
    wrong = {p: oct(m) for p, m in modes.items() if m != (0o700 if p.is_dir() else 0o600)}
    assert wrong == {}
    record(
        Row(
            "owner_only_all",
            f"{len(modes)} files and folders: live, rotated, Parquet, span rows, lock; "
            "compaction under umask 000",
            inputs=len(modes),
            lost=len(wrong),
        )
    )


def _dead_process_file(folder: Path) -> Path:
    """A file name of a process that is gone (its pid), as the sink names its files."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "svc_host_999999_20261124T130000.000Z.jsonl"


SYMLINK_ATTACKS = """
import os, sys, logtrace
from pathlib import Path
logtrace.configure(service="victim", directory=sys.argv[1], rotate_bytes=1024, environ={})
for i in range(100):
    with logtrace.span("op", i=i):
        pass
logtrace.shutdown()
logtrace.configure(service="victim", directory=sys.argv[1], environ={})
logtrace.shutdown()
"""


def test_symlink_attacks_change_nothing_outside_and_bring_nothing_in(tmp_path: Path) -> None:
    """Symlinks planted in the log folder (under compress()'s work name, named like a dead
    process's live file, as a compacted file and as a day folder) make logtrace write nothing
    outside it and copy no foreign content into it; the CLI reads none of them."""
    logs, outside = tmp_path / "logs", tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("precious\n")
    private = outside / "private.jsonl"
    private.write_text('{"ts":"2026-11-24T13:00:00Z","event":"PRIVATE-CONTENT-XYZ"}\n')
    (outside / "day").mkdir()
    # Every future name of compress()'s work file in today's folder (one per live file name)
    # cannot be guessed; plant them in bulk for the next milliseconds' names instead.
    day = logs / DAY
    day.mkdir(parents=True)
    os.chmod(logs, 0o700)
    os.chmod(day, 0o700)
    attacks = 0
    dead = _dead_process_file(day)
    dead.symlink_to(private)  # 1: orphan compression would copy its target in
    attacks += 1
    (day / f".{dead.name}.zst.tmp").symlink_to(victim)  # 2: the work file of compress()
    attacks += 1
    (day / "compacted_20261124T130000_20261124T130100_abcdefabcdef.parquet").symlink_to(private)
    attacks += 1
    (logs / "2026-11-25").symlink_to(outside / "day")  # 4: a day folder elsewhere
    attacks += 1
    run(SYMLINK_ATTACKS, logs)
    compacted = run_cli("compact", "--dir", str(logs), "--verbose")
    assert compacted.returncode == 0, compacted.stderr
    shown = run_cli("sql", "SELECT event FROM events", "--dir", str(logs), "--json")
    assert shown.returncode == 0, shown.stderr
    assert victim.read_text() == "precious\n" and victim.stat().st_mode & 0o777 != 0
    assert sorted(p.name for p in outside.rglob("*")) == ["day", "private.jsonl", "victim.txt"]
    inside = _everything_on_disk(logs)
    assert "PRIVATE-CONTENT-XYZ" not in inside and "PRIVATE-CONTENT-XYZ" not in shown.stdout
    assert "op" in shown.stdout
    record(
        Row(
            "symlinks",
            "symlinks as compress()'s work file, a dead process's live file, a compacted "
            "file, a day folder; then write, rotate, compact, query",
            faults=attacks,
            lost=0,
        )
    )


def test_the_writer_refuses_a_day_folder_that_is_a_symlink(tmp_path: Path) -> None:
    """A day folder planted as a symlink is not written through: nothing lands outside."""
    from datetime import datetime, timezone

    logs, outside = tmp_path / "logs", tmp_path / "outside"
    outside.mkdir()
    logs.mkdir(mode=0o700)
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    (logs / today).symlink_to(outside)
    run(SYMLINK_ATTACKS, logs)
    assert list(outside.iterdir()) == []


def test_a_world_writable_log_folder_is_said_once_on_stderr(tmp_path: Path) -> None:
    """LOGTRACE_DIR writable by others: one line on stderr naming it, and logging goes on."""
    logs = tmp_path / "shared"
    logs.mkdir()
    os.chmod(logs, 0o777)
    program = "import sys, logtrace\n" + textwrap.dedent(SYMLINK_ATTACKS).split("\n", 3)[3]
    done = subprocess.run(
        [sys.executable, "-c", "import sys, logtrace\nfrom pathlib import Path\n" + program, logs],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    warned = [line for line in done.stderr.splitlines() if "writable by others" in line]
    assert len(warned) == 1 and str(logs) in warned[0]
    assert list(logs.rglob("*.jsonl*"))


def _good() -> list[dict[str, object]]:
    return [*span_lines(GOOD, "a" * 16, None, "root", 0, 50), log_line(GOOD, "a" * 16, "hi", 10)]


def _bad_end(trace: str, duration: bytes) -> bytes:
    return (
        b'{"ts":"2026-11-24T13:00:01.000000Z","level":"info","event":"x","trace_id":"'
        + trace.encode()
        + b'","span_id":"cccccccccccccccc","span":"end","name":"x","parent_id":null,'
        b'"duration_ms":' + duration + b',"status":"ok"}'
    )


def _other_programs_parquet() -> bytes:
    """A whole Parquet file of another program's: its own columns, no logtrace metadata."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "other.parquet"
        duckdb.sql(f"COPY (SELECT 1 AS id, 'x' AS label) TO '{path}' (FORMAT parquet)")
        return path.read_bytes()


BAD = "0194f3a2" + "0" * 8 + "2" * 16
# Each case: the name, and what goes into the folder next to the good trace's file.
POISON: dict[str, tuple[str, bytes]] = {
    "duration_1e308": ("svc_host_101_20261124T130000.000Z.jsonl", _bad_end(BAD, b"1e308")),
    "duration_5000_digits": ("svc_host_101_20261124T130000.000Z.jsonl", _bad_end(BAD, b"9" * 5000)),
    "duration_nan": ("svc_host_101_20261124T130000.000Z.jsonl", _bad_end(BAD, b"NaN")),
    "line_of_50_mb": (
        "svc_host_101_20261124T130000.000Z.jsonl",
        b'{"ts":"2026-11-24T13:00:00.000000Z","event":"' + b"x" * (50 * 2**20) + b'"}',
    ),
    "garbage_zst": (
        "svc_host_101_20261124T130000.000Z.jsonl.zst",
        random.Random(1).randbytes(5000),
    ),
    "random_parquet": (
        "compacted_20261124T120000_20261124T120500_abcdefabcdef.parquet",
        random.Random(2).randbytes(5000),
    ),
    "par1_parquet": (
        "compacted_20261124T120000_20261124T120500_abcdefabcdef.parquet",
        b"PAR1" + random.Random(3).randbytes(3000) + b"PAR1",
    ),
    "other_programs_parquet": (
        "compacted_20261124T120000_20261124T120500_abcdefabcdef.parquet",
        _other_programs_parquet(),
    ),
}
COMMANDS = {
    "ls": ["ls", "--json", "--limit", "50"],
    "show": ["show", GOOD, "--json"],
    "stats": ["stats", "--json"],
    "sql": ["sql", "SELECT count(*) AS n FROM spans WHERE trace_id = '" + GOOD + "'", "--json"],
    "tail": ["tail", "--from-start", "--for", "1", "--json", "--verbose"],
    "compact": ["compact", "--json"],
}


@pytest.fixture(scope="module")
def poison_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One folder per poison case: the good trace, plus one foreign line or file."""
    root = tmp_path_factory.mktemp("poison")
    made = {}
    for case, (name, data) in POISON.items():
        folder = root / case / DAY
        write_jsonl(folder / "svc_host_100_20261124T130000.000Z.jsonl.zst", _good())
        (folder / name).write_bytes(data if not name.endswith(".jsonl") else data + b"\n")
        made[case] = root / case
    return made


@pytest.mark.parametrize("case", list(POISON))
def test_poison_matrix_every_command_answers_for_the_good_trace(
    poison_dirs: dict[str, Path], case: str
) -> None:
    """Each foreign line or file x ls, show, stats, sql, tail, compact: exit 0, the good trace
    answered, the bad line or file skipped and counted (or named), never deleted."""
    directory = poison_dirs[case]
    work = directory.parent / f"{case}-copy"
    shutil.copytree(directory, work)
    foreign = work / DAY / POISON[case][0]
    for command, args in COMMANDS.items():
        done = run_cli(*args, "--dir", str(work), timeout=300)
        assert done.returncode == 0, f"{case} x {command}: {done.stderr[-500:]}"
        out = done.stdout
        if command in ("ls", "show", "sql", "tail"):
            assert GOOD in out or '"n": 1' in out or '"n":1' in out, f"{case} x {command}"
        if command == "stats":
            data = orjson.loads(out)
            skipped = data["skipped_lines"]["unreadable"] + data["skipped_lines"]["other_json"]
            named = data["unreadable_files"] + data["truncated_files"]
            assert any(s["name"] == "root" for s in data["spans"])
            assert skipped or named or case.startswith("duration"), f"{case}: not counted"
        if command == "tail":
            assert "skipped" in done.stderr
        if command == "compact":
            data = orjson.loads(out)
            assert data["written"] or data["unreadable"], case
    if case.endswith(("_zst", "_parquet")):
        assert foreign.exists(), f"{case}: the foreign file was deleted"
    record(
        Row(
            "poison",
            f"{len(POISON)} foreign lines or files next to a good trace x "
            f"{len(COMMANDS)} commands ({', '.join(COMMANDS)})",
            inputs=len(POISON) * len(COMMANDS),
            lost=0,
        )
    )


def test_a_parent_chain_100000_deep_is_shown_with_a_marker(tmp_path: Path) -> None:
    """show of a trace whose parent chain is 100,000 spans deep answers, draws 64 levels and
    a marker for the rest; --json has every span with its depth."""
    depth = 100_000
    lines: list[dict[str, object]] = []
    for i in range(depth):
        parent = None if i == 0 else f"{i:016x}"
        lines += span_lines(GOOD, f"{i + 1:016x}", parent, "s", i * 0.001, 1)
    write_jsonl(tmp_path / DAY / "svc_h_1_20261124T130000.000Z.jsonl", lines)
    shown = run_cli("show", GOOD, "--dir", str(tmp_path), timeout=600)
    assert shown.returncode == 0, shown.stderr
    assert f"{depth - 65:,} spans and 0 log lines deeper than 64 levels" in shown.stdout
    as_json = run_cli("show", GOOD, "--dir", str(tmp_path), "--json", timeout=600)
    spans = orjson.loads(as_json.stdout)["spans"]
    assert [s["depth"] for s in spans] == list(range(depth))
    record(
        Row(
            "deep_tree",
            f"one parent chain {depth:,} spans deep: `show` and `show --json`",
            inputs=depth,
            lost=0,
        )
    )


def test_a_directory_named_like_a_glob_is_read_as_a_path(tmp_path: Path) -> None:
    """--dir 'logs[1]*' (an existing folder) reads its files instead of matching 0 files."""
    folder = tmp_path / "logs[1]*"
    write_jsonl(folder / DAY / "svc_host_100_20261124T130000.000Z.jsonl", _good())
    done = run_cli("ls", "--json", "--dir", str(folder))
    assert done.returncode == 0 and GOOD in done.stdout, done.stderr


WIDE = "0194f3a2" + "0" * 8 + "6" * 16  # a span line of 16 MiB + 3000 bytes in 5.6 M characters


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.zst"])
def test_a_line_over_16_mib_in_multibyte_text_is_skipped_by_show_cat_and_stats_alike(
    tmp_path: Path, suffix: str
) -> None:
    """A line is measured in bytes by every reader: one of 16 MiB + 3000 bytes in far fewer
    characters (each € is 3 bytes) was printed by ``cat`` and not counted by ``stats`` (which
    measured characters) while ``show`` did not find it."""
    end = {**span_lines(WIDE, "b" * 16, None, "wide", 20, 5)[1], "blob": ""}
    room = 16 * 2**20 + 3000 - len(orjson.dumps(end))
    wide = orjson.dumps({**end, "blob": "€" * (room // 3)})
    assert len(wide) > 16 * 2**20 > len(wide.decode()) * 3 // 2
    folder = tmp_path / "logs"
    write_jsonl(folder / DAY / f"svc_host_100_20261124T130000.000Z{suffix}", [*_good(), wide])
    assert run_cli("show", WIDE, "--json", "--dir", str(folder)).returncode == 1
    cat = run_cli("cat", "--verbose", "--dir", str(folder))
    assert cat.returncode == 0, cat.stderr
    assert all(orjson.loads(line)["trace_id"] == GOOD for line in cat.stdout.splitlines())
    assert "skipped 1 unreadable lines" in cat.stderr
    stats = orjson.loads(run_cli("stats", "--json", "--dir", str(folder)).stdout)
    assert stats["skipped_lines"] == {"unreadable": 1, "other_json": 0}
