"""The web view (``logtrace ui``) against its targets, and the screenshots of docs/web.md.

    python benchmarks/bench_web.py                      # the figures (needs chromium)
    python benchmarks/bench_web.py --no-browser         # only the trace list's
    python benchmarks/bench_web.py --screenshots docs/images

Targets (issue 18), on the 1 GB history of ``bench_history.py`` (generated there once, cached
under /tmp/logtrace-bench-history): the trace list answers in <= 0.3 s; a 1,000-span trace page
is drawn in <= 1 s and a 10,000-span one in <= 2 s in headless Chromium (navigation start to the
waterfall drawn: ``performance.now()`` when trace.js has drawn its rows), each the first ask
of a freshly started server (a new Reader, nothing kept) and asked again; beside them, the
time from starting a server to its listening. The two big traces are
written (in the documented format) into the history's last hour, beside its files (hard links), so
their lookup reads what a lookup in that history reads. Medians of ``--reps`` runs; results in
bench-results/web-latest.json; ``--docs docs/web.md`` writes them into its WEB-BENCH block.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests")]

import _web_helpers  # noqa: E402
import bench_history  # noqa: E402

import logtrace  # noqa: E402
from logtrace.read.files import time_range  # noqa: E402
from logtrace.web.server import background  # noqa: E402

DEMO = "import sys; from logtrace.cli.demo import run_demo; sys.exit(run_demo(sys.argv[1:]))"


def history_with_big_traces(work: Path) -> tuple[Path, dict[str, str]]:
    """The 1 GB history (its files hard-linked: the reader refuses symlinks) plus a 1,000-
    and a 10,000-span trace."""
    source, _ = bench_history.prepare(Path("/tmp/logtrace-bench-history"), quick=False)
    target = work / "logtrace"
    for path in source.rglob("*.jsonl*"):
        link = target / path.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, link)
        except OSError:  # another file system: a copy
            shutil.copy2(path, link)
    with logtrace.open(target) as reader:
        span = time_range(reader.all_files)
    assert span is not None
    late = span[1] - timedelta(minutes=30)
    traces = {
        "1000": _web_helpers.write_big_trace(target, 10, 99, seed=1, start=late),
        "10000": _web_helpers.write_big_trace(
            target, 100, 99, seed=2, start=late + timedelta(minutes=1)
        ),
    }
    return target, traces


def time_list(url: str, query: dict[str, str], reps: int) -> float:
    times = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for _ in range(reps):
            started = time.perf_counter()
            response = client.get("api/traces", params=query)
            times.append(time.perf_counter() - started)
            response.raise_for_status()
    return statistics.median(times)


def time_list_first(directory: Path, query: dict[str, str], reps: int) -> tuple[float, float]:
    """The first ask of a freshly started server (a new Reader, nothing kept), and the time
    from starting the server to its listening (what it does before it answers anything)."""
    times, starts = [], []
    for _ in range(reps):
        started = time.perf_counter()
        with background(str(directory)) as url:
            starts.append(time.perf_counter() - started)
            times.append(time_list(url, query, 1))
    return statistics.median(times), statistics.median(starts)


# Navigation start to the waterfall drawn, and to the end of the JSON's response.
TIMES = """() => {
  const api = performance.getEntriesByType('resource').find(e => e.name.includes('/api/trace/'));
  return [Number(document.body.dataset.drawnMs), api ? api.responseEnd : NaN];
}"""


def page_times(browser: Any, url: str, trace_id: str) -> tuple[float, float]:
    """(drawn, JSON received) in seconds from navigation start, for one fresh page."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}trace?id={trace_id}")
    page.wait_for_selector("body[data-drawn]", timeout=120_000)
    drawn, answered = page.evaluate(TIMES)
    page.close()
    return drawn / 1000, answered / 1000


def time_page(browser: Any, directory: Path, trace_id: str, reps: int) -> dict[str, float]:
    """A trace page, first view on a freshly started server and viewed again (kept JSON):
    medians of the time to the waterfall drawn and to its JSON received."""
    first, again = [], []
    for _ in range(reps):
        with background(str(directory)) as url:
            first.append(page_times(browser, url, trace_id))
            again.append(page_times(browser, url, trace_id))
    return {
        "first": statistics.median(t[0] for t in first),
        "first_json": statistics.median(t[1] for t in first),
        "again": statistics.median(t[0] for t in again),
    }


def launch(playwright: Any) -> Any:
    binary = shutil.which("chromium")
    if binary is None:
        sys.exit("needs chromium: apt-get install chromium")
    return playwright.chromium.launch(
        executable_path=binary, headless=True, args=_web_helpers.CHROMIUM_ARGS
    )


def measure(reps: int, browser: bool = True) -> dict[str, Any]:
    """The rows of the table; without ``browser`` only those of the trace list."""
    with tempfile.TemporaryDirectory() as tmp:
        directory, traces = history_with_big_traces(Path(tmp))
        first, start = time_list_first(directory, {}, reps)
        rows: dict[str, tuple[float, float | None]] = {
            "server started (to listening)": (start, None),
            "trace list (50 newest), first ask": (first, 0.3),
        }
        with background(str(directory)) as url:
            time_list(url, {}, 1)
            rows["trace list, asked again (kept)"] = (time_list(url, {}, reps), None)
            rows["trace list, status=error"] = (time_list(url, {"status": "error"}, 1), None)
        if browser:
            rows.update(measure_pages(directory, traces, reps))
    return {
        what: {"seconds": round(s, 3), "target": t, "met": None if t is None else s <= t}
        for what, (s, t) in rows.items()
    }


