"""Exact-state tests of the vm_phys paths (vmsim.phys).

Each expected value is worked out by hand from the kernel's code; the
comment above it says how.  ``queues()`` gives ``{(freelist, pool, order):
[head pfns in list order]}``.
"""

import pytest
from layouts import ARM64_13, PAGE, GiB, MiB, pfn_range, queues

from vmsim.machine import Machine
from vmsim.page import UNINIT
from vmsim.phys import VmPhys


def issue_machine(**kw):
    """amd64, [0, 1 GiB), phys_avail [64 KiB, 992 MiB): lazy blocks of 16 MiB from pfn 4096."""
    return Machine([[0, GiB]], [[64 * 1024, 992 * MiB]], debug=True, **kw)


def test_first_allocation_takes_a_whole_lazy_block_and_initializes_its_tail():
    # DEFAULT is empty, so vm_phys_alloc_freelist_pages steals the largest
    # block of any pool, lazy pool first: the head of the LAZYINIT order-12
    # queue, pfn 4096.  set_pool initializes its other 4095 pages (with the
    # new pool), and the split files the upper halves 4096+2^k, k=11..0, into
    # DEFAULT at the tail.  87 boot inits + 4095 = 4182.
    m = issue_machine()
    assert m.alloc_pages(0, "DEFAULT", 0) == 4096 * PAGE
    s = m.dump()
    assert s["page_inits"] == 87 + 4095
    q = queues(s, freelist="DEFAULT")
    for k in range(12):
        assert q[("DEFAULT", "DEFAULT", k)] == [4096 + (1 << k)]
    assert q[("DEFAULT", "LAZYINIT", 12)][0] == 8192
    assert m.vm.pages.pool.count(4096, 8192, 1) == 4096  # all DEFAULT now


def test_fallback_prefers_the_lazy_pool_over_smaller_blocks_of_default():
    # A DIRECT request with DIRECT empty steals the largest block: order 12
    # in the lazy pool beats DEFAULT's order-11 piece left by the first
    # allocation.
    m = issue_machine()
    m.alloc_pages(0, "DEFAULT", 0)
    assert m.alloc_pages(0, "DIRECT", 0) == 8192 * PAGE
    assert queues(m.dump())[("DEFAULT", "DIRECT", 11)] == [8192 + 2048]


def test_at_one_order_the_lazy_queue_is_searched_before_default():
    # One thread step moves the first lazy block (pfn 8192, order 12) to
    # DEFAULT.  A DIRECT request now finds order-12 blocks in both pools;
    # the pool loop starts at vm_default_freepool = LAZYINIT, so it takes
    # pfn 12288 from the lazy pool, not 8192 from DEFAULT.
    m = issue_machine()
    m.alloc_pages(0, "DEFAULT", 0)
    assert m.lazy_step(1) == 1
    assert queues(m.dump())[("DEFAULT", "DEFAULT", 12)] == [8192]
    assert m.alloc_pages(0, "DIRECT", 0) == 12288 * PAGE


def test_after_the_drain_the_fallback_starts_at_default():
    # The thread moves every lazy block to DEFAULT (free_pages: tail) and
    # flips vm_default_freepool.  DIRECT then steals DEFAULT's first order-12
    # block with no initialization (its pages are all valid already).
    m = issue_machine()
    m.alloc_pages(0, "DEFAULT", 0)
    m.lazy_init()
    s = m.dump()
    assert s["default_pool"] == "DEFAULT"
    assert not [k for k in queues(s) if k[1] == "LAZYINIT"]
    assert s["initialized"] == s["page_inits"] - 1  # only pfn 4096's re-init was repeated
    inits = m.page_inits
    assert m.alloc_pages(0, "DIRECT", 0) == 8192 * PAGE
    assert m.page_inits == inits


def buddy_machine(**kw):
    """arm64 [0, 64) pfn with two adjacent phys_avail runs [32, 48) and [48, 64).

    The gap walk initializes [0, 32) and -- the quirk -- [32, 48); the runs
    become lazy order-4 blocks 32 and 48, buddies of each other.
    """
    return Machine([pfn_range(0, 64)], [pfn_range(32, 48), pfn_range(48, 64)], arch="arm64", debug=True, **kw)


