"""Publishing compacted history to shared storage: ``logtrace compact --to DEST``.

DEST is a shared directory (NFS, a mounted volume) or a bucket (``s3://bucket/prefix``). Each
compacted file and its span file go to ``DEST/day=<YYYY-MM-DD>/`` under the name they have:
unique per host and batch (the digest in it is of the batch's source names, which hold
service, host, pid and opening time). Per batch, safely while other hosts publish and readers
read:

1. the span file, then the compacted file (the commit point for logtrace's readers, which count
   a span file only beside its compacted file), each written whole or not at all: a shared
   directory gets a hidden work file, synced, then a hard link to the final name (which fails
   if the name exists: another host's file is never replaced); a bucket gets one PUT with
   ``If-None-Match: *`` (an object appears whole or not at all);
2. each upload verified: the size read back, and for a bucket the ETag against the MD5 of the
   bytes sent;
3. only then the local copies deleted, the compacted file first (a span file left alone is
   removed by the next compaction).

A name that exists already holds the same bytes when an earlier run was killed after its
upload: verified, it counts as published. Different bytes under the same name stop the run
(``PublishError``), deleting nothing. A run killed at any point leaves every batch either
local, or published, or both (readers given both count it once, by name): nothing lost, nothing
doubled.

A file under a compacted or span file's name that is not logtrace's (random bytes, another
program's Parquet file: :func:`logtrace.read.views.not_ours`) is neither published nor deleted:
it stays where it is and is named in ``PublishResult.left_alone``. A compacted file whose span
file is not logtrace's is published alone (readers read it from its own lines).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logtrace.format import fields as f
from logtrace.format.folders import make_dirs
from logtrace.read.files import ReadError, find_compacted, span_file_of
from logtrace.read.remote import filesystem, is_url

_DAY = re.compile(f.DAY_PATTERN)


class PublishError(ReadError):
    """Shared history refused a file: a different file under the same name, or a failed upload."""


@dataclass
class PublishResult:
    """What a publication did."""

    published: list[str] = field(default_factory=list)  # files written to DEST
    already: list[str] = field(default_factory=list)  # found there whole (an earlier run)
    left_alone: list[str] = field(default_factory=list)  # local files not logtrace's: kept
    bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data (for ``--json``)."""
        return {
            "published": self.published,
            "already": self.already,
            "left_alone": self.left_alone,
            "bytes": self.bytes,
        }


def publish(directory: str | os.PathLike[str], dest: str) -> PublishResult:
    """Move every compacted file (and its span file) under ``directory`` to ``dest``.

    Args:
        directory: the local log directory, compacted (``logtrace compact`` ran).
        dest: a shared directory or a URL (``s3://bucket/prefix``).

    Raises:
        PublishError: a file could not be published; what was published stays published.
        ReadError: ``dest`` cannot be reached.
    """
    store: _Store = _BucketStore(dest) if is_url(dest) else _DirectoryStore(Path(dest))
    result = PublishResult()
    found = find_compacted(directory)
    pairs = [(p, span_file_of(p)) for p in found]
    kept: set[Path] = set()
    if found:  # DuckDB only when there are footers to read
        from logtrace.read.views import not_ours

        kept = set(not_ours([*found, *(s for _, s in pairs if s.exists())]))
    result.left_alone = [str(p) for p in sorted(kept)]
    for compacted, spans in pairs:
        if compacted in kept:
            continue
        day = compacted.parent.name if _DAY.fullmatch(compacted.parent.name) else "unknown"
        files = [p for p in (spans, compacted) if p.exists() and p not in kept]
        for path in files:
            target = f"day={day}/{path.name}"
            data = path.read_bytes()
            if store.put(target, data):
                result.published.append(store.url(target))
                result.bytes += len(data)
            else:
                result.already.append(store.url(target))
        for path in reversed(files):  # the compacted file first: a lone span file never counts
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return result


class _Store:
    def put(self, name: str, data: bytes) -> bool:
        """Write ``data`` under ``name`` unless there; verify it. True if written, False if there.

        Raises:
            PublishError: a different file is there, or the upload cannot be verified.
        """
        raise NotImplementedError

    def url(self, name: str) -> str:
        raise NotImplementedError


