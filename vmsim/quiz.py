"""``python -m vmsim quiz``: OSTEP-style allocator problem sheets, answer keys on demand.

A seed makes a sheet of one or more problems.  Each problem is a small machine
booted by ``vm_page_startup()`` (``sys/vm/vm_page.c``; lazily or eagerly, on the
seed or the committed revision), its free queues after boot, and a few
operations of ``sys/vm/vm_phys.c``.  The reader works out what each operation
returns, how many page structures it initializes (``vm_page_init_page`` calls)
and how the free queues change; the answer key -- printed after the sheet
(``--answers``) or alone (``--answers-only``) -- gives the simulator's answers.
Every sheet first prints its parameters, so it can be reproduced.

Problem *k* of a sheet draws everything from ``random.Random(seed + (k - 1) *
2**64)``: integer seeds only, no ``hash()``, no iteration over unordered sets, so
a sheet is the same on every machine whatever ``PYTHONHASHSEED`` is.  Problem 1
of the mixed kind at medium difficulty is the puzzle :func:`make_quiz` has
always made for that seed.

Kinds of problem (``kind``):

* ``mix`` (the default): allocations, frees, ``vm_phys_unfree_page`` and steps
  of the ``vmlazyinit`` thread;
* ``boot``: how many ``vm_page_init_page`` calls the boot makes and which
  blocks it queues (the queues are the answer, not the question), then at most
  one allocation;
* ``alloc``: ``vm_phys_alloc_pages`` / ``vm_phys_alloc_npages`` from DEFAULT or
  DIRECT (stealing, splitting, lazy blocks initialized by ``vm_phys_set_pool``);
* ``free``: allocations, then ``vm_phys_free_pages`` of the blocks they returned
  (coalescing, and the pool a merged block joins);
* ``thread``: steps of the ``vmlazyinit`` thread (``vm_phys_lazy_init()``)
  between allocations, until ``vm_default_freepool`` becomes DEFAULT;
* ``contig``: ``vm_phys_alloc_contig`` with an alignment, and
  ``vm_phys_free_contig`` of the runs it returned.

``difficulty`` picks the layout and the number of operations: ``easy`` (a small
arm64 machine or a 24 MiB amd64 one, 2-3 operations), ``medium`` (the same
machines, arm64 up to 8 MiB, 4 operations) and ``hard`` (two segments with a
hole between them, a kernel image and a firmware hole inside, 6-8 operations);
``nops`` overrides the count.  Boot problems have no operation when easy and
one otherwise.
"""

from __future__ import annotations

import json
import random
import textwrap
from dataclasses import dataclass, field
from typing import NamedTuple

from .arch import POOL_NAMES, get_arch
from .dump import queue_rows
from .errors import CorruptionRefused, InvalidInput, InvariantViolation
from .machine import Machine

__all__ = [
    "KINDS",
    "DIFFICULTIES",
    "FORMATS",
    "QUIZ_ARCHES",
    "Problem",
    "Step",
    "make_problems",
    "make_sheet",
    "make_quiz",
    "format_queues",
]

KINDS = ("mix", "boot", "alloc", "free", "thread", "contig")
DIFFICULTIES = ("easy", "medium", "hard")
FORMATS = ("text", "markdown", "json")
#: The architectures the quiz has layouts for.
QUIZ_ARCHES = ("amd64", "arm64")

#: Seeds of different problems of one sheet are this far apart.
_PROBLEM_STRIDE = 1 << 64

#: ``(fewest, most)`` operations per problem by difficulty; boot problems apart.
_OPS = {"easy": (2, 3), "medium": (4, 4), "hard": (6, 8)}
_BOOT_OPS = {"easy": (0, 0), "medium": (1, 1), "hard": (1, 1)}

_QUESTION = (
    "For each operation: what does it return, how many page structures does it initialize "
    "(vm_page_init_page calls), and how do the free queues change?"
)
_BOOT_QUESTION = (
    "For each problem: how many vm_page_init_page calls does the boot make, and which blocks "
    "does it put on the free queues (free list, pool, order, head pfn)?"
)
_EXTRA = {
    "free": "Which pool does each freed block join, and which buddies does it merge with?",
    "thread": "When does vm_default_freepool become DEFAULT?",
    "contig": "alloc_contig's alignment is in pages; a run it returns can be freed with free_contig.",
}
_QUEUES_NOTE = "Free queues list block head pfns (page frame numbers), head of the list first."

