"""The buddy allocator of ``sys/vm/vm_phys.c``, with the lazy-init change.

:class:`VmPhys` holds what ``vm_phys.c`` keeps in globals -- the segments,
``vm_phys_free_queues``, ``vm_freelist_to_flind``, ``vm_default_freepool``
and the per-domain ``initdone`` flags -- together with the page array it
works on, and implements the file's functions as methods named after them
(``vm_phys_alloc_npages`` is :meth:`VmPhys.alloc_npages`).  Everything here
works in page frame numbers; :class:`vmsim.machine.Machine` is the public,
byte-addressed front end that validates requests first.

The kernel's ``KASSERT``\\ s are real checks here.  Field reads of a
``struct vm_page`` go through :class:`vmsim.page.Pages`, which raises
:class:`~vmsim.errors.UninitializedPageRead` where the kernel would read an
uninitialized structure.
"""

from __future__ import annotations

from .arch import DEFAULT, LAZYINIT, NFREEPOOL, Arch
from .errors import CorruptionRefused, InvalidInput, InvariantViolation
from .freelist import FreeQueues
from .page import UNINIT, Pages
from .revisions import Revision
from .seg import SegmentTable
from .validate import show

__all__ = ["VmPhys", "pool_valid", "vm_addr_align_ok", "vm_addr_bound_ok", "vm_addr_ok"]


def pool_valid(pool: int) -> bool:
    """``vm_phys_pool_valid``: a pool a caller may allocate from or free to."""
    return _is_int(pool) and 0 <= pool < NFREEPOOL and pool != LAZYINIT


def _is_int(value) -> bool:
    """An integer argument: ``True`` and ``False`` (and other ``int`` subclasses) are not numbers here."""
    return type(value) is int


def vm_addr_align_ok(pa: int, alignment: int) -> bool:
    """``vm_addr_align_ok`` (``sys/vm/vm_extern.h``): *pa* is a multiple of *alignment*."""
    return pa & (alignment - 1) == 0


def vm_addr_bound_ok(pa: int, size: int, boundary: int) -> bool:
    """``vm_addr_bound_ok`` (``sys/vm/vm_extern.h``): ``[pa, pa + size)`` crosses no multiple of *boundary*.

    The first and last byte agree in every bit above the boundary; 0 means no boundary.
    """
    return ((pa ^ (pa + size - 1)) & -boundary) == 0 if boundary else True


def vm_addr_ok(pa: int, size: int, alignment: int, boundary: int) -> bool:
    """``vm_addr_ok`` (``sys/vm/vm_extern.h``): both tests above."""
    return vm_addr_align_ok(pa, alignment) and vm_addr_bound_ok(pa, size, boundary)


def _fls(x: int) -> int:
    """``fls``/``flsl``: index (from 1) of the highest set bit, 0 for 0."""
    return x.bit_length()


def _ffs(x: int) -> int:
    """``ffs``/``ffsl``: index (from 1) of the lowest set bit, 0 for 0."""
    return (x & -x).bit_length()


