"""Shared history on an object store: URLs as paths, listing, and DuckDB's access to them.

A location is a local directory (or file, or glob) or a URL such as ``s3://bucket/prefix``.
A URL is reached through fsspec (``pip install 'logtrace[s3]'``: s3fs), registered on the
DuckDB connection, so ``read_parquet`` reads ``s3://…`` files as it reads local ones; without
fsspec, DuckDB's own ``httpfs`` extension is used when it can be loaded. Credentials come from
where AWS tools look for them (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_PROFILE``,
``~/.aws/config`` and ``credentials``); ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` names
an S3-compatible server. Nothing here prints or logs them.

Remote files are :class:`RemotePath` objects: ``Path``-like (``name``, ``parent``,
``with_name``) with their URL as ``str()``, so the reader treats them as it treats local files.
"""

from __future__ import annotations

import os
import re
from pathlib import PosixPath
from typing import Any

from logtrace.format.naming import is_compacted_file
from logtrace.read.files import ReadError, is_span_file

_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>.*)")
_CLASSES: dict[str, type[RemotePath]] = {}


def is_url(location: str | os.PathLike[str]) -> bool:
    """Tell whether a location is a URL (``s3://bucket/prefix``), not a local path."""
    return isinstance(location, str) and _URL.fullmatch(location) is not None


class RemotePath(PosixPath):
    """A file of an object store: a path whose ``str()`` is its URL (``s3://bucket/key``)."""

    scheme = ""

    def __str__(self) -> str:
        return f"{self.scheme}:/{super().__str__()}"

    def __fspath__(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"RemotePath({str(self)!r})"

    def __hash__(self) -> int:
        return hash(str(self))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and str(self) == str(other)

    def __lt__(self, other: Any) -> bool:
        return str(self) < str(other)


def remote_path(url: str) -> RemotePath:
    """The :class:`RemotePath` of a URL."""
    match = _URL.fullmatch(url)
    if match is None:
        raise ReadError(f"not a URL: {url}")
    scheme = match["scheme"]
    cls = _CLASSES.get(scheme)
    if cls is None:
        cls = _CLASSES[scheme] = type(f"RemotePath_{scheme}", (RemotePath,), {"scheme": scheme})
    return cls("/" + match["rest"].strip("/"))


def filesystem(url: str) -> Any:
    """The fsspec filesystem for a URL's scheme (s3fs for ``s3://``), with the AWS settings.

    Raises:
        ReadError: fsspec (or the scheme's package) is not installed.
    """
    scheme = url.split("://", 1)[0]
    try:
        import fsspec
    except ImportError:
        raise ReadError(
            f"reading {scheme}:// needs logtrace[s3]: pip install 'logtrace[s3]'"
        ) from None
    options: dict[str, Any] = {}
    if scheme in ("s3", "s3a"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            options["endpoint_url"] = endpoint
    try:
        return fsspec.filesystem(scheme, **options)
    except (ImportError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ReadError(f"cannot reach {scheme}:// ({first}): pip install 'logtrace[s3]'") from None


def list_history(url: str) -> tuple[list[RemotePath], set[RemotePath]]:
    """The compacted files and span files under a URL (searched recursively), sorted.

    Raises:
        ReadError: the store cannot be listed (no such bucket, no permission, unreachable).
    """
    fs = filesystem(url)
    try:
        fs.invalidate_cache()  # other hosts publish meanwhile: never a listing from before
        keys = fs.find(url.split("://", 1)[1].rstrip("/"), withdirs=False)
    except Exception as error:  # a store's errors have no common base class
        raise ReadError(f"cannot read {url}: {_first_line(error)}") from None
    scheme = url.split("://", 1)[0]
    compacted, spans = [], set()
    for key in keys:
        name = key.rsplit("/", 1)[-1]
        if any(part.startswith(".") for part in key.split("/")):
            continue  # work files of a publication in progress
        if is_compacted_file(name):
            compacted.append(remote_path(f"{scheme}://{key}"))
        elif is_span_file(name):
            spans.add(remote_path(f"{scheme}://{key}"))
    return sorted(compacted), spans


def attach(con: Any, urls: list[str]) -> None:
    """Let DuckDB read the files of these URLs: fsspec registered, else ``httpfs`` loaded.

    Raises:
        ReadError: neither is available.
    """
    schemes = sorted({u.split("://", 1)[0] for u in urls})
    for scheme in schemes:
        try:
            fs = filesystem(f"{scheme}://")
        except ReadError:
            _httpfs(con, scheme)
            continue
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        if not con.filesystem_is_registered(protocol):
            con.register_filesystem(fs)


def _httpfs(con: Any, scheme: str) -> None:
    """DuckDB's own S3 client, for users who have the httpfs extension (not installable here)."""
    import duckdb

    try:
        con.execute("LOAD httpfs")
    except duckdb.Error:
        raise ReadError(
            f"reading {scheme}:// needs logtrace[s3] (pip install 'logtrace[s3]') or DuckDB's "
            "httpfs extension"
        ) from None
    settings = {
        "KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID"),
        "SECRET": os.environ.get("AWS_SECRET_ACCESS_KEY"),
        "SESSION_TOKEN": os.environ.get("AWS_SESSION_TOKEN"),
        "REGION": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
    }
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        settings["ENDPOINT"] = re.sub(r"^https?://", "", endpoint)
        settings["USE_SSL"] = "false" if endpoint.startswith("http://") else "true"
        settings["URL_STYLE"] = "path"
    given = {k: v for k, v in settings.items() if v}
    # Values are passed as literals (CREATE SECRET takes no parameters) and never echoed.
    body = ", ".join(
        f"{k} {v}" if k == "USE_SSL" else f"{k} '{str(v).replace(chr(39), chr(39) * 2)}'"
        for k, v in given.items()
    )
    con.execute(f"CREATE OR REPLACE SECRET logtrace_s3 (TYPE s3{', ' + body if body else ''})")


def hive_folder(day_folder: str) -> str:
    """The partition folder of a day in shared history: ``day=2026-11-24``."""
    return f"day={day_folder}"


def day_of(name: str) -> str | None:
    """The day (``YYYY-MM-DD``) of a compacted or span file, from the first time in its name."""
    match = re.search(r"_(\d{4})(\d{2})(\d{2})T\d{6}_", name)
    if match is None or not (is_compacted_file(name) or is_span_file(name)):
        return None
    return "-".join(match.groups())


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


__all__ = [
    "RemotePath",
    "attach",
    "day_of",
    "filesystem",
    "hive_folder",
    "is_url",
    "list_history",
    "remote_path",
]
