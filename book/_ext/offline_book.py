"""Sphinx extension for this book: every page's scripts, once each, and none that needs a CDN.

jupyter-book 1 always loads ``sphinx_thebe``, which puts an inline script declaring
``const THEBE_JS_URL`` (a CDN address) on every page, and in this stack puts it there
twice, so the second copy throws "Identifier 'THEBE_JS_URL' has already been declared"
in the reader's console. This extension drops repeated scripts from each page and, as
long as thebe launch buttons are off (``launch_buttons: thebe: false`` in
``_config.yml``, which the offline book needs), drops sphinx-thebe's scripts.
"""

from __future__ import annotations

THEBE_FILES = ("sphinx-thebe.js",)


def _thebe_enabled(app) -> bool:
    launch = (app.config.html_theme_options or {}).get("launch_buttons") or {}
    return bool(launch.get("thebe"))


def _is_thebe(js) -> bool:
    filename = str(js.filename or "")
    body = js.attributes.get("body", "")
    return filename.endswith(THEBE_FILES) or "THEBE_JS_URL" in body


def clean_page_scripts(app, pagename, templatename, context, doctree):
    """Keep the first of each script (same file or inline body, same attributes) on a page."""
    scripts = context.get("script_files")
    if scripts is None:
        return
    keep_thebe = _thebe_enabled(app)
    seen = set()
    kept = []
    for js in scripts:
        key = (js.filename, tuple(sorted(js.attributes.items())))
        if key in seen or (not keep_thebe and _is_thebe(js)):
            continue
        seen.add(key)
        kept.append(js)
    # Edit in place: the list is the builder's, which Sphinx restores after each page.
    scripts[:] = kept


def setup(app):
    # After every other html-page-context handler (myst-nb adds its widget scripts there).
    app.connect("html-page-context", clean_page_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