def test_freeing_next_to_a_lazy_buddy_initializes_it_and_merges_into_the_freed_pool():
    # Boot: 48 walk inits + head 32 + successor 48 + head 48 + successor 64
    # (past the page array: the seed has no segment-end test) = 52 calls.
    m = buddy_machine()
    assert (m.page_inits, m.initialized) == (52, 49)
    assert queues(m.dump()) == {("DEFAULT", "LAZYINIT", 4): [32, 48]}
    # Allocation steals lazy 32 (set_pool re-initializes 33..47: +15).
    assert m.alloc_pages(0, "DEFAULT", 4) == 32 * PAGE
    assert m.page_inits == 67
    # Freeing it: the buddy 48 is a free head of order 4 in LAZYINIT; it is
    # removed and moved to DEFAULT (initializing 49..63: +15), the pair
    # merges into 32:5, whose buddy (page 0) is not free.
    m.free_pages(32 * PAGE, 4)
    s = m.dump()
    assert queues(s) == {("DEFAULT", "DEFAULT", 5): [32]}
    assert (s["page_inits"], s["initialized"]) == (82, 64)


def test_committed_revision_does_not_write_past_the_segment():
    m = buddy_machine(revision="committed")
    assert m.page_inits == 51 and m.vm.pages.stray == []


def small_arm64(lazy=True, **kw):
    return Machine([pfn_range(0, 8192)], [pfn_range(16, 7936)], arch="arm64", lazy=lazy, debug=True, **kw)


def test_unfree_drains_the_domain_then_splits_with_head_insertion():
    # unfree_page first runs vm_phys_lazy_init_domain: each lazy block goes
    # to DEFAULT; no merges happen (every buddy is a gap page, the page past
    # the run, or a free head of another order).  Then pfn 5000 is found in
    # block 4096:11 and halved down to one page; each other half goes to
    # the *head* of its DEFAULT queue.
    m = small_arm64()
    assert m.unfree_page(5000 * PAGE) is True
    s = m.dump()
    assert m.vm.initdone == [True] and s["default_pool"] == "LAZYINIT"
    assert s["page_inits"] == 29 + (7920 - 12)
    q = queues(s)
    assert q[("DEFAULT", "DEFAULT", 11)] == [2048]
    assert q[("DEFAULT", "DEFAULT", 10)] == [5120, 1024, 6144]
    assert q[("DEFAULT", "DEFAULT", 9)] == [4096, 512, 7168]
    assert q[("DEFAULT", "DEFAULT", 8)] == [4608, 256, 7680]
    assert q[("DEFAULT", "DEFAULT", 7)] == [4864, 128]
    assert q[("DEFAULT", "DEFAULT", 6)] == [5056, 64]
    assert q[("DEFAULT", "DEFAULT", 5)] == [5024, 32]
    assert q[("DEFAULT", "DEFAULT", 4)] == [5008, 16]
    assert q[("DEFAULT", "DEFAULT", 3)] == [4992]
    assert q[("DEFAULT", "DEFAULT", 2)] == [5004]
    assert q[("DEFAULT", "DEFAULT", 1)] == [5002]
    assert q[("DEFAULT", "DEFAULT", 0)] == [5001]
    assert s["free_pages"] == {"0": 7919}


def test_unfree_after_lazy_init_needs_no_more_initialization():
    m = small_arm64()
    m.lazy_init()
    inits = m.page_inits
    assert m.unfree_page(5000 * PAGE) is True
    assert m.page_inits == inits
    assert queues(m.dump())[("DEFAULT", "DEFAULT", 10)] == [5120, 1024, 6144]


def test_unfree_of_a_page_that_is_not_free_returns_false_and_still_drains():
    m = small_arm64()
    assert m.unfree_page(8 * PAGE) is False  # a gap page below the run
    assert m.unfree_page(7936 * PAGE) is False  # the page past the run
    assert m.vm.initdone == [True]
    assert m.free_pages_count() == 7920


def test_unfree_without_the_drain_would_read_uninitialized_structures():
    # The bug class the change must avoid: skip the drain and the search
    # reads the order field of a lazy block's interior.
    from vmsim.errors import UninitializedPageRead

    m = small_arm64()
    m.vm.initdone[0] = True  # pretend the domain was drained
    with pytest.raises(UninitializedPageRead, match="order field"):
        m.unfree_page(5000 * PAGE)


def contig_machine(lazy=False):
    """arm64-like, 13 orders, [0, 16384) pfn, phys_avail [16, 16128): order-12 blocks 4096, 8192."""
    return Machine([pfn_range(0, 16384)], [pfn_range(16, 16128)], arch=ARM64_13, lazy=lazy, debug=True)


def test_alloc_contig_single_block_returns_the_excess_to_default_at_the_head():
    # 3 pages: best-fit order 2.  Orders 2 and 3 are empty; order 4 holds
    # pfn 16, which is 64 KiB aligned.  Pages 19..31 go back to DEFAULT at
    # the head as 19:0, 20:2, 24:3.
    m = contig_machine()
    assert m.alloc_contig(0, 3, 0, 1 << 40, alignment=16 * PAGE) == 16 * PAGE
    q = queues(m.dump())
    assert q[("DEFAULT", "DEFAULT", 0)] == [19]
    assert q[("DEFAULT", "DEFAULT", 2)] == [20]
    assert q[("DEFAULT", "DEFAULT", 3)] == [24]


