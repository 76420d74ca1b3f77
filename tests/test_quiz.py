"""The quiz: seeded problem sheets, their formats and answer keys, and the command line."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vmsim import Machine
from vmsim.errors import InvalidInput
from vmsim.quiz import DIFFICULTIES, KINDS, format_queues, make_quiz, make_sheet

ROOT = Path(__file__).resolve().parents[1]

#: The Machine methods each kind may call.
KIND_OPS = {
    "mix": {"alloc_pages", "free_pages", "lazy_step", "unfree_page"},
    "boot": {"alloc_pages"},
    "alloc": {"alloc_pages", "alloc_npages"},
    "free": {"alloc_pages", "free_pages"},
    "thread": {"alloc_pages", "lazy_step"},
    "contig": {"alloc_contig", "free_contig"},
}
#: The allocation whose result a free of each kind gives back.
FREES = {"free_pages": "alloc_pages", "free_contig": "alloc_contig"}


def cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "vmsim", "quiz", *args], capture_output=True, text=True, cwd=ROOT, env=env
    )


def problems(**kw):
    return json.loads(make_sheet(fmt="json", answers=True, **kw))["problems"]


# -- reproducibility ------------------------------------------------------------------------------
def test_same_seed_gives_the_same_sheet_and_other_seeds_differ():
    for kind in KINDS:
        sheet = make_sheet(7, count=3, kind=kind, answers=True)
        assert sheet == make_sheet(7, count=3, kind=kind, answers=True)
        assert sheet != make_sheet(8, count=3, kind=kind, answers=True)
    assert make_quiz(7) == make_quiz(7) != make_quiz(8)


def test_the_sheet_does_not_depend_on_the_hash_seed():
    args = ["--seed", "11", "--count", "3", "--answers", "--difficulty", "hard"]
    for fmt in ("text", "json"):
        runs = [cli(*args, "--format", fmt, env={**os.environ, "PYTHONHASHSEED": h}) for h in ("1", "2")]
        assert [r.returncode for r in runs] == [0, 0]
        assert runs[0].stdout == runs[1].stdout and runs[0].stdout


def test_problems_of_a_sheet_are_numbered_and_each_has_its_own_machine():
    text = make_sheet(4, count=3)
    assert re.findall(r"^Problem (\d+)$", text, re.M) == ["1", "2", "3"]
    ps = problems(seed=4, count=3)
    assert [p["problem"] for p in ps] == [1, 2, 3]
    # Problem 1 of a longer sheet is the one-problem sheet's problem.
    assert ps[0] == problems(seed=4)[0]
    assert len({json.dumps(p["layout"]) + json.dumps(p["ops"]) for p in ps}) == 3


def test_make_quiz_is_one_mixed_medium_problem_and_the_cli_default():
    assert make_quiz(5, nops=3) == make_sheet(5, nops=3)
    out = cli("--seed", "7", "--answers")
    assert out.returncode == 0 and out.stdout.rstrip("\n") == make_quiz(7, answers=True)


# -- answers ----------------------------------------------------------------------------------------
def test_answers_only_is_the_answer_part_of_answers():
    for fmt in ("text", "markdown"):
        sheet = make_sheet(3, count=2, fmt=fmt)
        key = make_sheet(3, count=2, fmt=fmt, answers_only=True)
        assert make_sheet(3, count=2, fmt=fmt, answers=True) == sheet + "\n\n" + key
    full = json.loads(make_sheet(3, count=2, fmt="json", answers=True))
    key = json.loads(make_sheet(3, count=2, fmt="json", answers_only=True))
    assert key["answers"] == [p["answers"] for p in full["problems"]]
    assert "answers" not in json.loads(make_sheet(3, count=2, fmt="json"))["problems"][0]
    with_key, only_key = cli("--seed", "3", "--answers"), cli("--seed", "3", "--answers-only")
    assert with_key.stdout.endswith("\n\n" + only_key.stdout)


def queue_set(queues):
    return {(q["domain"], q["freelist"], q["pool"], q["order"], pa) for q in queues for pa in q["pages"]}


def replay(p):
    """Replay a json problem on a Machine built from its layout; check every answer on the way."""
    lay, ans = p["layout"], p["answers"]
    m = Machine(lay["seg_ranges"], lay["phys_avail"], arch=p["arch"], lazy=p["lazy"], revision=p["revision"])
    boot = p.get("boot") or ans["boot"]
    assert boot["page_inits"] == m.page_inits and boot["queues"] == m.dump()["queues"]
    results = {}
    for n, (op, step) in enumerate(zip(p["ops"], ans["steps"], strict=True), start=1):
        assert step["op"] == n
        before, inits = queue_set(m.dump()["queues"]), m.page_inits
        kwargs = dict(op["args"])
        if "pa_of_op" in op:
            assert p["ops"][op["pa_of_op"] - 1]["op"] == FREES[op["op"]]
            kwargs["pa"] = results[op["pa_of_op"]]
        results[n] = getattr(m, op["op"])(**kwargs)
        after = queue_set(m.dump()["queues"])
        assert step["returns"] == results[n]
        assert step["page_inits"] == m.page_inits - inits
        assert queue_set(step["removed"]) == before - after and queue_set(step["added"]) == after - before
        assert step["default_pool"] == m.default_pool
        if op["op"] == "lazy_step":
            assert len(step["blocks"]) == results[n] and step["thread_exited"] == m.thread.done
    assert (ans["page_inits"], ans["initialized"], ans["default_pool"]) == (m.page_inits, m.initialized, m.default_pool)
    return results


@pytest.mark.parametrize("kind", KINDS)
def test_json_answers_agree_with_replaying_the_operations(kind):
    for difficulty in DIFFICULTIES:
        for arch in ("amd64", "arm64"):
            for p in problems(seed=21, count=2, kind=kind, difficulty=difficulty, arch=arch):
                replay(p)


def test_the_answer_to_the_books_exercise_is_derivable_by_hand():
    # 24 MiB amd64 booted lazily: DIRECT is empty, so order 3 steals the lazy order-11 block at
    # pfn 4096 (16 MiB), whose head alone was initialized at boot: 2047 more structures.
    a = make_quiz(0, answers=True, nops=3)
    assert "1. alloc_pages(domain 0, DIRECT, order 3)\n   -> returns page 4096; 2047 page structures initialized" in a
    assert "      - DEFAULT LAZYINIT order 11: 4096\n      + DEFAULT DIRECT   order  3: 4104\n" in a


def test_answers_are_plain_english():
    texts = [make_sheet(s, count=2, kind=k, answers=True) for s in range(4) for k in KINDS]
    joined = "\n".join(texts)
    assert "ARG" not in joined and "returns -" not in joined and "block(s)" not in joined
    assert not re.search(r"\b1 page structures\b|\b1 blocks\b|\b1 pages\b", joined)
    assert "1 page structure initialized" in make_sheet(3, answers=True)
    for text in texts:
        key = text.split("\n\nAnswer key: ", 1)[1]
        for answer in re.findall(r"^   -> .*\n((?:      .*\n?)*)", key, re.M):
            lines = answer.splitlines()
            assert lines == ["      queues unchanged"] or all(line[6] in "+-" for line in lines)


def test_every_run_first_prints_its_parameters():
    lines = make_sheet(3).splitlines()
    first, (params, layout) = lines[0], lines[lines.index("Problem 1") + 1 :][:2]
    assert first.startswith("Allocator quiz: seed 3, 1 problem, kind mix, difficulty medium, 4 operations")
    assert params == "seed 3, arch amd64, revision seed, lazy boot"
    assert layout.startswith("layout (page frame numbers): segments [0, 4096) LOWMEM, [4096, 6144) DEFAULT;")


# -- kinds and difficulty ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_only_makes_operations_of_its_kind(kind):
    for seed in range(6):
        for p in problems(seed=seed, count=2, kind=kind, difficulty="hard"):
            names = [op["op"] for op in p["ops"]]
            assert set(names) <= KIND_OPS[kind], names
            if kind == "thread":
                assert "lazy_step" in names and p["lazy"]
            if kind == "free":
                assert "free_pages" in names
                first_free = names.index("free_pages")
                assert all(name == "free_pages" for name in names[first_free:])


def test_a_boot_problem_asks_for_the_queues_instead_of_showing_them():
    sheet, key = make_sheet(2, kind="boot", difficulty="easy"), make_sheet(2, kind="boot", answers_only=True)
    assert "After boot" not in sheet and "vm_page_init_page calls does the boot make" in sheet
    assert not re.search(r"^1\. ", sheet, re.M)
    assert re.search(r"^Boot: \d+ vm_page_init_page calls \(\d+ distinct pages\); the free queues:$", key, re.M)
    p = problems(seed=2, kind="boot")[0]
    assert "boot" not in p and "queues" in p["answers"]["boot"] and [op["op"] for op in p["ops"]] == ["alloc_pages"]


def test_difficulty_sets_the_layout_and_the_number_of_operations():
    counts = {d: {len(p["ops"]) for s in range(8) for p in problems(seed=s, difficulty=d)} for d in DIFFICULTIES}
    assert counts["easy"] <= {2, 3} and counts["medium"] == {4} and counts["hard"] <= {6, 7, 8}
    hard = problems(seed=1, difficulty="hard", arch="arm64")[0]["layout"]
    assert len(hard["seg_ranges"]) == 2 and len(hard["phys_avail"]) == 3
    assert {len(p["ops"]) for p in problems(seed=1, count=3, difficulty="hard", nops=2)} == {2}


# -- formats -------------------------------------------------------------------------------------
def test_markdown_has_a_heading_per_problem_a_queue_table_and_a_numbered_list():
    md = make_sheet(5, count=3, fmt="markdown", answers=True)
    sheet, key = md.split("\n# Answer key\n")
    assert sheet.startswith("# Allocator quiz\n")
    for part in (sheet, key):
        assert re.findall(r"^## Problem (\d+)$", part, re.M) == ["1", "2", "3"]
    assert "| free list | pool | order | block heads (pfn, head first) |" in sheet
    assert re.findall(r"^(\d+)\. ", sheet.split("## Problem 2")[0], re.M) == ["1", "2", "3", "4"]


def test_format_queues_is_unchanged():
    # 24 MiB amd64, phys_avail from pfn 448: [448, 4096) below 16 MiB splits into blocks of
    # 64, 512, 1024 and 2048 pages; [4096, 6144) is one block of 2048.
    m = Machine([[0, 6144 * 4096]], [[448 * 4096, 6144 * 4096]])
    assert format_queues(m) == [
        "    DEFAULT LAZYINIT order 11: 4096",
        "    LOWMEM  LAZYINIT order  6: 448",
        "    LOWMEM  LAZYINIT order  9: 512",
        "    LOWMEM  LAZYINIT order 10: 1024",
        "    LOWMEM  LAZYINIT order 11: 2048",
    ]


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, field",
    [
        (["--ops", "0"], "ops"),
        (["--ops", "-1"], "ops"),
        (["--count", "0"], "count"),
        (["--count", "-3"], "count"),
        (["--kind", "bogus"], "kind"),
        (["--format", "pdf"], "format"),
        (["--arch", "sparc64"], "arch"),
        (["--difficulty", "brutal"], "difficulty"),
        (["--seed", "-1"], "seed"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(args, field):
    out = cli(*args)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmsim: quiz: ") and f"--{field}" in lines[0]


def test_library_callers_get_invalid_input_before_anything_is_built():
    for kw, field in [
        ({"nops": 0}, "nops"),
        ({"count": 0}, "count"),
        ({"kind": "x"}, "kind"),
        ({"fmt": "pdf"}, "fmt"),
        ({"arch": "arm64-2024"}, "arch"),
        ({"count": True}, "count"),
    ]:
        with pytest.raises(InvalidInput, match=f"^quiz: {field} "):
            make_sheet(0, **kw)
    with pytest.raises(InvalidInput, match="nops"):
        make_quiz(0, nops=-1)
