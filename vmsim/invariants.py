"""The allocator's invariants, in one place.

:func:`check` verifies the state a ``Machine`` is in against the rules the
kernel relies on: the ``KASSERT``\\ s of ``sys/vm/vm_phys.c`` that concern
state (not arguments) and the global invariants of the buddy allocator and
of lazy initialization (kernel notes section 9).  It raises
:class:`~vmsim.errors.InvariantViolation` naming the first rule broken.

Rules, each a function below:

* ``queue-block``: every free block is aligned to its size, lies in one
  segment of its queue's domain and free list, and its head is initialized
  with that order and pool and its own address and segment index.
* ``pool-uniform``: every page of a free block outside the lazy pool is
  initialized and carries the block's pool.
* ``no-overlap``: no page belongs to two free blocks, and the ``order``
  field marks exactly the queued heads.
* ``counts``: each domain's free count is the sum of its queues.
* ``conservation``: in each domain, free + allocated + blacklisted pages
  equal the pages given to the allocator, ``phys_avail`` and those of
  ``kmem_bootstrap_free`` (a block the lazy-init thread holds off the
  queues counts as free).
* ``allocated``: allocated pages are initialized, in no free block, and
  never in the lazy pool (they could not be freed).
* ``lazy-interiors``: in the pages given to the allocator the only uninitialized
  structures are interiors of lazy blocks (or of the block the thread holds) -- the fact that lets coalescing
  read a buddy's ``order`` safely (a buddy is aligned to its size, so it is
  never a lazy block's interior).
* ``drained``: a domain marked ``initdone`` has no lazy block;
  ``vm_default_freepool`` is DEFAULT only once every domain is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .arch import DEFAULT, LAZYINIT, POOL_NAMES
from .errors import InvariantViolation
from .page import UNINIT

if TYPE_CHECKING:
    from .machine import Machine

__all__ = ["check", "RULES"]


def _blocks(machine: Machine):
    return machine.vm.fq.heads()


def _fmt(machine: Machine, pfn: int) -> str:
    return f"{pfn << machine.arch.page_shift:#x}"


def check_queue_blocks(machine: Machine) -> None:
    """queue-block: free blocks are aligned, in one segment of their queue's domain and list, with a valid head."""
    pages, segtab = machine.vm.pages, machine.segtab
    for dom, flind, pool, order, pfn in _blocks(machine):
        where = f"block {_fmt(machine, pfn)} (order {order}) on queue {dom}/{flind}/{POOL_NAMES[pool]}"
        if pfn & ((1 << order) - 1):
            raise InvariantViolation("queue-block", f"{where} is not aligned to its size")
        segind = segtab.find(pfn)
        if segind < 0 or pfn + (1 << order) > segtab.segs[segind].end:
            raise InvariantViolation("queue-block", f"{where} is not inside one segment")
        seg = segtab.segs[segind]
        if (seg.domain, seg.flind) != (dom, flind):
            raise InvariantViolation("queue-block", f"{where} belongs to domain {seg.domain}, free list {seg.flind}")
        if pages.pool.get(pfn) == UNINIT:
            raise InvariantViolation("queue-block", f"{where} has an uninitialized head")
        if pages.order.get(pfn) != order:
            raise InvariantViolation("queue-block", f"{where} has a head whose order field is {pages.order.get(pfn)}")
        if pages.pool.get(pfn) != pool:
            raise InvariantViolation("queue-block", f"{where} has a head in pool {pages.pool.get(pfn)}")
        if pfn in pages.bogus:
            raise InvariantViolation("queue-block", f"{where} has a head with a wrong phys_addr or segind")


def check_pool_uniform(machine: Machine) -> None:
    """pool-uniform: every page of a non-lazy free block is initialized and in the block's pool."""
    pages = machine.vm.pages
    for _dom, _flind, pool, order, pfn in _blocks(machine):
        n = 1 << order
        if pool != LAZYINIT and pages.pool.count(pfn, pfn + n, pool) != n:
            raise InvariantViolation(
                "pool-uniform",
                f"block {_fmt(machine, pfn)} (order {order}) in pool {POOL_NAMES[pool]} has pages "
                "that are uninitialized or in another pool",
            )


def check_no_overlap(machine: Machine) -> None:
    """no-overlap: no page is in two free blocks; the order field marks exactly the queued heads."""
    blocks = sorted((pfn, order) for _, _, _, order, pfn in _blocks(machine))
    for (a, oa), (b, _) in zip(blocks, blocks[1:]):
        if a + (1 << oa) > b:
            raise InvariantViolation("no-overlap", f"free blocks {_fmt(machine, a)} and {_fmt(machine, b)} overlap")
    heads = dict(blocks)
    if heads != machine.vm.pages.order:
        extra = set(machine.vm.pages.order) ^ set(heads)
        bad = min(extra) if extra else min(p for p in heads if heads[p] != machine.vm.pages.order[p])
        raise InvariantViolation("no-overlap", f"page {_fmt(machine, bad)}: order field disagrees with the queues")


