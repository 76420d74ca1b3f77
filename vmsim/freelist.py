"""The free queues: ``vm_phys_free_queues[domain][flind][pool][order]``.

Models ``struct vm_freelist`` and the two primitives of ``sys/vm/vm_phys.c``
that do all list bookkeeping, ``vm_freelist_add()`` and ``vm_freelist_rem()``.
A free block of ``2**order`` pages is represented by its first page only; the
page's ``order`` field says it is a free head.

Each queue is an :class:`~collections.OrderedDict` keyed by the head's pfn: O(1)
insertion at either end (``move_to_end(last=False)`` for the head), O(1)
removal of a known block, O(1) access to the first block, and iteration in
list order, which are the ``TAILQ`` operations the kernel uses.

Beside the queues, a bitmask per ``[domain][flind][pool]`` has bit *k* set
while the order-*k* queue is non-empty, so the allocator's searches jump to
the next non-empty queue instead of visiting every empty one (a speed
shortcut the kernel does not take; it finds the same queue the kernel's
loops find, which ``tests/test_phys.py`` checks against the plain walk).
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import repeat

from .arch import NFREEPOOL

__all__ = ["FreeQueues"]


class FreeQueues:
    """The four-index table of free queues, with per-domain free page counts.

    ``free_count[dom]`` is the number of pages in the domain's queues; the
    kernel's ``lcnt`` (blocks per queue) is ``len()`` of a queue.  The
    ``order`` map is the page array's ``order`` field for free heads: a page
    absent from it has ``order == VM_NFREEORDER`` ("not a free head"); it is
    shared with :class:`vmsim.page.Pages`, which owns the field.
    """

    def __init__(self, ndomains: int, nfreelists: int, nfreeorder: int, order: dict[int, int]):
        self.nfreeorder = nfreeorder
        self.q = [
            [[[OrderedDict() for _ in range(nfreeorder)] for _ in range(NFREEPOOL)] for _ in range(nfreelists)]
            for _ in range(ndomains)
        ]
        #: ``nonempty[dom][flind][pool]``: bit *k* is set while queue order *k* holds a block.
        self.nonempty = [[[0] * NFREEPOOL for _ in range(nfreelists)] for _ in range(ndomains)]
        self.free_count = [0] * ndomains
        self.order = order

    def add(self, dom: int, flind: int, pool: int, pfn: int, order: int, tail: bool) -> None:
        """``vm_freelist_add``: make *pfn* a free head of *order*, at the tail or head."""
        self.order[pfn] = order
        queue = self.q[dom][flind][pool][order]
        queue[pfn] = None
        if not tail:
            queue.move_to_end(pfn, last=False)
        self.nonempty[dom][flind][pool] |= 1 << order
        self.free_count[dom] += 1 << order

    def add_many(self, dom: int, flind: int, pool: int, pfns: range, order: int) -> None:
        """:meth:`add` at the tail for each of *pfns*, in order (none of them queued yet)."""
        if not pfns:
            return
        self.order.update(zip(pfns, repeat(order)))
        self.q[dom][flind][pool][order].update(zip(pfns, repeat(None)))
        self.nonempty[dom][flind][pool] |= 1 << order
        self.free_count[dom] += len(pfns) << order

    def rem(self, dom: int, flind: int, pool: int, pfn: int, order: int) -> None:
        """``vm_freelist_rem``: unlink the block; its head is no longer a free head."""
        queue = self.q[dom][flind][pool][order]
        del queue[pfn]
        if not queue:
            self.nonempty[dom][flind][pool] &= ~(1 << order)
        self.order.pop(pfn, None)
        self.free_count[dom] -= 1 << order

    def first(self, dom: int, flind: int, pool: int, order: int) -> int | None:
        """``TAILQ_FIRST``: the head block's pfn, or ``None`` when the queue is empty."""
        queue = self.q[dom][flind][pool][order]
        return next(iter(queue)) if queue else None

    def lowest(self, dom: int, flind: int, pool: int, order: int) -> int:
        """The smallest order >= *order* whose queue holds a block, or -1 (an ascending walk's first hit)."""
        mask = self.nonempty[dom][flind][pool] >> order
        return order + (mask & -mask).bit_length() - 1 if mask else -1

    def highest(self, dom: int, flind: int, first_pool: int, order: int) -> tuple[int, int]:
        """The first non-empty queue of a walk from the largest order down to *order*, pools in turn.

        At each order the walk tries the pools from *first_pool* up (the
        kernel starts at ``vm_default_freepool``).  Returns ``(oind, pool)``:
        the largest order >= *order* at which one of those pools holds a
        block, and the first such pool; ``(-1, -1)`` when every queue is empty.
        """
        masks = self.nonempty[dom][flind]
        union = 0
        for mask in masks[first_pool:]:
            union |= mask
        union >>= order
        if not union:
            return -1, -1
        oind = order + union.bit_length() - 1
        pool = first_pool
        while not masks[pool] >> oind & 1:
            pool += 1
        return oind, pool

    def queues(self):
        """Every queue as ``(dom, flind, pool, order, queue)``, in index order."""
        for dom, per_dom in enumerate(self.q):
            for flind, per_fl in enumerate(per_dom):
                for pool, per_pool in enumerate(per_fl):
                    for order, queue in enumerate(per_pool):
                        yield dom, flind, pool, order, queue

    def heads(self):
        """Every free block as ``(dom, flind, pool, order, head pfn)``, queues in index order."""
        for dom, flind, pool, order, queue in self.queues():
            for pfn in queue:
                yield dom, flind, pool, order, pfn

    def blocks(self, dom: int, flind: int, pool: int, order: int) -> list[int]:
        """The queue's heads in list order (head first)."""
        return list(self.q[dom][flind][pool][order])

    def lcnt(self, dom: int, flind: int, pool: int, order: int) -> int:
        """``fl[order].lcnt``: the number of blocks in the queue."""
        return len(self.q[dom][flind][pool][order])
