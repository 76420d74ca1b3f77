"""Boot: vm_page_startup in both modes, per revision (vmsim.startup)."""

from layouts import PAGE, GiB, MiB, pfn_range, queues

from vmsim.machine import Machine
from vmsim.page import UNINIT
from vmsim.startup import lazy_gap_walk, parse_blacklist


def test_arm64_lazy_boot_inits_gap_head_and_one_successor_per_chunk():
    # One segment [0, 8192) pfn, phys_avail [16, 7936) (kernel notes 3.5).
    # The gap walk initializes pfn 0-15 (16 inits).  The run's head (pfn 16)
    # is initialized LAZYINIT, and enqueue_contig splits the run into
    # 16:4 32:5 64:6 128:7 256:8 512:9 1024:10 2048:11 | 4096:11 |
    # 6144:10 7168:9 7680:8; each of those 12 chunks initializes the page
    # after it, the last one being pfn 7936, outside phys_avail but inside
    # the segment.  16 + 1 + 12 = 29.  Pages 7937-8191 are never touched.
    m = Machine([pfn_range(0, 8192)], [pfn_range(16, 7936)], arch="arm64")
    s = m.dump()
    assert s["page_inits"] == 29 and s["initialized"] == 29
    assert queues(s) == {
        ("DEFAULT", "LAZYINIT", 4): [16],
        ("DEFAULT", "LAZYINIT", 5): [32],
        ("DEFAULT", "LAZYINIT", 6): [64],
        ("DEFAULT", "LAZYINIT", 7): [128],
        ("DEFAULT", "LAZYINIT", 8): [256, 7680],
        ("DEFAULT", "LAZYINIT", 9): [512, 7168],
        ("DEFAULT", "LAZYINIT", 10): [1024, 6144],
        ("DEFAULT", "LAZYINIT", 11): [2048, 4096],
    }
    pages = m.vm.pages
    assert pages.pool.get(7936) == 0  # re-initialized into the lazy pool
    assert pages.pool.get(7937) == UNINIT and pages.pool.get(8191) == UNINIT
    assert s["free_pages"] == {"0": 7920} and s["default_pool"] == "LAZYINIT"


def test_eager_boot_initializes_every_segment_page_and_uses_default_pool():
    m = Machine([pfn_range(0, 8192)], [pfn_range(16, 7936)], arch="arm64", lazy=False)
    s = m.dump()
    assert s["page_inits"] == 8192 and s["initialized"] == 8192
    assert {pool for _, pool, _ in queues(s)} == {"DEFAULT"}
    assert queues(s)[("DEFAULT", "DEFAULT", 11)] == [2048, 4096]
    # The thread has not run: the allocator still starts its searches at pool 0.
    assert s["default_pool"] == "LAZYINIT"


def test_amd64_issue_layout_splits_at_16mib_and_leaves_the_tail_uninitialized():
    # amd64 splits [0, 1 GiB) at VM_LOWMEM_BOUNDARY: [0, 16M) LOWMEM and
    # [16M, 1G), whose DMA32 list aliases DEFAULT (< 64 GiB above 4 GiB).
    # Walk of segment 0: [0, 64K) = 16 pages.  Segment 1: covered from its
    # start, so nothing.  Run 1 [16, 4096): head + 8 chunk successors, the
    # last being pfn 4096, the first page of segment 1 (written with
    # segment 0's segind, then re-initialized as run 2's head).  Run 2
    # [4096, 253952): head + 61 successors, the last pfn 253952 (992 MiB).
    # 16 + 1 + 8 + 1 + 61 = 87 calls, 86 distinct pages.
    m = Machine([[0, GiB]], [[64 * 1024, 992 * MiB]])
    s = m.dump()
    assert (s["page_inits"], s["initialized"]) == (87, 86)
    q = queues(s)
    assert q[("DEFAULT", "LAZYINIT", 12)] == list(range(4096, 253952, 4096))
    assert q[("LOWMEM", "LAZYINIT", 11)] == [2048]
    assert q[("LOWMEM", "LAZYINIT", 4)] == [16]
    assert m.vm.pages.pool.get(253952) == 0
    assert m.vm.pages.pool.count(253953, 262144, UNINIT) == 262144 - 253953
    assert not m.vm.pages.bogus


