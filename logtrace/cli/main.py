"""The ``logtrace`` command: its parser, its entry point, and what its commands share.

The commands themselves (``ls``, ``show``, ``stats``, ``sql``, ``tail`` in ``cli/traces.py``,
the others in the modules after it in ``EXTENSION_MODULES``) are registered in ``_commands``:
each a few lines over ``logtrace.open`` and the files of ``queries/``, its handler's docstring
its help. Modules add commands with :func:`register` (those of ``EXTENSION_MODULES`` are
imported, when they exist, before the arguments are parsed)::

    from logtrace.cli.main import register

    def demo(args: argparse.Namespace) -> int:
        \"\"\"Write a small demo trace into --dir.\"\"\"
        ...
        return 0

    register("demo", demo, lambda parser: parser.add_argument("--traces", type=int, default=3))

Exit codes: 0 done, 1 nothing found (an unknown trace id, in files that exist), 2 bad input (a
malformed id, a bad argument, failing SQL, an unreadable directory, a source with no log files):
one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, NoReturn

from logtrace.cli.visible import visible
from logtrace.format import fields as f
from logtrace.read.files import ReadError
from logtrace.read.filters import STATUSES, filter_params

Handler = Callable[[argparse.Namespace], int]
AddArguments = Callable[[argparse.ArgumentParser], None]
# A word of an argparse message longer than this (a refused value quoted whole) is cut to
# _LONG_WORD_KEPT characters: a megabyte argument is not a megabyte of stderr.
_LONG_WORD = re.compile(r"\S{201,}")
_LONG_WORD_KEPT = 160

# Modules that add commands, imported when the parser is built; a missing one is skipped. Such a
# module either calls register() below when imported, or has a function
# ``register(subparsers)`` that adds its parser to argparse's subparsers and sets a ``run`` (or
# ``handler``) default: ``parser.set_defaults(run=fn)``, fn(args) -> exit code.
EXTENSION_MODULES = (
    "logtrace.cli.traces",
    "logtrace.cli.demo",
    "logtrace.cli.compact",
    "logtrace.cli.export",
    "logtrace.cli.critical_path",
    "logtrace.cli.compare",
    "logtrace.cli.advise",
    "logtrace.cli.check",
    "logtrace.cli.ui",
)


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, its handler (whose docstring is its help), its own arguments."""

    name: str
    run: Handler
    add_arguments: AddArguments | None = None


_commands: dict[str, Command] = {}


def register(name: str, run: Handler, add_arguments: AddArguments | None = None) -> None:
    """Add ``logtrace <name>``: ``run(args)`` returns the exit code; its docstring is the help.

    Every command also gets ``--dir``, ``--json`` and ``--verbose`` (``args.dir``, the first
    ``--dir``; ``args.dirs``, all of them; ``args.json``, ``args.verbose``). Raise
    ``logtrace.read.files.ReadError`` for a one-line error.
    """
    _commands[name] = Command(name, run, add_arguments)


# -- arguments -------------------------------------------------------------------------------


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (and exit 2) instead of usage plus message."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {usage_message(message)} (see {self.prog} --help)")


def _default_dir() -> str:
    return os.environ.get(f.ENV_DIR) or f.DEFAULT_DIR


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--dir",
        dest="dirs",
        action="append",
        metavar="DIR",
        help=f"the log directory, a file, a glob, or shared history (s3://bucket/prefix); "
        f"repeat to read several together (default: ${f.ENV_DIR} or ./{f.DEFAULT_DIR})",
    )
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    common.add_argument(
        "-v", "--verbose", action="store_true", help="report files read and lines skipped"
    )
    return common