class _DirectoryStore(_Store):
    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ReadError(
                f"cannot publish to {root}: no such directory (create it, or mount the share"
                f" it belongs to: a missing one is never made on the local disk)"
            )
        self.root = root

    def url(self, name: str) -> str:
        return str(self.root / name)

    def put(self, name: str, data: bytes) -> bool:
        target = self.root / name
        # Readable by the group that shares the history, by nobody else (whatever the umask).
        make_dirs(target.parent, 0o750)
        # Everything below is done in the partition folder opened without following a symlink:
        # one planted in its place (day=… -> elsewhere) is refused, never written through.
        try:
            folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            raise PublishError(
                f"cannot publish {self.url(name)}: {target.parent} is not a folder (a symlink?):"
                f" refused, the local copy kept ({error.strerror})"
            ) from None
        try:
            return self._put_in(folder, target, data, self.url(name))
        except OSError as error:  # a symlink under the file's own name (ELOOP), say
            raise PublishError(f"cannot publish {self.url(name)}: {error.strerror}") from None
        finally:
            os.close(folder)

    @staticmethod
    def _put_in(folder: int, target: Path, data: bytes, url: str) -> bool:
        """``put`` in the open partition folder ``folder``."""
        there = _read_in(folder, target.name)
        if there is not None:
            return _same(there, data, url)
        for stale in os.listdir(folder):  # of a run killed here
            if stale.startswith(f".{target.name}.") and stale.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(stale, dir_fd=folder)
        work = f".{target.name}.{os.getpid()}.tmp"
        try:
            # O_EXCL and O_NOFOLLOW: a symlink planted under the work name is never followed.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(work, flags, 0o640, dir_fd=folder)
            try:
                os.fchmod(fd, 0o640)  # whatever the umask
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                # Fails if the name exists: nothing is ever replaced.
                os.link(work, target.name, src_dir_fd=folder, dst_dir_fd=folder)
            except FileExistsError:
                return _same(_read_in(folder, target.name) or b"", data, url)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(work, dir_fd=folder)
        os.fsync(folder)
        if os.stat(target.name, dir_fd=folder, follow_symlinks=False).st_size != len(data):
            raise PublishError(f"cannot publish {url}: its size differs once written")
        return True


class _BucketStore(_Store):
    def __init__(self, dest: str) -> None:
        self.dest = dest.rstrip("/")
        self.fs = filesystem(dest)
        self.prefix = self.dest.split("://", 1)[1]

    def url(self, name: str) -> str:
        return f"{self.dest}/{name}"

    def put(self, name: str, data: bytes) -> bool:
        key = f"{self.prefix}/{name}"
        if self._exists(key):
            return _same(self.fs.cat_file(key), data, self.url(name))
        try:
            self.fs.pipe_file(key, data, mode="create")
        except FileExistsError:
            return _same(self.fs.cat_file(key), data, self.url(name))
        except Exception as error:  # botocore's and aiohttp's errors share no base class
            raise PublishError(f"cannot publish {self.url(name)}: {_first_line(error)}") from None
        self.fs.invalidate_cache(key)
        info = self.fs.info(key)
        etag = str(info.get("ETag", "")).strip('"')
        if int(info.get("size", -1)) != len(data) or (
            etag and "-" not in etag and etag != hashlib.md5(data).hexdigest()
        ):
            raise PublishError(f"cannot publish {self.url(name)}: the upload does not verify")
        return True

    def _exists(self, key: str) -> bool:
        self.fs.invalidate_cache(key)
        try:
            self.fs.info(key)
        except FileNotFoundError:
            return False
        return True


def _same(there: bytes, data: bytes, url: str) -> bool:
    if there != data:
        raise PublishError(f"cannot publish {url}: a different file has that name")
    return False


def _read_in(folder: int, name: str) -> bytes | None:
    """The bytes of ``name`` in the open folder ``folder`` (never through a symlink), or None."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as file:
        return file.read()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
