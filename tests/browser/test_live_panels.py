"""vmsim live in the built book: the panels, the scratchpad and the answer boxes, in headless Chromium.

The book is served on 127.0.0.1 with every other request blocked, so the Python runtime
(Pyodide, vendored in ``book/_vendor/pyodide``) and the simulator (``_static/vmsim-core.zip``,
packed from the working tree by ``book/_ext/live_book.py``) must come from the book itself.
Every number a panel shows is compared with what ``vmsim.live`` computes natively here
for the same settings. Not part of the default ``pytest`` run (marker ``browser``).
"""

from __future__ import annotations

import json

import pytest
from browser_support import HTML, open_page

from vmsim.exercises import EXERCISES, answer
from vmsim.live import Lab

pytestmark = pytest.mark.browser

LOAD = 180_000  # ms: the runtime starts in 5-25 s on a loaded 2-core machine
#: Chapters whose first panel is driven, with a setting no pre-rendered frame has.
PANELS = {
    "book/04_lazy_boot": {"ram": "40 GiB", "domains": 3},
    "book/06_vmlazyinit_thread": {"ram": "40 GiB", "domains": 3},
    "book/07_contig_and_unfree": {"ram": "40 GiB", "domains": 3},
}


def settings_shown(page, panel) -> dict:
    """The settings the panel's form will send, as the page computes them."""
    return page.evaluate("""p => {
        const f = p.querySelector('form'); const out = {};
        for (const e of f.elements) if (e.name && e.name !== 'proposal') out[e.name] = e.value;
        return out; }""", panel.element_handle())


def counters(page, panel) -> list[list[str]]:
    return panel.evaluate(
        "p => [...p.querySelectorAll('.vmsim-live-counters tr')].map(r => [...r.cells].map(c => c.textContent))")


def native(config: dict, form: dict) -> dict:
    """What vmsim.live answers natively for the panel's settings (the same conversion the page makes)."""
    settings = {}
    for key in config.get("controls", []):
        if key in form and form[key] != "":
            value = form[key]
            settings[key] = int(value) if key in ("holes", "domains") else (value == "true" if key == "lazy" else value)
    for key, value in config.get("settings", {}).items():
        settings.setdefault(key, value)
    return Lab().boot(settings, config.get("views", ["map", "queues"]))


@pytest.mark.parametrize("doc", list(PANELS))
def test_a_live_panel_computes_what_vmsim_computes_for_a_machine_no_frame_has(site, browser, doc):
    page, problems = open_page(browser, f"{site}/{doc}.html")
    try:
        panel = page.locator(".vmsim-live-panel").first
        config = json.loads(panel.get_attribute("data-config"))
        requested = []
        page.on("request", lambda r: requested.append(r.url))
        assert not any("pyodide" in u for u in requested)
        panel.locator(".vmsim-run-live").click()
        panel.locator(".vmsim-live-counters tr").first.wait_for(timeout=LOAD)
        first_svg = panel.locator(".vmsim-live-map").inner_html()
        assert first_svg.startswith("<svg")
        for name, value in PANELS[doc].items():
            if panel.locator(f"[name={name}]").count():
                panel.locator(f"[name={name}]").fill(str(value))
        panel.locator("button[type=submit]").click()
        panel.locator(".vmsim-live-message", has_text="40 GiB").wait_for(timeout=60_000)
        expected = native(config, settings_shown(page, panel))
        assert expected["ok"], expected
        assert counters(page, panel) == expected["counters"]
        assert panel.locator(".vmsim-live-map").inner_html() != first_svg
        assert any("pyodide.asm.wasm" in u for u in requested) and any("vmsim-core.zip" in u for u in requested)
        # Bad input: the library's own sentence in the page, and the panel goes on working.
        panel.locator("[name=ram]").fill("lots")
        panel.locator("button[type=submit]").click()
        error = panel.locator(".vmsim-live-error")
        error.filter(has_text="is not a size").wait_for(timeout=60_000)
        assert "Traceback" not in error.inner_text()
        panel.locator("[name=ram]").fill("1 GiB")
        panel.locator("button[type=submit]").click()
        panel.locator(".vmsim-live-message", has_text="booted 1023 MiB").wait_for(timeout=60_000)
        assert error.inner_text() == ""
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


def test_the_scratchpad_runs_code_and_shows_only_the_last_frame_of_an_error(site, browser):
    page, problems = open_page(browser, f"{site}/book/00_how_to_use.html")
    try:
        pad = page.locator(".vmsim-scratchpad").first
        code = "m = Machine([[0, 1 << 30]], [[65536, 1040187392]])\nprint('booted')\nm.page_inits"
        pad.locator("textarea").fill(code)
        pad.locator("textarea").press("Control+Enter")
        pad.locator(".vmsim-pad-value").wait_for(timeout=LOAD)
        assert pad.locator(".vmsim-pad-stdout").inner_text().strip() == "booted"
        assert pad.locator(".vmsim-pad-value").inner_text() == "87"
        pad.locator("textarea").fill("m.alloc_pages(0, 'LAZYINIT', 0)")
        pad.locator(".vmsim-run-code").click()
        err = pad.locator(".vmsim-pad-error")
        err.wait_for(timeout=60_000)
        assert err.inner_text().startswith("line 1: InvalidInput: vm_phys_alloc_pages: pool 0 is out of range")
        assert "Traceback" not in err.inner_text() and "File " not in err.inner_text()
        # Answer boxes on the same page use the same runtime.
        boxes = page.locator(".vmsim-answer")
        assert boxes.count() >= 1
        box = boxes.first
        number = box.get_attribute("data-exercise")
        assert number in EXERCISES
        box.locator("input").fill(str(answer(number) + 1))
        box.locator("button").click()
        result = box.locator(".vmsim-answer-result")
        result.filter(has_text="Not").wait_for(timeout=60_000)
        box.locator("input").fill(f"{answer(number):,}")
        box.locator("button").click()
        result.filter(has_text="Right").wait_for(timeout=60_000)
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


def test_from_a_file_the_live_button_says_how_to_serve_the_book(browser):
    page, problems = open_page(browser, (HTML / "book" / "04_lazy_boot.html").as_uri())
    try:
        panel = page.locator(".vmsim-live-panel").first
        panel.locator(".vmsim-run-live").click()
        error = panel.locator(".vmsim-live-error")
        error.filter(has_text="http.server").wait_for(timeout=10_000)
        assert "127.0.0.1:8000/book/04_lazy_boot.html" in error.inner_text()
        assert page.locator("img").first.is_visible()  # the static frames still work
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()