def add_filters(parser: argparse.ArgumentParser, *, spans: bool) -> None:
    what = "spans" if spans else "traces"
    parser.add_argument(
        "--since", metavar="WHEN", help="from this long ago (30s, 15m, 1h, 2d, 1w) or a UTC time"
    )
    parser.add_argument("--until", metavar="WHEN", help="before then (same forms as --since)")
    parser.add_argument("--service", help=f"only {what} of this service")
    parser.add_argument(
        "--name", help="only spans of this name" if spans else "only traces with a span named so"
    )
    parser.add_argument("--status", choices=STATUSES, help=f"only {what} with this status")
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
    parser.add_argument(
        "--kind",
        choices=f.KINDS,
        help="only spans of this kind"
        if spans
        else "only traces with a span of this kind (of --service when given)",
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``logtrace``, with every registered command.

    ``only``: the command about to run; the others get no arguments of their own (adding
    them imports what their options list, such as the export formats), which changes nothing
    but their own ``--help``.
    """
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
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
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
        if command.add_arguments is not None and only in (None, command.name):
            command.add_arguments(child)
        child.set_defaults(run=command.run)
    for hook in hooks:
        hook(sub)
    return parser


class _Version(argparse.Action):
    """``--version``: the installed version, looked up only when asked (importlib.metadata
    costs more than the rest of a ``--help``)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"logtrace {_version()}")
        parser.exit()


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
        given = sys.argv[1:] if argv is None else list(argv)
        parser = build_parser(next((a for a in given if not a.startswith("-")), ""))
        args = parser.parse_args(given)
        run = getattr(args, "run", None) or getattr(args, "handler", None)
        if run is None:
            parser.print_help()
            return 0
        # args.dir: the first --dir (commands of one directory); args.dirs: all of them. A
        # command with a --dir of its own (the demo: ./logtrace-demo) keeps its value.
        args.dirs = getattr(args, "dirs", None) or [_default_dir()]
        if getattr(args, "dir", None) is None:
            args.dir = args.dirs[0]
        code: int = run(args)
        return code
    except SystemExit as done:  # --help, --version
        return done.code if isinstance(done.code, int) else 0
    except _UsageError as error:
        note(str(error))
        return 2
    except ReadError as error:
        note(str(error))
        return error.exit_code
    except BrokenPipeError:
        # The reader went away (| head): not an error. Keep Python from complaining at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # DuckDB and OS errors not caught nearer: still one line
        if interrupted(error):
            return 130  # Ctrl-C during a query: as any other Ctrl-C, not a bad input (2)
        note(f"logtrace: {type(error).__name__}: {_first_line(error)}")
        return 2


def interrupted(error: BaseException) -> bool:
    """Whether ``error`` is Ctrl-C: a KeyboardInterrupt, or what DuckDB raises in its place when
    the SIGINT comes during a query (it takes the KeyboardInterrupt and raises ``RuntimeError:
    Query interrupted``, or its ``InterruptException``), which was reported as an error, exit 2."""
    if isinstance(error, KeyboardInterrupt):
        return True
    duckdb = sys.modules.get("duckdb")  # only when loaded: never imported to tell
    kind = getattr(duckdb, "InterruptException", None) if duckdb is not None else None
    if isinstance(kind, type) and isinstance(error, kind):
        return True
    return isinstance(error, RuntimeError) and str(error).strip() == "Query interrupted"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def make_console(stream: IO[str] | None = None) -> Any:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # Rich's own exits 1, which says "no such trace": leave it to main() (exit 0).
            self.quiet = True
            raise BrokenPipeError

    # Rich colours a terminal only; NO_COLOR (https://no-color.org) turns all styling off.
    # markup and emoji off: a string printed is shown as it is, "[bold]" or ":x:" in a span
    # name included (render.py builds styled Text itself).
    return _Console(
        file=stream or sys.stdout,
        highlight=False,
        soft_wrap=True,
        markup=False,
        emoji=False,
        color_system=None if os.environ.get("NO_COLOR") else "auto",
    )


def print_json(value: Any) -> None:
    import orjson

    option = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
    sys.stdout.write(orjson.dumps(value, option=option, default=str).decode() + "\n")
    sys.stdout.flush()


def open_reader(
    args: argparse.Namespace, since: datetime | None = None, until: datetime | None = None
) -> Any:
    from logtrace.read.reader import open as open_logs

    reader = open_logs(getattr(args, "dirs", None) or args.dir, since=since, until=until)
    if not reader.all_files and not reader.unreadable_files:
        # Nothing to read at all (a glob that matches nothing, a folder without logs): bad
        # input, exit 2, not a "not found" (1) that a script would take for an answer.
        reader.close()
        raise ReadError(no_logs_hint(reader))
    from logtrace.cli.ctrl_c import interrupt_on_ctrl_c

    interrupt_on_ctrl_c(reader.interrupt)
    if args.verbose:
        note(f"reading {reader.describe()}")
    return reader