#: A queue as the sheet shows it: ``(domain, free list, pool, order, head pfns)``.
Row = tuple[int, str, str, int, tuple[int, ...]]


# -- what a sheet holds ------------------------------------------------------------------------
@dataclass
class Step:
    """One operation of a problem and its answer."""

    number: int
    text: str
    #: The :class:`~vmsim.machine.Machine` method, and its keyword arguments (bytes, like the method).
    op: str
    args: dict
    #: For a free: the step whose block or run it frees (its result is the ``pa`` argument).
    of_op: int | None
    #: What the method returned (byte addresses).
    result: object
    #: ``vm_page_init_page`` calls the step made.
    inits: int
    removed: tuple[Row, ...]
    added: tuple[Row, ...]
    pool_before: str
    pool_after: str
    #: For a thread step: ``(head pfn, order)`` of each block initialized, and whether the thread exited.
    blocks: tuple[tuple[int, int], ...] = ()
    exited: bool = False


@dataclass
class Problem:
    """One problem of a sheet: the machine, its boot, its steps with their answers."""

    number: int
    seed: int
    kind: str
    difficulty: str
    arch: str
    revision: str
    lazy: bool
    page_size: int
    #: The ranges given to ``vm_phys_add_seg`` and ``phys_avail``, in pfns.
    seg_ranges: tuple[tuple[int, int], ...]
    phys_avail: tuple[tuple[int, int], ...]
    #: ``(start, end, free list)`` of each segment after ``vm_phys_init``, in pfns.
    segments: tuple[tuple[int, int, str], ...]
    ndomains: int
    boot_inits: int
    boot_initialized: int
    boot_queues: tuple[Row, ...]
    steps: list[Step] = field(default_factory=list)
    page_inits: int = 0
    initialized: int = 0
    default_pool: str = "LAZYINIT"


# -- queues --------------------------------------------------------------------------------------
def _label(ndomains: int, dom: int, freelist: str, pool: str, order: int) -> str:
    prefix = f"d{dom} " if ndomains > 1 else ""
    return f"{prefix}{freelist:7} {pool:8} order {order:2}"


def format_queues(m: Machine) -> list[str]:
    """One line per non-empty queue: ``FREELIST POOL order k: pfn pfn ...`` (head first)."""
    out = []
    for dom, flind, pool, order, heads in queue_rows(m):
        label = _label(m.vm.ndomains, dom, m.segtab.flind_name(flind), POOL_NAMES[pool], order)
        out.append(f"    {label}: " + " ".join(map(str, heads)))
    return out or ["    (empty)"]


def _rows(m: Machine) -> tuple[Row, ...]:
    """Every non-empty queue of *m* in ``vm_phys_free_queues`` order, heads in list order."""
    return tuple(
        (dom, m.segtab.flind_name(flind), POOL_NAMES[pool], order, tuple(heads))
        for dom, flind, pool, order, heads in queue_rows(m)
    )


def _blocks(m: Machine) -> set[tuple[int, int, int, int, int]]:
    """Every free block of *m* as ``(domain, flind, pool, order, head pfn)``."""
    return {(dom, flind, pool, order, pfn) for dom, flind, pool, order, heads in queue_rows(m) for pfn in heads}


def _group(m: Machine, blocks: set) -> tuple[Row, ...]:
    """Blocks gathered by queue, queues and heads in ascending order."""
    grouped: dict[tuple[int, int, int, int], list[int]] = {}
    for dom, flind, pool, order, pfn in sorted(blocks):
        grouped.setdefault((dom, flind, pool, order), []).append(pfn)
    return tuple(
        (dom, m.segtab.flind_name(flind), POOL_NAMES[pool], order, tuple(pfns))
        for (dom, flind, pool, order), pfns in grouped.items()
    )


