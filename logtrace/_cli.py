"""The ``logtrace`` command: ``ls``, ``show``, ``stats``, ``sql``, ``tail``.

Each command is a few lines over ``logtrace.open`` and the files of ``queries/``; its handler's
docstring is its help. Other modules add commands with :func:`register` (``logtrace._demo``
is imported, when it exists, before the arguments are parsed)::

    from logtrace._cli import register

    def demo(args: argparse.Namespace) -> int:
        \"\"\"Write a small demo trace into --dir.\"\"\"
        ...
        return 0

    register("demo", demo, lambda parser: parser.add_argument("--traces", type=int, default=3))

Exit codes: 0 done, 1 nothing found (an unknown trace id), 2 bad input (a malformed id, a bad
argument, failing SQL, an unreadable directory): one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import IO, Any, NoReturn

from . import _fields as f
from ._files import ReadError

Handler = Callable[[argparse.Namespace], int]
AddArguments = Callable[[argparse.ArgumentParser], None]

# Modules that add commands, imported when the parser is built; a missing one is skipped. Such a
# module either calls register() below when imported, or has a function
# ``register(subparsers)`` that adds its parser to argparse's subparsers and sets a ``run`` (or
# ``handler``) default: ``parser.set_defaults(run=fn)``, fn(args) -> exit code.
EXTENSION_MODULES = ("logtrace._demo", "logtrace._compact_cli")


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, its handler (whose docstring is its help), its own arguments."""

    name: str
    run: Handler
    add_arguments: AddArguments | None = None


_commands: dict[str, Command] = {}


def register(name: str, run: Handler, add_arguments: AddArguments | None = None) -> None:
    """Add ``logtrace <name>``: ``run(args)`` returns the exit code; its docstring is the help.

    Every command also gets ``--dir``, ``--json`` and ``--verbose`` (``args.dir``,
    ``args.json``, ``args.verbose``). Raise ``logtrace._files.ReadError`` for a one-line error.
    """
    _commands[name] = Command(name, run, add_arguments)


# -- arguments -------------------------------------------------------------------------------


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (and exit 2) instead of usage plus message."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _default_dir() -> str:
    return os.environ.get(f.ENV_DIR) or f.DEFAULT_DIR


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--dir",
        default=None,
        help=f"the log directory, a file or a glob (default: ${f.ENV_DIR} or ./{f.DEFAULT_DIR})",
    )
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    common.add_argument(
        "-v", "--verbose", action="store_true", help="report files read and lines skipped"
    )
    return common


