"""What a reader meets around the chapters: search by short names, the book opened from a file,
downloads, figures opened full size, and saved pages that say which controls need Python.

Not part of the default ``pytest`` run (marker ``browser``); needs a built book.
"""

from __future__ import annotations

import re

import pytest
from browser_support import HTML, PHONE, open_page

pytestmark = pytest.mark.browser


def search(page, site, words: str) -> list[str]:
    page.goto(f"{site}/search.html?q={words}")
    page.wait_for_selector("#search-results p.search-summary, #search-results .search-summary", timeout=30_000)
    return page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.getAttribute('href'))")


def test_a_kernel_function_is_found_by_its_short_name(site, browser):
    page, problems = open_page(browser, f"{site}/index.html")
    try:
        full = {h.split("#")[0] for h in search(page, site, "vm_phys_set_pool")}
        short = {h.split("#")[0] for h in search(page, site, "set_pool")}
        assert full and full <= short, (full, short)
        assert any("05_allocating_lazily" in h for h in short)
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


def test_opened_from_a_file_search_lists_titles_and_says_how_to_serve_the_book(browser):
    page, problems = open_page(browser, (HTML / "search.html").as_uri() + "?q=vmlazyinit")
    try:
        page.wait_for_selector("#search-results ul.search li a", timeout=30_000)
        assert page.locator("#search-results ul.search li").count() >= 3
        note = page.locator("#vmsim-search-offline")
        assert "python -m http.server -d _build/html" in note.inner_text()
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


def test_a_chapter_opened_from_a_file_has_no_console_errors(browser):
    page, problems = open_page(browser, (HTML / "book" / "04_lazy_boot.html").as_uri())
    try:
        page.wait_for_function("[...document.images].every(i => i.complete)", timeout=15_000)
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


def test_the_download_links_save_the_source(site, browser):
    page, problems = open_page(browser, f"{site}/book/02_buddy_allocator.html")
    try:
        links = page.eval_on_selector_all(".dropdown-download-buttons a[href$='.ipynb']",
                                          "as => as.map(a => [a.getAttribute('href'), a.getAttribute('download')])")
        assert links and all(d == href.split("/")[-1] for href, d in links), links
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


def test_a_figure_opens_full_size_on_a_phone_and_closes_again(site, browser):
    page, problems = open_page(browser, f"{site}/book/02_buddy_allocator.html", viewport=PHONE)
    try:
        figure = page.locator("figure img, .cell_output img").first
        figure.scroll_into_view_if_needed()
        shown = figure.evaluate("i => i.getBoundingClientRect().width")
        natural = figure.evaluate("i => i.naturalWidth")
        assert shown < natural  # squeezed into the column
        figure.click()
        zoom = page.locator(".vmsim-zoom img")
        zoom.wait_for(timeout=5_000)
        assert zoom.evaluate("i => i.getBoundingClientRect().width") >= natural - 1
        assert zoom.get_attribute("alt") == figure.get_attribute("alt")
        page.locator(".vmsim-zoom").click(position={"x": 5, "y": 5})
        assert page.locator(".vmsim-zoom").count() == 0
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


LIVE_PAGES = ["book/02_buddy_allocator", "book/04_lazy_boot", "book/05_allocating_lazily", "book/07_contig_and_unfree"]


@pytest.mark.parametrize("doc", LIVE_PAGES)
def test_a_saved_page_hides_controls_that_need_python_and_says_so(site, browser, doc):
    page, problems = open_page(browser, f"{site}/{doc}.html")
    try:
        page.wait_for_selector(".vmsim-live", timeout=30_000)
        boxes = page.locator(".vmsim-live")
        for i in range(boxes.count()):
            box = boxes.nth(i)
            controls = box.locator("input, button, select, .widget-slider").filter(visible=True)
            assert controls.count() == 0, f"{doc}: box {i} shows live controls"
            note = box.locator(".vmsim-static-only")
            assert note.is_visible() and re.search(r"need Python", note.inner_text())
            assert box.locator(".vmsim-kernel-only").is_hidden()
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()
