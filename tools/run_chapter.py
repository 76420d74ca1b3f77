"""Run a chapter notebook from the top and store what it shows, for nbval and for JupyterLab.

What: executes every code cell in order, as ``jupyter nbconvert --to notebook --execute
--inplace`` does (same nbclient, same outputs, execution counts and widget state), and also
stores, in each markdown cell's metadata, the value of every MyST inline expression
``{eval}`name``` the cell shows, evaluated in the kernel at that point of the run. The
metadata key and shape (``user_expressions``: a list of ``{"expression", "result"}``) are
the ones jupyterlab-myst writes when a reader runs the cell.

Why: jupyter-book evaluates ``{eval}`` roles itself at build time (``execute_notebooks:
inline`` in ``_config.yml``), but JupyterLab shows a notebook without running it; with the
values stored, jupyterlab-myst shows the numbers as soon as a chapter is opened (plain-text
values need no trust). ``tests/test_jupyterlab_markup.py`` fails on a chapter whose stored
values are missing or stale: rerun this tool on it.

Preconditions: the notebook's kernel is ``python3`` with ``vmsim`` importable; cells run
with the notebook's folder as working directory and the per-cell timeout of ``_config.yml``.

Raises ``SystemExit`` naming the cell if an inline expression fails; a cell that raises
stops the run (``nbclient.exceptions.CellExecutionError``) and leaves the file unchanged.

Usage (from the repository root)::

    .venv/bin/python tools/run_chapter.py book/NN_name.ipynb [book/MM_other.ipynb ...]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
# A MyST inline expression, as myst-nb and jupyterlab-myst read it: {eval}`expression`.
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")


def inline_expressions(source: str) -> list[str]:
    """The distinct ``{eval}`` expressions of a markdown cell's *source*, in order of first use."""
    return list(dict.fromkeys(EVAL_ROLE.findall(source)))


def cell_timeout() -> int:
    """Seconds a cell may run: ``execute.timeout`` of ``_config.yml``, as in the book build."""
    return yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["timeout"]


def run_chapter(path: Path, timeout: int | None = None) -> nbformat.NotebookNode:
    """Execute the notebook at *path* top to bottom and write it back with outputs and values."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout or cell_timeout(),
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.reset_execution_trackers()
    with client.setup_kernel():
        # what NotebookClient.execute() does around the cells, step for step
        info = client.wait_for_reply(client.kc.kernel_info())
        nb.metadata["language_info"] = info["content"]["language_info"]
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            elif cell.cell_type == "markdown":
                store_values(client, cell, path)
        client.set_widgets_metadata()
    nbformat.write(nb, path)
    return nb


def store_values(client: NotebookClient, cell, path: Path) -> None:
    """Evaluate the markdown *cell*'s inline expressions in the running kernel; keep them in its metadata."""
    expressions = inline_expressions(cell.source)
    if not expressions:
        cell.metadata.pop("user_expressions", None)
        return
    msg_id = client.kc.execute(
        "", silent=True, store_history=False, user_expressions={str(k): e for k, e in enumerate(expressions)}
    )
    got = client.wait_for_reply(msg_id)["content"]["user_expressions"]
    results = [{"expression": e, "result": got[str(k)]} for k, e in enumerate(expressions)]
    failed = [
        f"{r['expression']}: {r['result'].get('ename')}: {r['result'].get('evalue')}"
        for r in results
        if r["result"]["status"] != "ok"
    ]
    if failed:
        raise SystemExit(f"{path}, markdown cell {cell.get('id')}: inline expression failed: {'; '.join(failed)}")
    cell.metadata["user_expressions"] = results


def main(argv: list[str]) -> int:
    if not argv or any(a.startswith("-") for a in argv):
        print(__doc__.rstrip().rsplit("\n\n", 1)[-1].strip(), file=sys.stderr)
        return 2
    for name in argv:
        run_chapter(Path(name))
        print(f"ran {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
