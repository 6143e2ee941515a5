"""Helpers of the fault suite: programs run as real processes, and their files read back whole.

Programs get a clean environment (no ``LOGTRACE_*``, ``OTEL_*``, ``TRACEPARENT``), so only what
the test passes to ``configure()`` counts. Reading back is strict: every line of every file must
parse, except a torn last line, which is returned apart so a test can allow it or not.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import zstandard

from logtrace.format import fields as f


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a test program: logtrace and OpenTelemetry settings removed."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOGTRACE_", "OTEL_")) and k not in ("TRACEPARENT", "TRACESTATE")
    }
    env.update(extra)
    return env


def start(code: str, *args: str | Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``python -c code args`` (output piped)."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        env=clean_env(),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run(code: str, *args: str | Path, cwd: Path | None = None, timeout: float = 300) -> Any:
    """Run ``python -c code args`` to the end; fail with its stderr unless it exits 0.

    Returns what it printed last on stdout, parsed as JSON (``None`` if it printed nothing).
    """
    child = start(code, *args, cwd=cwd)
    out, err = child.communicate(timeout=timeout)
    assert child.returncode == 0, f"exit {child.returncode}\n{err.decode(errors='replace')}"
    printed = out.decode().strip().splitlines()
    return orjson.loads(printed[-1]) if printed else None


@functools.cache
def can_mount_tmpfs() -> bool:
    """Whether ``unshare -m`` gives this user a mount namespace with tmpfs (root, containers)."""
    if shutil.which("unshare") is None or sys.platform != "linux":
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt && umount /mnt"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return probe.returncode == 0


def run_on_tmpfs(
    code: str, size: str, out: Path, *args: str, timeout: float = 300
) -> tuple[Any, str]:
    """Run ``code`` in a private mount namespace with a tmpfs of ``size`` at its argv[1].

    The program may call ``mount`` itself (it is root there). What the tmpfs holds at the end
    is copied to ``out``, since the mount vanishes with the namespace. Returns the program's
    last stdout line parsed as JSON, and its stderr.
    """
    mnt = out.parent / f"{out.name}-mnt"
    mnt.mkdir()
    out.mkdir()
    script = out.parent / f"{out.name}.py"
    script.write_text(code)
    shell = (
        'mount -t tmpfs -o size="$1",mode=0700 none "$2" || exit 97\n'
        'shift 2; py="$1"; script="$2"; mnt="$3"; out="$4"; shift 4\n'
        '"$py" "$script" "$mnt" "$@"; status=$?\n'
        'cp -a "$mnt"/. "$out"/ || exit 98\n'
        "exit $status\n"
    )
    program = [sys.executable, str(script), str(mnt), str(out), *args]
    child = subprocess.run(
        ["unshare", "-m", "sh", "-c", shell, "sh", size, str(mnt), *program],
        env=clean_env(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    err = child.stderr.decode(errors="replace")
    assert child.returncode == 0, f"exit {child.returncode}\n{err}"
    printed = child.stdout.decode().strip().splitlines()
    return (orjson.loads(printed[-1]) if printed else None), err


def log_files(directory: Path) -> list[Path]:
    """The live and rotated files under ``directory`` (hidden work files left out), by name.

    A plain file whose compressed copy is complete (a rotation caught between the rename of
    the copy and the removal of the plain file) is left out, as the read side does.
    """
    found = {
        p
        for p in directory.rglob("*")
        if p.is_file()
        and not p.name.startswith(".")
        and p.name.endswith((f.LIVE_SUFFIX, f.ROTATED_SUFFIX))
    }
    return sorted(p for p in found if p.with_name(p.name + ".zst") not in found)


@dataclass
class Files:
    """Every line of a log directory, parsed; torn last lines kept apart."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    by_file: dict[Path, list[dict[str, Any]]] = field(default_factory=dict)
    torn: dict[Path, bytes] = field(default_factory=dict)

    def user(self, logger: str = "app") -> list[dict[str, Any]]:
        """The lines of one logger (the test program's)."""
        return [line for line in self.lines if line.get(f.LOGGER) == logger]

    def own(self, event: str) -> list[dict[str, Any]]:
        """logtrace's own lines of one event (``logtrace.dropped``…)."""
        return [
            line
            for line in self.lines
            if line.get(f.LOGGER) == "logtrace" and line.get(f.EVENT) == event
        ]

    def dropped(self, reason: str) -> int:
        """Lines counted as lost for ``reason`` in ``logtrace.dropped`` lines."""
        return sum(
            line[f.DROPPED] for line in self.own(f.DROPPED_EVENT) if line[f.REASON] == reason
        )

    def spans(self) -> list[dict[str, Any]]:
        """Span start and end lines."""
        return [line for line in self.lines if line.get(f.SPAN) in (f.SPAN_START, f.SPAN_END)]


def read_back(directory: Path, *, torn_allowed: bool = False) -> Files:
    """Read every file under ``directory``; any unparseable line fails, bar a torn last line
    when ``torn_allowed``. Compressed files are decompressed by the ``zstd`` command when there
    is one (it is what a user runs), else by ``zstandard``."""
    files = Files()
    for path in log_files(directory):
        data = _content(path)
        raws = data.split(b"\n")
        last = raws.pop()
        lines: list[dict[str, Any]] = []
        for number, raw in enumerate(raws, 1):
            try:
                lines.append(orjson.loads(raw))
            except orjson.JSONDecodeError:
                raise AssertionError(f"{path}:{number} is not JSON: {raw[:200]!r}") from None
        if last:
            assert torn_allowed, f"{path}: the last line has no newline: {last[:200]!r}"
            files.torn[path] = last
        files.by_file[path] = lines
        files.lines.extend(lines)
    return files


def _content(path: Path) -> bytes:
    data = path.read_bytes()
    if not path.name.endswith(f.ROTATED_SUFFIX):
        return data
    if shutil.which("zstd"):
        done = subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True)
        return done.stdout
    return zstandard.ZstdDecompressor().stream_reader(data).read()


def once_each(keys: list[Any]) -> Counter[Any]:
    """The keys seen more than once (empty when every key is unique)."""
    return Counter({k: n for k, n in Counter(keys).items() if n > 1})
