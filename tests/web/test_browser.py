"""The pages of ``logtrace ui`` in a real browser: Playwright driving Debian's Chromium against
a real server on 127.0.0.1 (``tox -e browser``; skipped in the default run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _web_fixtures import chromium, demo_dir, demo_trace, page, server
from _web_helpers import write_big_trace

from logtrace.web.server import background

pytestmark = pytest.mark.browser

HOSTILE = {
    "name": "<script>window.__xss='name'</script>",
    "attr": '"><img src=x onerror="window.__xss=\'attr\'">',
    "link": "javascript:window.__xss='link'",
    "log": "<img src=x onerror=window.__xss='log'>",
    "error": "<svg onload=window.__xss='error'>",
    "service": "<b onmouseover=window.__xss='service'>svc</b>",
    "key": "<i>key</i>",
}
# The write side, with every value above where a span, a log line or an error puts it.
HOSTILE_WRITER = r"""
import sys, json, structlog, logtrace
h = json.loads(sys.argv[2])
logtrace.configure(service=h["service"], directory=sys.argv[1], flush="always")
log = structlog.get_logger("app")
try:
    with logtrace.span(h["name"], **{h["key"]: h["attr"], "url": h["link"]}) as root:
        log.info(h["log"], extra=h["attr"])
        root.event(h["log"], detail=h["attr"])
        with logtrace.span(h["name"] + " child"):
            raise ValueError(h["error"])
except ValueError:
    pass
logtrace.shutdown()
"""


def _open_trace(page: Any, url: str, trace_id: str) -> None:
    page.goto(f"{url}trace?id={trace_id}")
    page.wait_for_selector("body[data-drawn]", timeout=60_000)


def test_demo_trace_found_by_search_and_opened(page: Any, server: str, demo_trace: str) -> None:
    """Search by id prefix lists the demo's trace; opening it draws the waterfall, with the
    failed spans red and their error, and the log lines in place."""
    page.goto(server)
    page.fill("input[name=q]", demo_trace[:10])
    page.click("button[type=submit]")
    page.wait_for_url(f"**/?q={demo_trace[:10]}")
    page.wait_for_selector("a.trace-id")
    link = page.locator("a.trace-id")
    assert link.count() == 1 and link.inner_text() == demo_trace
    link.click()
    page.wait_for_selector("body[data-drawn]", timeout=60_000)
    assert page.locator(".row-span").count() > 10
    assert page.locator(".row-log").count() > 0
    failed = page.locator(".row-span.error").filter(has_text="handle task").first
    assert "Error" in failed.locator(".err-msg").inner_text()
    failed.click()
    detail = page.locator("#detail")
    assert "Error" in detail.locator(".error-box").inner_text()
    assert detail.locator(".log-list li").count() > 0
    assert "jq -c 'select(.span_id ==" in detail.inner_text()
    assert f"logtrace show {demo_trace}" in detail.inner_text()
    assert detail.locator("dd").filter(has_text=".jsonl").count() == 1  # the span's file
    assert page.problems == []


def test_pages_ask_their_json_once(page: Any, server: str, demo_trace: str) -> None:
    """The head preloads the page's JSON (/api/trace/ID; /api/traces with the filters) and
    the script's request is that one: one request each, no warning of an unused preload."""
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if "preload" in m.text else None)
    script = "performance.getEntriesByType('resource').map(e => e.name)"
    script += ".filter(n => n.includes('/api/'))"
    _open_trace(page, server, demo_trace)
    assert page.evaluate(script) == [f"{server}api/trace/{demo_trace}"]
    page.goto(f"{server}?status=error&text=a%20b~&q={demo_trace[:6]}")
    page.wait_for_selector("#results > *")
    asked = f"{server}api/traces?q={demo_trace[:6]}&status=error&text=a+b%7E"
    assert page.evaluate(script) == [asked]
    page.wait_for_timeout(3500)  # Chromium warns of a preload unused after 3 s
    assert warnings == [] and page.problems == []


def test_keyboard_moves_and_folds(page: Any, server: str, demo_trace: str) -> None:
    """Arrow keys move the selection; Left folds a span's subtree, Right unfolds it."""
    _open_trace(page, server, demo_trace)
    rows = page.locator(".row").count()
    page.keyboard.press("ArrowDown")
    assert page.locator(".row.selected").get_attribute("data-index") == "1"
    page.keyboard.press("Home")
    page.keyboard.press("ArrowLeft")
    assert page.locator(".row").count() == 1
    page.keyboard.press("ArrowRight")
    assert page.locator(".row").count() == rows
    assert page.problems == []


def test_critical_path_toggled(page: Any, server: str, demo_trace: str) -> None:
    """The critical path toggle marks the spans on it and draws their sections."""
    from logtrace.read.reader import Reader

    if not hasattr(Reader, "critical_path"):
        pytest.skip("reader.critical_path (logtrace/read/analytics) is not in this logtrace yet")
    _open_trace(page, server, demo_trace)
    page.check("#critical-path")
    page.wait_for_selector(".row.on-cp", timeout=60_000)
    assert page.locator(".cp-seg").count() >= 1
    assert "critical path" in page.locator("#cp-note").inner_text()
    page.keyboard.press("c")
    assert page.locator(".row.on-cp").count() == 0
    assert page.problems == []


