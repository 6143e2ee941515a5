"""Whether a file is whole, from its bytes, without decoding it (no DuckDB here).

A ``compacted_*.parquet`` has ``PAR1`` at both ends and a footer that fits; a ``.jsonl.zst``
starts with a zstd frame (:func:`looks_whole`). A rotated file whose frames end before its last
byte was cut short (a crash while copying, a full disk): DuckDB reads it up to the cut without a
word, so the reader and ``compact`` check with :func:`zstd_complete` and tell a cut from garbage
with :func:`cut_short`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from logtrace.format import fields as f

_PARQUET_MAGIC = b"PAR1"


def looks_whole(path: Path) -> bool:
    """Tell whether a file has the shape of its kind, from a few bytes, without decoding it.

    A ``.parquet`` file starts and ends with ``PAR1`` and its footer length fits in it; a
    ``.jsonl.zst`` file starts with a zstd (or skippable) frame. Random bytes under such a name
    are left out by the reader (and named), never deleted.
    """
    name = path.name
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            head = file.read(4)
            if name.endswith(f.COMPACTED_SUFFIX):
                if size < 12 or head != _PARQUET_MAGIC:
                    return False
                file.seek(size - 8)
                tail = file.read(8)
                footer = int.from_bytes(tail[:4], "little")
                return tail[4:] == _PARQUET_MAGIC and 0 < footer <= size - 12
            if name.endswith(f.ROTATED_SUFFIX) and size >= 4:
                magic = int.from_bytes(head, "little")
                return magic == _ZSTD_MAGIC or magic & 0xFFFFFFF0 == _SKIPPABLE_MAGIC
    except OSError:
        return True  # gone or unreadable now: the reader's retries deal with that
    return True


_ZSTD_MAGIC = 0xFD2FB528
_SKIPPABLE_MAGIC = 0x184D2A50  # the low 4 bits are free
_BLOCK_RLE, _BLOCK_RESERVED = 1, 3


def zstd_complete(path: Path) -> bool:
    """Tell whether a ``.jsonl.zst`` file holds whole zstd frames, up to its last byte.

    A file cut short (a crash while copying, a full disk) decodes up to the cut, so DuckDB reads
    its first lines without a word. This walks the frame and block headers (RFC 8878), seeking
    over the blocks: a few bytes read per 128 KiB block, nothing decompressed. An empty file or
    one that does not start with a frame is not complete either.
    """
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            at = 0
            while at < size:
                end = _frame_end(file, at)
                if end is None or end > size:
                    return False
                at = end
            return size > 0
    except OSError:
        return False


def cut_short(path: Path) -> bool:
    """Tell whether a ``.jsonl.zst`` file that is not ``zstd_complete`` was cut short (it
    decodes without an error up to its last byte, the last frame unfinished) rather than
    holding bytes that do not decode (False then, and for a file gone)."""
    import zstandard

    try:
        with path.open("rb") as file:
            reader = zstandard.ZstdDecompressor().stream_reader(file, read_across_frames=True)
            while reader.read(1 << 20):
                pass
    except (OSError, zstandard.ZstdError):
        return False
    return True


def _frame_end(file: BinaryIO, at: int) -> int | None:
    """The offset after the frame starting at ``at``, or None when it is not a frame."""
    file.seek(at)
    head = file.read(14)  # magic, descriptor and the longest frame header that follows
    if len(head) < 5:
        return None
    magic = int.from_bytes(head[:4], "little")
    if magic & 0xFFFFFFF0 == _SKIPPABLE_MAGIC:
        if len(head) < 8:
            return None
        return at + 8 + int.from_bytes(head[4:8], "little")
    if magic != _ZSTD_MAGIC:
        return None
    descriptor = head[4]
    single_segment = bool(descriptor & 0x20)
    content_size_bytes = (1 if single_segment else 0, 2, 4, 8)[descriptor >> 6]
    header = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 0x03]
    at += header + content_size_bytes
    while True:
        file.seek(at)
        block = file.read(3)
        if len(block) < 3:
            return None
        value = int.from_bytes(block, "little")
        last, kind, block_size = value & 1, (value >> 1) & 3, value >> 3
        if kind == _BLOCK_RESERVED:
            return None
        at += 3 + (1 if kind == _BLOCK_RLE else block_size)
        if last:
            return at + (4 if descriptor & 0x04 else 0)
