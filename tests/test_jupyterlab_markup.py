"""The chapters' MyST reads the same in JupyterLab (jupyterlab-myst) as in the built book.

Fast checks on files only: no notebook uses myst-nb's ``glue`` (jupyterlab-myst shows a
glued value's key, not the value), and every markdown cell's ``{eval}`` expressions are
stored, evaluated without error, in its ``user_expressions`` metadata, as
``tools/run_chapter.py`` stores them, so JupyterLab shows the numbers without running the
chapter. A chapter edited without being rerun fails here; the cure is
``.venv/bin/python tools/run_chapter.py book/NN_name.ipynb``. One test runs that tool on a
two-cell notebook. ``tests/browser/test_jupyterlab.py`` checks what JupyterLab draws.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from book_toc import book_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = book_notebooks(ROOT / "book")
GLUE = re.compile(r"\{glue(?::\w+)?\}`|[`:]{3}\{glue(?::\w+)?\}|\bglue\(|from myst_nb import glue")

_spec = importlib.util.spec_from_file_location("run_chapter", ROOT / "tools" / "run_chapter.py")
run_chapter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_chapter)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_glue_left(path):
    nb = nbformat.read(path, as_version=4)
    found = [f"{c.cell_type} cell {c.id}: {m.group(0)!r}" for c in nb.cells for m in GLUE.finditer(c.source)]
    assert not found, f"use {{eval}}`name` and a variable instead of glue: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_inline_values_are_stored(path):
    nb = nbformat.read(path, as_version=4)
    stale = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        wanted = run_chapter.inline_expressions(cell.source)
        stored = cell.metadata.get("user_expressions", [])
        if [e.get("expression") for e in stored] != wanted:
            stale.append(f"cell {cell.id}: shows {wanted}, stores {[e.get('expression') for e in stored]}")
        stale += [
            f"cell {cell.id}: {e['expression']!r} stored status {e['result'].get('status')!r}"
            for e in stored
            if e.get("result", {}).get("status") != "ok" or "text/plain" not in e["result"].get("data", {})
        ]
    assert not stale, f"rerun `.venv/bin/python tools/run_chapter.py {path.relative_to(ROOT)}`: {stale}"


def test_run_chapter_stores_outputs_and_values(tmp_path):
    path = tmp_path / "tiny.ipynb"
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('n = f"{4096 * 262144:,}"\nprint("ran")'),
            nbformat.v4.new_markdown_cell("A GiB is {eval}`n` bytes, {eval}`n` again, {eval}`1 + 1` pages."),
            nbformat.v4.new_markdown_cell("No value here.", metadata={"user_expressions": []}),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    run_chapter.run_chapter(path)
    got = nbformat.read(path, as_version=4)
    code, md, plain = got.cells
    assert code.execution_count == 1 and code.outputs[0].text == "ran\n"
    assert [(e.expression, e.result.status, e.result.data["text/plain"]) for e in md.metadata.user_expressions] == [
        ("n", "ok", "'1,073,741,824'"),
        ("1 + 1", "ok", "2"),
    ]
    assert "user_expressions" not in plain.metadata
    assert got.metadata.language_info.name == "python"

    nb.cells[1].source = "{eval}`undefined_name`"
    nbformat.write(nb, path)
    with pytest.raises(SystemExit, match="undefined_name: NameError"):
        run_chapter.run_chapter(path)
    assert nbformat.read(path, as_version=4).cells[0].outputs == [], "a failed run must not write the file"
