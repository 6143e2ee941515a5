"""The files ``logtrace import`` writes: a process's lines, whole, in logtrace's layout."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from ..format.fields import FILE_EVENT, FORMAT_VERSION
from ..format.folders import make_dirs, own_folder
from ..format.naming import file_name
from ..read.durable import replace_with
from ..read.files import ReadError
from .model import LOGTRACE_VERSION, Resource


def format_ts(ns: int) -> str:
    """Nanoseconds since the epoch as a line's ``ts`` (RFC 3339, UTC, microseconds)."""
    import time

    seconds, rest = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest // 1000:06d}Z"


def line_head(ts: int, level: str, event: str, resource: Resource, logger: str) -> dict[str, Any]:
    """The fields every line begins with."""
    return {
        "ts": format_ts(ts),
        "level": level,
        "event": event,
        "logger": logger,
        "service": resource.service,
        "pid": resource.pid,
    }


def write_file(
    directory: Path,
    resource: Resource,
    lines: list[tuple[int, int, bytes]],
    modes: tuple[int, int],
) -> Path:
    """One closed file of a process's lines, header first; named by its first line's time.

    ``modes``: the file's and the folders'. The day folder must be a folder of this user (a
    symlink there is refused); the file is written whole under a unique work name, never
    through a symlink, and replaces nothing: a name taken moves its time on 1 ms.
    """
    first, last = lines[0][0], lines[-1][0]
    ms = first // 1_000_000
    day, name = file_name(resource.service, resource.host, resource.pid, ms)
    folder = directory / day
    file_mode, dir_mode = modes
    try:
        make_dirs(folder, dir_mode)
        own_folder(folder)
    except OSError as error:
        raise ReadError(f"cannot write into {folder}: {error.strerror or error}") from None
    while os.path.lexists(folder / name):  # a second import of the same process at that ms
        ms += 1
        name = file_name(resource.service, resource.host, resource.pid, ms)[1]
    path = folder / name
    header = line_head(first, "info", FILE_EVENT, resource, "logtrace")
    header.update(format=FORMAT_VERSION, host=resource.host, argv=["logtrace", "import"])
    header["python"] = f"logtrace {LOGTRACE_VERSION}"
    chunks = [orjson.dumps(header) + b"\n", *(line + b"\n" for _, _, line in lines)]
    try:
        replace_with(path, chunks, file_mode, mtime_ns=last)
    except OSError as error:
        raise ReadError(f"cannot write {path}: {error.strerror or error}") from None
    return path