def no_logs_hint(reader: Any) -> str:
    """One line for a place with no log files: what was looked at, and where logs may be."""
    where = ", ".join(str(p) for p in reader.locations)
    refused: list[Any] = []
    with contextlib.suppress(ReadError, OSError):
        refused = list(getattr(reader, "refused_files", []))
    if refused:
        # Only symlinks (a linked day folder, --dir a link to a file) or others' files: say
        # so, naming them, rather than that there is nothing (they were named by -v only).
        named = ", ".join(str(p) for p in refused[:3]) + (", …" if len(refused) > 3 else "")
        many = "file" if len(refused) == 1 else "files"
        return (
            f"logtrace: no log files read in {where}: {len(refused)} {many} not read (a symlink, "
            f"not a regular file, or another user's; symlinks are never followed): {named}; "
            "give --dir the folder or file itself"
        )
    hint = (
        f"logtrace: no log files in {where} (looked for <day>/*.jsonl, *.jsonl.zst and "
        f"compacted Parquet files); give --dir DIR or set {f.ENV_DIR}"
    )
    if os.path.isdir("logtrace-demo") and "logtrace-demo" not in where:
        hint += " (the demo's are in ./logtrace-demo: --dir logtrace-demo)"
    return hint


def truncated_note(reader: Any) -> str:
    notes = []
    for files, what in (
        (reader.truncated_files, "compressed {} cut short"),
        (reader.unreadable_files, "{} left out (not decodable)"),
        (getattr(reader, "refused_files", []), "{} not read (symlink or not ours)"),
    ):
        if files:
            notes.append(f"{len(files)} " + what.format("file" if len(files) == 1 else "files"))
    return "".join(f"; {note}" for note in notes) + (" (see --verbose)" if notes else "")


def skipped_counts(skipped: list[dict[str, Any]]) -> tuple[int, int]:
    """(unreadable, other programs' JSON) lines over the rows of skipped_lines.sql."""
    return sum(row["unreadable"] for row in skipped), sum(row["other_json"] for row in skipped)


def report_skipped(reader: Any, skipped: list[dict[str, Any]] | None = None) -> None:
    """On stderr: the lines skipped, per file (``skipped``: the rows, when already read)."""
    if skipped is None:
        skipped = reader.skipped()
    unreadable, other = skipped_counts(skipped)
    print(
        f"skipped {unreadable} unreadable lines, {other} JSON lines of other programs",
        file=sys.stderr,
    )
    for row in skipped:
        note(f"  {row['filename']}: {row['unreadable']} unreadable, {row['other_json']} other")
    for path in reader.unreadable_files:
        note(f"  {path}: could not be decoded or is not logtrace's, left out")
    for path in getattr(reader, "refused_files", []):
        note(f"  {path}: not read (a symlink, not a regular file, or another user's)")
    for path in reader.truncated_files:
        note(f"  {path}: cut short (incomplete zstd frame), read up to the cut")


def usage_message(message: str) -> str:
    """argparse's message, a word of it over 200 characters cut: argparse quotes the value
    it refused whole, and a megabyte argument must not be a megabyte of output."""
    return _LONG_WORD.sub(lambda word: word[0][:_LONG_WORD_KEPT] + "…", message)


def note(text: str) -> None:
    """Print a line on stderr, its control characters shown as escapes (it may quote the files,
    a path or a value: see :mod:`logtrace.cli.visible`)."""
    print(visible(text), file=sys.stderr)


def filter_options(args: argparse.Namespace) -> dict[str, Any]:
    """The queries' ``$parameters`` from the filter options ``add_filters`` added."""
    return filter_params(
        since=args.since,
        until=args.until,
        service=args.service,
        name=args.name,
        status=args.status,
        errors=args.errors,
        min_duration=args.min_duration,
        attr=args.attr,
        kind=args.kind,
    )
