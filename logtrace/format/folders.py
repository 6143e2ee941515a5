"""Folders of the layout, shared by the halves: made with their mode whatever the umask, and a
day folder used only when it is a folder of this user (never a symlink planted in its place).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def make_dirs(path: Path, mode: int) -> None:
    """Create ``path`` and missing parents with exactly ``mode`` (umask does not apply)."""
    missing: list[Path] = []
    while not path.is_dir() and path.parent != path:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            continue
        os.chmod(directory, mode)


def own_folder(folder: Path) -> os.stat_result:
    """The ``lstat`` of ``folder``, which must be a folder of this user: not a symlink.

    Raises:
        OSError: it is not (``EPERM``), or it is not there.
    """
    status = os.lstat(folder)
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.geteuid():
        raise OSError(errno.EPERM, "not a folder of this user (a symlink?)", str(folder))
    return status
