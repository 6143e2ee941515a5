"""The page assets shipped in logtrace/web/static: values go in as text, no inline script."""

from __future__ import annotations

import re

import pytest

from logtrace.web.app import PAGES, static_dir

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
    for name in PAGES.values():
        html = (static_dir() / name).read_text()
        assert "<script>" not in html and not re.search(r"\son[a-z]+=", html)
        assert "style=" not in html and "<style" not in html
        for src in re.findall(r'<script src="([^"]+)"', html):
            assert src.startswith("/static/") and (static_dir() / src[8:]).is_file()


def test_assets_are_small_and_self_contained() -> None:
    """Hand-written, no URL of another site, each file small enough to read."""
    for path in static_dir().iterdir():
        text = path.read_text()
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), path.name
        assert len(text.splitlines()) < 400, path.name