# -- validation ----------------------------------------------------------------------------------
def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _one_of(name: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput("quiz", f"{name} {value!r} is unknown; choose one of {', '.join(choices)}")
    return value


def _check(seed, count, kind, difficulty, nops, arch) -> str:
    """Validate a sheet's parameters before anything is built; return the kind's name."""
    if not _is_int(seed) or not 0 <= seed < _PROBLEM_STRIDE:
        raise InvalidInput("quiz", f"seed (--seed) {seed!r} must be an integer from 0 to 2**64 - 1")
    if not _is_int(count) or count < 1:
        raise InvalidInput("quiz", f"count (--count) {count!r} must be an integer >= 1: a sheet needs a problem")
    if nops is not None and (not _is_int(nops) or nops < 1):
        raise InvalidInput("quiz", f"nops (--ops) {nops!r} must be an integer >= 1: a problem needs an operation")
    kind = "mix" if kind is None else kind
    _one_of("kind (--kind)", kind, KINDS)
    _one_of("difficulty (--difficulty)", difficulty, DIFFICULTIES)
    _one_of("arch (--arch)", arch, QUIZ_ARCHES)
    return kind


# -- machines ------------------------------------------------------------------------------------
def _layout(rng: random.Random, arch: str, difficulty: str) -> tuple[list, list]:
    """Segment ranges and ``phys_avail`` (pfns) of a quiz machine."""
    if difficulty == "hard":
        return _hard_layout(rng, arch)
    if arch == "arm64":
        npages = rng.choice([512, 1024] if difficulty == "easy" else [512, 1024, 2048])
        start = rng.randrange(1, 64)
        end = npages - rng.randrange(0, 64)
        return [(0, npages)], [(start, end)]
    # amd64 with 24 MiB: VM_LOWMEM_BOUNDARY (16 MiB) splits the segment in two.
    start = rng.randrange(16, 512)
    return [(0, 6144)], [(start, 6144)]


def _hard_layout(rng: random.Random, arch: str) -> tuple[list, list]:
    """Two segments with a hole between them; a kernel image and a firmware hole in the first."""
    if arch == "arm64":
        end0, gap, size1 = rng.choice([1024, 2048]), rng.choice([256, 512]), rng.choice([512, 1024])
    else:
        end0, gap, size1 = rng.choice([5120, 6144]), rng.choice([256, 512]), rng.choice([1024, 2048])
    kernel = rng.randrange(16, 256)
    hole = rng.randrange(kernel + 64, end0 - 64)
    hole_len = rng.choice([1, 3, 16])
    start1 = end0 + gap
    reserved = rng.randrange(0, 32)
    segs = [(0, end0), (start1, start1 + size1)]
    avail = [(kernel, hole), (hole + hole_len, end0), (start1 + reserved, start1 + size1)]
    return segs, avail


def _boot(rng: random.Random, arch: str, difficulty: str, kind: str) -> tuple[Machine, list]:
    """Draw a layout, the ``debug.vm.lazy_page_init`` tunable and a revision; run ``vm_page_startup``.

    Returns the machine and its segment ranges in pfns.
    """
    segs, avail = _layout(rng, arch, difficulty)
    lazy = rng.random() < (0.5 if kind == "boot" else 0.8) or kind == "thread"
    revision = rng.choice(["seed", "committed"])
    page = get_arch(arch).page_size
    m = Machine(
        [[a * page, b * page] for a, b in segs],
        [[a * page, b * page] for a, b in avail],
        arch=arch,
        lazy=lazy,
        revision=revision,
    )
    return m, segs


def _op_range(kind: str, difficulty: str, nops: int | None) -> tuple[int, int]:
    if nops is not None:
        return nops, nops
    return (_BOOT_OPS if kind == "boot" else _OPS)[difficulty]


# -- operations ----------------------------------------------------------------------------------
class _Done(NamedTuple):
    """An operation that has been performed: its text, method, arguments and result."""

    text: str
    op: str
    args: dict
    of_op: int | None
    result: object


@dataclass
class _Ctx:
    """What the operation generators of one problem share."""

    rng: random.Random
    m: Machine
    nops: int
    n: int = 0
    #: ``(step, head pfn, order)`` of blocks from alloc_pages not freed yet.
    blocks: list = field(default_factory=list)
    #: ``(step, first pfn, npages)`` of runs from alloc_contig not freed yet.
    runs: list = field(default_factory=list)
    ops: list = field(default_factory=list)
    last_alloc: tuple[str, int] | None = None

    @property
    def page(self) -> int:
        return self.m.arch.page_size


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _alloc_pages(c: _Ctx, pool: str, order: int) -> _Done:
    """``vm_phys_alloc_pages`` in domain 0; a block it returns may be freed by a later step."""
    pa = c.m.alloc_pages(0, pool, order)
    if pa is not None:
        c.blocks.append((c.n, pa // c.page, order))
    c.last_alloc = (pool, order)
    return _Done(
        f"alloc_pages(domain 0, {pool}, order {order})",
        "alloc_pages",
        {"domain": 0, "pool": pool, "order": order},
        None,
        pa,
    )


def _alloc_npages(c: _Ctx, pool: str, npages: int) -> _Done:
    """``vm_phys_alloc_npages`` in domain 0."""
    pas = c.m.alloc_npages(0, pool, npages)
    return _Done(
        f"alloc_npages(domain 0, {pool}, {npages} pages)",
        "alloc_npages",
        {"domain": 0, "pool": pool, "npages": npages},
        None,
        pas,
    )


def _free_pages(c: _Ctx, i: int) -> _Done:
    """``vm_phys_free_pages`` of the *i*-th block still allocated."""
    opno, pfn, order = c.blocks.pop(i)
    c.m.free_pages(pfn * c.page, order)
    return _Done(f"free_pages(the block of op {opno}, order {order})", "free_pages", {"order": order}, opno, None)


def _lazy_step(c: _Ctx, k: int) -> _Done:
    """Up to *k* blocks of the ``vmlazyinit`` thread (``vm_phys_lazy_init``)."""
    n = c.m.lazy_step(k)
    return _Done(
        f"the vmlazyinit thread initializes up to {_plural(k, 'block')}", "lazy_step", {"max_blocks": k}, None, n
    )


def _unfree_page(c: _Ctx, pfn: int) -> _Done:
    """``vm_phys_unfree_page`` of page *pfn*."""
    found = c.m.unfree_page(pfn * c.page)
    return _Done(f"unfree_page(page {pfn})", "unfree_page", {"pa": pfn * c.page}, None, found)


def _alloc_contig(c: _Ctx, npages: int, align: int) -> _Done:
    """``vm_phys_alloc_contig`` in domain 0, anywhere, first page aligned to *align* pages."""
    pa = c.m.alloc_contig(0, npages, alignment=align * c.page)
    if pa is not None:
        c.runs.append((c.n, pa // c.page, npages))
    return _Done(
        f"alloc_contig(domain 0, {npages} pages, aligned to {_plural(align, 'page')})",
        "alloc_contig",
        {"domain": 0, "npages": npages, "alignment": align * c.page},
        None,
        pa,
    )


def _free_contig(c: _Ctx, i: int) -> _Done | None:
    """``vm_phys_free_contig`` of the *i*-th run still allocated, or ``None`` if the revision cannot.

    The 2023 ``max_order()`` arithmetic would free pages outside some short
    runs; vmsim refuses those before changing anything (``CorruptionRefused``,
    or ``InvariantViolation`` in older trees), and the quiz skips them.
    """
    opno, pfn, npages = c.runs[i]
    try:
        c.m.free_contig(pfn * c.page, npages)
    except (CorruptionRefused, InvariantViolation):
        return None
    del c.runs[i]
    return _Done(f"free_contig(the run of op {opno}, {npages} pages)", "free_contig", {"npages": npages}, opno, None)


def _mix_op(c: _Ctx) -> _Done:
    """Any operation, drawn as the original quiz drew them, so old seeds make the same puzzles.

    One difference: ``unfree_page`` draws again for a page past the last
    ``phys_avail`` entry of a lazily booted segment, whose structure nobody
    initializes (the original quiz failed on such pages, e.g. arm64, seed 126, 8 ops).
    """
    rng = c.rng
    kind = rng.choice(["alloc"] * 3 + (["free"] * 2 if c.blocks else []) + ["thread", "unfree"])
    if kind == "alloc":
        pool, order = rng.choice(["DEFAULT", "DIRECT"]), rng.choice([0, 0, 1, 2, 3])
        return _alloc_pages(c, pool, order)
    if kind == "free":
        return _free_pages(c, rng.randrange(len(c.blocks)))
    if kind == "thread":
        return _lazy_step(c, rng.choice([1, 2, 3]))
    seg = c.m.segtab.segs[-1]
    pfn = rng.randrange(seg.start, seg.end)
    while not _has_structure(c.m, pfn):
        pfn = rng.randrange(seg.start, seg.end)
    return _unfree_page(c, pfn)


def _has_structure(m: Machine, pfn: int) -> bool:
    """Whether ``vm_phys_unfree_page`` can read page *pfn*'s structure.

    It drains the lazy pool first, which initializes every page of
    ``phys_avail``; a lazy boot never initializes the pages of a segment after
    its last ``phys_avail`` entry, and reading those is an error in the model.
    """
    return m.vm.pages.is_init(pfn) or any(a <= pfn < b for a, b in m.phys_avail)


def _boot_op(c: _Ctx) -> _Done:
    return _alloc_pages(c, c.rng.choice(["DEFAULT", "DIRECT"]), c.rng.choice([0, 1, 2, 3]))


def _alloc_op(c: _Ctx) -> _Done:
    pool = c.rng.choice(["DEFAULT", "DIRECT"])
    if c.rng.random() < 0.3:
        return _alloc_npages(c, pool, c.rng.randint(2, 9))
    return _alloc_pages(c, pool, c.rng.choice([0, 0, 1, 2, 3]))


def _free_op(c: _Ctx) -> _Done:
    """Allocations for the first half of the problem, then frees of what they returned."""
    if c.n <= (c.nops + 1) // 2 or not c.blocks:
        if c.last_alloc is not None and c.rng.random() < 0.5:
            return _alloc_pages(c, *c.last_alloc)  # the same again: often the buddy of the last block
        return _alloc_pages(c, c.rng.choice(["DEFAULT", "DIRECT"]), c.rng.choice([0, 1, 1, 2, 3]))
    return _free_pages(c, c.rng.randrange(len(c.blocks)))


def _thread_op(c: _Ctx) -> _Done:
    """A thread step or an allocation; the last operation is a step if none came before."""
    if c.rng.random() < 0.6 or (c.n == c.nops and "lazy_step" not in c.ops):
        return _lazy_step(c, c.rng.choice([1, 2, 4, 8]))
    return _alloc_pages(c, c.rng.choice(["DEFAULT", "DIRECT"]), c.rng.choice([0, 1, 2, 3]))


def _contig_op(c: _Ctx) -> _Done:
    """An aligned alloc_contig, or free_contig of a run; the last operation frees if none did."""
    if c.runs and (c.rng.random() < 0.4 or (c.n == c.nops and "free_contig" not in c.ops)):
        candidates = list(range(len(c.runs)))
        c.rng.shuffle(candidates)
        for i in candidates:
            done = _free_contig(c, i)
            if done is not None:
                return done
    return _alloc_contig(c, c.rng.choice([3, 5, 8, 12, 16, 24, 40]), c.rng.choice([1, 2, 4, 8, 16, 32]))


_GENERATORS = {
    "mix": _mix_op,
    "boot": _boot_op,
    "alloc": _alloc_op,
    "free": _free_op,
    "thread": _thread_op,
    "contig": _contig_op,
}


def _step(c: _Ctx, kind: str) -> Step:
    """Draw and perform one operation; record what it returned and changed."""
    m = c.m
    before, inits, pool = _blocks(m), m.page_inits, m.default_pool
    history, done = len(m.thread.history), m.thread.done
    d = _GENERATORS[kind](c)
    c.ops.append(d.op)
    after = _blocks(m)
    blocks = tuple((s.pfn, s.order) for s in m.thread.history[history:]) if d.op == "lazy_step" else ()
    return Step(
        c.n,
        d.text,
        d.op,
        d.args,
        d.of_op,
        d.result,
        m.page_inits - inits,
        _group(m, before - after),
        _group(m, after - before),
        pool,
        m.default_pool,
        blocks,
        d.op == "lazy_step" and m.thread.done and not done,
    )


def _problem(seed: int, number: int, kind: str, difficulty: str, nops: int | None, arch: str) -> Problem:
    rng = random.Random(seed + (number - 1) * _PROBLEM_STRIDE)
    m, segs = _boot(rng, arch, difficulty, kind)
    lo, hi = _op_range(kind, difficulty, nops)
    count = lo if lo == hi else rng.randint(lo, hi)
    p = Problem(
        number,
        seed,
        kind,
        difficulty,
        arch,
        m.revision.name,
        m.lazy,
        m.arch.page_size,
        tuple(segs),
        tuple(m.phys_avail),
        tuple((s.start, s.end, m.segtab.flind_name(s.flind)) for s in m.segtab.segs),
        m.vm.ndomains,
        m.page_inits,
        m.initialized,
        _rows(m),
    )
    c = _Ctx(rng, m, count)
    for n in range(1, count + 1):
        c.n = n
        p.steps.append(_step(c, kind))
    p.page_inits, p.initialized, p.default_pool = m.page_inits, m.initialized, m.default_pool
    return p


def make_problems(
    seed: int,
    count: int = 1,
    kind: str | None = None,
    difficulty: str = "medium",
    nops: int | None = None,
    arch: str = "amd64",
) -> list[Problem]:
    """The problems of a sheet, answers computed, as :class:`Problem` objects.

    Raises :class:`~vmsim.errors.InvalidInput` (operation ``quiz``) for a bad
    parameter, before building anything.
    """
    kind = _check(seed, count, kind, difficulty, nops, arch)
    return [_problem(seed, k, kind, difficulty, nops, arch) for k in range(1, count + 1)]


# -- answers in words ----------------------------------------------------------------------------
def _pfn_runs(pfns: list[int]) -> str:
    """``4096-4103, 4110``: consecutive pfns as inclusive ranges."""
    parts: list[list[int]] = []
    for pfn in pfns:
        if parts and parts[-1][1] + 1 == pfn:
            parts[-1][1] = pfn
        else:
            parts.append([pfn, pfn])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


def _outcome(p: Problem, s: Step) -> str:
    """What the step returned, or did when it returns nothing."""
    page, r = p.page_size, s.result
    if s.op in ("alloc_pages", "alloc_contig"):
        return "returns NULL" if r is None else f"returns page {r // page}"
    if s.op == "alloc_npages":
        pfns = [pa // page for pa in r]
        short = f" (of {s.args['npages']} asked for)" if len(pfns) < s.args["npages"] else ""
        return f"returns {_plural(len(pfns), 'page')}{short}" + (f": {_pfn_runs(pfns)}" if pfns else "")
    if s.op in ("free_pages", "free_contig"):
        first = p.steps[s.of_op - 1].result // page
        n = 1 << s.args["order"] if s.op == "free_pages" else s.args["npages"]
        return f"frees page {first}" if n == 1 else f"frees pages {_pfn_runs(list(range(first, first + n)))}"
    if s.op == "lazy_step":
        if not s.blocks and not s.exited:
            return "initializes no block: the thread has already exited"
        done = ": " + ", ".join(f"{pfn} (order {order})" for pfn, order in s.blocks) if s.blocks else ""
        text = f"initializes {_plural(len(s.blocks), 'block')}{done}" if s.blocks else "initializes no block"
        return text + (" and exits: the lazy pool is empty" if s.exited else "")
    return "returns true: the page was free" if r else "returns false: the page was not free"


def _answer(p: Problem, s: Step) -> str:
    """``returns page 4096; 2047 page structures initialized`` (and a change of vm_default_freepool)."""
    parts = [_outcome(p, s), _plural(s.inits, "page structure") + " initialized"]
    if s.pool_after != s.pool_before:
        parts.append(f"vm_default_freepool becomes {s.pool_after}")
    return "; ".join(parts)


def _changes(p: Problem, s: Step) -> list[str]:
    """``- QUEUE: pfns`` for blocks that left a queue, ``+ QUEUE: pfns`` for blocks that joined one."""
    lines = [
        f"{sign} {_label(p.ndomains, *row[:4])}: " + " ".join(map(str, row[4]))
        for sign, rows in (("-", s.removed), ("+", s.added))
        for row in rows
    ]
    return lines or ["queues unchanged"]


def _params(p: Problem) -> str:
    return f"seed {p.seed}, arch {p.arch}, revision {p.revision}, {'lazy' if p.lazy else 'eager'} boot"


def _layout_text(p: Problem) -> str:
    segs = ", ".join(f"[{a}, {b}) {name}" for a, b, name in p.segments)
    avail = " ".join(f"[{a}, {b})" for a, b in p.phys_avail)
    word = "segment" if len(p.segments) == 1 else "segments"
    return f"layout (page frame numbers): {word} {segs}; phys_avail {avail}"


def _sheet_params(seed: int, count: int, kind: str, difficulty: str, nops: int | None, arch: str) -> str:
    lo, hi = _op_range(kind, difficulty, nops)
    if hi == 0:
        ops = "no operations after the boot"
    elif lo == hi:
        ops = _plural(lo, "operation") + " per problem"
    else:
        ops = f"{lo}-{hi} operations per problem"
    return f"seed {seed}, {_plural(count, 'problem')}, kind {kind}, difficulty {difficulty}, {ops}, arch {arch}"


def _question(kind: str) -> str:
    if kind == "boot":
        text = (
            _BOOT_QUESTION + "  Then, for each operation: what does it return, how many page structures "
            "does it initialize, and how do the queues change?"
        )
    else:
        text = _QUESTION
    return " ".join(filter(None, [text, _EXTRA.get(kind), _QUEUES_NOTE]))


def _queue_lines(p: Problem, rows: tuple[Row, ...]) -> list[str]:
    return [f"    {_label(p.ndomains, *row[:4])}: " + " ".join(map(str, row[4])) for row in rows] or ["    (empty)"]


# -- text ------------------------------------------------------------------------------------------
def _text_sheet(problems: list[Problem], params: str, kind: str) -> str:
    lines = [f"Allocator quiz: {params}", *textwrap.wrap(_question(kind), 100)]
    for p in problems:
        lines += ["", f"Problem {p.number}", _params(p), _layout_text(p), ""]
        if kind == "boot":
            lines.append("The machine boots.  How many vm_page_init_page calls, and which free queues?")
        else:
            lines.append(f"After boot ({p.boot_inits} vm_page_init_page calls so far), the free queues:")
            lines += _queue_lines(p, p.boot_queues)
        if p.steps:
            lines.append("")
        lines += [f"{s.number}. {s.text}" for s in p.steps]
    return "\n".join(lines)


def _text_key(problems: list[Problem], params: str, kind: str) -> str:
    lines = [f"Answer key: {params}"]
    for p in problems:
        lines += ["", f"Problem {p.number} ({_params(p)})"]
        if kind == "boot":
            lines.append(
                f"Boot: {_plural(p.boot_inits, 'vm_page_init_page call')} "
                f"({p.boot_initialized} distinct pages); the free queues:"
            )
            lines += _queue_lines(p, p.boot_queues)
        for s in p.steps:
            lines += [f"{s.number}. {s.text}", f"   -> {_answer(p, s)}"]
            lines += ["      " + line for line in _changes(p, s)]
        if p.steps:
            lines.append(
                f"Total vm_page_init_page calls: {p.page_inits} ({p.initialized} distinct pages); "
                f"vm_default_freepool is {p.default_pool}."
            )
    return "\n".join(lines)


# -- markdown --------------------------------------------------------------------------------------
def _md_table(p: Problem, rows: tuple[Row, ...]) -> list[str]:
    if not rows:
        return ["(every queue is empty)"]
    head = "| domain " if p.ndomains > 1 else ""
    out = [
        f"{head}| free list | pool | order | block heads (pfn, head first) |",
        ("|---:" if p.ndomains > 1 else "") + "|---|---|---:|---|",
    ]
    for dom, fl, pool, order, heads in rows:
        cell = f"| {dom} " if p.ndomains > 1 else ""
        out.append(f"{cell}| {fl} | {pool} | {order} | {' '.join(map(str, heads))} |")
    return out


def _md_op(s: Step) -> str:
    """An operation as code; a thread step is a sentence with the thread's name as code."""
    return s.text.replace("vmlazyinit", "`vmlazyinit`") if s.op == "lazy_step" else f"`{s.text}`"


def _md_sheet(problems: list[Problem], params: str, kind: str) -> str:
    lines = ["# Allocator quiz", "", params, "", _question(kind)]
    for p in problems:
        lines += ["", f"## Problem {p.number}", "", _params(p) + "  ", _layout_text(p), ""]
        if kind == "boot":
            lines.append("The machine boots. How many `vm_page_init_page` calls, and which free queues?")
        else:
            lines += [f"After boot ({p.boot_inits} `vm_page_init_page` calls so far), the free queues:", ""]
            lines += _md_table(p, p.boot_queues)
        if p.steps:
            lines += ["", "Operations:", ""]
            lines += [f"{s.number}. {_md_op(s)}" for s in p.steps]
    return "\n".join(lines)


def _md_key(problems: list[Problem], params: str, kind: str) -> str:
    lines = ["# Answer key", "", params]
    for p in problems:
        lines += ["", f"## Problem {p.number}", "", _params(p), ""]
        if kind == "boot":
            lines += [
                f"Boot: {_plural(p.boot_inits, '`vm_page_init_page` call')} "
                f"({p.boot_initialized} distinct pages); the free queues:",
                "",
            ]
            lines += _md_table(p, p.boot_queues) + [""]
        for s in p.steps:
            lines += [f"{s.number}. {_md_op(s)} — {_answer(p, s)}.", "", "   ```"]
            lines += ["   " + line for line in _changes(p, s)] + ["   ```"]
        if p.steps:
            lines += [
                "",
                f"Total `vm_page_init_page` calls: {p.page_inits} ({p.initialized} distinct pages); "
                f"`vm_default_freepool` is {p.default_pool}.",
            ]
    return "\n".join(lines)


# -- json ------------------------------------------------------------------------------------------
def _json_rows(p: Problem, rows: tuple[Row, ...]) -> list[dict]:
    return [
        {"domain": dom, "freelist": fl, "pool": pool, "order": order, "pages": [h * p.page_size for h in heads]}
        for dom, fl, pool, order, heads in rows
    ]


def _json_problem(p: Problem) -> dict:
    page = p.page_size
    out = {
        "problem": p.number,
        "arch": p.arch,
        "revision": p.revision,
        "lazy": p.lazy,
        "layout": {
            "seg_ranges": [[a * page, b * page] for a, b in p.seg_ranges],
            "phys_avail": [[a * page, b * page] for a, b in p.phys_avail],
            "segments": [{"start": a * page, "end": b * page, "freelist": name} for a, b, name in p.segments],
            "text": _layout_text(p),
        },
        "ops": [
            {"op": s.op, "args": s.args, **({"pa_of_op": s.of_op} if s.of_op else {}), "text": s.text} for s in p.steps
        ],
    }
    if p.kind != "boot":
        out["boot"] = {"page_inits": p.boot_inits, "queues": _json_rows(p, p.boot_queues)}
    return out


def _json_answers(p: Problem) -> dict:
    out: dict = {"problem": p.number}
    if p.kind == "boot":
        out["boot"] = {
            "page_inits": p.boot_inits,
            "initialized": p.boot_initialized,
            "queues": _json_rows(p, p.boot_queues),
        }
    steps = []
    for s in p.steps:
        step = {
            "op": s.number,
            "returns": s.result,
            "page_inits": s.inits,
            "removed": _json_rows(p, s.removed),
            "added": _json_rows(p, s.added),
            "default_pool": s.pool_after,
            "text": _answer(p, s),
        }
        if s.op == "lazy_step":
            step["blocks"] = [{"pa": pfn * p.page_size, "order": order} for pfn, order in s.blocks]
            step["thread_exited"] = s.exited
        steps.append(step)
    out.update(steps=steps, page_inits=p.page_inits, initialized=p.initialized, default_pool=p.default_pool)
    return out


# -- sheets ----------------------------------------------------------------------------------------
def make_sheet(
    seed: int,
    count: int = 1,
    kind: str | None = None,
    difficulty: str = "medium",
    nops: int | None = None,
    arch: str = "amd64",
    answers: bool = False,
    answers_only: bool = False,
    fmt: str = "text",
) -> str:
    """A problem sheet of *count* problems for *seed*, in *fmt* (``text``, ``markdown`` or ``json``).

    *kind* is one of :data:`KINDS` (``None``: ``mix``), *difficulty* one of
    :data:`DIFFICULTIES`; *nops* overrides the operations per problem.  With
    *answers* the sheet is followed by its answer key; with *answers_only*
    only the key is returned (exactly the part *answers* appends).  Raises
    :class:`~vmsim.errors.InvalidInput` (operation ``quiz``) for a bad
    parameter, before building anything.
    """
    kind = _check(seed, count, kind, difficulty, nops, arch)
    _one_of("fmt (--format)", fmt, FORMATS)
    problems = make_problems(seed, count, kind, difficulty, nops, arch)
    params = _sheet_params(seed, count, kind, difficulty, nops, arch)
    if fmt == "json":
        head = {
            "seed": seed,
            "count": count,
            "kind": kind,
            "difficulty": difficulty,
            "ops": nops,
            "arch": arch,
            "page_size": problems[0].page_size,
            "parameters": params,
        }
        if answers_only:
            return json.dumps({**head, "answers": [_json_answers(p) for p in problems]})
        body = [_json_problem(p) | ({"answers": _json_answers(p)} if answers else {}) for p in problems]
        return json.dumps({**head, "problems": body})
    sheet, key = (_md_sheet, _md_key) if fmt == "markdown" else (_text_sheet, _text_key)
    if answers_only:
        return key(problems, params, kind)
    text = sheet(problems, params, kind)
    return text + "\n\n" + key(problems, params, kind) if answers else text


def make_quiz(seed: int, answers: bool = False, nops: int = 4, arch: str = "amd64") -> str:
    """The puzzle for *seed* as text; with *answers*, followed by its answer key.

    One mixed problem of medium difficulty: ``make_sheet(seed, nops=nops,
    arch=arch, answers=answers)``.
    """
    return make_sheet(seed, nops=nops, arch=arch, answers=answers)
