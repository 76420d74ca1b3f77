"""Bad input gets a clear exception and leaves the machine exactly as it was (vmsim.machine)."""

import json

import pytest
from layouts import PAGE, GiB, pfn_range

from vmsim.errors import InvalidInput, InvariantViolation, VmsimError
from vmsim.machine import Machine


def snapshot(m: Machine):
    return (json.dumps(m.dump()), m.nallocated, list(m.blacklisted), list(m.vm.initdone),
            list(m.allocated.runs(0, 8192)), list(m.vm.pages.pool.runs(0, 8192)))


@pytest.fixture
def m():
    machine = Machine([pfn_range(0, 8192)], [pfn_range(16, 7936)], arch="arm64", debug=True)
    machine.alloc_pages(0, "DEFAULT", 0)  # pfn 2048, from lazy block 2048:11
    return machine


BAD_CALLS = [
    (lambda m: m.alloc_pages(0, "LAZYINIT", 0), "LAZYINIT is never a valid request"),
    (lambda m: m.alloc_pages(0, "FOO", 0), "unknown pool 'FOO'"),
    (lambda m: m.alloc_pages(0, 7, 0), "pool 7 is out of range"),
    (lambda m: m.alloc_pages(0, "DEFAULT", 13), "order 13 is out of range"),
    (lambda m: m.alloc_pages(0, "DEFAULT", -1), "order -1 is out of range"),
    (lambda m: m.alloc_pages(1, "DEFAULT", 0), "domain 1 is out of range"),
    (lambda m: m.alloc_freelist_pages(0, "DMA32", "DEFAULT", 0), "arm64 has no DMA32 free list"),
    (lambda m: m.alloc_freelist_pages(0, 3, "DEFAULT", 0), "freelist 3 is out of range"),
    (lambda m: m.alloc_npages(0, "DEFAULT", 4097), "npages 4097 is out of range"),
    (lambda m: m.free_pages(2048 * PAGE + 1, 0), "not page aligned"),
    (lambda m: m.free_pages(9000 * PAGE, 0), "is in no segment"),
    (lambda m: m.free_pages(2049 * PAGE, 0), "is free (double free)"),
    (lambda m: m.free_pages(2048 * PAGE, 1), "is free (double free)"),
    (lambda m: m.free_pages(2049 * PAGE, 1), "not aligned to a block of order 1"),
    (lambda m: m.free_pages(8 * PAGE, 0), "not in phys_avail"),
    (lambda m: m.free_pages(100 * PAGE, 0), "is free"),
    (lambda m: m.free_contig(4096 * PAGE, 3), "is free"),
    (lambda m: m.free_contig(2048 * PAGE, 0), "npages 0 must be an integer >= 1"),
    (lambda m: m.unfree_page(5000 * PAGE + 8), "not page aligned"),
    (lambda m: m.unfree_page(1 << 40), "is in no segment"),
    (lambda m: m.alloc_contig(0, 4, alignment=3 * PAGE), "alignment 12288 is not a power of two"),
    (lambda m: m.alloc_contig(0, 0), "npages 0 must be an integer >= 1"),
    (lambda m: m.find_range(0, 0), "npages 0 must be positive"),
    (lambda m: m.find_range(2, 1), "domain 2 is out of range"),
    (lambda m: m.lazy_step(0), "max_blocks 0 must be an integer >= 1"),
]


@pytest.mark.parametrize("call, message", BAD_CALLS, ids=[msg for _, msg in BAD_CALLS])
def test_bad_input_is_refused_with_a_named_problem_and_no_change(m, call, message):
    before = snapshot(m)
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(m)
    assert snapshot(m) == before


def test_a_blacklisted_page_cannot_be_freed(m):
    assert m.unfree_page(5000 * PAGE)
    before = snapshot(m)
    with pytest.raises(InvalidInput, match="blacklisted"):
        m.free_pages(5000 * PAGE, 0)
    assert snapshot(m) == before


