"""The vmlazyinit thread as a stepper (vmsim.lazyinit)."""

import pytest
from layouts import PAGE, GiB, pfn_range

from vmsim.machine import Machine


def two_domains(**kw):
    # amd64 [0, 4 GiB) in two domains split at 2 GiB; free from 1 MiB.
    return Machine([[0, 4 * GiB]], [[1 << 20, 4 * GiB]], domains=[[0, 2 * GiB, 0], [2 * GiB, 4 * GiB, 1]],
                   debug=True, **kw)


def test_thread_walks_domains_then_free_lists_then_orders_ascending():
    m = two_domains()
    m.lazy_step(3)
    h = m.thread.history
    # Domain 0's DEFAULT list (flind 0, [16 MiB, 2 GiB)) has only order-12
    # blocks; they come first, in queue order.
    assert [(s.domain, s.pfn, s.order) for s in h] == [(0, 4096, 12), (0, 8192, 12), (0, 12288, 12)]
    assert m.default_pool == "LAZYINIT" and m.vm.initdone == [False, False]


def test_vm_default_freepool_flips_only_after_every_domain():
    m = two_domains()
    # Drain domain 0 by hand: 508 max blocks in DEFAULT, then the LOWMEM
    # list's blocks (orders ascending: 8, 9, 10, 11 from the run [1M, 16M)).
    while not m.vm.initdone[0]:
        m.lazy_step(1)
    assert m.default_pool == "LAZYINIT"
    assert [s.order for s in m.thread.history if s.domain == 0][-4:] == [8, 9, 10, 11]
    m.lazy_init()
    assert m.default_pool == "DEFAULT" and m.vm.initdone == [True, True]
    assert m.lazy_pages() == 0 and m.uninitialized_free() == 0
    assert m.lazy_step(1) == 0  # the thread has exited


def test_a_domain_drained_by_find_range_is_skipped_by_the_thread():
    m = two_domains()
    m.find_range(1, 1, 2 * GiB, 4 * GiB)
    assert m.vm.initdone == [False, True]
    m.lazy_init()
    assert {s.domain for s in m.thread.history} == {0}
    assert m.default_pool == "DEFAULT"


def test_the_lock_is_held_across_initialization_only_under_a_shortage():
    # vm_domain_allocate(NORMAL) succeeds while free_count - 2^order stays at
    # or above vmd_free_reserved; the block is already off its queue, so the
    # test is "pages left on the queues >= free_reserved".
    small = [pfn_range(0, 8192)], [pfn_range(16, 7936)]
    relaxed = Machine(*small, arch="arm64")
    relaxed.lazy_init()
    assert all(s.lock_dropped for s in relaxed.thread.history)
    tight = Machine(*small, arch="arm64", free_reserved=7000)
    tight.lazy_init()
    dropped = [s.lock_dropped for s in tight.thread.history]
    # 7920 free pages: the first blocks (16 + 32 + 64 + 128 + 256 pages, and
    # so on) leave enough behind; once fewer than 7000 remain queued while a
    # block is out, the lock is held.
    left = 7920
    expect = []
    for s in tight.thread.history:
        expect.append(left - (1 << s.order) >= 7000)
    assert dropped == expect and not all(dropped) and any(dropped)


def test_allocations_interleave_with_the_thread():
    m = two_domains()
    m.lazy_step(1)  # moves pfn 4096 to DEFAULT
    # DEFAULT now owns a block: a DEFAULT request takes it from its own pool,
    # smallest fit first, without touching the lazy pool.
    inits = m.page_inits
    assert m.alloc_pages(0, "DEFAULT", 0) == 4096 * PAGE
    assert m.page_inits == inits
    # A DIRECT request steals the largest block, lazy pool first: pfn 8192,
    # which the thread has not reached; the thread then continues at 12288.
    assert m.alloc_pages(0, "DIRECT", 0) == 8192 * PAGE
    m.lazy_step(1)
    assert m.thread.history[-1].pfn == 12288


def test_kernel_free_reserved_follows_vm_pageout_init_domain():
    from vmsim.machine import kernel_free_reserved

    # 1 GiB domain: 32 + (2 * 65536 / 4096 + 2) + 262144 / 768 = 32 + 34 + 341.
    assert kernel_free_reserved(262144, 262144) == 407
    assert kernel_free_reserved(1000, 1000) == 8 + 34 + 1  # small machines use 8 pages per pageout
    m = Machine([pfn_range(0, 8192)], [pfn_range(16, 7936)], arch="arm64")
    assert m.vm.free_reserved == [kernel_free_reserved(7920, 7920)]


def test_blacklisting_the_first_page_of_a_domain_trips_unfree_pages_lock_assertion():
    # vm_phys_domain(pa) matches the affinity table with an inclusive end, so
    # pa 2 GiB (domain 1's first page) is looked up as domain 0, and
    # vm_phys_unfree_page asserts that domain 1's lock is held.
    from vmsim.errors import CorruptionRefused

    with pytest.raises(CorruptionRefused, match="free lock of domain 1 is not held"):
        two_domains(blacklist=[2 * GiB])
    m = two_domains()
    before = m.dump()
    with pytest.raises(CorruptionRefused, match="free lock of domain 1 is not held"):
        m.blacklist_add(2 * GiB)
    assert m.dump() == before and m.blacklisted == []
    m = two_domains(blacklist=[2 * GiB + PAGE])
    assert m.blacklisted == [2 * GiB + PAGE] and m.vm.initdone == [False, True]


def test_while_the_thread_has_dropped_the_lock_a_synchronous_drain_misses_its_block():
    # vm_phys_lazy_init_domain drops the domain lock around vm_phys_set_pool.
    # The block is then on no queue.  A find_range (or unfree) on another CPU
    # drains what is on the queues, marks the domain done and goes on -- and
    # its caller's scan reads the held block's structures, not yet initialized.
    from vmsim.errors import UninitializedPageRead

    m = two_domains()
    held = m.lazy_begin_block()
    assert (held.domain, held.pfn, held.order, held.lock_dropped) == (0, 4096, 12, True)
    assert m.vm.in_flight == (0, 4096, 12)
    message = "vm_page_scan_contig read the pool field of the vm_page for pa 0x1001000"
    with pytest.raises(UninitializedPageRead, match=message):
        m.scan_range(0, 1, 16 << 20, 32 << 20)
    assert m.vm.initdone == [True, False]  # the drain ran and left the held block alone
    # unfree_page of the held block's head finds it "not free": a blacklist would fail.
    assert m.unfree_page(4096 * PAGE) is False
    # The thread re-takes the lock and frees the block into DEFAULT; all is consistent again.
    assert m.lazy_step(1) == 1 and m.vm.in_flight is None
    m.check()
    assert m.vm.fq.blocks(0, 0, 1, 12)[-1] == 4096


def test_under_a_shortage_the_lock_is_never_dropped_so_there_is_no_window():
    m = Machine([pfn_range(0, 8192)], [pfn_range(16, 7936)], arch="arm64", free_reserved=1 << 20, debug=True)
    step = m.lazy_begin_block()
    assert step.lock_dropped is False and m.vm.in_flight is None and m.thread.paused is None
