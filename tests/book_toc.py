"""The documents `_toc.yml` lists, shared by the book's structure and browser tests."""

from __future__ import annotations

from pathlib import Path

import yaml


def toc_documents(toc_path: Path) -> list[str]:
    """Documents listed in *toc_path*, root first, in reading order, as written there."""
    toc = yaml.safe_load(toc_path.read_text())
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts") or []:
        walk(part.get("chapters"))
    return docs


def book_notebooks(book_dir: Path) -> list[Path]:
    """Every notebook under *book_dir*, sorted, JupyterLab's checkpoint copies left out."""
    return sorted(p for p in book_dir.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
