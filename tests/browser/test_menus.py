"""The built book's menus, as a reader on a phone (390 px) and on a laptop (1280 px) uses them.

sphinx-book-theme 1.3.0 with pydata-sphinx-theme 0.17.1 draws a second, hidden set of
sidebar toggles in a top navbar (``#pst-header``, there for its search field); the theme
scripts bind to the first ``.primary-toggle`` / ``.secondary-toggle`` in the page, which is
the hidden one, so the buttons a reader sees would do nothing (pydata-sphinx-theme#2451,
sphinx-book-theme#999/#1000). ``_config.yml`` keeps that navbar empty
(``navbar_persistent: []``); these tests click the buttons a reader sees:

* at 390 px the hamburger opens the chapter list, and a chapter link in it navigates;
* at 390 px the page-contents button opens the page's contents, and a link in it jumps there;
* at 1280 px the hamburger hides the chapter list and shows it again;
* one search box (or search button) is visible per viewport, and no top bar repeats it;
* the colour-mode button switches ``data-theme`` on <html>; the download menu opens.

Every request that leaves 127.0.0.1 is blocked, and any console error fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from book_toc import toc_documents
from browser_support import LAPTOP, PHONE, ROOT, open_page

pytestmark = pytest.mark.browser

# The buttons a reader sees (the theme renders them in the article header).
HAMBURGER = "button.primary-toggle"
CONTENTS_BUTTON = "button.secondary-toggle"
# Anything that offers search: the field, the sidebar's field button, the header's icon button.
SEARCH = "input[type=search], .search-button-field, .search-button"

DOCS = [str(Path(p).with_suffix("")) for p in toc_documents(ROOT / "_toc.yml")]
CHAPTER, NEXT_CHAPTER = DOCS[2], DOCS[3]  # after the root and "how to use": two real chapters


@pytest.fixture
def open_doc(site, browser):
    """open_doc(doc, viewport) -> page; at teardown, fail on any console error or outside request."""
    opened = []

    def _open(doc, viewport):
        page, problems = open_page(browser, f"{site}/{doc}.html", viewport=viewport)
        opened.append((page, problems))
        return page

    yield _open
    for page, problems in opened:
        page.context.close()
        assert problems == [], "\n".join(problems)


def visible_one(page, selector):
    """The single visible element matching *selector* (fails if none or several are shown)."""
    from playwright.sync_api import expect

    shown = page.locator(selector).filter(visible=True)
    expect(shown).to_have_count(1)
    return shown


def chapter_links(page):
    return page.locator("nav.bd-docs-nav a.reference")


def test_hamburger_opens_chapter_list_on_phone(open_doc):
    from playwright.sync_api import expect

    page = open_doc(CHAPTER, PHONE)
    links = chapter_links(page)
    target = page.locator(f"nav.bd-docs-nav a.reference[href$='{Path(NEXT_CHAPTER).name}.html']")
    expect(target.first).not_to_be_in_viewport()  # closed on load

    visible_one(page, HAMBURGER).click()
    expect(page.locator("#pst-primary-sidebar-modal")).to_have_attribute("open", "")
    for i in range(min(links.count(), 3)):
        expect(links.nth(i)).to_be_visible()
    expect(target.first).to_be_in_viewport()

    target.first.click()
    page.wait_for_url(f"**/{NEXT_CHAPTER}.html")
    expect(page.locator("article.bd-article h1")).to_be_visible()


def test_contents_button_opens_page_contents_on_phone(open_doc):
    from playwright.sync_api import expect

    page = open_doc(CHAPTER, PHONE)
    contents = page.locator(".bd-sidebar-secondary nav.page-toc a, .bd-sidebar-secondary .bd-toc-nav a")
    assert contents.count() >= 2, "the chapter should have an 'On this page' list"
    expect(contents.first).not_to_be_in_viewport()

    visible_one(page, CONTENTS_BUTTON).click()
    expect(page.locator("#pst-secondary-sidebar-modal")).to_have_attribute("open", "")
    expect(contents.first).to_be_in_viewport()

    anchor = contents.nth(1).get_attribute("href")
    assert anchor and anchor.startswith("#")
    contents.nth(1).click()
    page.wait_for_url(f"**/{CHAPTER}.html{anchor}")


def test_hamburger_hides_and_shows_chapter_list_on_laptop(open_doc):
    from playwright.sync_api import expect

    page = open_doc(CHAPTER, LAPTOP)
    first = chapter_links(page).first
    expect(first).to_be_in_viewport()

    hamburger = visible_one(page, HAMBURGER)
    hamburger.click()
    expect(first).not_to_be_visible()
    expect(page.locator("#pst-primary-sidebar-modal")).not_to_have_attribute("open", "")

    hamburger.click()
    expect(first).to_be_in_viewport()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1280px"])
def test_one_search_box_per_viewport(open_doc, viewport):
    from playwright.sync_api import expect

    page = open_doc(CHAPTER, viewport)
    shown = page.locator(SEARCH).filter(visible=True)
    expect(shown).to_have_count(1)
    # No stray top bar above the sidebar's own search (it held a second search field).
    header = page.locator("#pst-header")
    if header.count():
        assert header.evaluate("h => h.getBoundingClientRect().height") == 0


def test_colour_mode_button_switches_theme(open_doc):
    from playwright.sync_api import expect

    page = open_doc(CHAPTER, LAPTOP)
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")
    button = visible_one(page, ".theme-switch-button")
    seen = set()
    for _ in range(3):  # light -> auto -> dark -> light
        button.click()
        seen.add(html.get_attribute("data-theme"))
    assert seen == {"light", "dark"}, seen


def test_download_menu_opens(open_doc):
    from playwright.sync_api import expect

    page = open_doc(CHAPTER, LAPTOP)
    visible_one(page, "button[aria-label='Download this page']").click()
    source = page.locator(".dropdown-download-buttons .dropdown-menu a", has_text=".ipynb")
    expect(source).to_be_visible()
    assert source.get_attribute("href").endswith(".ipynb")
