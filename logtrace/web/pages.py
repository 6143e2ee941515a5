"""The pages of ``logtrace ui``: one template, ``static/page.html`` (the head and the nav,
written once), filled with a page's title, scripts and body (``static/pages/NAME.html``).

Nothing from the request goes into a page but a preload link: the page's own JSON request,
named in the head so the browser starts it while the scripts load. Its address is built from
the query string as the page's script builds it (the same names, in the same order, each value
percent-encoded as ``URLSearchParams`` does), so the script's request is the preloaded one;
a trace id is taken only when it is hex digits. The pages have no inline script: the strict
Content-Security-Policy of :mod:`logtrace.web.guard` holds.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

_TRACE_ID = re.compile(r"[0-9a-fA-F]{8,32}")
# The filters of the Traces page, in the order traces.js sends them (its FILTERS).
TRACE_FILTERS = (
    "q",
    "since",
    "until",
    "service",
    "name",
    "status",
    "kind",
    "min_duration",
    "attr",
    "text",
    "limit",
)


def static_dir() -> Path:
    """Where the page assets are: ``logtrace/web/static`` of the installed package."""
    return Path(str(resources.files("logtrace.web") / "static"))


def _trace_preload(query: Mapping[str, str]) -> str | None:
    given = query.get("id") or ""
    return f"/api/trace/{given}" if _TRACE_ID.fullmatch(given) else None


def _traces_preload(query: Mapping[str, str]) -> str | None:
    pairs = [f"{name}={form_encode(query[name])}" for name in TRACE_FILTERS if query.get(name)]
    return "/api/traces" + ("?" + "&".join(pairs) if pairs else "")


@dataclass(frozen=True)
class Page:
    """One page: its name (``pages/NAME.html``, ``data-page``), title, scripts after
    common.js, and the JSON request to preload for a query string (None: none)."""

    name: str
    title: str
    scripts: tuple[str, ...]
    preload: Callable[[Mapping[str, str]], str | None] | None = None


PAGES = {
    "/": Page("traces", "Traces", ("traces.js",), _traces_preload),
    "/trace": Page("trace", "Trace", ("detail.js", "trace.js"), _trace_preload),
    "/operations": Page("operations", "Operations", ("charts.js", "operations.js")),
    "/compare": Page("compare", "Compare", ("compare.js",)),
    "/live": Page("live", "Live", ("live.js",)),
}


@functools.cache
def _template() -> Template:
    return Template((static_dir() / "page.html").read_text(encoding="utf-8"))


@functools.cache
def _body(name: str) -> str:
    return (static_dir() / "pages" / f"{name}.html").read_text(encoding="utf-8")


def render(page: Page, query: Mapping[str, str]) -> str:
    """The HTML of ``page`` for a request with this query string."""
    href = page.preload(query) if page.preload else None
    preload = (
        f'<link rel="preload" href="{html.escape(href)}" as="fetch" crossorigin="anonymous">\n'
        if href
        else ""
    )
    scripts = "".join(f'<script src="/static/{s}" defer></script>\n' for s in page.scripts)
    return _template().substitute(
        title=page.title, page=page.name, preload=preload, scripts=scripts, body=_body(page.name)
    )


def form_encode(value: str) -> str:
    """``value`` as ``URLSearchParams`` writes it: letters, digits and ``*-._`` as they are,
    a space as ``+``, every other byte of its UTF-8 as ``%XX``."""
    out = []
    for byte in value.encode("utf-8"):
        char = chr(byte)
        if char.isascii() and (char.isalnum() or char in "*-._"):
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


__all__ = ["PAGES", "TRACE_FILTERS", "Page", "form_encode", "render", "static_dir"]
