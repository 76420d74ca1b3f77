"""``python -m vmsim quiz``: OSTEP-style allocator puzzles with answers on demand.

A seed makes a puzzle: a small machine, its free queues after boot, and a
few operations.  The reader works out what each operation returns, how many
page structures it initializes and what the queues hold afterwards; with
``--answers`` the same transcript is printed with the simulator's answers.
Every run first prints its parameters, so a puzzle can be reproduced.
"""

from __future__ import annotations

import random

from .arch import POOL_NAMES
from .dump import queue_rows
from .machine import Machine

__all__ = ["make_quiz", "format_queues"]


def format_queues(m: Machine) -> list[str]:
    """One line per non-empty queue: ``FREELIST POOL order k: pfn pfn ...`` (head first)."""
    out = []
    for dom, flind, pool, order, heads in queue_rows(m):
        prefix = f"d{dom} " if m.vm.ndomains > 1 else ""
        name = m.segtab.flind_name(flind)
        out.append(f"    {prefix}{name:7} {POOL_NAMES[pool]:8} order {order:2}: " + " ".join(map(str, heads)))
    return out or ["    (empty)"]


def _machine(rng: random.Random, arch: str) -> tuple[Machine, str]:
    page = 4096
    if arch == "arm64":
        npages = rng.choice([512, 1024, 2048])
        start = rng.randrange(1, 64)
        end = npages - rng.randrange(0, 64)
        segs, avail = [[0, npages * page]], [[start * page, end * page]]
        desc = f"segment [0, {npages}), phys_avail [{start}, {end})"
    else:
        # amd64 with 24 MiB: a LOWMEM segment below 16 MiB and one above.
        start = rng.randrange(16, 512)
        segs, avail = [[0, 6144 * page]], [[start * page, 6144 * page]]
        desc = f"segment [0, 6144) split at 4096 (16 MiB, LOWMEM), phys_avail [{start}, 6144)"
    lazy = rng.random() < 0.8
    revision = rng.choice(["seed", "committed"])
    m = Machine(segs, avail, arch=arch, lazy=lazy, revision=revision)
    head = f"ARG arch {arch}   revision {revision}   boot {'lazy' if lazy else 'eager'}\n"
    return m, head + f"ARG layout (page frame numbers) {desc}"


def _random_op(rng: random.Random, m: Machine, live: list[tuple[int, int, int]], n: int):
    kinds = ["alloc"] * 3 + (["free"] * 2 if live else []) + ["thread", "unfree"]
    kind = rng.choice(kinds)
    if kind == "alloc":
        pool, order = rng.choice(["DEFAULT", "DIRECT"]), rng.choice([0, 0, 1, 2, 3])
        return f"alloc_pages(domain 0, {pool}, order {order})", lambda: m.alloc_pages(0, pool, order), (pool, order)
    if kind == "free":
        i = rng.randrange(len(live))
        opno, pfn, order = live.pop(i)
        return (f"free_pages(the block of op {opno}, order {order})",
                lambda: m.free_pages(pfn * 4096, order), None)
    if kind == "thread":
        k = rng.choice([1, 2, 3])
        return f"the vmlazyinit thread initializes up to {k} block(s)", lambda: m.lazy_step(k), None
    seg = m.segtab.segs[-1]
    pfn = rng.randrange(seg.start, seg.end)
    return f"unfree_page(page {pfn})", lambda: m.unfree_page(pfn * 4096), None


def make_quiz(seed: int, answers: bool = False, nops: int = 4, arch: str = "amd64") -> str:
    """The puzzle for *seed* as text; with *answers*, the solution too."""
    rng = random.Random(seed)
    m, params = _machine(rng, arch)
    lines = [f"ARG seed {seed}", params, "", f"After boot ({m.page_inits} vm_page_init_page calls so far), "
             "the free queues (block head pfns, head of the list first):", *format_queues(m), ""]
    live: list[tuple[int, int, int]] = []
    for n in range(1, nops + 1):
        text, run, alloc = _random_op(rng, m, live, n)
        before = m.page_inits
        result = run()
        lines.append(f"{n}. {text}")
        if alloc is not None and result is not None:
            live.append((n, result // 4096, alloc[1]))
        if answers:
            shown = "-" if alloc is None and not isinstance(result, bool) else result
            if alloc is not None:
                shown = "NULL" if result is None else f"page {result // 4096}"
            lines.append(f"   -> returns {shown}; {m.page_inits - before} page structures initialized; "
                         f"vm_default_freepool is {m.default_pool}")
            lines.extend("   " + q for q in format_queues(m))
    lines.append("")
    if answers:
        lines.append(f"Total vm_page_init_page calls: {m.page_inits} ({m.initialized} distinct pages).")
    else:
        lines.append("For each operation: what does it return, how many page structures does it initialize, "
                     "and what do the free queues hold afterwards?  (--answers shows the solution.)")
    return "\n".join(lines)