def check_counts(machine: Machine) -> None:
    """counts: each domain's free count equals the pages on its queues."""
    fq = machine.vm.fq
    totals = [0] * machine.vm.ndomains
    for dom, _, _, order, _ in _blocks(machine):
        totals[dom] += 1 << order
    if totals != fq.free_count:
        raise InvariantViolation("counts", f"free counts {fq.free_count} but the queues hold {totals}")


def _domain_of(machine: Machine, pfn: int) -> int:
    return machine.segtab.segs[machine.segtab.find(pfn)].domain


def _per_domain(machine: Machine, ranges, count) -> list[int]:
    out = [0] * machine.vm.ndomains
    for seg in machine.segtab.segs:
        for a, b in ranges:
            lo, hi = max(a, seg.start), min(b, seg.end)
            if lo < hi:
                out[seg.domain] += count(lo, hi)
    return out


def check_conservation(machine: Machine) -> None:
    """conservation: free + allocated + blacklisted pages equal the pages given to the allocator, per domain."""
    managed = machine.managed
    avail = _per_domain(machine, managed, lambda lo, hi: hi - lo)
    alloc = _per_domain(machine, managed, lambda lo, hi: machine.allocated.count(lo, hi, 1))
    black = [0] * machine.vm.ndomains
    for pa in machine.blacklisted:
        black[_domain_of(machine, pa >> machine.arch.page_shift)] += 1
    flight = machine.vm.in_flight  # reserved by the lazy-init thread, on no queue
    for dom in range(machine.vm.ndomains):
        free = machine.vm.fq.free_count[dom] + (1 << flight[2] if flight and flight[0] == dom else 0)
        if free + alloc[dom] + black[dom] != avail[dom]:
            raise InvariantViolation(
                "conservation",
                f"domain {dom}: {free} free + {alloc[dom]} allocated + {black[dom]} blacklisted "
                f"!= {avail[dom]} pages given to the allocator",
            )
    if sum(alloc) != machine.nallocated:
        raise InvariantViolation("conservation", "allocated pages lie outside what the allocator manages")


def check_allocated(machine: Machine) -> None:
    """allocated: allocated pages are initialized, outside free blocks and never in the lazy pool."""
    pages = machine.vm.pages
    bad = machine.allocated.first_where(1, pages.pool, (UNINIT, LAZYINIT))
    if bad is not None:
        what = "uninitialized" if pages.pool.get(bad) == UNINIT else "in the lazy pool"
        raise InvariantViolation("allocated", f"allocated page {_fmt(machine, bad)} is {what}")
    for _, _, _, order, pfn in _blocks(machine):
        if machine.allocated.count(pfn, pfn + (1 << order), 1):
            raise InvariantViolation("allocated", f"free block {_fmt(machine, pfn)} holds allocated pages")


def check_lazy_interiors(machine: Machine) -> None:
    """lazy-interiors: in the pages given to the allocator, only lazy blocks' interiors are uninitialized."""
    pages = machine.vm.pages
    uninit = sum(pages.pool.count(a, b, UNINIT) for a, b in machine.managed)
    lazy = [(pfn, order) for _, _, pool, order, pfn in _blocks(machine) if pool == LAZYINIT]
    if machine.vm.in_flight is not None:
        lazy.append(machine.vm.in_flight[1:])
    lazy_uninit = sum(pages.pool.count(pfn + 1, pfn + (1 << order), UNINIT) for pfn, order in lazy)
    if uninit != lazy_uninit:
        raise InvariantViolation(
            "lazy-interiors",
            f"{uninit - lazy_uninit} uninitialized page structures the allocator manages are not inside a lazy block",
        )


def check_drained(machine: Machine) -> None:
    """drained: initdone domains have no lazy block; DEFAULT becomes the first pool only after all."""
    vm = machine.vm
    for dom, _, pool, _order, pfn in _blocks(machine):
        if pool == LAZYINIT and vm.initdone[dom]:
            raise InvariantViolation(
                "drained", f"domain {dom} is marked initialized but lazy block {_fmt(machine, pfn)} remains"
            )
    if vm.default_freepool == DEFAULT and not all(vm.initdone):
        raise InvariantViolation("drained", "vm_default_freepool is DEFAULT before every domain was drained")


RULES = (
    check_queue_blocks,
    check_pool_uniform,
    check_no_overlap,
    check_counts,
    check_conservation,
    check_allocated,
    check_lazy_interiors,
    check_drained,
)


def check(machine: Machine) -> None:
    """Run every rule; raise :class:`InvariantViolation` at the first broken one."""
    for rule in RULES:
        rule(machine)
