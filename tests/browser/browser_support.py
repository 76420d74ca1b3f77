"""What the browser tests share: where the book is, how Chromium starts, and how a page is opened.

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright (never ``playwright
install``), with the flags that keep it from reaching for the network on its own. Every
request that leaves 127.0.0.1 (or the book's own files, over ``file://``) is blocked and
reported as a problem, and so is every console error, page error and failed request.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
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
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@contextmanager
def serve(directory: Path):
    """Serve *directory* on 127.0.0.1 from a thread of this process; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _local(url: str) -> bool:
    return urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:", f"file://{HTML}"))


def open_page(browser, url: str, viewport: dict = LAPTOP, color_scheme: str = "light", wait: bool = True):
    """Open *url* with every non-local request blocked; return (page, problems)."""
    context = browser.new_context(viewport=viewport, color_scheme=color_scheme)
    problems: list[str] = []

    def route(r):
        if _local(r.request.url):
            r.continue_()
        else:
            problems.append(f"blocked request to {r.request.url}")
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text} ({m.location})"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status} for {r.url}"))
    page.goto(url, wait_until="load")
    if wait:
        page.wait_for_load_state("networkidle")
    return page, problems
