"""Sphinx extension for this book's readers: search by short names, and the book's own CSS and JS.

* Kernel identifiers are single search words (``vm_phys_set_pool``), so a reader who types
  ``set_pool`` found nothing. The search index here also holds every run of an
  identifier's underscore-separated parts (``phys_set_pool``, ``set_pool``, ``vm_phys``...),
  so short forms find the pages that spell the name out.
* ``book-reader.css`` and ``book-reader.js`` (in ``book/_ext/static``) are added to every
  page: long identifiers may break at a phone's width, figures open full size when tapped,
  the controls of a saved page that need a running kernel give way to one line saying so,
  the download links carry a ``download`` attribute, and over ``file://`` search shows
  titles only (browsers refuse to fetch the pages for excerpts there) and says how to serve
  the book for the rest.
"""

from __future__ import annotations

import re

from sphinx.search import languages
from sphinx.search.en import SearchEnglish

_IDENTIFIER = re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+")


class IdentifierSearchEnglish(SearchEnglish):
    """English search that also indexes the parts of identifiers such as ``vm_phys_set_pool``."""

    def split(self, input: str) -> list[str]:  # noqa: A002 - Sphinx's signature
        words = super().split(input)
        extra = []
        for word in words:
            if _IDENTIFIER.fullmatch(word):
                parts = word.split("_")
                extra += ["_".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)
                          if (i, j) != (0, len(parts))]
        return words + extra


def setup(app):
    languages["en"] = IdentifierSearchEnglish
    app.add_css_file("book-reader.css")
    app.add_js_file("book-reader.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