BAD_LAYOUTS = [
    (dict(seg_ranges=[[0, 100]], phys_avail=[]), "not page aligned"),
    (dict(seg_ranges=[], phys_avail=[]), "no segments"),
    (dict(seg_ranges=[[0, 8 * PAGE], [4 * PAGE, 12 * PAGE]], phys_avail=[]), "overlap"),
    (dict(seg_ranges=[[0, 8 * PAGE]], phys_avail=[[0, 16 * PAGE]]), "not inside the segments"),
    (dict(seg_ranges=[[0, 8 * PAGE]], phys_avail=[[4 * PAGE, 8 * PAGE], [0, 2 * PAGE]]), "ascend"),
    (dict(seg_ranges=[[0, 8 * PAGE]], phys_avail=[[PAGE, 2]]), "not page aligned"),
    (dict(seg_ranges=[[0, 8 * PAGE]], phys_avail=[], arch="sparc64"), "unknown architecture"),
    (dict(seg_ranges=[[0, 8 * PAGE]], phys_avail=[], revision="v9"), "unknown revision"),
    (dict(seg_ranges=[[i * 2 * PAGE, (i * 2 + 1) * PAGE] for i in range(70)], phys_avail=[]), "VM_PHYSSEG_MAX"),
    (dict(seg_ranges=[[0, 8 * PAGE]], phys_avail=[], domains=[[4 * PAGE, 8 * PAGE, 1]]), "no affinity information"),
    (dict(seg_ranges=[[0, 8 * PAGE]], phys_avail=[], domains=[[0, 8 * PAGE, 9]]), "MAXMEMDOM"),
    (dict(seg_ranges=[[0, 8 * PAGE]], phys_avail=[], lazy="yes"), "lazy must be true or false"),
]


@pytest.mark.parametrize("kwargs, message", BAD_LAYOUTS, ids=[msg for _, msg in BAD_LAYOUTS])
def test_bad_layouts_are_refused(kwargs, message):
    kwargs = dict(kwargs)
    with pytest.raises(InvalidInput, match=message):
        Machine(kwargs.pop("seg_ranges"), kwargs.pop("phys_avail"), **kwargs)


def test_errors_form_one_hierarchy():
    assert issubclass(InvalidInput, VmsimError) and issubclass(InvalidInput, ValueError)
    assert issubclass(InvariantViolation, VmsimError)


def test_numa_domains_split_segments_and_phys_avail():
    # Two domains meeting at 3 GiB: the segment [16M, 4G) is split there and
    # so is the phys_avail entry, so each domain gets its own queues.
    m = Machine([[0, 4 * GiB]], [[1 << 20, 4 * GiB]], domains=[[0, 3 * GiB, 0], [3 * GiB, 4 * GiB, 1]])
    assert [(s.domain, s.start * PAGE, s.end * PAGE) for s in m.segtab.segs] == [
        (0, 0, 16 << 20), (0, 16 << 20, 3 * GiB), (1, 3 * GiB, 4 * GiB)]
    assert m.dump()["free_pages"] == {"0": (3 * GiB - (1 << 20)) // PAGE, "1": GiB // PAGE}
    assert m.alloc_pages(1, "DEFAULT", 0) >= 3 * GiB
    m.check()


def test_amd64_creates_dma32_only_above_64_gib():
    small = Machine([[0, 8 * GiB]], [[1 << 20, 8 * GiB]])
    big = Machine([[0, 80 * GiB]], [[1 << 20, 80 * GiB]], lazy=False)
    assert small.segtab.freelist_to_flind == [0, 0, 1] and small.segtab.flind_name(1) == "LOWMEM"
    assert big.segtab.freelist_to_flind == [0, 1, 2] and big.segtab.flind_name(1) == "DMA32"
    # DMA32 memory is used only once DEFAULT is exhausted.
    assert big.alloc_pages(0, "DEFAULT", 12) >= 4 * GiB
