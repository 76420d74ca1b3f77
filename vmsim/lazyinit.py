"""The ``vmlazyinit`` kernel thread, as a resumable stepper.

Models ``vm_phys_lazy_sysinit()`` / ``vm_phys_lazy_init()`` in
``sys/vm/vm_phys.c``: once the other CPUs have started (``SI_SUB_SMP``) one
kernel thread at idle priority (``PRI_MIN_IDLE``) drains the lazy pool of each
domain in turn with ``vm_phys_lazy_init_domain()``, then sets
``vm_default_freepool`` to DEFAULT so that no allocation searches the lazy
pool again.

In the kernel the thread runs whenever a CPU is otherwise idle, and it drops
the domain's free lock around each block, so allocations interleave with it.
:meth:`LazyInitThread.step` runs it for a bounded number of blocks; the
machine's other operations can be called between steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from .arch import DEFAULT
from .phys import VmPhys

__all__ = ["LazyInitThread", "LazyStep"]


@dataclass(frozen=True)
class LazyStep:
    """One block the thread initialized: where, how big, and whether it dropped the lock."""

    domain: int
    pfn: int
    order: int
    lock_dropped: bool


class LazyInitThread:
    """The ``vmlazyinit`` thread of one machine, resumable block by block.

    The cursor walks domains in order; inside a domain, free lists in order
    and orders ascending, exactly as ``vm_phys_lazy_init_domain`` does.  A
    domain that someone else already drained (``initdone``, set by
    ``vm_phys_find_range`` or ``vm_phys_unfree_page``) is skipped.
    """

    def __init__(self, vm: VmPhys):
        self.vm = vm
        self._lists = [flind for _, flind in vm.freelists()]
        self.domain = 0
        self._fl = 0
        self._oind = 0
        self.done = False
        self.history: list[LazyStep] = []
        #: The block :meth:`begin_block` left off the queues, with the lock dropped.
        self.paused: LazyStep | None = None

    @property
    def started_domain(self) -> bool:
        return self._fl != 0 or self._oind != 0

    def step(self, max_blocks: int = 1) -> int:
        """Initialize up to *max_blocks* lazy blocks; return how many were.

        A block left half done by :meth:`begin_block` is finished first.
        When the last domain is finished the thread sets
        ``vm_default_freepool`` to DEFAULT and exits (:attr:`done`).
        """
        count = 0
        if self.paused is not None and max_blocks > 0:
            held, self.paused = self.paused, None
            if self.vm.in_flight is not None:
                self.vm.in_flight = None
                self._finish(held)
            # else a drain that waited for this block let the thread finish it already
            count = 1
        while not self.done and count < max_blocks:
            taken = self._take_next()
            if taken is None:
                break
            self._finish(taken)
            count += 1
        return count

    def begin_block(self) -> LazyStep | None:
        """Start the next block and stop while the domain lock is dropped.

        Models the window in ``vm_phys_lazy_init_domain`` between unlocking
        and re-locking: the block is off every queue, its pages reserved, its
        structures not yet initialized, and other CPUs may run -- call any
        machine operation now, then :meth:`step` to finish the block.  Under a
        free-page shortage the lock is never dropped, so the block is finished
        at once.  Returns the block, or ``None`` when the thread has no more work.
        """
        if self.paused is not None and self.vm.in_flight is None:
            self.paused = None  # finished already, while a drain waited for it (drain_waits_for_thread)
        if self.paused is not None:
            return self.paused
        taken = self._take_next()
        if taken is None:
            return None
        if taken.lock_dropped:
            self.paused = taken
            self.vm.in_flight = (taken.domain, taken.pfn, taken.order)
        else:
            self._finish(taken)
        return taken

    def _finish(self, step: LazyStep) -> None:
        self.vm.lazy_finish_block(step.domain, step.pfn, step.order, step.lock_dropped)

    def _take_next(self) -> LazyStep | None:
        """Advance the cursor to the next lazy block and take it off its queue."""
        vm, lists = self.vm, self._lists
        while not self.done:
            if self.domain >= vm.ndomains:
                vm.default_freepool = DEFAULT
                self.done = True
                break
            if not self.started_domain and vm.initdone[self.domain]:
                self.domain += 1
                continue
            if self._fl >= len(lists):
                vm.initdone[self.domain] = True
                self.domain, self._fl, self._oind = self.domain + 1, 0, 0
                continue
            taken = vm.lazy_take_block(self.domain, lists[self._fl], self._oind)
            if taken is None:
                self._oind += 1
                if self._oind >= vm.nfreeorder:
                    self._fl, self._oind = self._fl + 1, 0
                continue
            step = LazyStep(self.domain, *taken)
            self.history.append(step)
            return step
        return None

    def run(self) -> int:
        """Run the thread to completion; return the number of blocks initialized."""
        total = 0
        while not self.done:
            total += self.step(1 << 30)
        return total
