"""Where a Reader reads: local directories, files or globs, and URLs of shared history.

``find_all`` lists every location once (one walk of a directory, one listing of a bucket
prefix) and merges the lists: a compacted file published to shared history whose local copy is
not deleted yet counts once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from logtrace.read.files import ReadError, find_history
from logtrace.read.remote import is_url, list_history

Location = str | os.PathLike[str]


def locations_of(path: Location | Sequence[Location]) -> list[Location]:
    """One location or several, as a list.

    Raises:
        ReadError: ``path`` is neither a location nor a list of them.
    """
    if isinstance(path, (str, os.PathLike)):
        return [path]
    try:
        many = list(path)  # a list, a tuple, Path.glob()'s generator
    except TypeError:
        many = [path]  # type: ignore[list-item]  # not a location either: refused below
    for location in many:
        if not isinstance(location, (str, os.PathLike)):
            raise ReadError(
                f"path {path!r}: give a folder, a file, a glob, a URL (s3://bucket/prefix) "
                "or a list of them, as str or Path"
            )
    return many


def find_all(locations: list[str]) -> tuple[list[Path], list[Path], set[Path]]:
    """The log, compacted and span files of every location, in one listing each.

    A compacted file found in two locations (published to shared history, its local copy not
    yet deleted) is one file: the first location's copy counts, with the span file beside it.
    """
    jsonl: list[Path] = []
    compacted: list[Path] = []
    spans: set[Path] = set()
    names: set[str] = set()
    for location in locations:
        found: tuple[list[Path], list[Path], set[Path]]
        if is_url(location):
            remote, remote_spans = list_history(location)
            found = ([], list(remote), set(remote_spans))
        else:
            found = find_history(location)
        jsonl.extend(found[0])
        for path in found[1]:
            if path.name not in names:
                names.add(path.name)
                compacted.append(path)
        spans |= found[2]
    return sorted(set(jsonl)), sorted(compacted), spans
