"""Sphinx extension: the real vmsim, live in the built book.

At build time this extension

* packs vmsim's standard-library core (``vmsim/*.py``, not ``viz/`` or ``widgets/``) from
  the working tree into ``_static/vmsim-core.zip``, so the page runs exactly the code the
  book was built with; the reader's browser runs it on Pyodide (``book/_vendor/pyodide``),
  in a worker (``book/_ext/static/vmsim-live-worker.mjs``), once the reader clicks;
* puts a **live panel** after every notebook cell whose metadata has ``vmsim_live`` with a
  ``panel`` (the panel's settings, controls, operations and views; see
  ``book/_ext/static/vmsim-live.js``);
* puts a **scratchpad** at the top of each chapter's exercises section (the section whose
  label ends in ``-exercises``), preloaded with the code of the cell metadata's
  ``vmsim_live.scratchpad``;
* puts an **answer box** under every exercise whose answer ``vmsim.exercises`` computes,
  checked in the page by that same module.

Nothing is loaded until the reader asks: the page carries only these placeholders and the
small ``vmsim-live.js``.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import zipfile
from pathlib import Path

from docutils import nodes

#: Files of the vmsim package that are not the core (they need matplotlib or ipywidgets).
EXCLUDED = ("viz", "widgets")
_EXERCISE = re.compile(r"^Exercise (\d+\.\d+)\.")


def core_files() -> list[Path]:
    """The core's modules in the working tree, sorted."""
    import vmsim

    return sorted(Path(vmsim.__file__).parent.glob("*.py"))


def core_zip() -> bytes:
    """``vmsim/*.py`` as a zip with fixed dates, so the same sources give the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in core_files():
            info = zipfile.ZipInfo(f"vmsim/{path.name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
    return buf.getvalue()


def _raw(markup: str) -> nodes.raw:
    return nodes.raw("", markup, format="html")


def _panel_html(config: dict, index: int) -> str:
    data = html.escape(json.dumps(config), quote=True)
    title = html.escape(config.get("title", "Try it live"))
    return (f'<div class="vmsim-live-panel" id="vmsim-panel-{index}" data-config="{data}">'
            f'<div class="vmsim-live-head"><strong>{title}</strong> '
            '<button type="button" class="vmsim-run-live">Run live</button> '
            '<span class="vmsim-live-status" role="status"></span></div>'
            '<p class="vmsim-live-intro">Runs the simulator itself in this page, with settings no frame above '
            'has. The first click loads a Python runtime (about 13 MB, once per page); nothing leaves the '
            'book.</p></div>')


def _scratchpad_html(code: str, docname: str) -> str:
    return (f'<div class="vmsim-scratchpad" data-pad="{html.escape(docname, quote=True)}">'
            '<div class="vmsim-live-head"><strong>Scratchpad</strong> '
            '<button type="button" class="vmsim-run-code">Run (Ctrl+Enter)</button> '
            '<span class="vmsim-live-status" role="status"></span></div>'
            '<p class="vmsim-live-intro">Python with <code>vmsim</code> imported, running in this page. '
            'The first run loads a Python runtime (about 13 MB, once per page).</p>'
            f'<textarea spellcheck="false" rows="{min(18, code.count(chr(10)) + 3)}" '
            f'aria-label="Python code to run">{html.escape(code)}</textarea>'
            '<div class="vmsim-pad-output" aria-live="polite"></div></div>')


def _answer_html(number: str) -> str:
    n = html.escape(number, quote=True)
    return (f'<form class="vmsim-answer" data-exercise="{n}"><label>Your answer to Exercise {n}: '
            f'<input type="text" inputmode="text" autocomplete="off" name="answer"></label> '
            '<button type="submit">Check</button> <span class="vmsim-answer-result" role="status"></span></form>')


def _cell_metadata(node) -> dict:
    return (node.get("cell_metadata") or {}).get("vmsim_live") or {}


def insert_live_parts(app, doctree, docname):
    """Panels after their cells, a scratchpad atop the exercises, answer boxes before the solutions."""
    from vmsim.exercises import EXERCISES

    scratch = None
    count = 0
    for cell in list(doctree.findall(nodes.container)):
        live = _cell_metadata(cell)
        if "scratchpad" in live:
            scratch = live["scratchpad"]
        if "panel" in live:
            count += 1
            cell.parent.insert(cell.parent.index(cell) + 1, _raw(_panel_html(live["panel"], count)))
    if scratch is not None:
        for section in doctree.findall(nodes.section):
            if any(i.endswith("-exercises") for i in section["ids"]):
                title = next(iter(section.findall(nodes.title)), None)
                at = section.index(title) + 1 if title is not None and title.parent is section else 0
                section.insert(at, _raw(_scratchpad_html(scratch, docname)))
                break
    for para in list(doctree.findall(nodes.paragraph)):
        m = _EXERCISE.match(para.astext())
        if not m or m.group(1) not in EXERCISES or para.parent is None:
            continue
        siblings = para.parent.children
        i = siblings.index(para) + 1
        while i < len(siblings) and type(siblings[i]).__name__ != "dropdown_main":
            i += 1
        para.parent.insert(i, _raw(_answer_html(m.group(1))))


def write_core_zip(app, exception):
    """Put ``vmsim-core.zip`` beside the other static files once the HTML is written."""
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "vmsim-core.zip").write_bytes(app.vmsim_core_zip)


def remember_core(app):
    data = core_zip()
    app.vmsim_core_zip = data
    app.add_js_file("vmsim-live.js", loading_method="defer",
                    **{"data-core": "vmsim-core.zip?v=" + hashlib.sha256(data).hexdigest()[:16]})


def setup(app):
    app.connect("builder-inited", remember_core)
    app.connect("doctree-resolved", insert_live_parts)
    app.connect("build-finished", write_core_zip)
    app.add_css_file("vmsim-live.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
