"""The census (vmsim.census) against a page-by-page count, and the fold of an address range into rows."""

import random

import pytest
from layouts import GiB, MiB

from vmsim import arm64_vm, pc
from vmsim.census import STATES, census, fold


def by_page(m, bins, lo=None, hi=None):
    """The census the slow way: look at every page."""
    segs = m.segtab.segs
    lo = segs[0].start if lo is None else lo
    hi = segs[-1].end if hi is None else hi
    width = max(1, -(-(hi - lo) // bins))
    nb = -(-(hi - lo) // width)
    states = {s: [0] * nb for s in STATES}
    init, seg_pages = [0] * nb, [0] * nb
    shift = m.arch.page_shift
    for pfn in range(lo, hi):
        i = (pfn - lo) // width
        if m.segtab.find(pfn) < 0:
            states["hole"][i] += 1
            continue
        seg_pages[i] += 1
        view = m.page(pfn << shift)
        init[i] += view.initialized
        if view.free_block is not None:
            states["free:" + view.free_block[2]][i] += 1
        elif view.allocated:
            states["allocated"][i] += 1
        elif view.blacklisted:
            states["blacklisted"][i] += 1
        else:
            states["reserved"][i] += 1
    return states, init, seg_pages


@pytest.mark.parametrize("layout", [pc(256 * MiB, holes=3, domains=2), arm64_vm(128 * MiB), pc(96 * MiB)],
                         ids=["pc numa holes", "arm64", "small pc"])
def test_the_census_counts_what_a_page_by_page_walk_counts(layout):
    rng = random.Random(11)
    m = layout.boot(blacklist=[layout.phys_avail[-1][0] + 8 * 4096])
    for _ in range(200):
        m.alloc_pages(rng.randrange(m.ndomains), rng.choice(["DEFAULT", "DIRECT"]), rng.randrange(5))
    m.lazy_step(2)
    for bins, lo, hi in ((64, None, None), (7, None, None), (300, 100, 30_000)):
        c = census(m, bins, lo, hi)
        assert (c.states, c.initialized, c.segment_pages) == by_page(m, bins, lo, hi)


def test_a_fold_has_round_rows_covering_the_range():
    for span, rows in ((GiB, 1), (16 * GiB, 2), (100 * GiB, 4), (4 << 40, 8)):
        f = fold(1, span >> 12, 512, 12)
        assert f.rows == rows and f.lo <= 1 and f.hi >= span >> 12
        assert f.row_pages % f.bins_per_row == 0
