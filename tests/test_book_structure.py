"""The book's source is in the shape the build, nbval and the browser test rely on.

Fast checks on files only (no kernel, no Sphinx): every chapter in ``_toc.yml`` exists
and every notebook is in it; every notebook carries the outputs nbval compares; figures
shown by a cell have captions and alt text and their code is hidden; the offline assets
that ``_config.yml`` names are vendored, each with its license; no setting points at a CDN.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml
from book_toc import book_notebooks, toc_documents

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
NOTEBOOKS = book_notebooks(BOOK)


def toc_files() -> list[str]:
    return toc_documents(ROOT / "_toc.yml")


def source_of(doc: str) -> Path:
    """The .md or .ipynb file behind a _toc.yml entry (written with or without suffix)."""
    path = ROOT / doc
    candidates = [path] if path.suffix else [path.with_suffix(".md"), path.with_suffix(".ipynb")]
    found = [c for c in candidates if c.is_file()]
    assert len(found) == 1, f"_toc.yml entry {doc!r} should match one file, found {found}"
    return found[0]


def test_every_toc_entry_exists_and_only_once():
    files = toc_files()
    assert files[0] == "book/intro"
    assert len(files) == len(set(files)), "a chapter is listed twice in _toc.yml"
    for doc in files:
        source_of(doc)


def test_every_notebook_is_in_the_toc():
    # only_build_toc_files: true silently skips a notebook missing from _toc.yml.
    assert CONFIG["only_build_toc_files"] is True
    listed = {source_of(doc) for doc in toc_files()}
    missing = [str(nb.relative_to(ROOT)) for nb in NOTEBOOKS if nb not in listed]
    assert missing == [], f"notebooks not in _toc.yml: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_stored_executed_in_order(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a chapter notebook has code"
    # nbval compares against stored outputs: store them from one clean top-to-bottom run
    # (.venv/bin/python tools/run_chapter.py book/NN_name.ipynb).
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        tags = cell.metadata.get("tags", [])
        assert not any(o.output_type == "error" for o in cell.outputs), f"cell {cell.id} stored an error"
        assert not re.search(r"#\s*NBVAL_", cell.source), f"cell {cell.id}: use nbval-* cell tags, not comments"
        if any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}) for o in cell.outputs):
            hidden = {"hide-input", "remove-input", "remove-cell"} & set(tags)
            assert hidden, f"figure cell {cell.id}: hide its plotting code (tag hide-input or remove-input)"
            mystnb = cell.metadata.get("mystnb", {})
            assert mystnb.get("figure", {}).get("caption"), f"figure cell {cell.id} needs mystnb.figure.caption"
            assert mystnb.get("figure", {}).get("name"), f"figure cell {cell.id} needs mystnb.figure.name"
            assert mystnb.get("image", {}).get("alt"), f"figure cell {cell.id} needs mystnb.image.alt"


def test_execution_settings():
    execute = CONFIG["execute"]
    # inline: every notebook runs at every build, and myst-nb evaluates {eval} roles only so
    assert execute["execute_notebooks"] == "inline"
    assert execute["timeout"] == 120
    assert execute["allow_errors"] is False


def test_offline_assets_are_vendored_with_licenses():
    sphinx = CONFIG["sphinx"]["config"]
    static_dirs = [ROOT / d for d in sphinx["html_static_path"]]
    assert all(d.is_dir() for d in static_dirs)
    assert not any(d.name == "_static" for d in static_dirs), "jupyter-book 1 injects every .js under _static/"

    def served(rel: str) -> Path:
        hits = [d / rel for d in static_dirs if (d / rel).is_file()]
        assert hits, f"{rel} is not in any of {sphinx['html_static_path']}"
        return hits[0]

    assert served(sphinx["mathjax_path"]).stat().st_size > 100_000
    fonts = served(sphinx["mathjax_path"]).parent / "output" / "chtml" / "fonts" / "woff-v2"
    assert len(list(fonts.glob("*.woff"))) >= 20
    for rel in sphinx["nb_ipywidgets_js"]:
        served(rel)
    vendor = BOOK / "_vendor"
    for package in ("html-manager", "requirejs", "mathjax", "pyodide"):
        assert (vendor / package / "LICENSE").is_file(), f"{package} needs its LICENSE beside it"
    assert (vendor / "README.md").is_file()


def test_no_setting_points_at_a_cdn():
    text = (ROOT / "_config.yml").read_text()
    assert not re.search(r"unpkg|jsdelivr|cdnjs|cdn\.", text)
