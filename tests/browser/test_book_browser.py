"""The built book, as a reader's browser shows it, with no network.

Serves ``_build/html`` on 127.0.0.1 and opens every page listed in ``_toc.yml`` in
headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright; never
``playwright install``). Every request that leaves 127.0.0.1 is blocked and fails
the test, so the book must carry its own JavaScript, fonts and images. On each page:
no console errors, every image loaded, MathJax typeset every formula, every slider
widget responds to the keyboard and, where it drives a figure, changes the picture shown,
and a screenshot goes to ``_build/screenshots/``.

Not part of the default ``pytest`` run (marker ``browser``). After
``jupyter-book build .``::

    .venv/bin/python -m pytest -m browser tests/browser
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from book_toc import toc_documents

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
# The flags that keep Chromium from reaching for the network on its own (updates, sync, ...).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SLIDER_HANDLE = ".widget-slider .noUi-handle, .widget-slider .ui-slider-handle"
# What a widget output shows: its readouts' text and its inputs' values, in document order.
SHOWN_VALUES = """el => [...el.querySelectorAll('.widget-readout, input')]
    .map(e => e.matches('input') ? e.value : e.textContent.trim())"""
# Which pictures a widget output shows now: the visible <img>s (a Stack hides the others).
SHOWN_IMAGES = """el => [...el.querySelectorAll('img')].filter(i => i.offsetParent !== null)
    .map(i => i.alt + ':' + i.currentSrc.length + ':' + i.currentSrc.slice(-48))"""


def toc_pages(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Documents listed in *toc_path*, root first, in reading order (paths without suffix)."""
    return [str(Path(p).with_suffix("")) for p in toc_documents(toc_path)]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def site():
    """Base URL of ``_build/html`` served on 127.0.0.1 by a thread of this process."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"{HTML / 'index.html'} is missing: run `jupyter-book build .` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url):
    """Open *url* with every non-local request blocked; return (page, problems)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []

    def route(r):
        if urlsplit(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith("data:"):
            r.continue_()
        else:
            problems.append(f"blocked request to {r.request.url}")
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text} ({m.location})"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"HTTP {r.status} for {r.url}"),
    )
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, problems


@pytest.mark.parametrize("doc", toc_pages())
def test_page_renders_offline(site, browser, doc):
    page, problems = open_page(browser, f"{site}/{doc}.html")
    try:
        # Images: every <img> finished loading with real pixels.
        page.wait_for_function("[...document.images].every(i => i.complete)", timeout=15_000)
        broken = page.eval_on_selector_all(
            "img", "imgs => imgs.filter(i => !(i.naturalWidth > 0)).map(i => i.currentSrc || i.src)"
        )
        assert broken == [], f"images that did not load on {doc}: {broken}"

        # Math: Sphinx marks each formula with class "math"; MathJax replaces it with mjx-container.
        formulas = page.locator("span.math, div.math").count()
        if formulas:
            page.wait_for_function(
                "n => document.querySelectorAll('mjx-container').length >= n", arg=formulas, timeout=30_000
            )

        # Widgets: each saved widget view was rendered, and each slider answers the keyboard.
        views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
        if views:
            page.wait_for_selector(".widget-subarea .jupyter-widgets", timeout=30_000)
        handles = page.locator(SLIDER_HANDLE)
        for i in range(handles.count()):
            handle = handles.nth(i)
            if handle.locator("xpath=ancestor::*[contains(@class, 'vmsim-live')]").count():
                continue  # a live control: it needs a kernel, and its box says so
            output = handle.locator("xpath=ancestor::div[contains(@class, 'cell_output')][1]").element_handle()
            before = page.evaluate(SHOWN_VALUES, output)
            pictures = page.evaluate(SHOWN_IMAGES, output)
            handle.scroll_into_view_if_needed()
            handle.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                f"([el, old]) => JSON.stringify(({SHOWN_VALUES})(el)) !== JSON.stringify(old)",
                arg=[output, before],
                timeout=5_000,
            )
            if pictures:
                # The slider drives a figure: the picture shown must change too.
                page.wait_for_function(
                    f"([el, old]) => JSON.stringify(({SHOWN_IMAGES})(el)) !== JSON.stringify(old)",
                    arg=[output, pictures],
                    timeout=5_000,
                )

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
        page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '__')}.png"), full_page=True)
        assert problems == [], f"{doc}:\n" + "\n".join(problems)
    finally:
        page.context.close()
