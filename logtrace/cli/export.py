"""``logtrace export`` and ``logtrace import``: thin handlers over ``logtrace.export``."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import stat
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

from logtrace.format.shown import short_repr

from ..read.files import ReadError
from .main import add_filters, filter_options, note, open_reader, print_json, register
from .numbers import at_least, env_mode, non_negative, seconds


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    from ..export import FORMATS
    from ..export.otlp_http import PROTOCOLS

    parser.add_argument("trace_ids", nargs="*", metavar="TRACE_ID", help="traces to export")
    add_filters(parser, spans=False)
    parser.add_argument(
        "-f",
        "--format",
        choices=FORMATS,
        default="otlp-json",
        help="the file format (default otlp-json)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument("--no-logs", action="store_true", help="spans only, no log lines")
    send = parser.add_argument_group("sending OTLP/HTTP")
    send.add_argument(
        "--otlp-endpoint",
        nargs="?",
        metavar="URL",
        const=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318",
        help="send to this collector instead of writing a file (default: "
        "$OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318)",
    )
    send.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        help="http/protobuf (default, or $OTEL_EXPORTER_OTLP_PROTOCOL) or http/json",
    )
    send.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an HTTP header (repeat; adds to $OTEL_EXPORTER_OTLP_HEADERS)",
    )
    send.add_argument("--compression", choices=("gzip", "none"), default="none")
    send.add_argument("--timeout", type=seconds, default=10.0, help="seconds per request (10)")
    send.add_argument(
        "--max-time",
        type=non_negative,
        default=60.0,
        help="seconds retries may go on, from the first request (60); then give up",
    )
    send.add_argument("--batch-size", type=at_least(1), default=512, help="spans per request (512)")
    send.add_argument(
        "--follow",
        action="store_true",
        help="keep sending new lines as they are written (stop: Ctrl-C / SIGTERM)",
    )
    send.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="where --follow remembers what it sent (default DIR/.otlp-checkpoint.json)",
    )
    send.add_argument("--poll-interval", type=seconds, default=1.0, help="seconds (1)")


def _env_protocol(protocols: tuple[str, ...]) -> str:
    """``$OTEL_EXPORTER_OTLP_PROTOCOL``, or the first of ``protocols``; another value (``grpc``,
    not supported) is named in one line on stderr."""
    value = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    if value and value not in protocols:
        note(
            f"logtrace: OTEL_EXPORTER_OTLP_PROTOCOL={short_repr(value)} is not one of "
            f"{', '.join(protocols)}; using {protocols[0]!r}"
        )
    return value if value in protocols else protocols[0]


def export(args: argparse.Namespace) -> int:
    """Export traces: OTLP JSON, Chrome/Perfetto, Jaeger or Zipkin JSON, or OTLP/HTTP.

    Picks traces by id, by the filters of `ls` (--since, --service, …), or else everything.
    Examples:
      logtrace export 0194f3a2 -f chrome -o trace.json      # open in ui.perfetto.dev
      logtrace export --since 1h -o last-hour.otlp.jsonl    # the Collector's file format
      logtrace export --otlp-endpoint http://collector:4318 --since 1d
      logtrace export --otlp-endpoint --follow              # ship lines as they are written
    """
    if args.otlp_endpoint is not None:
        return _send(args)
    if args.follow:
        raise ReadError("--follow sends to a collector: give --otlp-endpoint")
    from .. import export as exporting

    params = filter_options(args)
    filters = {k: v for k, v in params.items() if v is not None}
    with open_reader(args, params["since"], params["until"]) as reader:
        if args.output in (None, "-"):
            counts = exporting.write(
                reader,
                sys.stdout.buffer,
                args.format,
                trace_ids=args.trace_ids,
                filters=filters,
                logs=not args.no_logs,
            )
        else:
            with _open_output(args.output) as out:
                counts = exporting.write(
                    reader,
                    out,
                    args.format,
                    trace_ids=args.trace_ids,
                    filters=filters,
                    logs=not args.no_logs,
                )
    where = "stdout" if args.output in (None, "-") else args.output
    print(
        f"exported {counts['spans']} spans, {counts['logs']} log records to {where}",
        file=sys.stderr,
    )
    return 0


def _open_output(name: str) -> BinaryIO:
    """``-o FILE`` to write: a new file is 0600 whatever the umask; a regular file of yours is
    emptied and keeps its mode; a symlink is refused (never followed), and so is another user's
    file; a device or a pipe is written as it is."""
    flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        try:
            fd = os.open(name, flags | os.O_CREAT | os.O_EXCL, 0o600)
            os.fchmod(fd, 0o600)
        except FileExistsError:
            fd = os.open(name, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ReadError(
                f"-o {name!r} is a symlink: not followed (name the file itself, or use -o - and "
                "redirect)"
            ) from None
        raise ReadError(f"cannot write {name}: {error.strerror or error}") from None
    status = os.fstat(fd)
    if stat.S_ISREG(status.st_mode) and status.st_uid != os.geteuid():
        os.close(fd)
        raise ReadError(f"-o {name!r} is another user's file: not written")
    if stat.S_ISREG(status.st_mode):
        os.ftruncate(fd, 0)
    return open(fd, "wb")


def _sender(args: argparse.Namespace, stop: threading.Event, max_time: float | None) -> Any:
    from ..export.otlp_http import (
        PROTOCOLS,
        HeaderError,
        Sender,
        check_header,
        masked,
        parse_header_option,
    )

    headers = {}
    for place, text in enumerate(args.header, 1):
        # Named by place or name, never quoted: a header's text may be a secret.
        try:
            key, value = parse_header_option(text)
            check_header(key, value, "--header", place)
        except HeaderError as error:
            raise ReadError(str(error)) from None
        except ValueError:
            raise ReadError(
                f"header {place} of --header: give NAME=VALUE or 'Name: value' (not shown: it "
                "may hold a secret)"
            ) from None
        headers[key] = value
    if not args.otlp_endpoint.startswith(("http://", "https://")):
        shown = masked(args.otlp_endpoint)
        raise ReadError(f"--otlp-endpoint {short_repr(shown)}: give an http(s):// URL")
    _check_url(args.otlp_endpoint)
    if args.batch_size < 1 or args.timeout <= 0:
        raise ReadError("--batch-size and --timeout must be positive")
    compression = None if args.compression == "none" else args.compression
    try:
        return Sender(
            args.otlp_endpoint,
            protocol=args.protocol or _env_protocol(PROTOCOLS),
            headers=headers,
            timeout=args.timeout,
            max_time=max_time,
            compression=compression,
            stop=stop,
        )
    except HeaderError as error:
        raise ReadError(str(error)) from None
    except ValueError as error:
        raise ReadError(f"--otlp-endpoint {error}") from None


def _check_url(url: str) -> None:
    """A URL that cannot be sent to (no host, a port that is no number, a space or a
    character outside ASCII): refused at once, not retried as if the network were down."""
    import urllib.parse

    from ..export.otlp_http import masked

    shown = short_repr(masked(url))
    try:
        parts = urllib.parse.urlsplit(url)
        host, _ = parts.hostname, parts.port  # a port that is no number raises here
    except ValueError:
        raise ReadError(f"--otlp-endpoint {shown}: its port is not a number") from None
    if not host:
        raise ReadError(f"--otlp-endpoint {shown}: give a host (http://collector:4318)")
    if any(not 0x21 <= ord(c) <= 0x7E for c in url):
        raise ReadError(
            f"--otlp-endpoint {shown}: a URL holds no spaces or characters outside ASCII "
            "(percent-encode them: %20)"
        )


def _send(args: argparse.Namespace) -> int:
    from .. import export as exporting

    stop = threading.Event()
    if args.follow:
        return _follow(args, stop)
    sender = _sender(args, stop, args.max_time)
    params = filter_options(args)
    filters = {k: v for k, v in params.items() if v is not None}
    with open_reader(args, params["since"], params["until"]) as reader:
        summary = exporting.send(
            reader,
            sender,
            trace_ids=args.trace_ids,
            filters=filters,
            logs=not args.no_logs,
            batch_size=args.batch_size,
        )
    _report(args, summary)
    return 0 if summary.ok else 1


def _follow(args: argparse.Namespace, stop: threading.Event) -> int:
    from ..export.follow import Shipper

    if args.trace_ids or any(v is not None for k, v in filter_options(args).items()):
        raise ReadError("--follow sends everything that is written: no trace ids or filters")
    checkpoint = args.checkpoint
    if checkpoint is None:
        if not os.path.isdir(args.dir):
            raise ReadError(f"--dir {args.dir!r} is not a directory: give --checkpoint FILE")
        checkpoint = str(Path(args.dir) / ".otlp-checkpoint.json")
    sender = _sender(args, stop, None)
    shipper = Shipper(
        args.dir, checkpoint, sender, logs=not args.no_logs, batch_size=args.batch_size
    )
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    try:
        summary = shipper.run(args.poll_interval, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _report(args, summary)
    return 1 if sender.redirected else 0


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _report(args: argparse.Namespace, summary: Any) -> None:
    if args.json:
        print_json(summary.to_json())
    else:
        note(summary.line())


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="OTLP JSON files ('-': stdin)")


def import_(args: argparse.Namespace) -> int:
    """Import OTLP JSON files (the Collector's file exporter's) into --dir, as logtrace files.

    Each line an ExportTraceServiceRequest or ExportLogsServiceRequest; spans become start,
    event and end lines, log records log lines, one file per process (resource); files 0600,
    folders 0700 ($LOGTRACE_FILE_MODE, $LOGTRACE_DIR_MODE). Names, attributes and bodies are
    redacted and cut as the writer's lines are (LOGTRACE_REDACT=0 turns redaction off;
    LOGTRACE_MAX_STRING, LOGTRACE_MAX_LINE...); an item of the wrong shape is skipped, named on
    stderr. Every command reads them:
      logtrace import traces.jsonl --dir ./imported && logtrace ls --dir ./imported
    """
    from ..export.importer import import_otlp
    from ..write.config import env_scrubber

    sources = []
    try:
        for name in args.files:
            sources.append(sys.stdin.buffer if name == "-" else open(name, "rb"))  # noqa: SIM115
    except OSError as error:
        raise ReadError(f"cannot read {error.filename}: {error.strerror}") from None
    try:
        scrubber, max_line = env_scrubber()
        result = import_otlp(
            sources,
            args.dir,
            scrubber=scrubber,
            max_line=max_line,
            file_mode=env_mode("LOGTRACE_FILE_MODE", 0o600),
            dir_mode=env_mode("LOGTRACE_DIR_MODE", 0o700),
        )
    finally:
        for source in sources:
            if source is not sys.stdin.buffer:
                source.close()
    if args.json:
        print_json(
            {
                "spans": result.spans,
                "logs": result.logs,
                "skipped_lines": result.skipped_lines,
                "skipped_spans": result.skipped_spans,
                "duplicate_spans": result.duplicate_spans,
                "skipped_items": result.skipped_items,
                "lines_cut": result.lines_cut,
                "problems": result.problems,
                "files": [str(p) for p in result.files],
            }
        )
    else:
        for problem in result.problems:
            note(problem)
        shown = result.skipped_items + result.skipped_lines - len(result.problems)
        if shown > 0:
            note(f"... and {shown} more skipped")
        note(result.line())
    if not (result.spans or result.logs) and (result.skipped_lines or result.skipped_items):
        raise ReadError(
            "nothing imported: give OTLP JSON, one ExportTraceServiceRequest or "
            "ExportLogsServiceRequest per line (as the collector's file exporter writes it)"
        )
    return 0


register("export", export, _export_arguments)
register("import", import_, _import_arguments)
