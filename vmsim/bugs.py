"""Deliberately broken allocators, for the book's bug hunt.

Each class here is a :class:`~vmsim.phys.VmPhys` with *one* rule of the
lazy-init change switched off.  Boot a machine with
``Machine(..., phys_class=SomeBug, debug=True)`` and watch where the checked
page accessors (:class:`~vmsim.errors.UninitializedPageRead`) or
:func:`vmsim.invariants.check` catch it.  None of these is kernel behaviour.
"""

from __future__ import annotations

from .arch import LAZYINIT
from .phys import VmPhys

__all__ = ["BUGS", "NoSuccessorInit", "SetPoolSkipsTail", "UnfreeWithoutDrain", "FindRangeWithoutDrain",
           "MergeKeepsBuddyPool"]


class NoSuccessorInit(VmPhys):
    """The chunk helper forgets to initialize the head of the next chunk.

    Rule broken: every enqueued block head must be an initialized structure
    (``vm_phys_enqueue_contig_chunk``).  The next loop iteration reads the
    new head's ``phys_addr`` and ``segind``: garbage.
    """

    def enq_chunk(self, fl, pfn, order, ident=None, run_end=None):
        self._add(fl, pfn, order, True)
        return pfn + (1 << order)


class SetPoolSkipsTail(VmPhys):
    """Leaving the lazy pool relabels the head but initializes nothing else.

    Rule broken: a block leaving LAZYINIT is initialized entirely
    (``vm_phys_set_pool``).  The split that follows reads the ``order`` of
    the upper halves: garbage.
    """

    def set_pool(self, pool, pfn, order):
        if self.pages.read_pool("vm_phys_set_pool", pfn) == LAZYINIT:
            self.pages.pool.set(pfn, pool)
        else:
            super().set_pool(pool, pfn, order)


class UnfreeWithoutDrain(VmPhys):
    """``vm_phys_unfree_page`` skips ``vm_phys_lazy_init_domain``.

    Rule broken: operations that read arbitrary page structures drain the
    domain first.  The search for the enclosing block reads the ``order`` of
    lazy interiors.
    """

    def lazy_init_domain(self, domain, locked):
        if locked:
            return
        super().lazy_init_domain(domain, locked)


class FindRangeWithoutDrain(VmPhys):
    """``vm_phys_find_range`` returns a range without draining the domain.

    Rule broken: the same as :class:`UnfreeWithoutDrain`, for range scans:
    the caller's scan (:meth:`vmsim.machine.Machine.scan_range`) reads every
    structure in the range.
    """

    def lazy_init_domain(self, domain, locked):
        if not locked:
            return
        super().lazy_init_domain(domain, locked)


class MergeKeepsBuddyPool(VmPhys):
    """Coalescing takes a buddy from another pool without moving it.

    Rule broken: a merged block takes the freed block's pool, and a lazy
    buddy is initialized by that move (``vm_phys_free_pages`` calls
    ``vm_phys_set_pool``).  The merged block then holds pages of two pools
    and, with a lazy buddy, uninitialized structures outside the lazy pool;
    :func:`vmsim.invariants.check` reports it.
    """

    def repool_buddy(self, pool, buddy, order):
        pass


BUGS = {cls.__name__: cls for cls in (NoSuccessorInit, SetPoolSkipsTail, UnfreeWithoutDrain,
                                      FindRangeWithoutDrain, MergeKeepsBuddyPool)}
