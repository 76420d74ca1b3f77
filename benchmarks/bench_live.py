"""vmsim live in the page: how long a reader waits, measured in headless Chromium.

Run after building the book (``jupyter-book build .``)::

    python benchmarks/bench_live.py

It serves ``_build/html`` on 127.0.0.1 (every other request refused), opens chapter 4 in
Debian's Chromium (Playwright; never ``playwright install``) and reports, each beside its
target from the live-in-the-page issue:

* click on "Run live" to the first result, Pyodide's start included (< 10 s on this machine);
* one live update of a 1 GiB machine, from the Boot click to the answer shown (< 300 ms);
* a lazy 4 TiB boot in the page, picture included (< 5 s);
* the in-page slowdown: the same Python (a reference loop, a 1 GiB boot with 1,000
  allocations and frees, a 4 TiB boot) timed in the page's scratchpad and natively here.

Each browser figure is the best of three fresh pages (a fresh page starts a fresh runtime).
The machine's load changes every figure; the slowdown ratios change least.
"""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
PAGE = "book/04_lazy_boot.html"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Timed in the scratchpad and natively; prints one JSON line of seconds.
WORK = """import json, time
from vmsim import Machine, pc
def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t
def ops():
    m = Machine([[0, 1 << 30]], [[65536, 1040187392]])
    for i in range(500):
        pa = m.alloc_pages(0, ("DEFAULT", "DIRECT")[i % 2], i % 4)
        m.free_pages(pa, i % 4)
print(json.dumps({"reference loop": timed(lambda: sum(1 for _ in range(2_000_000))),
                  "1 GiB boot + 1,000 allocations and frees": timed(ops),
                  "4 TiB lazy boot": timed(lambda: pc(4 << 40).boot())}))
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def measure_once(browser, base: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) or
                  r.request.url.startswith("data:") else r.abort())
    page = context.new_page()
    page.goto(f"{base}/{PAGE}")
    page.wait_for_load_state("networkidle")
    panel = page.locator(".vmsim-live-panel").first
    t = time.perf_counter()
    panel.locator(".vmsim-run-live").click()
    panel.locator(".vmsim-live-counters tr").first.wait_for(timeout=300_000)
    first = time.perf_counter() - t

    message = panel.locator(".vmsim-live-message")

    def boot(ram: str) -> float:
        before = message.inner_text()
        panel.locator("[name=ram]").fill(ram)
        t = time.perf_counter()
        panel.locator("button[type=submit]").click()
        page.wait_for_function("([el, old]) => el.textContent !== old && el.textContent.startsWith('booted')",
                               arg=[message.element_handle(), before], timeout=300_000, polling=5)
        return time.perf_counter() - t

    boot("2 GiB")  # warm
    update = min(boot(ram) for ram in ("1 GiB", "2 GiB", "1 GiB"))
    big = boot("4 TiB")
    pad = page.locator(".vmsim-scratchpad").first
    pad.locator("textarea").fill(WORK)
    pad.locator(".vmsim-run-code").click()
    pad.locator(".vmsim-pad-stdout").wait_for(timeout=300_000)
    in_page = json.loads(pad.locator(".vmsim-pad-stdout").inner_text())
    context.close()
    return {"first": first, "update": update, "big": big, "in_page": in_page}


def native() -> dict:
    out = subprocess.run([sys.executable, "-c", WORK], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not (HTML / PAGE).is_file():
        sys.exit(f"{HTML / PAGE} is missing: build the book first (jupyter-book build .)")
    handler = functools.partial(_Quiet, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        runs = [measure_once(browser, base) for _ in range(3)]
        browser.close()
    server.shutdown()
    nat = min((native() for _ in range(3)), key=lambda r: r["reference loop"])
    best = {k: min(r[k] for r in runs) for k in ("first", "update", "big")}
    rows = [("click to the first result, s", best["first"], "< 10", best["first"] < 10),
            ("one live update of a 1 GiB machine, ms", best["update"] * 1e3, "< 300", best["update"] < 0.3),
            ("a lazy 4 TiB boot in the page, s", best["big"], "< 5", best["big"] < 5)]
    print(f"{'figure':44} {'measured':>10} {'target':>8}  met")
    for name, value, target, ok in rows:
        print(f"{name:44} {value:10.2f} {target:>8}  {'yes' if ok else 'NO'}")
    print()
    print(f"{'the same Python':44} {'page, s':>10} {'native, s':>10} {'slowdown':>9}")
    for name in nat:
        page_s = min(r["in_page"][name] for r in runs)
        print(f"{name:44} {page_s:10.3f} {nat[name]:10.3f} {page_s / nat[name]:8.2f}x")
    size = sum(f.stat().st_size for f in (HTML / "_static" / "pyodide").iterdir())
    print(f"\nvendored runtime: {size:,} bytes in _static/pyodide; vmsim core: "
          f"{(HTML / '_static' / 'vmsim-core.zip').stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