class VmPhys:
    """The state and functions of ``vm_phys.c`` for one simulated machine."""

    def __init__(self, arch: Arch, segtab: SegmentTable, revision: Revision):
        self.arch = arch
        self.segtab = segtab
        self.segs = segtab.segs
        self.rev = revision
        self.ndomains = segtab.ndomains
        self.nfreeorder = arch.nfreeorder
        self.max_order = arch.nfreeorder - 1
        self.pages = Pages(segtab, arch.page_shift, arch.nfreeorder)
        self.fq = FreeQueues(self.ndomains, segtab.nfreelists, arch.nfreeorder, self.pages.order)
        #: ``vm_default_freepool``: set to LAZYINIT by ``vm_phys_init``.
        self.default_freepool = LAZYINIT
        #: ``initdone[]`` of ``vm_phys_lazy_init_domain``.
        self.initdone = [False] * self.ndomains
        #: ``vmd_free_reserved`` of each domain, used by ``vm_domain_allocate``;
        #: zero until the page daemon's thresholds are set after boot.
        self.free_reserved = [0] * self.ndomains
        #: ``(domain, pfn, order)`` of the block the lazy-init thread holds off the
        #: queues with the domain lock dropped, or ``None``.
        self.in_flight: tuple[int, int, int] | None = None
        # vm_phys_alloc_pages tries every VM_FREELIST_* constant; one that aliases
        # an index already tried finds the same empty queues again (nothing
        # changes between the two looks), so each index is searched once here.
        self._flind_order = list(dict.fromkeys(f for f in segtab.freelist_to_flind if f >= 0))
        #: When a list, every queue change and initialization is appended to it.
        self.trace: list[tuple] | None = None

    # -- helpers ---------------------------------------------------------------
    def _pa(self, pfn: int) -> int:
        return pfn << self.arch.page_shift

    def _add(self, fl: tuple[int, int, int], pfn: int, order: int, tail: bool) -> None:
        self.fq.add(fl[0], fl[1], fl[2], pfn, order, tail)
        if self.trace is not None:
            self.trace.append(("add", fl, pfn, order, tail))

    def _rem(self, fl: tuple[int, int, int], pfn: int, order: int) -> None:
        self.fq.rem(fl[0], fl[1], fl[2], pfn, order)
        if self.trace is not None:
            self.trace.append(("rem", fl, pfn, order))

    def _init_range(self, lo: int, hi: int, segind: int, pool: int) -> None:
        self.pages.init_range(lo, hi, segind, pool)
        if self.trace is not None and hi > lo:
            self.trace.append(("init", lo, hi, pool))

    def _init_page(self, pfn: int, segind: int, pool: int) -> None:
        self.pages.init_page(pfn, segind, pool)
        if self.trace is not None:
            self.trace.append(("init", pfn, pfn + 1, pool))

    def free_block_containing(self, pfn: int) -> tuple[int, int] | None:
        """``(head, order)`` of the free block holding page *pfn*, or ``None``.

        A model-side lookup (it reads the ``order`` map directly, whatever
        the initialization state), for validation, figures and checks.
        """
        order_map = self.pages.order
        for k in range(self.nfreeorder):
            head = pfn & ~((1 << k) - 1)
            order = order_map.get(head)
            if order is not None and head + (1 << order) > pfn:
                return head, order
        return None

    def freelists(self):
        """``(freelist, flind)`` for each present ``VM_FREELIST_*``, in order.

        Absent lists that alias an earlier index are visited again, as the
        kernel's loops do; only negative indexes are skipped.
        """
        return [(f, flind) for f, flind in enumerate(self.segtab.freelist_to_flind) if flind >= 0]

    # -- enqueueing --------------------------------------------------------------
    def enq_chunk(self, fl: tuple[int, int, int], pfn: int, order: int,
                  ident: tuple[int, int, int] | None = None, run_end: int | None = None) -> int:
        """Enqueue one block at the tail and return the page after it.

        Models ``vm_phys_enqueue_contig_chunk`` (seed) / ``vm_phys_enq_chunk``
        (b16b4c22).  When the head is in the lazy pool the block's successor
        is initialized (LAZYINIT, the head's ``segind``), so that the next
        chunk's head is valid; see :class:`vmsim.revisions.Revision` for the
        segment-end test that only the committed revision makes.  *ident* is
        the head's ``(pool, phys_addr, segind)`` if the caller already read it.
        With *run_end* (this book's ``successor_inside_run`` proposal) the
        successor is initialized only when it lies before *run_end*.
        """
        op = "vm_phys_enq_chunk"
        if not 0 <= order < self.nfreeorder:
            raise InvariantViolation(op, f"order {order} is out of range")
        self._add(fl, pfn, order, True)
        n = 1 << order
        pool, pa, segind = ident or self.pages.read_ident(op, pfn)
        if pool == LAZYINIT and (run_end is None or pfn + n < run_end):
            pa += n
            inside = pa < self.segs[segind].end
            if inside and pa == pfn + n and segind == self.segtab.find(pfn + n):
                self.pages.init_canonical(pfn + n, LAZYINIT)
                if self.trace is not None:
                    self.trace.append(("init", pfn + n, pfn + n + 1, LAZYINIT))
            elif inside or not self.rev.successor_guard:
                self.pages.init_index(self.segtab.index_of(pfn) + n, pa, segind, LAZYINIT)
                if self.trace is not None:
                    self.trace.append(("successor", pfn + n, pa))
        return pfn + n

    def enq_range(self, fl: tuple[int, int, int], pfn: int, npages: int, tail: bool) -> None:
        """``vm_phys_enq_range``: enqueue pages ending on an aligned boundary.

        Blocks grow in size (the lowest set bit of the remaining count), so
        the pages ``[pfn, pfn + npages)`` must end at a multiple of the largest
        power of two not above *npages*.
        """
        op = "vm_phys_enq_range"
        if npages <= 0:
            raise InvariantViolation(op, "npages is 0")
        if (pfn + npages) & ((1 << (_fls(npages) - 1)) - 1):
            raise InvariantViolation(op, f"pa {self._pa(pfn):#x} and npages {npages} are misaligned")
        while npages > 0:
            self.pages.require_not_head(op, pfn)
            order = _ffs(npages) - 1
            if order >= self.nfreeorder:
                raise InvariantViolation(op, f"order {order} is out of range")
            self._add(fl, pfn, order, tail)
            pfn += 1 << order
            npages -= 1 << order

    def split_pages(self, pfn: int, oind: int, fl: tuple[int, int, int], order: int, tail: bool) -> None:
        """``vm_phys_split_pages``: keep the lowest ``2**order`` pages, enqueue the upper halves."""
        while oind > order:
            oind -= 1
            buddy = pfn + (1 << oind)
            self.pages.require_not_head("vm_phys_split_pages", buddy)
            self._add(fl, buddy, oind, tail)

    def set_pool(self, pool: int, pfn: int, order: int) -> None:
        """``vm_phys_set_pool``: move a free block (off any queue) to *pool*.

        A lazy block's head alone is valid: leaving the lazy pool initializes
        its other ``2**order - 1`` structures, with the *new* pool.  Any other
        block just has *pool* written into every page.
        """
        op = "vm_phys_set_pool"
        n = 1 << order
        if self.pages.read_pool(op, pfn) == LAZYINIT:
            self.pages.read_segind(op, pfn)  # the tail is initialized with the head's segind
            self.pages.init_lazy_tail(pfn, n, pool)
            if self.trace is not None and n > 1:
                self.trace.append(("init", pfn + 1, pfn + n, pool))
        else:
            self.pages.pool.fill(pfn, pfn + n, pool)
        if self.trace is not None:
            self.trace.append(("set_pool", pfn, order, pool))

    # -- allocation -----------------------------------------------------------------
    def _check_domain(self, op: str, domain: int) -> None:
        if not (_is_int(domain) and 0 <= domain < self.ndomains):
            raise InvalidInput(op, f"domain {show(domain)} is out of range (the machine has {self.ndomains})")

    def _check_pool(self, op: str, pool: int) -> None:
        if not pool_valid(pool):
            raise InvalidInput(op, f"pool {show(pool)} is out of range (LAZYINIT is never a valid request)")

    def _check_order(self, op: str, order: int) -> None:
        if not (_is_int(order) and 0 <= order < self.nfreeorder):
            raise InvalidInput(op, f"order {show(order)} is out of range (VM_NFREEORDER is {self.nfreeorder})")

    def alloc_npages(self, domain: int, pool: int, npages: int) -> list[int]:
        """``vm_phys_alloc_npages``: up to *npages* pages, not necessarily contiguous.

        For each free list: whole blocks of the requested pool from the
        smallest order up; then, largest first, blocks stolen from any pool
        starting at ``vm_default_freepool`` (lazy blocks are initialized by
        :meth:`set_pool`).  The unused end of the last block goes back to the
        requested pool at the tail.  Returns the pages in the order taken.
        """
        op = "vm_phys_alloc_npages"
        self._check_domain(op, domain)
        self._check_pool(op, pool)
        if not (_is_int(npages) and 0 <= npages <= 1 << self.max_order):
            raise InvalidInput(op, f"npages {show(npages)} is out of range (at most {1 << self.max_order})")
        ma: list[int] = []
        fq = self.fq
        for _, flind in self.freelists():
            fl = (domain, flind, pool)
            # Own pool, orders ascending, whole blocks.  Queues only gain
            # blocks (the unused tail) when the request is complete, so the
            # next non-empty queue is always the next one the loop reaches.
            while (oind := fq.lowest(domain, flind, pool, 0)) >= 0:
                m = fq.first(domain, flind, pool, oind)
                self._rem(fl, m, oind)
                if self._take(ma, m, oind, npages, fl):
                    return ma
            # Steal, orders descending, pools from vm_default_freepool up.
            while True:
                oind, pind = fq.highest(domain, flind, self.default_freepool, 0)
                if oind < 0:
                    break
                m = fq.first(domain, flind, pind, oind)
                self._rem((domain, flind, pind), m, oind)
                self.set_pool(pool, m, oind)
                if self._take(ma, m, oind, npages, fl):
                    return ma
        return ma

    def _take(self, ma: list[int], m: int, oind: int, npages: int, fl: tuple[int, int, int]) -> bool:
        """Append a removed block's pages to *ma*; give back the excess. True when done."""
        avail = 1 << oind
        need = min(npages - len(ma), avail)
        ma.extend(range(m, m + need))
        if need < avail:
            self.enq_range(fl, m + need, avail - need, True)
            return True
        return len(ma) == npages

    def alloc_pages(self, domain: int, pool: int, order: int) -> int | None:
        """``vm_phys_alloc_pages``: a ``2**order`` block, trying each free list in turn."""
        self._check_request("vm_phys_alloc_pages", domain, pool, order)
        for flind in self._flind_order:
            m = self._alloc_freelist(domain, flind, pool, order)
            if m is not None:
                return m
        return None

    def alloc_freelist_pages(self, domain: int, freelist: int, pool: int, order: int) -> int | None:
        """``vm_phys_alloc_freelist_pages``: smallest fit in *pool*, else steal the largest.

        The own-pool search goes up from *order*; the fallback goes down from
        the largest order and, at each order, through the pools from
        ``vm_default_freepool`` (so the lazy pool first while it exists).  The
        upper halves of a split go to the requested pool, at the tail.
        """
        op = "vm_phys_alloc_freelist_pages"
        self._check_request(op, domain, pool, order)
        if not (_is_int(freelist) and 0 <= freelist < self.arch.nfreelist):
            raise InvalidInput(op, f"freelist {show(freelist)} is out of range")
        return self._alloc_freelist(domain, self.segtab.freelist_to_flind[freelist], pool, order)

    def _check_request(self, op: str, domain: int, pool: int, order: int) -> None:
        self._check_domain(op, domain)
        self._check_pool(op, pool)
        self._check_order(op, order)

    def _alloc_freelist(self, domain: int, flind: int, pool: int, order: int) -> int | None:
        """The body of ``vm_phys_alloc_freelist_pages`` once its arguments are checked."""
        if flind < 0:
            return None
        fl = (domain, flind, pool)
        fq = self.fq
        oind = fq.lowest(domain, flind, pool, order)
        if oind >= 0:
            m = fq.first(domain, flind, pool, oind)
            self._rem(fl, m, oind)
            self.split_pages(m, oind, fl, order, True)
            return m
        oind, pind = fq.highest(domain, flind, self.default_freepool, order)
        if oind >= 0:
            m = fq.first(domain, flind, pind, oind)
            self._rem((domain, flind, pind), m, oind)
            self.set_pool(pool, m, oind)
            self.split_pages(m, oind, fl, order, True)
            return m
        return None

    # -- freeing --------------------------------------------------------------------
    def free_pages(self, pfn: int, order: int) -> None:
        """``vm_phys_free_pages``: free a block, merging with free buddies.

        Merging stays inside the block's segment and below the largest order;
        a buddy must be a free head of the same order.  A buddy in another
        pool is moved to the freed block's pool first (a lazy buddy is
        initialized by that move), so the merged block always takes the pool
        of the block being freed.  It goes to the tail of its queue.
        """
        op = "vm_phys_free_pages"
        pages = self.pages
        pool, _, segind = pages.read_ident(op, pfn)
        if pfn in pages.order:
            raise InvariantViolation(op, f"page at pa {self._pa(pfn):#x} is already a free block head")
        if not pool_valid(pool):
            raise InvariantViolation(op, f"page at pa {self._pa(pfn):#x} has unexpected pool {pool}")
        if not 0 <= order < self.nfreeorder:
            raise InvariantViolation(op, f"order {order} is out of range")
        seg = self.segs[segind]
        dom, flind = seg.domain, seg.flind
        while order < self.max_order:
            buddy = pfn ^ (1 << order)
            if buddy < seg.start or buddy >= seg.end:
                break
            if pages.read_order(op, buddy) != order:
                break
            bpool = pages.read_pool(op, buddy)
            self._rem((dom, flind, bpool), buddy, order)
            if bpool != pool:
                self.repool_buddy(pool, buddy, order)
            order += 1
            pfn &= ~((1 << order) - 1)
            pool = pages.read_pool(op, pfn)
        self._add((dom, flind, pool), pfn, order, True)

    def repool_buddy(self, pool: int, buddy: int, order: int) -> None:
        """The merge step of ``vm_phys_free_pages`` for a buddy in another pool.

        The buddy moves to the freed block's pool (``vm_phys_set_pool``),
        which initializes it if it is a lazy block.
        """
        self.set_pool(pool, buddy, order)

    def _max_order_at(self, op: str, index_pfn: int) -> int:
        """``max_order(m)``: the alignment of ``VM_PAGE_TO_PHYS(m)``, capped."""
        return self._max_order_pa(self.pages.read_phys(op, index_pfn))

    def _max_order_pa(self, pa: int) -> int:
        return min(_ffs(pa) - 1, self.max_order) if pa else self.max_order

    def enqueue_contig(self, pfn: int, npages: int) -> None:
        """``vm_phys_enqueue_contig``: add a run as maximal aligned blocks, no merging.

        The pool comes from the head page.  Blocks of increasing size up to
        the first maximally aligned page, then maximal blocks, then blocks of
        diminishing size; each goes to the tail of its queue through
        :meth:`enq_chunk`, which is where a lazy run initializes each next
        head.  The resulting blocks are the unique maximal buddy-aligned
        decomposition of the run, in address order.
        """
        op = "vm_phys_enqueue_contig"
        pool, _, segind = self.pages.read_ident(op, pfn)
        seg = self.segs[segind]
        fl = (seg.domain, seg.flind, pool)
        m, m_end = pfn, pfn + npages
        # The seed's loops also read phys_addr of the page at m once m has
        # reached m_end; that value cannot change the outcome, so the model
        # reads each page only while m is inside the run.  Each head's
        # segind is checked against the run's segment, as the KASSERT does.
        order = self.max_order
        run_end = m_end if self.rev.successor_inside_run else None
        while m < m_end:
            ident = self._run_head(op, m, segind)
            order = self._max_order_pa(ident[1])
            if order >= self.max_order or m + (1 << order) > m_end:
                break
            m = self.enq_chunk(fl, m, order, ident, run_end)
        if m < m_end and order == self.max_order:
            m = self._enq_max_blocks(op, fl, m, (m_end - m) >> order, segind)
        while m < m_end and m + (1 << order) <= m_end:
            m = self.enq_chunk(fl, m, order, self._run_head(op, m, segind), run_end)
        while m < m_end:
            m = self.enq_chunk(fl, m, _fls(m_end - m) - 1, self._run_head(op, m, segind), run_end)

    def _enq_max_blocks(self, op: str, fl: tuple[int, int, int], m: int, count: int, segind: int) -> int:
        """The maximal-block loop of :meth:`enqueue_contig` for all but its last block, at once.

        A speed shortcut for the per-block loop (a 4 TiB boot has a quarter
        of a million such blocks); ``tests/test_phys.py`` checks that both
        leave the same state.  It gives the same result because every head
        it skips reading is known: in a lazy run each one is the canonical
        LAZYINIT structure the previous block's successor write just made; in
        any other run each one is already initialized, with its own
        identity, outside the lazy pool.  Where that cannot be seen at once
        (a recorded trace, a head with another identity, a subclass with a
        chunk helper of its own), it does nothing and the plain loop runs.
        Returns the first head left to the plain loop.
        """
        top = self.max_order
        step = 1 << top
        if count < 3 or self.trace is not None or type(self).enq_chunk is not VmPhys.enq_chunk:
            return m  # short, recorded, or a subclass's own chunk helper (vmsim.bugs): the plain loop
        end = m + count * step
        pages = self.pages
        if pages.bogus and any(m <= p <= end for p in pages.bogus):
            return m
        pool = self._run_head(op, m, segind)[0]
        if pool == LAZYINIT:
            # Blocks 0 .. count-2 each initialize the head after them: heads 1 .. count-1.
            pages.init_heads(range(m + step, end, step), LAZYINIT)
        elif pages.pool.count(m, end, UNINIT) or pages.pool.count(m, end, LAZYINIT):
            return m
        self.fq.add_many(fl[0], fl[1], fl[2], range(m, end - step, step), top)
        return end - step

    def _run_head(self, op: str, pfn: int, segind: int) -> tuple[int, int, int]:
        ident = self.pages.read_ident(op, pfn)
        if ident[2] != segind:
            raise InvariantViolation(op, f"run reaching pa {self._pa(pfn):#x} spans multiple segments")
        return ident

    def free_contig_plan(self, pfn: int, npages: int) -> list[tuple[str, int, int]]:
        """The calls ``vm_phys_free_contig`` makes, as ``(kind, pfn, size)``.

        ``kind`` is ``"enqueue"`` (the middle, through :meth:`enqueue_contig`,
        *size* pages) or ``"free"`` (an end held back and freed last with
        :meth:`free_pages`, *size* is its order).  Computing the plan first
        lets :meth:`free_contig` refuse a run the kernel would mishandle.
        """
        op = "vm_phys_free_contig"
        top = self.max_order
        if self.rev.free_contig_ilog2:
            lo, hi = pfn, pfn + npages
            max_order = min(_fls(lo ^ hi) - 1, top)
            order_start = min(_ffs(lo) - 1, top) if lo else top
            order_end = min(_ffs(hi) - 1, top) if hi else top
            start = lo + (1 << order_start) if order_start < max_order else lo
            end = hi - (1 << order_end) if order_end < max_order else hi
            plan = [("enqueue", start, end - start)] if start < end else []
            if start > lo:
                plan.append(("free", lo, order_start))
            if end < hi:
                plan.append(("free", end, order_end))
            return plan
        # The 2023 tree: max_order() of the first page and of the structure
        # right after the run, whose phys_addr field is read.
        order_start = self._max_order_at(op, pfn)
        start = pfn + (1 << order_start) if order_start < top else pfn
        order_end = self._max_order_at_index(op, self.segtab.index_of(pfn) + npages, pfn + npages)
        end = pfn + npages - (1 << order_end) if order_end < top else pfn + npages
        plan = [("enqueue", start, end - start)] if start < end else []
        if order_start < top:
            plan.append(("free", pfn, order_start))
        if order_end < top:
            plan.append(("free", end, order_end))
        return plan

    def _max_order_at_index(self, op: str, index: int, pfn_expected: int) -> int:
        """``max_order(m)`` for a pointer computed past a run (may leave the segment)."""
        pfn, _ = self.segtab.pfn_at_index(index)
        if pfn < 0 or self.segtab.find(pfn) < 0:
            raise CorruptionRefused(
                op,
                f"reads phys_addr of the vm_page after the run ending at pa "
                f"{self._pa(pfn_expected):#x}, which lies outside every segment",
            )
        return self._max_order_at(op, pfn)

    def free_contig(self, pfn: int, npages: int) -> None:
        """``vm_phys_free_contig``: free a run, its unaligned ends last so they can merge.

        Raises :class:`~vmsim.errors.CorruptionRefused`, before changing
        anything, when the revision's arithmetic would free pages outside the
        run or twice (the 2023 ``max_order()`` variant does for short,
        unaligned runs, a single odd page among them), or would read the
        structure after a run that ends at the end of the page array.
        """
        plan = self.free_contig_plan(pfn, npages)
        covered = sorted((p, p + (s if kind == "enqueue" else 1 << s)) for kind, p, s in plan)
        expect, ok = pfn, True
        for lo, hi in covered:
            ok = ok and lo == expect
            expect = hi
        if not ok or expect != pfn + npages:
            raise CorruptionRefused(
                "vm_phys_free_contig",
                f"run [{self._pa(pfn):#x}, {self._pa(pfn + npages):#x}) would be freed as "
                + ", ".join(f"[{self._pa(lo):#x}, {self._pa(hi):#x})" for lo, hi in covered)
                + ", which is not exactly the run",
            )
        for kind, p, s in plan:
            if kind == "enqueue":
                self.enqueue_contig(p, s)
            else:
                self.free_pages(p, s)

    # -- range scans, unfree ------------------------------------------------------------
    def find_range(self, domain: int, npages: int, low: int, high: int, segind: int = 0):
        """``vm_phys_find_range``: the first segment from *segind* with room for the run.

        Works in byte addresses.  Returns ``(segind, start_pa, end_pa)`` of the
        clipped segment, or ``None``.  Before returning a segment the whole
        domain's lazy pool is drained, because the caller will scan every
        page structure of the range.
        """
        op = "vm_phys_find_range"
        self._check_domain(op, domain)
        if not (_is_int(npages) and npages > 0):
            raise InvalidInput(op, f"npages {show(npages)} must be positive")
        shift = self.arch.page_shift
        for i in range(segind, len(self.segs)):
            seg = self.segs[i]
            if seg.domain != domain:
                continue
            start, end = seg.start << shift, seg.end << shift
            if start >= high:
                return None
            pa_start, pa_end = max(low, start), min(high, end)
            # vm_paddr_t is unsigned: when low lies above this segment the
            # difference wraps around and the segment is returned anyway, with
            # an empty (inverted) range.  Callers start at the segment that
            # vm_phys_lookup_segind(low) finds, where this cannot happen.
            if (pa_end - pa_start) % (1 << 64) < npages << shift:
                continue
            self.lazy_init_domain(domain, locked=False)
            return i, pa_start, pa_end
        return None

    def unfree_page(self, pfn: int) -> bool:
        """``vm_phys_unfree_page(pa)``: take one page off the free lists.

        Drains the domain's lazy pool first, since the search reads the
        ``order`` of pages that could be lazy interiors.  Then finds the free
        block holding the page and halves it until only that page is left,
        returning each other half to the same pool at the *head* of its queue.
        Returns whether the page was free.
        """
        op = "vm_phys_unfree_page"
        segind = self.segtab.find(pfn)
        if segind < 0:
            raise InvalidInput(op, f"pa {self._pa(pfn):#x} is in no segment")
        seg = self.segs[segind]
        self.lazy_init_domain(seg.domain, locked=True)
        pages = self.pages
        m_set, order = pfn, 0
        while pages.read_order(op, m_set) == self.nfreeorder and order < self.max_order:
            order += 1
            pa = pages.read_phys(op, pfn) & ~((1 << order) - 1)
            if pa < seg.start:
                return False
            m_set = pa
        set_order = pages.read_order(op, m_set)
        if set_order < order or set_order == self.nfreeorder:
            return False
        fl = (seg.domain, seg.flind, pages.read_pool(op, m_set))
        order = set_order
        self._rem(fl, m_set, order)
        while order > 0:
            order -= 1
            half = pages.read_phys(op, m_set) ^ (1 << order)
            if pages.read_phys(op, pfn) < half:
                m_tmp = half
            else:
                m_tmp, m_set = m_set, half
            self._add(fl, m_tmp, order, False)
        if m_set != pfn:
            raise InvariantViolation(op, "fatal inconsistency: the page left is not the one asked for")
        return True

    def scan_pages(self, lo: int, hi: int) -> None:
        """Read every page structure of ``[lo, hi)`` as ``vm_page_scan_contig`` does."""
        from .page import UNINIT

        if self.pages.pool.count(lo, hi, UNINIT):
            first = next(s for s, _, v in self.pages.pool.runs(lo, hi) if v == UNINIT)
            self.pages.read_pool("vm_page_scan_contig", first)

    # -- contiguous allocation ---------------------------------------------------------
    def find_freelist_contig_max(self, fl, npages: int, low: int, high: int, alignment: int, boundary: int):
        """``vm_phys_find_freelist_contig`` of the 2024 tree: consecutive free max blocks.

        For the first block of each physically consecutive sequence of free
        max-order blocks (at or above ``low`` in its segment), move a
        candidate along the sequence until alignment and boundary hold, then
        require the run to end below ``min(high, segment end)`` and every
        max block it covers to be free.  Byte addresses in, a pfn out.
        """
        op = "vm_phys_find_freelist_contig"
        pages, shift = self.pages, self.arch.page_shift
        top = self.max_order
        step = 1 << top
        size, max_size = npages << shift, step << shift
        for m in self.fq.blocks(fl[0], fl[1], fl[2], top):
            pa = pages.read_phys(op, m) << shift
            seg = self.segs[pages.read_segind(op, m)]
            lbound = max(low, seg.start << shift)
            if pa < lbound:
                continue
            if pa >= max_size and pa - max_size >= lbound and pages.read_order(op, m - step) == top:
                continue
            limit = min(high, seg.end << shift)
            m_ret = m
            while (not vm_addr_ok(m_ret << shift, size, alignment, boundary)
                   and (m_ret << shift) + size <= limit
                   and pages.read_order(op, m_ret + step) == top):
                m_ret += step
            if (m_ret << shift) + size > limit:
                continue
            m_iter = m_ret
            while m_iter < m_ret + npages and pages.read_order(op, m_iter) == top:
                m_iter += step
            if m_iter < m_ret + npages:
                continue
            return m_ret
        return None

    def find_freelist_contig(self, fl, oind: int, npages: int, low: int, high: int, alignment: int, boundary: int):
        """``vm_phys_find_freelist_contig`` of the seed's 2023 tree, in bytes.

        Walks the queue ``fl[oind]`` and, for the first block of each
        physically consecutive sequence of free blocks, checks whether the run
        (moved up for alignment or boundary, or backed down over smaller free
        blocks to use them for the fragment) is covered by free blocks.  Only
        block boundaries are read, never a lazy block's interior.
        """
        op = "vm_phys_find_freelist_contig"
        pages, shift = self.pages, self.arch.page_shift
        page_size = 1 << shift
        size = npages << shift
        frag = (npages & ((1 << oind) - 1)) << shift
        for m_listed in self.fq.blocks(fl[0], fl[1], fl[2], oind):
            pa = pages.read_phys(op, m_listed) << shift
            if pa < low:
                continue
            seg = self.segs[pages.read_segind(op, m_listed)]
            seg_start, seg_end = seg.start << shift, seg.end << shift
            lbound = max(low, seg_start)
            pa_pre = pa - (page_size << oind)
            if pa != 0 and pa_pre >= lbound and pages.read_order(op, pa_pre >> shift) == oind:
                continue
            if not vm_addr_align_ok(pa, alignment):
                pa = -(-pa // alignment) * alignment
            elif frag != 0 and lbound + frag <= pa:
                pa_end = pa
                for order in range(oind - 1, -1, -1):
                    pa_pre = pa_end - (page_size << order)
                    if not vm_addr_align_ok(pa_pre, alignment):
                        break
                    if pa_pre >= lbound and pages.read_order(op, pa_pre >> shift) == order:
                        pa_end = pa_pre
                if pa_end + frag <= pa:
                    pa = pa_end
            if not vm_addr_bound_ok(pa, size, boundary):
                pa = -(-(pa + 1) // boundary) * boundary
            pa_end = pa + size
            if seg_end < pa_end:
                continue
            m_ret = pa >> shift
            pa = pages.read_phys(op, m_listed) << shift
            while True:
                pa += page_size << oind
                if pa >= pa_end:
                    return m_ret
                m_order = pages.read_order(op, pa >> shift)
                if m_order != oind:
                    break
            while m_order < oind and pa + 2 * (page_size << m_order) > pa_end:
                pa += page_size << m_order
                if pa >= pa_end:
                    return m_ret
                m_order = pages.read_order(op, pa >> shift)
        return None

    def find_queues_contig(self, dom: int, flind: int, npages: int, low: int, high: int, alignment: int, boundary: int):
        """``vm_phys_find_queues_contig``: search one (domain, free list) table.

        First a single block big enough, orders ascending, pools from
        ``vm_default_freepool``, each queue in list order; for a run larger
        than the largest block, a sequence of maximal blocks.
        """
        op = "vm_phys_find_queues_contig"
        shift = self.arch.page_shift
        order = _fls(npages - 1)
        size = npages << shift
        for oind in range(order, self.nfreeorder):
            for pind in range(self.default_freepool, NFREEPOOL):
                for m in self.fq.blocks(dom, flind, pind, oind):
                    pa = self.pages.read_phys(op, m) << shift
                    if low <= pa and pa + size <= high and vm_addr_ok(pa, size, alignment, boundary):
                        return m
        if order < self.nfreeorder:
            return None
        for pind in range(self.default_freepool, NFREEPOOL):
            fl = (dom, flind, pind)
            if self.rev.contig_max_blocks_only:
                m = self.find_freelist_contig_max(fl, npages, low, high, alignment, boundary)
            else:
                m = self.find_freelist_contig(fl, self.max_order, npages, low, high, alignment, boundary)
            if m is not None:
                return m
        return None

    def alloc_contig(self, domain: int, npages: int, low: int, high: int, alignment: int, boundary: int) -> int | None:
        """``vm_phys_alloc_contig``: a physically contiguous run, byte bounds.

        Segments are searched from the highest down, each (domain, free list)
        table once.  Every block of the run found is taken off its queue and
        moved to DEFAULT (a lazy block is initialized by the move); the pages
        past the run in the last block go back to DEFAULT at the *head*.
        """
        op = "vm_phys_alloc_contig"
        self._check_domain(op, domain)
        if not (_is_int(npages) and npages > 0):
            raise InvalidInput(op, f"npages {show(npages)} must be positive")
        for name, value in (("alignment", alignment), ("boundary", boundary)):
            if not _is_int(value) or value < 0 or value & (value - 1):
                raise InvalidInput(op, f"{name} {show(value)} is not a power of two")
        if alignment == 0:
            raise InvalidInput(op, "alignment 0 is not a power of two")
        if low >= high:
            return None
        shift = self.arch.page_shift
        queues, m_run = None, None
        for seg in reversed(self.segs):
            start, end = seg.start << shift, seg.end << shift
            if start >= high or seg.domain != domain:
                continue
            if low >= end:
                break
            pa_start, pa_end = max(low, start), min(high, end)
            if pa_end - pa_start < npages << shift:
                continue
            if (seg.domain, seg.flind) == queues:
                continue
            queues = (seg.domain, seg.flind)
            m_run = self.find_queues_contig(seg.domain, seg.flind, npages, low, high, alignment, boundary)
            if m_run is not None:
                break
        if m_run is None:
            return None
        m = m_run
        while m < m_run + npages:
            pool = self.pages.read_pool(op, m)
            oind = self.pages.read_order(op, m)
            if oind >= self.nfreeorder:
                raise InvariantViolation(op, f"page at pa {self._pa(m):#x} in the run found is not a free head")
            self._rem((queues[0], queues[1], pool), m, oind)
            if pool != DEFAULT:
                self.set_pool(DEFAULT, m, oind)
            m += 1 << oind
        if m_run + npages < m:
            self.enq_range((queues[0], queues[1], DEFAULT), m_run + npages, m - (m_run + npages), False)
        return m_run

    # -- lazy initialization ---------------------------------------------------------------
    def vm_domain_allocate(self, domain: int, npages: int) -> bool:
        """``vm_domain_allocate(vmd, VM_ALLOC_NORMAL, npages)``: can *npages* be reserved?

        Succeeds when the domain's free count stays at or above
        ``vmd_free_reserved`` after taking them.  The block being initialized
        is already off its queue, so it is added back to the count here.
        """
        return self.fq.free_count[domain] + npages >= self.free_reserved[domain] + npages

    def lazy_init_block(self, domain: int, flind: int, oind: int) -> tuple[int, int, bool] | None:
        """One iteration of ``vm_phys_lazy_init_domain``'s inner loop.

        Takes the first block of the domain's lazy queue of order *oind*,
        initializes it into DEFAULT (with the lock dropped unless the
        reservation fails, i.e. under a free-page shortage) and frees it with
        normal coalescing.  Returns ``(pfn, order, lock_dropped)`` or ``None``
        when that queue is empty.
        """
        taken = self.lazy_take_block(domain, flind, oind)
        if taken is not None:
            self.lazy_finish_block(domain, *taken)
        return taken

    def lazy_take_block(self, domain: int, flind: int, oind: int) -> tuple[int, int, bool] | None:
        """The first half of an iteration: unlink the block and reserve its pages.

        Returns ``(pfn, order, lock_dropped)``.  Between this and
        :meth:`lazy_finish_block` the block is on no queue and, when the lock
        was dropped, other CPUs run (the thread then records the block in
        :attr:`in_flight`).
        """
        m = self.fq.first(domain, flind, LAZYINIT, oind)
        if m is None:
            return None
        self._rem((domain, flind, LAZYINIT), m, oind)
        unlocked = self.vm_domain_allocate(domain, 1 << oind)
        return m, oind, unlocked

    def lazy_finish_block(self, domain: int, m: int, oind: int, unlocked: bool) -> None:
        """The second half: ``vm_phys_set_pool`` to DEFAULT, then ``vm_phys_free_pages``."""
        self.set_pool(DEFAULT, m, oind)
        self.free_pages(m, oind)
        if self.trace is not None:
            self.trace.append(("lazy_block", m, oind, unlocked))

    def lazy_init_domain(self, domain: int, locked: bool) -> None:
        """``vm_phys_lazy_init_domain``: drain a domain's lazy pool into DEFAULT.

        Free lists in order, orders ascending, each queue until empty; a
        per-domain flag makes later calls return at once.  *locked* only
        records whether the caller held the domain's free lock (unfree does).

        With this book's ``drain_waits_for_thread`` proposal, a drain that
        finds the ``vmlazyinit`` thread holding a block of this domain off the
        queues (:attr:`in_flight`) sleeps until the thread has initialized
        and freed it, and only then marks the domain done.
        """
        if self.initdone[domain]:
            return
        for _, flind in self.freelists():
            for oind in range(self.nfreeorder):
                while self.lazy_init_block(domain, flind, oind) is not None:
                    pass
        if self.rev.drain_waits_for_thread and self.in_flight is not None and self.in_flight[0] == domain:
            _, pfn, order = self.in_flight
            if self.trace is not None:
                self.trace.append(("lazy_wait", domain, pfn, order))
            # While the drain sleeps, the thread takes the lock again and frees its block.
            self.in_flight = None
            self.lazy_finish_block(domain, pfn, order, True)
        self.initdone[domain] = True
        if self.trace is not None:
            self.trace.append(("initdone", domain, locked))
