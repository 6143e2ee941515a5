"""``logtrace ui``: a local web view of the files (the optional extra ``logtrace[ui]``).

A Starlette application served by uvicorn, reading through ``logtrace.open()`` like every
other command: trace search, the waterfall of one trace, operations with their percentiles,
comparison, and a live view of what is being written. Its pages are static files shipped in
the package (no CDN, no build step); every page has a JSON endpoint behind it. Safe by
default: it listens on 127.0.0.1, needs a token on any other address, puts values from the
files in the page as text only, and changes no file. Nothing here is imported by
``import logtrace`` or by the write side.
"""

from __future__ import annotations

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