def test_live_page_receives_a_span_written_after_it_opened(page: Any, tmp_path: Path) -> None:
    """The Live page shows a span that another process writes after the page opened."""
    directory = tmp_path / "logtrace"
    directory.mkdir()
    writer = (
        "import sys, logtrace\n"
        "logtrace.configure(service='late', directory=sys.argv[1], flush='always')\n"
        "with logtrace.span('written after the page opened'):\n"
        "    pass\n"
        "logtrace.shutdown()\n"
    )
    with background(str(directory)) as url:
        page.goto(url + "live")
        page.wait_for_selector("#state.status-ok", timeout=30_000)
        page.wait_for_selector("#inflight p", timeout=30_000)
        subprocess.run([sys.executable, "-c", writer, str(directory)], check=True, timeout=60)
        line = page.locator(".live-line").filter(has_text="written after the page opened")
        line.first.wait_for(timeout=30_000)
        assert line.count() == 2  # its start and end lines
    assert page.problems == []


def test_ten_thousand_span_trace_scrolls(page: Any, tmp_path: Path) -> None:
    """A 10,001-span trace: repeated siblings fold; unfolded, only the rows on screen are in
    the page, and scrolling to the end shows its last, failed span."""
    trace_id = write_big_trace(tmp_path, batches=100, items=99)
    with background(str(tmp_path)) as url:
        _open_trace(page, url, trace_id)
        assert page.locator(".row-group").count() == 1  # the 100 batch spans
        page.uncheck("#group-repeats")
        total = page.evaluate("document.getElementById('space').offsetHeight / 24")
        assert total >= 10_001
        assert page.locator(".row").count() < 200
        page.evaluate("const v = document.getElementById('viewport'); v.scrollTop = v.scrollHeight")
        last = page.locator(".row.error").filter(has_text="last item failed")
        last.wait_for(timeout=30_000)
        assert page.locator(".row").count() < 200
        page.keyboard.press("End")
        assert int(page.locator(".row.selected").get_attribute("data-index")) == total - 1
    assert page.problems == []


def test_hostile_values_show_as_text(page: Any, tmp_path: Path) -> None:
    """XSS canary: names, attributes, messages and errors holding markup or javascript: URLs
    run no script on any page and are shown as the text they are."""
    import json

    directory = tmp_path / "logtrace"
    subprocess.run(
        [sys.executable, "-c", HOSTILE_WRITER, str(directory), json.dumps(HOSTILE)],
        check=True,
        timeout=60,
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with background(str(directory)) as url:
        page.goto(url)
        page.wait_for_selector("a.trace-id")
        assert HOSTILE["name"] in page.inner_text("#results")
        page.click("a.trace-id")
        page.wait_for_selector("body[data-drawn]", timeout=60_000)
        for index in range(page.locator(".row").count()):
            page.locator(f".row[data-index='{index}']").click()
            page.locator(f".row[data-index='{index}']").hover()
        text = page.inner_text("main")
        for value in ("name", "log", "error"):
            assert HOSTILE[value] in text
        page.locator(".row-span").first.click()
        detail = page.inner_text("#detail")
        assert HOSTILE["attr"] in detail and HOSTILE["link"] in detail and HOSTILE["key"] in detail
        page.goto(url + "operations?op=" + HOSTILE["name"].replace("'", "%27"))
        page.wait_for_selector("table.ops")
        assert HOSTILE["name"] in page.inner_text("main")
        page.goto(url + "live")
        page.wait_for_selector("#state.status-ok", timeout=30_000)
        subprocess.run(
            [sys.executable, "-c", HOSTILE_WRITER, str(directory), json.dumps(HOSTILE)],
            check=True,
            timeout=60,
        )
        page.locator(".live-line").filter(has_text=HOSTILE["log"]).first.wait_for(timeout=30_000)
        for element in page.locator(".live-line").all():
            element.hover()
        assert page.evaluate("window.__xss") is None
        injected = "main img, main script, main b, main i, main iframe, main svg[onload]"
        assert page.locator(injected).count() == 0
        assert not page.evaluate(
            "[...document.querySelectorAll('a')].some(a => a.href.startsWith('javascript:'))"
        )
    assert dialogs == [] and page.problems == []


def test_malformed_span_fragment_still_draws_the_trace(
    page: Any, server: str, demo_trace: str
) -> None:
    """A ``#span=`` that does not decode (``%E0%A4%A``) is ignored: the waterfall is drawn,
    its first row selected, and no script error is reported."""
    _open_trace(page, server, f"{demo_trace}#span=%E0%A4%A")
    assert page.locator(".row-span").count() > 10
    assert page.locator(".row.selected").get_attribute("data-index") == "0"
    assert page.problems == []