def test_alloc_contig_multi_block_backs_down_over_smaller_blocks():
    # 5000 pages > one 4096-page block: vm_phys_find_freelist_contig walks
    # the order-12 queue.  At 4096 the fragment (5000 mod 4096 = 904 pages)
    # is covered by backing down over the free blocks 2048:11 ... 16:4, so
    # the run starts at 16.  The blocks 16:4 .. 4096:12 are taken and pages
    # [5016, 8192) return to DEFAULT at the head: 5016:3 5024:5 5056:6
    # 5120:10 6144:11.
    m = contig_machine()
    assert m.alloc_contig(0, 5000, 0, 1 << 40) == 16 * PAGE
    q = queues(m.dump())
    assert q[("DEFAULT", "DEFAULT", 3)] == [5016]
    assert q[("DEFAULT", "DEFAULT", 5)] == [5024]
    assert q[("DEFAULT", "DEFAULT", 6)] == [5056]
    assert q[("DEFAULT", "DEFAULT", 10)][0] == 5120
    assert q[("DEFAULT", "DEFAULT", 11)][0] == 6144
    assert q[("DEFAULT", "DEFAULT", 12)] == [8192]


def test_alloc_contig_alignment_stops_the_back_down():
    # With 16 MiB alignment the back-down stops at once (2048's address is
    # not aligned): the run is 4096..9095, over blocks 4096:12 and 8192:12;
    # [9096, 12288) returns to DEFAULT.
    m = contig_machine()
    assert m.alloc_contig(0, 5000, 0, 1 << 40, alignment=16 * MiB) == 4096 * PAGE
    q = queues(m.dump())
    assert q[("DEFAULT", "DEFAULT", 3)] == [9096]
    assert q[("DEFAULT", "DEFAULT", 4)] == [9104, 16]
    assert q[("DEFAULT", "DEFAULT", 10)][0] == 9216
    assert q[("DEFAULT", "DEFAULT", 11)][0] == 10240
    assert ("DEFAULT", "DEFAULT", 12) not in q