def test_gap_walk_initializes_a_covered_range_that_follows_a_gap():
    # kernel notes 3.2: segment 16M..3G holding the kernel's tail [16M, 40M)
    # and the free range [40M, 3G), with another phys_avail entry above
    # 4 GiB.  The walk initializes the gap, then treats [40M, 3G) as a gap
    # too, because the next pair starts above the segment.
    walk = lazy_gap_walk(4096, 786432, [(10240, 786432), (1048576, 2097152)])
    assert walk == [(4096, 10240), (10240, 786432)]
    assert sum(b - a for a, b in walk) == 782336
    # Without an entry after it, only the real gap is initialized.
    assert lazy_gap_walk(4096, 786432, [(10240, 786432)]) == [(4096, 10240)]


def test_gap_walk_quirk_makes_a_machine_boot_partly_eagerly():
    segs = [[16 * MiB, 3 * GiB], [4 * GiB, 5 * GiB]]
    m = Machine(segs, [[40 * MiB, 3 * GiB], [4 * GiB, 5 * GiB]])
    covered = (3 * GiB - 40 * MiB) // PAGE
    gap = (40 * MiB - 16 * MiB) // PAGE
    assert m.vm.pages.pool.count(40 * MiB // PAGE, 3 * GiB // PAGE, UNINIT) == 0
    assert m.startup_page_inits > covered + gap


def test_seed_chunk_writes_past_the_page_array_and_committed_does_not():
    # The run ends exactly at the end of the last segment.  The seed's chunk
    # helper initializes the structure after the last block anyway: one
    # entry past the page array.  b16b4c22 checks the segment's end.
    seed = Machine([pfn_range(0, 64)], [pfn_range(8, 64)], arch="arm64")
    committed = Machine([pfn_range(0, 64)], [pfn_range(8, 64)], arch="arm64", revision="committed")
    # walk 8 + head 1 + chunks 8:3 16:4 32:5 = 3 successors (the last stray)
    assert seed.page_inits == 12 and committed.page_inits == 11
    assert seed.initialized == committed.initialized == 11
    assert [(s.where, s.pa) for s in seed.vm.pages.stray] == [("past-array", 64 * PAGE)]
    assert committed.vm.pages.stray == []


def test_seed_chunk_writes_the_next_segments_first_entry_with_a_wrong_segind():
    # arm64's page array is sparse: the entry after segment 0's last page is
    # segment 1's first page (pfn 128).  The seed writes it with segment 0's
    # end address (pfn 64) and segind 0.  When segment 1 holds free memory,
    # its own boot step re-initializes that page (here the gap walk, [128,
    # 136)) and the wrong identity is gone.
    m = Machine([pfn_range(0, 64), pfn_range(128, 192)], [pfn_range(8, 64), pfn_range(136, 192)], arch="arm64")
    assert m.vm.pages.bogus == {}
    assert m.vm.pages.pool.get(128) == 1  # DEFAULT, from the gap walk
    # A segment past every phys_avail entry is never initialized in lazy
    # mode, so the stale identity stays (and the committed revision never
    # writes it).
    m = Machine([pfn_range(0, 64), pfn_range(128, 192)], [pfn_range(8, 64)], arch="arm64")
    assert m.vm.pages.bogus == {128: (64, 0)}
    m = Machine([pfn_range(0, 64), pfn_range(128, 192)], [pfn_range(8, 64)], arch="arm64", revision="committed")
    assert m.vm.pages.bogus == {} and m.vm.pages.pool.get(128) == UNINIT


def test_lazy_and_eager_boots_hold_the_same_free_pages():
    segs = [[0x1000, 0xA0000], [0x100000, 3 * GiB], [4 * GiB, 6 * GiB]]
    avail = [[0x1000, 0xA0000], [0x200000, 3 * GiB - 64 * MiB], [4 * GiB, 6 * GiB - 8 * MiB]]
    lazy, eager = Machine(segs, avail), Machine(segs, avail, lazy=False)
    assert lazy.dump()["free_pages"] == eager.dump()["free_pages"]
    # The lazy boot still initializes the real gap below 3 GiB (64 MiB) and,
    # through the gap-walk quirk, [2M, 16M) of the LOWMEM segment.
    assert lazy.page_inits < eager.page_inits // 50


def test_parse_blacklist_reads_c_integers_and_truncates_to_pages():
    assert parse_blacklist("0x2001, 8192\n0 010", 12) == [0x2000, 8192, 0]