def measure_pages(
    directory: Path, traces: dict[str, str], reps: int
) -> dict[str, tuple[float, float | None]]:
    """The trace pages' rows: headless Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    rows: dict[str, tuple[float, float | None]] = {}
    with sync_playwright() as p:
        browser = launch(p)
        for spans, target in (("1000", 1.0), ("10000", 2.0)):
            got = time_page(browser, directory, traces[spans], reps)
            label = f"{int(spans):,}-span trace page drawn"
            rows[f"{label}, first view"] = (got["first"], target)
            rows[f"{label}: its JSON received"] = (got["first_json"], None)
            rows[f"{label}, viewed again"] = (got["again"], None)
        browser.close()
    return rows


def screenshots(out: Path) -> None:
    """A PNG of each page over the demo's files (and the 10k trace), for docs/web.md."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "logtrace"
        for _ in range(2):  # two runs: two traces to compare
            subprocess.run(
                [sys.executable, "-c", DEMO, "--dir", str(demo), "--no-show"],
                check=True,
                capture_output=True,
            )
        with logtrace.open(demo) as reader:
            ids = [r["trace_id"] for r in reader.query("recent_traces_no_attr", limit=2)]
        with background(str(demo)) as url, sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            shots = [
                ("traces", "", None),
                ("trace", f"trace?id={ids[0]}", "body[data-drawn]"),
                ("operations", "operations?op=handle%20task&every=1s", "table.ops"),
                ("compare", f"compare?a={ids[0]}&b={ids[1]}", "#results > *"),
            ]
            for name, path, ready in shots:
                page.goto(url + path)
                page.wait_for_selector(ready or "a.trace-id", timeout=60_000)
                if name == "trace":
                    page.locator(".row-span.error").filter(has_text="handle task").first.click()
                page.wait_for_timeout(500)
                page.screenshot(path=str(out / f"web-{name}.png"))
            live_screenshot(page, url, demo, out)
            browser.close()


def live_screenshot(page: Any, url: str, demo: Path, out: Path) -> None:
    page.goto(url + "live")
    page.wait_for_selector("#state.status-ok", timeout=30_000)
    child = subprocess.Popen(
        [sys.executable, "-c", DEMO, "--dir", str(demo), "--no-show"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    page.locator(".live-line").nth(40).wait_for(timeout=60_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "web-live.png"))
    child.wait()


def docs_block(record: dict[str, Any]) -> str:
    """The figures as docs/web.md shows them (between its WEB-BENCH markers)."""
    load = ", ".join(f"{x:.1f}" for x in record["load"])
    before = record["load_before"][0]
    lines = [
        f"Run {record['when']} (medians of {record['reps']}; load average {before:.1f} before,"
        f" {load} after, on 2 shared",
        'cores; "first" is a freshly started server, "again" the same question asked again):',
        "",
        "| | seconds | target | |",
        "|---|---:|---:|---|",
    ]
    for what, row in record["rows"].items():
        target = "" if row["target"] is None else f"≤ {row['target']}"
        met = "" if row["met"] is None else ("met" if row["met"] else "**not met**")
        lines.append(f"| {what.strip()} | {row['seconds']:.3f} | {target} | {met} |")
    return "\n".join(lines)


def write_docs(path: Path, record: dict[str, Any]) -> None:
    text = path.read_text()
    start, end = "<!-- WEB-BENCH -->", "<!-- /WEB-BENCH -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{docs_block(record)}\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--screenshots", type=Path, help="write the PNGs here instead")
    parser.add_argument("--docs", type=Path, help="write the figures into this docs/web.md")
    parser.add_argument(
        "--no-browser", action="store_true", help="only the trace list (no Playwright/Chromium)"
    )
    args = parser.parse_args()
    if args.screenshots:
        screenshots(args.screenshots)
        return
    load_before = os.getloadavg()
    figures = measure(args.reps, browser=not args.no_browser)
    results = ROOT / "bench-results"
    results.mkdir(exist_ok=True)
    record = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "reps": args.reps,
        "load_before": load_before,
        "load": os.getloadavg(),
        "rows": figures,
    }
    (results / "web-latest.json").write_text(json.dumps(record, indent=2))
    if args.docs:
        write_docs(args.docs, record)
    print(
        f"{record['when']} · medians of {args.reps} · load {load_before[0]:.1f} before,"
        f" {record['load'][0]:.1f} after"
    )
    for what, row in figures.items():
        target = "" if row["target"] is None else f"≤ {row['target']} s"
        met = "" if row["met"] is None else ("met" if row["met"] else "NOT MET")
        print(f"  {what:44} {row['seconds']:7.3f} s  {target:9} {met}")


if __name__ == "__main__":
    main()
