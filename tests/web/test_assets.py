"""The page assets shipped in logtrace/web/static: values go in as text, no inline script."""

from __future__ import annotations

import re

import pytest

from logtrace.web.pages import PAGES, TRACE_FILTERS, form_encode, render, static_dir

# Ways a script could turn text into markup or code; the pages use none of them.
MARKUP_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
    r"setAttribute\(\s*['\"](?:on|href|src|style)|\.href\s*=(?!\s*path\b)"
)


def test_scripts_never_write_markup() -> None:
    """No script assigns markup, evaluates text, or sets an href/src/handler from data."""
    for script in static_dir().glob("*.js"):
        text = script.read_text()
        found = MARKUP_SINKS.findall(text)
        assert not found, f"{script.name}: {found}"


def test_pages_have_no_inline_script_or_style() -> None:
    """Each page loads its scripts from /static: no inline script, handler or style."""
    for page in PAGES.values():
        html = render(page, {"id": "0" * 32, "status": "error"})
        assert "<script>" not in html and not re.search(r"\son[a-z]+=", html)
        assert "style=" not in html and "<style" not in html
        for src in re.findall(r'<script src="([^"]+)"', html):
            assert src.startswith("/static/") and (static_dir() / src[8:]).is_file()


def test_assets_are_small_and_self_contained() -> None:
    """Hand-written, no URL of another site, each file small enough to read."""
    for path in [*static_dir().glob("*.*"), *static_dir().glob("pages/*")]:
        text = path.read_text()
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), path.name
        assert len(text.splitlines()) < 400, path.name


def test_one_template_holds_the_head_and_nav() -> None:
    """The head and nav are written once (page.html); each page file is its body alone."""
    for page in PAGES.values():
        body = (static_dir() / "pages" / f"{page.name}.html").read_text()
        assert "<head" not in body and "<nav" not in body and "<script" not in body
        html = render(page, {})
        assert html.count("<nav>") == 1 and f'<body data-page="{page.name}">' in html
        assert html.count('<script src="/static/common.js" defer></script>') == 1


def test_preload_is_the_page_scripts_own_request() -> None:
    """The trace page preloads /api/trace/ID (hex ids only); the list its filters in the
    order and encoding of traces.js; hostile values end up percent-encoded, never markup."""
    trace = PAGES["/trace"]
    assert 'href="/api/trace/01abcdef"' in render(trace, {"id": "01abcdef"})
    assert "preload" not in render(trace, {"id": '"><script>alert(1)</script>'})
    listed = render(PAGES["/"], {"status": "error", "q": "01a", "text": 'a b"<>&~'})
    assert 'href="/api/traces?q=01a&amp;status=error&amp;text=a+b%22%3C%3E%26%7E"' in listed
    script = (static_dir() / "traces.js").read_text()
    order = re.search(r"const FILTERS = \[([^\]]*)\]", script)
    assert order is not None
    assert tuple(re.findall(r'"([a-z_]+)"', order.group(1))) == TRACE_FILTERS
    assert form_encode("é *-._") == "%C3%A9+*-._"
