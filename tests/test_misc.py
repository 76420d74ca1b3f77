"""Layouts, the cost model, the census, dumps and the quiz."""

import pytest
from layouts import PAGE, GiB, MiB

from vmsim.census import STATES, census
from vmsim.cost import FIRECRACKER_1G, FIRECRACKER_128M, calibrate
from vmsim.dump import phys_free
from vmsim.errors import InvalidInput
from vmsim.layout import arm64_vm, pc


def test_pc_layout_has_the_kernel_as_an_early_segment_and_a_pci_hole():
    lay = pc(8 * GiB)
    assert lay.phys_avail[1][0] == 32 * MiB and lay.seg_ranges[1][0] == 2 * MiB
    assert lay.phys_avail[-1] == (4 * GiB, 9 * GiB)
    m = lay.boot(debug=True)
    assert m.total_pages * PAGE == lay.ram
    # Kernel pages are never free; the census counts them as reserved.
    c = census(m, bins=8)
    assert sum(c.states["reserved"]) == (32 * MiB - 2 * MiB) // PAGE
    assert sum(sum(v) for v in c.states.values()) == c.hi - c.lo


def test_layout_options_make_holes_and_domains():
    lay = pc(8 * GiB, holes=3, domains=2)
    assert len(lay.phys_avail) == 6 and len(lay.domains) == 2
    m = lay.boot(debug=True)
    # The seed writes one structure past every run that ends at its segment's
    # end: after low memory (a hole up to 1 MiB), before the PCI hole, before
    # each of the 3 punched holes, and past the page array at the top.
    assert m.vm.ndomains == 2
    assert [s.where for s in m.vm.pages.stray] == ["hole"] * 5 + ["past-array"]
    assert arm64_vm(1 * GiB).boot(debug=True).segtab.segs[0].start == GiB // PAGE
    with pytest.raises(InvalidInput, match="multiple of 2 MiB"):
        pc(100 * MiB + 4096)
    with pytest.raises(InvalidInput, match="holes do not fit"):
        pc(64 * MiB, holes=500, hole_size=MiB)


def test_census_bins_add_up_and_track_initialization():
    m = pc(1 * GiB).boot()
    c = census(m, bins=64)
    assert set(c.states) == set(STATES)
    assert sum(c.initialized) == m.initialized
    assert sum(c.states["free:LAZYINIT"]) == m.lazy_pages()
    m.alloc_pages(0, "DIRECT", 3)
    c = census(m, bins=64)
    assert sum(c.states["allocated"]) == 8 and sum(c.initialized) == m.initialized


def test_cost_model_uses_the_commit_message_figures():
    assert FIRECRACKER_1G.seconds(262144) == pytest.approx(0.0215)
    assert FIRECRACKER_128M.seconds(32768) == pytest.approx(0.003)
    assert "21.5 ms" in FIRECRACKER_1G.describe()
    floor = calibrate(pages=4096, repeat=1)
    assert 0 < floor.ns_per_init and "floor" in floor.source
    assert FIRECRACKER_1G.array_bytes(262144) == 262144 * 104


def test_phys_free_lays_out_queues_like_the_sysctl():
    m = pc(1 * GiB).boot()
    text = phys_free(m)
    assert "FREE LIST 0 (DEFAULT):" in text and "FREE LIST 1 (LOWMEM):" in text
    row12 = next(line for line in text.splitlines() if line.startswith("  12 ( 16384K)"))
    assert row12.split("|")[1].strip() == str(m.vm.fq.lcnt(0, 0, 0, 12))


def test_domains_split_the_memory_that_exists():
    # arm64 RAM starts at 1 GiB: two domains share [1 GiB, 3 GiB), neither is empty.
    m = arm64_vm(2 * GiB, domains=2).boot(debug=True)
    assert [d for _, _, d in m.segtab.affinity] == [0, 1]
    assert all(n > 0 for n in m.vm.fq.free_count)
