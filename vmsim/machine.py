"""A simulated machine: layout, boot, and the allocator's public operations.

:class:`Machine` is the front end a reader uses.  It takes byte addresses and
pool or free-list names, validates every request completely *before* handing
it to :class:`vmsim.phys.VmPhys` (so bad input leaves the machine exactly as it
was), keeps the bookkeeping the kernel leaves to its callers (which pages are
allocated, which were blacklisted) and, in debug mode, runs
:func:`vmsim.invariants.check` after every operation.

All state lives in the instance: an eager and a lazy machine can sit side by
side, and importing vmsim changes nothing global.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from .arch import FREELIST_NAMES, LAZYINIT, POOL_NAMES, Arch, get_arch
from .errors import InvalidInput, InvariantViolation
from .lazyinit import LazyInitThread
from .page import UNINIT, PageArray, StrayInit
from .phys import VmPhys, pool_valid
from .revisions import Revision, get_revision
from .seg import build_segments
from .startup import blacklist_add, vm_page_startup
from .validate import PADDR_LIMIT, byte_range, flag, integer, items, paddr, show

__all__ = ["Machine", "FoundRange", "PageView", "kernel_free_reserved"]


def kernel_free_reserved(vmd_page_count: int, v_page_count: int, page_size: int = 4096) -> int:
    """``vmd_free_reserved`` as ``vm_pageout_init_domain()`` sets it (``sys/vm/vm_pageout.c``).

    ``vm_pageout_page_count`` (32, or 8 on machines with fewer than 2000
    pages) plus ``vmd_pageout_free_min`` (two ``MAXBSIZE`` buffers in pages,
    plus ``vmd_interrupt_free_min`` = 2) plus one page per 768 of the domain.
    """
    page_count_pp = 8 if v_page_count < 2000 else 32
    pageout_free_min = 2 * 65536 // page_size + 2
    return page_count_pp + pageout_free_min + vmd_page_count // 768


class Machine:
    """One machine booted with FreeBSD's physical page allocator.

    Parameters mirror what ``vm_page_startup()`` sees: *seg_ranges* are byte
    ``[start, end)`` ranges registered with ``vm_phys_add_seg``; *phys_avail*
    the free ranges handed over at boot; *domains* the NUMA affinity table
    (``[start, end, domain]``, or ``None`` for one domain); *lazy* the
    ``debug.vm.lazy_page_init`` tunable; *blacklist* the addresses of
    ``vm.blacklist``; *free_reserved* each domain's ``vmd_free_reserved``
    (pages) once the page daemon has set it (``None``: the kernel's formula,
    see :func:`kernel_free_reserved`), which decides whether the lazy thread
    drops the lock;
    *phys_class* the allocator implementation (a subclass of
    :class:`~vmsim.phys.VmPhys`, such as the deliberately broken ones of
    :mod:`vmsim.bugs`).
    """

    def __init__(
        self,
        seg_ranges: Iterable,
        phys_avail: Iterable,
        *,
        arch: str | Arch = "amd64",
        domains: Iterable | None = None,
        lazy: bool = True,
        revision: str | Revision = "seed",
        blacklist: Iterable[int] = (),
        free_reserved: int | None = None,
        debug: bool = False,
        phys_class: type[VmPhys] = VmPhys,
    ):
        op = "vm_page_startup"
        self.arch = get_arch(arch)
        self.revision = get_revision(revision)
        self.lazy = flag(op, "lazy", lazy)
        self.debug = flag("Machine", "debug", debug)
        if free_reserved is not None:
            integer(op, "free_reserved", free_reserved)
        if not (isinstance(phys_class, type) and issubclass(phys_class, VmPhys)):
            raise InvalidInput("Machine", f"phys_class {show(phys_class)} is not a VmPhys subclass")
        blacklist = [paddr("vm_page_blacklist_add", "blacklist address", pa)
                     for pa in items("vm_page_blacklist_add", "blacklist", blacklist)]
        #: ``vm_phys_segs[]`` and ``vm_freelist_to_flind[]`` after ``vm_phys_init()``
        #: (:class:`vmsim.seg.SegmentTable`, page frame numbers); read it, never change it.
        self.segtab = build_segments(self.arch, seg_ranges, domains)
        #: The ``phys_avail[]`` pairs as page frame numbers, split at domain boundaries.
        self.phys_avail = self._phys_avail(phys_avail)
        self.vm = phys_class(self.arch, self.segtab, self.revision)
        self.allocated = PageArray(0)
        self.nallocated = 0
        #: ``vm.page_blacklist``: pages taken off the free lists as bad.
        self.blacklisted: list[int] = []
        #: Page ranges outside ``phys_avail`` given to the allocator by :meth:`bootstrap_free` (pfns).
        self.released: list[tuple[int, int]] = []
        #: The ``vmlazyinit`` thread (:class:`vmsim.lazyinit.LazyInitThread`):
        #: ``done``, and ``history``, one :class:`~vmsim.lazyinit.LazyStep` per block.
        self.thread = LazyInitThread(self.vm)
        vm_page_startup(self.vm, self.phys_avail, self.lazy)
        page_counts = list(self.vm.fq.free_count)  # vmd_page_count of each domain
        # vm_page_startup() ends with vm_page_blacklist_check(), before any
        # allocation: its drains belong to the boot's work.
        for pa in blacklist:
            self._blacklist(pa >> self.arch.page_shift)
        self._startup_page_inits = self.vm.pages.page_inits
        # SI_SUB_KTHREAD_PAGE sets the thresholds before SI_SUB_SMP starts the
        # lazy-init thread; the boot-time blacklist ran with them at zero.
        for dom in range(self.vm.ndomains):
            self.vm.free_reserved[dom] = (kernel_free_reserved(page_counts[dom], sum(page_counts))
                                          if free_reserved is None else free_reserved)
        self._checkpoint()

    # -- construction helpers -----------------------------------------------------
    def _phys_avail(self, ranges: Iterable) -> list[tuple[int, int]]:
        """Validate ``phys_avail`` and split it at domain boundaries (``vm_phys_early_startup``)."""
        op, shift = "phys_avail", self.arch.page_shift
        out = []
        for r in items(op, "phys_avail", ranges):
            start, end = byte_range(op, "phys_avail", r, self.arch.page_size)
            if out and start < out[-1][1] << shift:
                raise InvalidInput(op, f"entries must ascend without overlap; [{start:#x}, {end:#x}) does not")
            out.append((start >> shift, end >> shift))
        for start, end in out:
            covered = sum(max(0, min(end, s.end) - max(start, s.start)) for s in self.segtab.segs)
            if covered != end - start:
                raise InvalidInput(op, f"[{start << shift:#x}, {end << shift:#x}) is not inside the segments")
        if self.segtab.affinity is not None:
            cuts = sorted({x for d in self.segtab.affinity for x in d[:2]})
            split = []
            for start, end in out:
                inner = [c for c in cuts if start < c < end]
                for a, b in zip([start, *inner], [*inner, end]):
                    split.append((a, b))
            out = split
        return out

    def _checkpoint(self) -> None:
        if self.debug:
            self.check()

    # -- argument parsing ----------------------------------------------------------
    def _pool(self, op: str, pool) -> int:
        if isinstance(pool, str):
            if pool not in POOL_NAMES:
                raise InvalidInput(op, f"unknown pool {show(pool)}; pools are {list(POOL_NAMES)}")
            return POOL_NAMES.index(pool)
        if isinstance(pool, int) and not isinstance(pool, bool):
            return pool
        raise InvalidInput(op, f"unknown pool {show(pool)}; pools are {list(POOL_NAMES)}")

    def _freelist(self, op: str, freelist) -> int:
        if isinstance(freelist, str):
            if freelist not in self.arch.freelists:
                known = list(self.arch.freelists)
                if freelist in FREELIST_NAMES:
                    raise InvalidInput(op, f"{self.arch.name} has no {freelist} free list; it has {known}")
                raise InvalidInput(op, f"unknown free list {show(freelist)}; {self.arch.name} has {known}")
            return self.arch.freelist_index(freelist)
        if isinstance(freelist, int) and not isinstance(freelist, bool):
            return freelist
        raise InvalidInput(op, f"unknown free list {show(freelist)}; {self.arch.name} has {list(self.arch.freelists)}")

    def _page(self, op: str, pa) -> int:
        """Validate a page address; return its pfn."""
        pa = paddr(op, "address", pa)
        if pa & (self.arch.page_size - 1):
            raise InvalidInput(op, f"pa {pa:#x} is not page aligned (PAGE_SIZE is {self.arch.page_size:#x})")
        pfn = pa >> self.arch.page_shift
        if self.segtab.find(pfn) < 0:
            raise InvalidInput(op, f"pa {pa:#x} is in no segment")
        return pfn

    def _pa(self, pfn: int) -> int:
        return pfn << self.arch.page_shift

    # -- allocation ------------------------------------------------------------------
    def _mark(self, pfn: int, n: int, value: int) -> None:
        self.allocated.fill(pfn, pfn + n, value)
        self.nallocated += n if value else -n

    def alloc_pages(self, domain: int, pool, order: int) -> int | None:
        """``vm_phys_alloc_pages``: the pa of a ``2**order`` block, or ``None``."""
        m = self.vm.alloc_pages(domain, self._pool("vm_phys_alloc_pages", pool), order)
        return self._allocated_block(m, order)

    def alloc_freelist_pages(self, domain: int, freelist, pool, order: int) -> int | None:
        """``vm_phys_alloc_freelist_pages``: like :meth:`alloc_pages`, from one free list."""
        op = "vm_phys_alloc_freelist_pages"
        m = self.vm.alloc_freelist_pages(domain, self._freelist(op, freelist), self._pool(op, pool), order)
        return self._allocated_block(m, order)

    def _allocated_block(self, m: int | None, order: int) -> int | None:
        if m is not None:
            self._mark(m, 1 << order, 1)
        self._checkpoint()
        return None if m is None else self._pa(m)

    def alloc_npages(self, domain: int, pool, npages: int) -> list[int]:
        """``vm_phys_alloc_npages``: up to *npages* page addresses, in the order taken."""
        op = "vm_phys_alloc_npages"
        ma = self.vm.alloc_npages(domain, self._pool(op, pool), npages)
        for m in ma:
            self._mark(m, 1, 1)
        self._checkpoint()
        return [self._pa(m) for m in ma]

    def alloc_contig(self, domain: int, npages: int, low: int = 0, high: int | None = None,
                     alignment: int | None = None, boundary: int = 0) -> int | None:
        """``vm_phys_alloc_contig``: pa of a run of *npages* pages in ``[low, high)``, or ``None``.

        *alignment* (bytes, a power of two; default ``PAGE_SIZE``) aligns the
        first page; a non-zero *boundary* (a power of two) is a multiple of
        bytes the run may not cross.  *high* defaults to the largest
        ``vm_paddr_t``.  As in the kernel, a request that no run can satisfy
        (a boundary smaller than the run, ``low >= high``) finds nothing and
        returns ``None``.

        The seed's 2023 ``vm_phys_find_freelist_contig`` never compares the
        end of a run longer than the largest block with *high* (kernel notes
        section 7.4), so with ``revision="seed"`` such a run can end above
        *high*; the committed revision keeps it below.
        """
        op = "vm_phys_alloc_contig"
        npages = integer(op, "npages", npages, 1)
        low, high = self._bounds(op, low, high)
        alignment = self.arch.page_size if alignment is None else integer(op, "alignment", alignment, 1)
        boundary = integer(op, "boundary", boundary)
        m = self.vm.alloc_contig(domain, npages, low, high, alignment, boundary)
        if m is not None:
            self._mark(m, npages, 1)
        self._checkpoint()
        return None if m is None else self._pa(m)

    def _bounds(self, op: str, low, high) -> tuple[int, int]:
        """``low`` and ``high`` as ``vm_paddr_t`` values; ``high=None`` is the largest one."""
        low = paddr(op, "low", low)
        high = PADDR_LIMIT - 1 if high is None else paddr(op, "high", high)
        return low, high

    # -- freeing ---------------------------------------------------------------------
    def _require_allocated(self, op: str, pfn: int, n: int) -> None:
        seg = self.segtab.segs[self.segtab.find(pfn)]  # _page() found it: a cached hit
        if pfn + n > seg.end:
            raise InvalidInput(op, f"[{self._pa(pfn):#x}, {self._pa(pfn + n):#x}) runs past the end of its segment")
        if self.allocated.count(pfn, pfn + n, 1) == n:
            return
        bad = next(p for p in range(pfn, pfn + n) if not self.allocated.get(p))
        if self.vm.free_block_containing(bad) is not None:
            why = "it is free (double free)"
        elif self._pa(bad) in self.blacklisted:
            why = "it is blacklisted"
        elif any(a <= bad < b for a, b in self.managed):
            why = "it was never allocated"
        else:
            why = "it is not in phys_avail, so it was never given to the allocator"
        raise InvalidInput(op, f"page at pa {self._pa(bad):#x} is not allocated: {why}")

    def free_pages(self, pa: int, order: int) -> None:
        """``vm_phys_free_pages``: free the allocated ``2**order`` block at *pa*."""
        op = "vm_phys_free_pages"
        pfn = self._page(op, pa)
        self.vm._check_order(op, order)
        if pfn & ((1 << order) - 1):
            raise InvalidInput(op, f"pa {pa:#x} is not aligned to a block of order {order}")
        self._require_allocated(op, pfn, 1 << order)
        self.vm.free_pages(pfn, order)
        self._mark(pfn, 1 << order, 0)
        self._checkpoint()

    def free_contig(self, pa: int, npages: int) -> None:
        """``vm_phys_free_contig``: free the allocated run of *npages* pages at *pa*."""
        op = "vm_phys_free_contig"
        pfn = self._page(op, pa)
        npages = integer(op, "npages", npages, 1)
        self._require_allocated(op, pfn, npages)
        self.vm.free_contig(pfn, npages)
        self._mark(pfn, npages, 0)
        self._checkpoint()

    # -- unfree, scans, lazy init -------------------------------------------------
    def _blacklist(self, pfn: int) -> bool:
        found = blacklist_add(self.vm, pfn)
        if found and self.segtab.find(pfn) >= 0:
            self.blacklisted.append(self._pa(pfn))
        return found

    @property
    def managed(self) -> list[tuple[int, int]]:
        """Page ranges (pfns) ever given to the allocator: ``phys_avail`` and what :meth:`bootstrap_free` released."""
        return sorted(self.phys_avail + self.released)

    def bootstrap_free(self, pa: int, npages: int = 1) -> None:
        """``kmem_bootstrap_free()`` (``sys/vm/vm_kern.c``): give boot memory outside ``phys_avail`` to the allocator.

        Frees each of the *npages* pages at *pa* with ``vm_phys_free_pages(m,
        0)``, as the kernel does with the preloaded data it no longer needs.
        The pages must be in one segment, outside ``phys_avail`` and not freed
        before.  This is why a lazy boot initializes the gap pages: the free
        reads each page's ``pool``, ``phys_addr`` and ``segind`` and its
        buddies' ``order``.  vmsim checks every page first and changes
        nothing when one would trip the kernel: a structure never
        initialized (:class:`~vmsim.errors.UninitializedPageRead`) or a pool
        ``vm_phys_free_pages`` refuses (:class:`~vmsim.errors.InvariantViolation`).
        """
        op = "kmem_bootstrap_free"
        pfn = self._page(op, pa)
        npages = integer(op, "npages", npages, 1)
        seg = self.segtab.segs[self.segtab.find(pfn)]
        if pfn + npages > seg.end:
            raise InvalidInput(op, f"[{pa:#x}, {self._pa(pfn + npages):#x}) runs past the end of its segment")
        for a, b in self.managed:
            if a < pfn + npages and pfn < b:
                raise InvalidInput(op, f"[{pa:#x}, {self._pa(pfn + npages):#x}) overlaps pages the allocator "
                                       f"already manages, [{self._pa(a):#x}, {self._pa(b):#x})")
        pages = self.vm.pages
        for p in range(pfn, pfn + npages):
            pool = pages.read_pool("vm_phys_free_pages", p)
            if not pool_valid(pool):
                raise InvariantViolation("vm_phys_free_pages", f"page at pa {self._pa(p):#x} has unexpected pool "
                                         f"{POOL_NAMES[pool]}: the assertion on the freed page's pool fires")
        for p in range(pfn, pfn + npages):
            self.vm.free_pages(p, 0)
        self.released.append((pfn, pfn + npages))
        self._checkpoint()

    def unfree_page(self, pa: int) -> bool:
        """``vm_phys_unfree_page(pa)``: take a free page off the lists; was it free?"""
        op = "vm_phys_unfree_page"
        pfn = self._page(op, pa)
        found = self.vm.unfree_page(pfn)
        if found:
            self.blacklisted.append(pa)
        self._checkpoint()
        return found

    def blacklist_add(self, pa: int) -> bool:
        """``vm_page_blacklist_add``: blacklist the page at *pa* (truncated to its page)."""
        pa = paddr("vm_page_blacklist_add", "address", pa)
        found = self._blacklist(pa >> self.arch.page_shift)
        self._checkpoint()
        return found

    def find_range(self, domain: int, npages: int, low: int = 0, high: int | None = None,
                   segind: int = 0) -> FoundRange | None:
        """``vm_phys_find_range``: the clipped range of the first segment that qualifies, or ``None``.

        Returns a :class:`FoundRange` ``(start, end)`` in bytes and drains the
        domain's lazy pool first.  The kernel tests the room in a segment with
        unsigned ``vm_paddr_t`` arithmetic: when *low* lies above a segment of
        the domain that the search passes, the difference wraps around, that
        segment qualifies with ``start > end`` (:attr:`FoundRange.inverted`)
        and the domain is drained all the same.  Kernel callers start the
        search at the segment holding *low*, where this cannot happen.
        """
        op = "vm_phys_find_range"
        low, high = self._bounds(op, low, high)
        segind = integer(op, "segind", segind)
        r = self.vm.find_range(domain, npages, low, high, segind)
        self._checkpoint()
        return None if r is None else FoundRange(r[1], r[2])

    def scan_range(self, domain: int, npages: int, low: int = 0, high: int | None = None,
                   segind: int = 0) -> FoundRange | None:
        """``vm_phys_find_range`` followed by the caller's scan of every page structure.

        Models what ``vm_page_scan_contig()`` needs: after ``find_range`` has
        drained the domain, it reads the fields of every page in the range,
        so every structure there must be initialized.  Raises
        :class:`~vmsim.errors.UninitializedPageRead` at the first one that is not.
        """
        r = self.find_range(domain, npages, low, high, segind)
        if r is not None:
            self.vm.scan_pages(r[0] >> self.arch.page_shift, r[1] >> self.arch.page_shift)
        return r

    def lazy_init(self) -> int:
        """Run the ``vmlazyinit`` thread to completion; return the blocks it initialized."""
        n = self.thread.run()
        self._checkpoint()
        return n

    def lazy_begin_block(self):
        """Let ``vmlazyinit`` take its next block and stop while the lock is dropped.

        See :meth:`vmsim.lazyinit.LazyInitThread.begin_block`; :meth:`lazy_step`
        finishes the block.  Returns the :class:`~vmsim.lazyinit.LazyStep` or ``None``.
        """
        step = self.thread.begin_block()
        self._checkpoint()
        return step

    def lazy_step(self, max_blocks: int = 1) -> int:
        """Let the ``vmlazyinit`` thread initialize up to *max_blocks* blocks."""
        n = self.thread.step(integer("vmlazyinit", "max_blocks", max_blocks, 1))
        self._checkpoint()
        return n

    # -- observation -----------------------------------------------------------------
    def record(self) -> Recording:
        """A context manager collecting the allocator's events while it is open.

        ``with m.record() as events: m.alloc_pages(0, "DEFAULT", 0)`` leaves
        in ``events`` one tuple per step, in order:

        * ``("rem", (domain, flind, pool), pfn, order)`` -- a block left a queue;
        * ``("add", (domain, flind, pool), pfn, order, tail)`` -- a block joined
          a queue, at the tail (``True``) or the head;
        * ``("init", lo, hi, pool)`` -- ``vm_page_init_page`` for pfns ``[lo, hi)``;
        * ``("successor", pfn, pa_pfn)`` -- the seed's chunk helper initialized the
          structure after a block outside its segment;
        * ``("set_pool", pfn, order, pool)`` -- a free block moved to *pool*;
        * ``("lazy_block", pfn, order, lock_dropped)`` -- the lazy-init code
          initialized a block;
        * ``("initdone", domain, caller_held_lock)`` -- a domain's lazy pool is drained.
        """
        return Recording(self.vm)

    def lazy_pages(self, domain: int | None = None) -> int:
        """Pages still in the lazy pool (of *domain*, or of all domains)."""
        return sum(len(queue) << order for dom, _, pool, order, queue in self.vm.fq.queues()
                   if pool == LAZYINIT and domain in (None, dom))

    def uninitialized_free(self) -> int:
        """Free pages whose structure is not initialized yet (the deferred work left)."""
        return sum(self.vm.pages.pool.count(a, b, UNINIT) for a, b in self.managed)

    @property
    def page_inits(self) -> int:
        """Calls of ``vm_page_init_page`` so far, boot included."""
        return self.vm.pages.page_inits

    @property
    def startup_page_inits(self) -> int:
        """Calls of ``vm_page_init_page`` made by ``vm_page_startup()``: the whole boot.

        The boot loop's initializations plus, when the machine was built with
        a *blacklist*, the drains of ``vm_page_blacklist_check()``, which runs
        at the end of ``vm_page_startup()`` before anything can allocate.
        Later operations do not change it (compare :attr:`page_inits`).
        """
        return self._startup_page_inits

    @property
    def initialized(self) -> int:
        """Distinct pages inside segments whose structure has been initialized."""
        return self.vm.pages.initialized

    @property
    def default_pool(self) -> str:
        """``vm_default_freepool`` by name."""
        return POOL_NAMES[self.vm.default_freepool]

    @property
    def ndomains(self) -> int:
        """``vm_ndomains``: the number of NUMA domains."""
        return self.vm.ndomains

    @property
    def initdone(self) -> tuple[bool, ...]:
        """``initdone[]`` of ``vm_phys_lazy_init_domain()``: which domains' lazy pools are drained."""
        return tuple(self.vm.initdone)

    @property
    def free_reserved(self) -> tuple[int, ...]:
        """``vmd_free_reserved`` of each domain, in pages (it decides whether the lazy thread drops the lock)."""
        return tuple(self.vm.free_reserved)

    @property
    def total_pages(self) -> int:
        """Pages inside segments (the page structures that matter)."""
        return sum(s.npages for s in self.segtab.segs)

    def free_pages_count(self, domain: int | None = None) -> int:
        """Pages on the free queues of *domain* (all domains when ``None``)."""
        counts = self.vm.fq.free_count
        return sum(counts) if domain is None else counts[integer("free_pages_count", "domain", domain, 0,
                                                                 self.vm.ndomains - 1)]

    # -- per-page views (model-side reads: they never count as the kernel reading) ------
    def _span(self, op: str, lo, hi) -> tuple[int, int]:
        """Byte bounds *lo*, *hi* (``None``: the first segment's start, the last one's end) as pfns."""
        shift = self.arch.page_shift
        lo = self.segtab.segs[0].start if lo is None else paddr(op, "lo", lo) >> shift
        hi = self.segtab.segs[-1].end if hi is None else -(-paddr(op, "hi", hi) >> shift)
        return lo, max(lo, hi)

    def is_initialized(self, pa: int) -> bool:
        """Whether ``vm_page_init_page()`` has ever run for the structure of the page at *pa*."""
        return self.vm.pages.is_init(self._page("is_initialized", pa))

    def initialized_runs(self, lo: int | None = None, hi: int | None = None) -> list[tuple[int, int, str]]:
        """Runs of initialized structures in ``[lo, hi)`` (bytes): ``(start, end, pool)``, in address order.

        *pool* is the ``pool`` field the structures hold (``"LAZYINIT"``,
        ``"DEFAULT"`` or ``"DIRECT"``); pages whose structure was never
        initialized are left out.
        """
        lo, hi = self._span("initialized_runs", lo, hi)
        shift = self.arch.page_shift
        return [(a << shift, b << shift, POOL_NAMES[v]) for a, b, v in self.vm.pages.pool.runs(lo, hi)
                if v != UNINIT]

    def count_uninitialized(self, lo: int | None = None, hi: int | None = None) -> int:
        """How many page structures in ``[lo, hi)`` (bytes) inside segments were never initialized."""
        lo, hi = self._span("count_uninitialized", lo, hi)
        return sum(self.vm.pages.pool.count(max(lo, s.start), min(hi, s.end), UNINIT)
                   for s in self.segtab.segs if s.start < hi and lo < s.end)

    @property
    def stray_inits(self) -> tuple[StrayInit, ...]:
        """``vm_page_init_page()`` calls on entries outside every segment, in order (see :class:`StrayInit`)."""
        return tuple(self.vm.pages.stray)

    def free_block(self, pa: int) -> tuple[int, int, str] | None:
        """The free block holding the page at *pa*: ``(head pa, order, pool)``, or ``None``."""
        pfn = self._page("free_block", pa)
        found = self.vm.free_block_containing(pfn)
        if found is None:
            return None
        head, order = found
        return self._pa(head), order, POOL_NAMES[self.vm.pages.pool.get(head)]

    def page(self, pa: int) -> PageView:
        """What the model knows of the page at *pa* (see :class:`PageView`)."""
        pfn = self._page("page", pa)
        pages = self.vm.pages
        segind = self.segtab.find(pfn)
        value = pages.pool.get(pfn)
        block = self.free_block(self._pa(pfn))
        return PageView(
            pa=self._pa(pfn), segind=segind, domain=self.segtab.segs[segind].domain,
            initialized=value != UNINIT, pool=None if value == UNINIT else POOL_NAMES[value],
            order=pages.order.get(pfn), free_block=block, allocated=bool(self.allocated.get(pfn)),
            blacklisted=self._pa(pfn) in self.blacklisted)

    def queue(self, domain: int, freelist, pool, order: int) -> list[int]:
        """Head addresses of one free queue, first in the list first (``TAILQ_FOREACH`` order).

        *freelist* is a ``VM_FREELIST_*`` name (an absent list shows the
        queue of the index it aliases), *pool* a pool name.
        """
        op = "queue"
        self.vm._check_domain(op, domain)
        freelist = self._freelist(op, freelist)
        if not 0 <= freelist < self.arch.nfreelist or self.segtab.freelist_to_flind[freelist] < 0:
            raise InvalidInput(op, f"free list {show(freelist)} has no queues on this machine")
        flind = self.segtab.freelist_to_flind[freelist]
        pool = self._pool(op, pool)
        if not 0 <= pool < len(POOL_NAMES):
            raise InvalidInput(op, f"pool {show(pool)} is out of range")
        self.vm._check_order(op, order)
        return [self._pa(pfn) for pfn in self.vm.fq.blocks(domain, flind, pool, order)]

    def free_contig_plan(self, pa: int, npages: int) -> list[tuple[str, int, int]]:
        """What ``vm_phys_free_contig(pa, npages)`` would call, without calling it.

        One ``(kind, pa, size)`` per call: ``("enqueue", pa, npages)`` for the
        middle (``vm_phys_enqueue_contig``), ``("free", pa, order)`` for an end
        held back and freed last (``vm_phys_free_pages``).  Shows the 2023
        variant's arithmetic on runs it mishandles, which :meth:`free_contig`
        refuses.
        """
        op = "vm_phys_free_contig"
        pfn = self._page(op, pa)
        npages = integer(op, "npages", npages, 1)
        return [(kind, self._pa(p), size) for kind, p, size in self.vm.free_contig_plan(pfn, npages)]

    def dump(self) -> dict:
        """The replay format's STATE object for this moment."""
        from .dump import state

        return state(self)

    def check(self) -> None:
        """Verify every invariant; raise :class:`~vmsim.errors.InvariantViolation` if one breaks."""
        from .invariants import check

        check(self)


