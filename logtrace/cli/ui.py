"""``logtrace ui``: the local web view of the files (needs the extra ``logtrace[ui]``)."""

from __future__ import annotations

import argparse

from logtrace.cli.main import register
from logtrace.cli.numbers import port
from logtrace.read.files import ReadError


def _ui_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=port, default=8321, help="port (default 8321; 0: any)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address (default 127.0.0.1; one that is not loopback prints a token URL)",
    )
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    parser.add_argument(
        "--allow-sql", action="store_true", help="let the page run SQL over the views"
    )


def ui(args: argparse.Namespace) -> int:
    """Serve a local web view of the files: traces, waterfall, operations, compare, live.

    Prints its URL (127.0.0.1 by default; with a --host that is not a loopback address, a URL
    with a token for this run, and requests without it are refused). Read-only; the page runs
    no SQL unless started with --allow-sql. Every page has a JSON endpoint (see /api). Stop
    with Ctrl-C.
    Example: logtrace ui --dir ./logtrace --open
    """
    try:
        from logtrace.web.server import serve
    except ModuleNotFoundError as error:
        if error.name not in ("starlette", "uvicorn", "anyio"):
            raise
        raise ReadError("logtrace ui needs its extra: pip install 'logtrace[ui]'") from None
    serve(
        args.dir, host=args.host, port=args.port, open_browser=args.open, allow_sql=args.allow_sql
    )
    return 0


register("ui", ui, _ui_arguments)
