"""Data series for the book's figures: boot cost, the lazy thread, fallback searches.

The heavy lifting behind a figure lives here, not in notebook cells, so the
numbers a chapter shows are computed by tested code.  Each function returns
plain lists of dicts (standard library only) that :mod:`vmsim.viz` draws:

* :func:`boot_cost_series` -- ``vm_page_init_page`` calls made by
  ``vm_page_startup()`` for eager and lazy boots over a range of RAM sizes;
* :func:`revision_costs` -- where each revision's initialization work goes:
  boot, the first allocations, the ``vmlazyinit`` drain, and what is left;
* :func:`lazy_thread_series` -- the ``vmlazyinit`` thread
  (``vm_phys_lazy_init()``) draining the lazy pool while allocations run;
* :func:`fallback_search` -- the queues ``vm_phys_alloc_pages()`` looks at,
  in its order, without taking anything.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from .arch import NFREEPOOL, POOL_NAMES
from .cost import FIRECRACKER_1G, CostModel
from .errors import InvalidInput
from .layout import Layout, pc
from .machine import Machine

__all__ = ["boot_cost_series", "revision_costs", "lazy_thread_series", "fallback_search"]


def boot_cost_series(rams: Iterable[int], layout: Callable[[int], Layout] = pc) -> list[dict]:
    """Page initializations at boot for each RAM size in *rams* (bytes).

    Boots ``layout(ram)`` three times -- eagerly, lazily with the seed's
    ``vm_page_startup()`` and lazily with the committed one -- and reports
    :attr:`Machine.startup_page_inits` of each (the ``vm_page_init_page`` calls
    of ``vm_page_startup()``; these layouts have no blacklist).  ``pages`` is the number of
    page structures inside segments, what an eager boot must initialize.
    """
    out = []
    for ram in rams:
        lay = layout(ram)
        pages, eager = _boot_inits(lay, lazy=False)
        _, seed = _boot_inits(lay, lazy=True, revision="seed")
        _, committed = _boot_inits(lay, lazy=True, revision="committed")
        out.append({"ram": ram, "pages": pages, "eager": eager, "lazy_seed": seed, "lazy_committed": committed})
    return out


def revision_costs(layouts: dict, revisions=("seed", "committed", "proposed"), first_allocs: int = 1024,
                   model: CostModel = FIRECRACKER_1G) -> list[dict]:
    """Where the ``vm_page_init_page`` work goes, for each layout and revision.

    *layouts* maps a name to a :class:`~vmsim.layout.Layout`.  For each, an
    eager boot gives the reference (every structure in a segment), then a
    lazy boot of each revision in *revisions* is followed by *first_allocs*
    single-page allocations alternating DEFAULT and DIRECT (``vm_phys_alloc_pages``,
    what early boot asks for) and by the ``vmlazyinit`` thread run to
    completion.  One row per layout and revision: ``layout``, ``revision``,
    ``pages`` (structures in segments), ``eager`` (the eager boot's calls),
    ``boot``, ``first`` and ``drain`` (calls in each phase), ``total``,
    ``boot_ms`` (*model*'s time for the boot's calls) and ``never`` (structures
    in segments still uninitialized after the drain).
    """
    rows = []
    for name, lay in layouts.items():
        eager = lay.boot(lazy=False).startup_page_inits
        for revision in revisions:
            m = lay.boot(revision=revision)
            boot = m.startup_page_inits
            for i in range(first_allocs):
                m.alloc_pages(i % m.ndomains, ("DEFAULT", "DIRECT")[i % 2], 0)
            first = m.page_inits - boot
            m.lazy_init()
            drain = m.page_inits - boot - first
            rows.append({"layout": name, "revision": getattr(revision, "name", revision), "pages": m.total_pages,
                         "eager": eager, "boot": boot, "first": first, "drain": drain, "total": m.page_inits,
                         "boot_ms": model.seconds(boot) * 1e3, "never": m.count_uninitialized()})
    return rows


def _boot_inits(lay: Layout, **kw) -> tuple[int, int]:
    """``(pages in segments, boot page_inits)`` of one boot; the machine is dropped at once."""
    machine = lay.boot(**kw)
    return machine.total_pages, machine.startup_page_inits


def _row(machine: Machine, step: int, blocks: int, allocs: int) -> dict:
    return {
        "step": step,
        "uninitialized": machine.uninitialized_free(),
        "lazy_pages": machine.lazy_pages(),
        "default_pool": machine.default_pool,
        "page_inits": machine.page_inits,
        "allocated": machine.nallocated,
        "blocks": blocks,
        "allocs": allocs,
    }


def _count(op: str, name: str, value, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidInput(op, f"{name} {value!r} must be an integer >= {minimum}")
    return value


def lazy_thread_series(machine: Machine, steps: int, blocks_per_step: int = 1, allocs_per_step: int = 0,
                       seed: int = 0, pool="DEFAULT", order: int = 0) -> list[dict]:
    """Run the ``vmlazyinit`` thread interleaved with allocations; one row per step.

    Models the thread of ``vm_phys_lazy_init()`` running on an idle CPU while
    other CPUs call ``vm_phys_alloc_pages(domain, pool, order)``.  Each step
    performs *blocks_per_step* single-block thread steps
    (:meth:`Machine.lazy_step`) and *allocs_per_step* allocations, in an order
    shuffled by ``random.Random(seed)``, which also picks each allocation's
    domain.  Row 0 is the state before the first step.

    Each row: ``step``; ``uninitialized`` (free pages whose structure is not
    initialized); ``lazy_pages`` (pages in the lazy pool); ``default_pool``
    (``vm_default_freepool``); ``page_inits`` (so far, boot included);
    ``allocated`` (pages allocated on the machine); ``blocks`` and ``allocs``
    (thread blocks and successful allocations of this step).  Mutates
    *machine*.
    """
    op = "lazy_thread_series"
    steps = _count(op, "steps", steps, 0)
    blocks_per_step = _count(op, "blocks_per_step", blocks_per_step, 0)
    allocs_per_step = _count(op, "allocs_per_step", allocs_per_step, 0)
    if allocs_per_step:
        _check_request(machine, op, 0, pool, order)
    rng = random.Random(seed)
    rows = [_row(machine, 0, 0, 0)]
    for step in range(1, steps + 1):
        work = ["thread"] * blocks_per_step + ["alloc"] * allocs_per_step
        rng.shuffle(work)
        blocks = allocs = 0
        for kind in work:
            if kind == "thread":
                blocks += machine.lazy_step(1)
            elif machine.alloc_pages(rng.randrange(machine.vm.ndomains), pool, order) is not None:
                allocs += 1
        rows.append(_row(machine, step, blocks, allocs))
    return rows


def _check_request(machine: Machine, op: str, domain: int, pool, order: int) -> int:
    """Validate an allocation request as ``vm_phys_alloc_pages`` would; return the pool index."""
    pind = machine._pool(op, pool)
    machine.vm._check_domain(op, domain)
    machine.vm._check_pool(op, pind)
    machine.vm._check_order(op, order)
    return pind


def fallback_search(machine: Machine, domain: int, pool, order: int) -> list[dict]:
    """The queues ``vm_phys_alloc_pages(domain, pool, order)`` would look at, in order.

    Models the search of ``vm_phys_alloc_pages()`` and
    ``vm_phys_alloc_freelist_pages()`` without taking anything: for each
    ``VM_FREELIST_*`` in numeric order (a negative index is skipped, an
    aliasing one is visited again), first the requested pool's queues from
    *order* up (``phase`` "own"), then -- largest first -- every order from
    the maximum down to *order*, pools from ``vm_default_freepool`` up
    (``phase`` "steal").  The search stops at the first non-empty queue; that
    entry has ``chosen`` set and ends the list.

    Each entry: ``freelist`` (the ``VM_FREELIST_*`` name), ``flind``,
    ``phase``, ``pool`` (name), ``order``, ``blocks`` (the queue's ``lcnt``),
    ``chosen``, and ``head`` (byte address of the block that would be taken,
    or ``None``).  The machine is not changed.
    """
    pind = _check_request(machine, "vm_phys_alloc_pages", domain, pool, order)
    vm = machine.vm
    out = []

    def visit(freelist: int, flind: int, phase: str, p: int, oind: int) -> bool:
        blocks = vm.fq.lcnt(domain, flind, p, oind)
        head = vm.fq.first(domain, flind, p, oind)
        out.append({"freelist": machine.arch.freelists[freelist], "flind": flind, "phase": phase,
                    "pool": POOL_NAMES[p], "order": oind, "blocks": blocks, "chosen": blocks > 0,
                    "head": None if head is None else head << machine.arch.page_shift})
        return blocks > 0

    for freelist, flind in enumerate(vm.segtab.freelist_to_flind):
        if flind < 0:
            continue
        for oind in range(order, vm.nfreeorder):
            if visit(freelist, flind, "own", pind, oind):
                return out
        for oind in range(vm.max_order, order - 1, -1):
            for p in range(vm.default_freepool, NFREEPOOL):
                if visit(freelist, flind, "steal", p, oind):
                    return out
    return out