class FoundRange(NamedTuple):
    """What :meth:`Machine.find_range` returns: the clipped segment's byte bounds ``(start, end)``."""

    start: int
    end: int

    @property
    def inverted(self) -> bool:
        """The kernel's unsigned arithmetic let a segment below ``low`` qualify: ``start > end``."""
        return self.start > self.end


class PageView(NamedTuple):
    """One page as :meth:`Machine.page` sees it, from the model's side (no field read is checked).

    ``order`` is the ``order`` field of a free block head (``None`` when the
    page is not one, i.e. ``VM_NFREEORDER``); ``pool`` the ``pool`` field, or
    ``None`` when the structure was never initialized; ``free_block`` the
    free block holding the page, as :meth:`Machine.free_block` gives it.
    """

    pa: int
    segind: int
    domain: int
    initialized: bool
    pool: str | None
    order: int | None
    free_block: tuple[int, int, str] | None
    allocated: bool
    blacklisted: bool


class Recording:
    """Context manager behind :meth:`Machine.record`; the events list is its value."""

    def __init__(self, vm: VmPhys):
        self.vm = vm
        self.events: list[tuple] = []

    def __enter__(self) -> list[tuple]:
        if self.vm.trace is not None:
            raise InvalidInput("record", "a recording is already open on this machine")
        self.vm.trace = self.events
        return self.events

    def __exit__(self, *exc) -> None:
        self.vm.trace = None
