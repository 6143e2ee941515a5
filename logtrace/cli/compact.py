"""``logtrace compact``, over :func:`logtrace.read.compact.compact` (DuckDB imported when run)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from logtrace.cli.main import print_json, register
from logtrace.cli.numbers import env_mode, fraction, memory_size, non_negative
from logtrace.read.files import ReadError


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep-errors",
        action="store_true",
        help="trace-aware retention: keep traces with a failed span whole, drop the others "
        "(but for --sample and --slow-ms)",
    )
    parser.add_argument(
        "--sample",
        type=fraction,
        metavar="FRACTION",
        help="with retention: also keep this fraction (0 to 1) of the other traces",
    )
    parser.add_argument(
        "--slow-ms",
        type=non_negative,
        metavar="MS",
        help="with retention: also keep every trace with a span at least this long",
    )
    parser.add_argument(
        "--memory-limit",
        type=memory_size,
        default="1GB",
        help="DuckDB's memory limit, of each of the two databases compaction opens (default 1GB)",
    )
    parser.add_argument(
        "--to",
        metavar="DEST",
        help="then publish the compacted files to shared history: an existing shared directory or "
        "s3://bucket/prefix (needs logtrace[s3]); local copies deleted once verified",
    )


def compact(args: argparse.Namespace) -> int:
    """Compact closed log files into Parquet (zstd), one file per batch of a day folder.

    Takes rotated .jsonl.zst files and plain .jsonl files whose process is gone (never a
    live file), writes <day>/compacted_<first>_<last>_<digest>.parquet and only then deletes
    them. A crash at any point loses and duplicates nothing; running it again finishes the
    job, and running it twice changes nothing. Every command reads JSONL and Parquet together.

    Trace-aware retention (any of --keep-errors, --sample, --slow-ms): keep every trace with a
    failed span, or a span of at least --slow-ms, whole (across all processes' files), and a
    --sample fraction of the other traces (by the low 64 bits of the trace id, as
    OpenTelemetry's ratio sampler); lines outside traces are kept. Example:
      logtrace compact --keep-errors --sample 0.1 --slow-ms 500

    With --to DEST, the compacted files (and their span files) then move to shared history,
    DEST/day=<day>/, under names unique per host and batch; each is written whole or not at
    all, never over another file, and the local copy is deleted only once the upload is
    verified. Every command reads it back: logtrace ls --dir ./logtrace --dir DEST. Example:
      logtrace compact --to s3://team-traces/history
    """
    from logtrace.read.compact import Retention
    from logtrace.read.compact import compact as run
    from logtrace.read.remote import is_url

    if len(args.dirs) > 1 or is_url(args.dir):
        raise ReadError("logtrace compact: one local --dir (publish with --to DEST)")
    if args.to is not None and not args.to.strip():
        raise ReadError("logtrace compact: --to ''; give a shared directory or s3://bucket/prefix")

    retention = None
    if args.keep_errors or args.sample is not None or args.slow_ms is not None:
        try:
            retention = Retention(sample=args.sample or 0.0, slow_ms=args.slow_ms)
        except ValueError as error:
            raise ReadError(f"logtrace compact: {error}") from None
    progress, stop = _progress_bar(enabled=not args.json and sys.stderr.isatty())
    try:
        result = run(
            args.dir,
            retention=retention,
            memory_limit=args.memory_limit,
            progress=progress,
            file_mode=env_mode("LOGTRACE_FILE_MODE", 0o600),
            dir_mode=env_mode("LOGTRACE_DIR_MODE", 0o700),
        )
    finally:
        stop()
    published = _publish(args) if args.to else None
    if args.json:
        print_json({**result.as_dict(), "publish": published and published.as_dict()})
        return 0
    _say(result, kept=retention is not None, verbose=args.verbose)
    if published is not None:
        print(
            f"published {len(published.published)} files ({published.bytes / 1e6:.1f} MB) to "
            f"{args.to}"
            + (f"; {len(published.already)} already there" if published.already else "")
            + (
                f"; {_count(len(published.left_alone), 'file')} not logtrace's left alone, "
                "not published (see --verbose)"
                if published.left_alone
                else ""
            )
        )
        if args.verbose:
            for name in published.left_alone:
                print(f"  {name}: not logtrace's, left alone, not published", file=sys.stderr)
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def size_text(size: int) -> str:
    """A size people read: ``840 B``, ``12.3 KB``, ``4.1 MB``, ``2.0 GB`` (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def _say(result: Any, *, kept: bool, verbose: bool) -> None:
    """What a compaction did, in a line (and the files, with --verbose)."""
    left = "".join(
        f"; {len(files)} {what} left alone (see --verbose)"
        for files, what in (
            (result.unreadable, "files that do not decode"),
            (result.foreign, "files not logtrace's"),
            (result.truncated, "compressed files cut short"),
            (result.refused, "symlinks or others' files"),
        )
        if files
    )
    for path in result.truncated:  # lines past the cut would be lost: always named
        print(
            f"  {path}: cut short (its last zstd frame is incomplete), left alone: "
            "put the whole file back, or decompress what is there (zstd -d) to keep it",
            file=sys.stderr,
        )
    if verbose or not result.sources:
        for path in result.unreadable:
            print(f"  {path}: does not decode, left alone", file=sys.stderr)
        for path in result.foreign:
            print(
                f"  {path}: not logtrace's (not Parquet, or lacking logtrace's columns) under "
                "a compacted or span file's name, left alone",
                file=sys.stderr,
            )
        for path in result.refused:
            print(
                f"  {path}: a symlink, not a regular file or another user's: not read",
                file=sys.stderr,
            )
    if not result.sources:
        print(
            f"nothing to compact: no closed JSONL file; {result.live} live files left alone"
            + (f"; {len(result.finished)} already compacted, removed" if result.finished else "")
            + left
        )
        return
    ratio = result.bytes_in / result.bytes_out if result.bytes_out else 0.0
    change = f"{ratio:.1f}x smaller" if ratio >= 1 else f"{1 / ratio:.1f}x larger" if ratio else ""
    print(
        f"compacted {_count(len(result.sources), 'file')} ({size_text(result.bytes_in)}) into "
        f"{_count(len(result.written), 'Parquet file')} ({size_text(result.bytes_out)}"
        + (f", {change}" if change else "")
        + f"), {_count(result.lines, 'line')}, in {result.seconds:.1f} s; "
        f"{_count(result.live, 'live file')} left alone"
        + (f"; {result.kept_traces} failed or slow traces kept" if kept else "")
        + left
    )
    if verbose:
        for path in result.finished:
            print(f"  {path}: already compacted, removed", file=sys.stderr)
        for path in result.written:
            print(f"  wrote {path}", file=sys.stderr)


def _publish(args: argparse.Namespace) -> Any:
    from logtrace.read.publish import publish

    return publish(args.dir, args.to)


def _progress_bar(enabled: bool) -> tuple[Any, Any]:
    """A rich progress bar on stderr (a terminal only): (callback, stop)."""
    if not enabled:
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "compacting",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = bar.add_task("compact", total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar.stop


register("compact", compact, _arguments)
