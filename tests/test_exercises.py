"""Exercises (vmsim.exercises and the chapters): every answer is computed, every exercise is checked.

Reads the chapter notebooks as files (no kernel): each "**Exercise N.M.**" has a Solution dropdown in
its own cell, its number belongs to its chapter and follows the one before it, and an exercise whose
answer is registered in :mod:`vmsim.exercises` is followed by a hidden check cell that calls
``check("N.M", ...)``.  The registered answers themselves are recomputed here.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from vmsim.errors import InvalidInput
from vmsim.exercises import EXERCISES, answer, check, check_text, exercise, parse_answer

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
HEADING = re.compile(r"\*\*Exercise (\d+)\.(\d+)\.\*\*")


def exercises_of(path: Path) -> list[tuple[str, int, nbformat.NotebookNode, nbformat.NotebookNode | None]]:
    """``(number, cell index, its cell, the cell right after it)`` for every exercise of a chapter."""
    cells = nbformat.read(path, as_version=4).cells
    found = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        for major, minor in HEADING.findall(cell.source):
            found.append((f"{major}.{minor}", i, cell, cells[i + 1] if i + 1 < len(cells) else None))
    return found


def chapter_number(path: Path) -> int:
    return int(path.name[:2])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_are_numbered_by_chapter_in_order(path):
    found = exercises_of(path)
    assert found, f"{path.name} has no exercises"
    numbers = [n for n, *_ in found]
    assert numbers == [f"{chapter_number(path)}.{k}" for k in range(1, len(numbers) + 1)]
    text = "".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    assert not re.search(r"\*\*Exercise \d+\.\*\*", text), "number exercises N.M, not M"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_solution_and_the_registered_ones_a_check_cell(path):
    for number, _, cell, after in exercises_of(path):
        rest = cell.source.split(f"**Exercise {number}.**", 1)[1]
        following = HEADING.search(rest)
        own = rest[: following.start()] if following else rest
        assert ":::{dropdown} Solution" in own, f"Exercise {number} has no Solution dropdown in its cell"
        if number not in EXERCISES:
            continue
        assert after is not None and after.cell_type == "code", f"Exercise {number} needs a check cell after it"
        assert "remove-input" in after.metadata.get("tags", []), f"the check cell of {number} must be hidden"
        assert "from vmsim.exercises import check" in after.source
        assert re.search(rf'assert check\("{re.escape(number)}", ', after.source), \
            f"the check cell of Exercise {number} must assert check({number!r}, <answer>)"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_is_followed_by_a_hidden_check_cell_that_asserts(path):
    # Every exercise has an answer in its solution, so every exercise has a check cell, registered or not.
    for number, _, cell, after in exercises_of(path):
        assert HEADING.findall(cell.source)[-1] == tuple(number.split(".")), \
            f"Exercise {number} shares its cell with a later exercise: each needs a check cell of its own"
        assert after is not None and after.cell_type == "code", f"Exercise {number} needs a check cell after it"
        assert "remove-input" in after.metadata.get("tags", []), f"the check cell of {number} must be hidden"
        assert re.search(r"^\s*assert\b", after.source, flags=re.M), f"the check cell of {number} asserts nothing"


def test_every_registered_exercise_exists_in_its_chapter():
    in_book = {number for path in CHAPTERS for number, *_ in exercises_of(path)}
    missing = sorted(set(EXERCISES) - in_book)
    assert missing == [], f"registered in vmsim.exercises but in no chapter: {missing}"
    for number in EXERCISES:
        assert any(chapter_number(p) == int(number.split(".")[0]) for p in CHAPTERS)


@pytest.mark.parametrize("number", sorted(EXERCISES, key=lambda n: tuple(map(int, n.split(".")))))
def test_check_accepts_the_computed_answer_and_nothing_else(number):
    value = answer(number)
    assert isinstance(value, int) and not isinstance(value, bool)
    assert check(number, value) is True
    assert check(number, value + 1) is False
    assert check(number, True) is False and check(number, str(value)) is False
    assert EXERCISES[number].asks


def test_parse_answer_reads_what_readers_type():
    assert parse_answer("4,096") == parse_answer("4096") == parse_answer(" 4 096 ") == parse_answer("4_096") == 4096
    assert parse_answer("0x1000") == parse_answer("0X1000") == 4096
    assert parse_answer("-3") == -3
    for bad in ("", "four", "12.5", "0x", "1e3", "0xZZ", "--1"):
        with pytest.raises(InvalidInput):
            parse_answer(bad)
    with pytest.raises(InvalidInput):
        parse_answer(4096)


def test_check_text_answers_in_one_sentence_and_refuses_bad_input():
    value = answer("0.1")
    assert check_text("0.1", f"{value:,}") == (True, f"Right: {value:,}.")
    right, message = check_text("0.1", str(value + 1))
    assert not right and message.startswith("Not ")
    address = answer("0.3")
    assert check_text("0.3", hex(address)) == (True, f"Right: {address:#x}.")
    assert check_text("0.3", str(address))[0] is True   # an address may be typed in decimal too
    with pytest.raises(InvalidInput):
        check_text("0.1", "a lot")
    with pytest.raises(InvalidInput):
        check_text("99.9", "1")
    with pytest.raises(InvalidInput):
        answer("99.9")


def test_an_exercise_cannot_be_registered_twice():
    with pytest.raises(ValueError):
        exercise("0.1", "again")(lambda: 0)
    assert EXERCISES["0.1"].compute() == answer("0.1")


def test_the_module_imports_only_the_simulator_core():
    # The answer box runs vmsim.exercises in the reader's browser: standard library and vmsim's core only.
    source = (Path(__file__).resolve().parents[1] / "vmsim" / "exercises.py").read_text()
    imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", source, flags=re.M)
    assert not [m for m in imports if "viz" in m or "widgets" in m or m.split(".")[0] in ("matplotlib", "ipywidgets",
                                                                                         "numpy")]