def test_alloc_contig_boundary_and_limits_are_respected():
    m = contig_machine()
    # 2 pages that may not cross an 8 KiB boundary: must start on an even pfn.
    pa = m.alloc_contig(0, 2, 0, 1 << 40, boundary=2 * PAGE)
    assert pa is not None and (pa // PAGE) % 2 == 0
    # Nothing fits below 64 KiB (pages 0-15 are not free).
    assert m.alloc_contig(0, 1, 0, 16 * PAGE) is None
    # high is exclusive: the run must end at or below it.
    pa = m.alloc_contig(0, 8, 0, 40 * PAGE)
    assert pa is not None and pa + 8 * PAGE <= 40 * PAGE


def test_alloc_contig_on_a_lazy_machine_initializes_the_blocks_it_takes():
    # Same search as the eager case, found in the lazy pool (the loops start
    # at vm_default_freepool = LAZYINIT); each of the 9 blocks is moved to
    # DEFAULT, initializing 8176 - 9 structures.
    m = contig_machine(lazy=True)
    before = m.page_inits
    assert m.alloc_contig(0, 5000, 0, 1 << 40) == 16 * PAGE
    assert m.page_inits - before == 8176 - 9
    assert m.vm.initdone == [False]


def test_find_range_drains_the_domain_before_returning_a_segment():
    m = small_arm64()
    assert m.find_range(0, 10, 0, 1 << 40) == (0, 8192 * PAGE)
    assert m.vm.initdone == [True]
    assert m.vm.pages.pool.count(16, 7936, UNINIT) == 0
    # No segment fits: nothing is initialized.
    m2 = small_arm64()
    assert m2.find_range(0, 10000, 0, 1 << 40) is None
    assert m2.vm.initdone == [False]


def test_alloc_npages_takes_own_pool_smallest_first_then_steals_largest():
    m = small_arm64(lazy=False)
    # 8 DIRECT pages: DIRECT is empty, so steal the largest block (DEFAULT
    # order 11 head, pfn 2048; the lazy pool is empty in an eager boot) and
    # give the other 2040 pages back to DIRECT at the tail.
    assert m.alloc_npages(0, "DIRECT", 8) == [(2048 + i) * PAGE for i in range(8)]
    q = queues(m.dump(), pool="DIRECT")
    assert q == {("DEFAULT", "DIRECT", 3): [2056], ("DEFAULT", "DIRECT", 4): [2064],
                 **{("DEFAULT", "DIRECT", k): [2048 + (1 << k)] for k in range(5, 11)}}
    # Now DIRECT has blocks: whole blocks from the smallest order up.
    assert m.alloc_npages(0, "DIRECT", 10) == [p * PAGE for p in [*range(2056, 2064), 2064, 2065]]


def test_find_range_wraps_like_the_kernels_unsigned_subtraction():
    # Two segments; low lies above the first one.  (pa_end - pa_start) is
    # negative, which as an unsigned vm_paddr_t is huge, so segment 0 is
    # returned with an inverted range -- and the domain is drained.
    m = Machine([pfn_range(0, 64), pfn_range(128, 256)], [pfn_range(8, 64), pfn_range(128, 256)], arch="arm64")
    assert m.find_range(0, 4, low=200 * PAGE, high=1 << 40) == (200 * PAGE, 64 * PAGE)
    assert m.vm.initdone == [True]
    # Starting at the segment vm_phys_lookup_segind(low) would pick gives the real answer.
    assert m.find_range(0, 4, low=200 * PAGE, high=1 << 40, segind=1) == (200 * PAGE, 256 * PAGE)


# -- speed shortcuts against the slow paths they replace ---------------------------------------


class PlainLoops(VmPhys):
    """vm_phys without the shortcuts: every maximal block enqueued one at a time, every queue visited."""

    def _enq_max_blocks(self, op, fl, m, count, segind):
        return m

    def alloc_pages(self, domain, pool, order):
        self._check_request("vm_phys_alloc_pages", domain, pool, order)
        for flind in self.segtab.freelist_to_flind:
            if flind < 0:
                continue
            for oind in range(order, self.nfreeorder):  # own pool, smallest fit
                m = self.fq.first(domain, flind, pool, oind)
                if m is not None:
                    self._rem((domain, flind, pool), m, oind)
                    self.split_pages(m, oind, (domain, flind, pool), order, True)
                    return m
            for oind in range(self.max_order, order - 1, -1):  # steal, largest first
                for pind in range(self.default_freepool, 3):
                    m = self.fq.first(domain, flind, pind, oind)
                    if m is not None:
                        self._rem((domain, flind, pind), m, oind)
                        self.set_pool(pool, m, oind)
                        self.split_pages(m, oind, (domain, flind, pool), order, True)
                        return m
        return None

    def alloc_npages(self, domain, pool, npages):
        ma = []
        for _, flind in self.freelists():
            fl = (domain, flind, pool)
            for oind in range(self.nfreeorder):
                while (m := self.fq.first(domain, flind, pool, oind)) is not None:
                    self._rem(fl, m, oind)
                    if self._take(ma, m, oind, npages, fl):
                        return ma
            for oind in range(self.max_order, -1, -1):
                for pind in range(self.default_freepool, 3):
                    while (m := self.fq.first(domain, flind, pind, oind)) is not None:
                        self._rem((domain, flind, pind), m, oind)
                        self.set_pool(pool, m, oind)
                        if self._take(ma, m, oind, npages, fl):
                            return ma
        return ma


def full_state(m):
    return (m.dump(), m.initialized_runs(), m.page_inits, m.initialized, m.stray_inits)


@pytest.mark.parametrize("layout", ["pc", "arm64", "numa"])
@pytest.mark.parametrize("lazy", [True, False])
@pytest.mark.parametrize("revision", ["seed", "committed"])
def test_the_shortcuts_leave_the_same_state_as_the_plain_loops(layout, lazy, revision):
    import random

    from vmsim import arm64_vm, pc

    lay = {"pc": pc(8 * GiB, holes=3), "arm64": arm64_vm(2 * GiB), "numa": pc(6 * GiB, domains=2)}[layout]
    fast = lay.boot(lazy=lazy, revision=revision)
    slow = lay.boot(lazy=lazy, revision=revision, phys_class=PlainLoops)
    assert full_state(fast) == full_state(slow)
    rng = random.Random(7)
    live = []
    for step in range(600):
        if step == 300:
            fast.lazy_step(5), slow.lazy_step(5)
        if live and rng.random() < 0.3:
            pa, order = live.pop(rng.randrange(len(live)))
            fast.free_pages(pa, order), slow.free_pages(pa, order)
        else:
            dom, pool = rng.randrange(fast.ndomains), rng.choice(["DEFAULT", "DIRECT"])
            if rng.random() < 0.2:
                n = rng.randrange(1, 300)
                pages = fast.alloc_npages(dom, pool, n)
                assert slow.alloc_npages(dom, pool, n) == pages
                live.extend((pa, 0) for pa in pages)
                continue
            order = rng.randrange(fast.arch.nfreeorder)
            pa = fast.alloc_pages(dom, pool, order)
            assert slow.alloc_pages(dom, pool, order) == pa
            if pa is not None:
                live.append((pa, order))
    assert full_state(fast) == full_state(slow)
    fast.check()