def _filters(parser: argparse.ArgumentParser, *, spans: bool) -> None:
    what = "spans" if spans else "traces"
    parser.add_argument(
        "--since", metavar="WHEN", help="from this long ago (30s, 15m, 1h, 2d, 1w) or a UTC time"
    )
    parser.add_argument("--until", metavar="WHEN", help="before then (same forms as --since)")
    parser.add_argument("--service", help=f"only {what} of this service")
    parser.add_argument(
        "--name", help="only spans of this name" if spans else "only traces with a span named so"
    )
    parser.add_argument(
        "--status", choices=("ok", "error", "unfinished"), help=f"only {what} with this status"
    )
    parser.add_argument("--errors", action="store_true", help="same as --status error")
    parser.add_argument(
        "--min-duration", metavar="TIME", help=f"only {what} this long or longer (250ms, 1.5s, 2m)"
    )
    parser.add_argument(
        "--attr",
        metavar="KEY=VALUE",
        help="only "
        + ("spans" if spans else "traces with a span")
        + " whose attribute KEY is VALUE (as text)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``logtrace``, with every registered command."""
    hooks = []
    for name in EXTENSION_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        hook = getattr(module, "register", None)
        if callable(hook) and hook is not register:
            hooks.append(hook)
    parser = _Parser(
        prog="logtrace",
        description="Tracing you can grep: read the traces and logs that logtrace wrote.",
    )
    parser.add_argument("--version", action="version", version=f"logtrace {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common()
    for command in _commands.values():
        doc = (command.run.__doc__ or command.name).strip()
        summary = doc.splitlines()[0]
        child = sub.add_parser(
            command.name,
            parents=[common],
            help=summary,
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if command.add_arguments is not None:
            command.add_arguments(child)
        child.set_defaults(run=command.run)
    for hook in hooks:
        hook(sub)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("logtrace")
    except Exception:
        return "unknown"


# -- running ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``logtrace`` with ``argv`` (default: the command line); return the exit code."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        run = getattr(args, "run", None) or getattr(args, "handler", None)
        if run is None:
            parser.print_help()
            return 0
        if getattr(args, "dir", None) is None:
            args.dir = _default_dir()
        code: int = run(args)
        return code
    except SystemExit as done:  # --help, --version
        return done.code if isinstance(done.code, int) else 0
    except _UsageError as error:
        print(error, file=sys.stderr)
        return 2
    except ReadError as error:
        print(error, file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        # The reader went away (| head): not an error. Keep Python from complaining at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # DuckDB and OS errors not caught nearer: still one line
        print(f"logtrace: {type(error).__name__}: {_first_line(error)}", file=sys.stderr)
        return 2


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def _console(stream: IO[str] | None = None) -> Any:
    from rich.console import Console

    # Rich colours a terminal only; NO_COLOR (https://no-color.org) turns all styling off.
    if os.environ.get("NO_COLOR"):
        return Console(
            file=stream or sys.stdout, highlight=False, soft_wrap=True, color_system=None
        )
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)


def _print_json(value: Any) -> None:
    import orjson

    option = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
    sys.stdout.write(orjson.dumps(value, option=option, default=str).decode() + "\n")
    sys.stdout.flush()


def _open(
    args: argparse.Namespace, since: datetime | None = None, until: datetime | None = None
) -> Any:
    from ._read import open as open_logs

    reader = open_logs(args.dir, since=since, until=until)
    if args.verbose:
        print(f"reading {reader.describe()}", file=sys.stderr)
    return reader


def _truncated_note(reader: Any) -> str:
    count = len(reader.truncated_files)
    if not count:
        return ""
    return f"; {count} compressed {'file' if count == 1 else 'files'} cut short (see --verbose)"


def _skipped_counts(skipped: list[dict[str, Any]]) -> tuple[int, int]:
    """(unreadable, other programs' JSON) lines over the rows of skipped_lines.sql."""
    return sum(row["unreadable"] for row in skipped), sum(row["other_json"] for row in skipped)


def _report_skipped(reader: Any, skipped: list[dict[str, Any]] | None = None) -> None:
    """On stderr: the lines skipped, per file (``skipped``: the rows, when already read)."""
    if skipped is None:
        skipped = reader.skipped()
    unreadable, other = _skipped_counts(skipped)
    print(
        f"skipped {unreadable} unreadable lines, {other} JSON lines of other programs",
        file=sys.stderr,
    )
    for row in skipped:
        print(
            f"  {row['filename']}: {row['unreadable']} unreadable, {row['other_json']} other",
            file=sys.stderr,
        )
    for path in reader.unreadable_files:
        print(f"  {path}: could not be decoded, left out", file=sys.stderr)
    for path in reader.truncated_files:
        print(f"  {path}: cut short (incomplete zstd frame), read up to the cut", file=sys.stderr)


# -- time and filter values ------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|ms|s|m|h|d|w)?")
_UNIT_MS = {
    "us": 0.001,
    "µs": 0.001,
    "ms": 1.0,
    "s": 1000.0,
    "m": 60_000.0,
    "h": 3_600_000.0,
    "d": 86_400_000.0,
    "w": 604_800_000.0,
}


def parse_duration_ms(text: str, default_unit: str = "ms") -> float:
    """``250ms``, ``1.5s``, ``2m``, ``1h``, ``2d``, ``1w`` (a bare number is ``default_unit``)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    return float(match[1]) * _UNIT_MS[match[2] or default_unit]


def parse_when(text: str, now: datetime) -> datetime:
    """A point in time (UTC, naive): ``1h`` ago from ``now``, or an ISO time (UTC if unzoned)."""
    value = text.strip()
    with contextlib.suppress(ValueError):
        return now - timedelta(milliseconds=parse_duration_ms(value, default_unit="s"))
    try:
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise ValueError(text) from None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def filter_params(args: argparse.Namespace) -> dict[str, Any]:
    """The ``$parameters`` of recent_traces.sql / span_percentiles.sql from the filter options."""
    now = _now()
    params: dict[str, Any] = {}
    for option in ("since", "until"):
        text = getattr(args, option)
        try:
            params[option] = None if text is None else parse_when(text, now)
        except ValueError:
            raise ReadError(
                f"--{option} {text!r}: give a duration (30s, 15m, 1h, 2d, 1w) "
                "or a UTC time (2026-11-24T13:00)"
            ) from None
    status = args.status
    if args.errors:
        if status not in (None, "error"):
            raise ReadError(f"--errors and --status {status} contradict each other")
        status = "error"
    params.update(service=args.service, name=args.name, status=status)
    try:
        minimum = args.min_duration
        params["min_duration_ms"] = None if minimum is None else parse_duration_ms(minimum)
    except ValueError:
        raise ReadError(
            f"--min-duration {minimum!r}: give a time such as 250ms, 1.5s, 2m"
        ) from None
    key = value = None
    if args.attr is not None:
        key, sep, value = args.attr.partition("=")
        if not sep or not key:
            raise ReadError(f"--attr {args.attr!r}: give KEY=VALUE")
    params.update(attr_key=key, attr_value=value)
    return params


def _attr_variant(name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The query to run for ``params``: ``<name>_no_attr`` when no --attr is given (faster)."""
    if params.get("attr_key") is None:
        rest = {k: v for k, v in params.items() if k not in ("attr_key", "attr_value")}
        return f"{name}_no_attr", rest
    return name, params


# -- the commands ----------------------------------------------------------------------------


def _ls_arguments(parser: argparse.ArgumentParser) -> None:
    _filters(parser, spans=False)
    parser.add_argument(
        "-n", "--limit", type=int, default=20, help="at most this many traces (default 20)"
    )


def ls(args: argparse.Namespace) -> int:
    """List recent traces, newest first, one line each.

    Each line: start time (UTC), trace id, status, duration, span counts, root span, services.
    Filters combine (all must hold). Example: logtrace ls --since 1h --errors
    """
    from ._render import trace_line

    params = filter_params(args)
    with _open(args, params["since"], params["until"]) as reader:
        name, given = _attr_variant("recent_traces", params)
        rows = reader.query(name, limit=args.limit, **given)
        if args.json:
            _print_json(rows)
        else:
            console = _console()
            for row in rows:
                console.print(trace_line(row))
        if args.verbose:
            _report_skipped(reader)
    return 0


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace_id", help="a trace id, or its first 8 or more hex digits")
    parser.add_argument(
        "--width", type=int, default=40, help="width of the duration bars (default 40)"
    )


def show(args: argparse.Namespace) -> int:
    """Show one trace as a waterfall: its span tree, bars to scale, errors, its logs in place.

    Spans are indented under their parent (from parent ids, not clocks) and ordered by start
    time; each shows its service[pid], duration and a bar on the trace's time scale. Failed
    spans are red with their error, unfinished ones marked; log lines sit under their span in
    time order. The id may be abbreviated to a unique prefix of 8+ hex digits, as with git.
    """
    from ._render import waterfall

    with _open(args) as reader:
        trace = reader.trace(args.trace_id)
        if args.json:
            _print_json({"trace": trace.summary, "spans": trace.spans, "logs": trace.logs})
        else:
            console = _console()
            for line in waterfall(trace, bar_width=max(5, args.width)):
                console.print(line)
        if args.verbose:
            _report_skipped(reader)
    return 0


def _stats_arguments(parser: argparse.ArgumentParser) -> None:
    _filters(parser, spans=True)


def stats(args: argparse.Namespace) -> int:
    """Count, error rate and p50/p95/p99 durations per span name; lines skipped.

    Filters apply to spans. Example: logtrace stats --since 1d --service worker
    """
    from ._render import duration, table

    params = filter_params(args)
    with _open(args, params["since"], params["until"]) as reader:
        name, given = _attr_variant("span_percentiles", params)
        rows = reader.query(name, **given)
        skipped = reader.skipped()
        unreadable, other = _skipped_counts(skipped)
        if args.json:
            _print_json(
                {
                    "files": len(reader.files),
                    "skipped_lines": {"unreadable": unreadable, "other_json": other},
                    "truncated_files": [str(p) for p in reader.truncated_files],
                    "spans": rows,
                }
            )
            return 0
        console = _console()
        spans = sum(row["count"] for row in rows)
        errors = sum(row["errors"] for row in rows)
        console.print(
            f"{spans} spans, {errors} failed, in {reader.describe()}; "
            f"skipped {unreadable} unreadable lines, {other} JSON lines of other programs"
            + _truncated_note(reader)
        )
        columns = ["name", "count", "errors", "error rate", "p50", "p95", "p99", "max"]
        body = [
            [
                row["name"],
                row["count"],
                row["errors"],
                f"{row['error_rate']:.1%}",
                duration(row["p50_ms"]),
                duration(row["p95_ms"]),
                duration(row["p99_ms"]),
                duration(row["max_ms"]),
            ]
            for row in rows
        ]
        for line in table(columns, body):
            console.print(line)
        if args.verbose:
            _report_skipped(reader, skipped)
    return 0


def _sql_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query", help="SQL text, or the name of a file of queries/ (slowest_traces)"
    )
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a $NAME parameter of the query (repeatable); unset ones are NULL",
    )


def sql(args: argparse.Namespace) -> int:
    """Run SQL over the views events, spans, traces, logs (and lines, the raw lines).

    QUERY is SQL text, or the name of a file of queries/ such as slowest_traces, error_traces,
    unfinished_spans, span_percentiles, trace_tree. Parameters ($name in the SQL) are given as
    -p name=value and passed to DuckDB as values, never pasted into the SQL; numbers are
    numbers, "null" is NULL, times are text DuckDB casts. Example:
      logtrace sql "select name, count(*) from spans group by 1 order by 2 desc"
      logtrace sql slowest_traces -p limit=5
    """
    from ._read import parameters, query_names, query_text
    from ._render import table

    text = args.query
    if re.fullmatch(r"[a-z_]+", text.strip()) and text.strip() in query_names():
        text = query_text(text.strip())
    params: dict[str, Any] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ReadError(f"-p {item!r}: give NAME=VALUE")
        params[name] = _param_value(value)
    for name in parameters(text):
        params.setdefault(name, None)
    with _open(args) as reader:
        rows = reader.execute(text, params)
        if args.json:
            _print_json(rows)
        else:
            columns = list(rows[0]) if rows else []
            console = _console()
            for line in table(columns, [list(row.values()) for row in rows]):
                console.print(line)
        if args.verbose:
            _report_skipped(reader)
    return 0


def _param_value(text: str) -> Any:
    if text.lower() == "null":
        return None
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(text)
    return text


def _tail_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", help="only lines of this service")
    parser.add_argument("--trace", metavar="ID", help="only lines of this trace (8+ hex digits)")
    parser.add_argument("--for", dest="seconds", type=float, help="stop after this many seconds")
    parser.add_argument("--count", type=int, help="stop after printing this many lines")
    parser.add_argument(
        "--from-start", action="store_true", help="print what the files hold already, then follow"
    )
    parser.add_argument(
        "--interval", type=float, default=0.25, help="seconds between looks (default 0.25)"
    )


def tail(args: argparse.Namespace) -> int:
    """Print spans and log lines as they are written, by every process, until interrupted.

    Follows files as they grow, new files as they appear and live files through rotation.
    Span starts show as ▶, ends as ■ with the duration, log lines with their level. --json
    prints the lines as written.
    """
    from ._read import normalize_trace_id
    from ._render import tail_line
    from ._tail import Follower

    trace = None if args.trace is None else normalize_trace_id(args.trace)
    follower = Follower(args.dir, from_start=args.from_start)
    if args.verbose:
        print(f"following {follower.file_count} files in {args.dir}", file=sys.stderr, flush=True)
    console = None if args.json else _console()
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    printed = 0
    import orjson

    try:
        while True:
            for line in follower.poll():
                if line.get(f.EVENT) == f.FILE_EVENT and line.get(f.LOGGER) == "logtrace":
                    continue
                if args.service is not None and line.get(f.SERVICE) != args.service:
                    continue
                if trace is not None and not str(line.get(f.TRACE_ID) or "").startswith(trace):
                    continue
                if console is None:
                    sys.stdout.write(orjson.dumps(line).decode() + "\n")
                    sys.stdout.flush()
                else:
                    console.print(tail_line(line))
                    console.file.flush()
                printed += 1
                if args.count is not None and printed >= args.count:
                    return 0
            if deadline is not None and time.monotonic() >= deadline:
                return 0
            time.sleep(args.interval)
    finally:
        follower.close()


register("ls", ls, _ls_arguments)
register("show", show, _show_arguments)
register("stats", stats, _stats_arguments)
register("sql", sql, _sql_arguments)
register("tail", tail, _tail_arguments)
