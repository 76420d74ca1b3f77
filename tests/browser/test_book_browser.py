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

from pathlib import Path

import pytest
from browser_support import PHONE, ROOT, open_page

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "_build" / "screenshots"
SLIDER_HANDLE = ".widget-slider .noUi-handle, .widget-slider .ui-slider-handle"
# What a widget output shows: its readouts' text and its inputs' values, in document order.
SHOWN_VALUES = """el => [...el.querySelectorAll('.widget-readout, input')]
    .map(e => e.matches('input') ? e.value : e.textContent.trim())"""
# Which pictures a widget output shows now: the visible <img>s (a Stack hides the others).
SHOWN_IMAGES = """el => [...el.querySelectorAll('img')].filter(i => i.offsetParent !== null)
    .map(i => i.alt + ':' + i.currentSrc.length + ':' + i.currentSrc.slice(-48))"""
#: Text under WCAG AA contrast against its background, as [{text, ratio, need}] (tests/browser/contrast.js).
CONTRAST = (Path(__file__).parent / "contrast.js").read_text()


def toc_pages() -> list[str]:
    """Documents listed in _toc.yml, root first, in reading order (paths without suffix)."""
    from book_toc import toc_documents

    return [str(Path(p).with_suffix("")) for p in toc_documents(ROOT / "_toc.yml")]


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


@pytest.mark.parametrize("doc", toc_pages())
def test_page_fits_a_phone_and_every_image_says_what_it_shows(site, browser, doc):
    page, problems = open_page(browser, f"{site}/{doc}.html", viewport=PHONE)
    try:
        page.wait_for_function("[...document.images].every(i => i.complete)", timeout=15_000)
        if page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count():
            page.wait_for_selector(".widget-subarea .jupyter-widgets", timeout=30_000)
        width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        wide = page.evaluate("""() => [...document.querySelectorAll('.bd-article *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + ' ' + (e.textContent || '').trim().slice(0, 40)).slice(0, 5)""")
        assert width <= viewport, f"{doc} is {width} px wide at {viewport} px: {wide}"
        no_alt = page.eval_on_selector_all("img", "is => is.filter(i => !i.alt.trim()).map(i => i.src.slice(0, 80))")
        assert no_alt == [], f"images without alt text on {doc}: {no_alt}"
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


@pytest.mark.parametrize("doc", toc_pages())
def test_page_text_is_readable_in_dark_mode(site, browser, doc):
    page, problems = open_page(browser, f"{site}/{doc}.html", color_scheme="dark")
    try:
        page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")
        if page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count():
            page.wait_for_selector(".widget-subarea .jupyter-widgets", timeout=30_000)
        page.wait_for_timeout(300)
        poor = page.evaluate(CONTRAST)
        assert poor == [], f"text under WCAG AA contrast on {doc} in dark mode: {poor[:10]}"
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()
