"""The revisions (vmsim.revisions): the seed, the committed change, and this book's proposal, flag by flag."""

import json
import subprocess
import sys

import pytest
from layouts import PAGE, GiB, MiB, pfn_range

from vmsim import arm64_vm, pc
from vmsim.errors import CorruptionRefused, InvalidInput, InvariantViolation, UninitializedPageRead
from vmsim.experiments import revision_costs
from vmsim.layout import firecracker
from vmsim.machine import Machine
from vmsim.revisions import COMMITTED, PROPOSAL_FLAGS, PROPOSED, get_revision
from vmsim.startup import lazy_gap_walk


def test_revision_names_and_mappings():
    assert get_revision("proposed") is PROPOSED and PROPOSED.proposals == PROPOSAL_FLAGS
    assert "not FreeBSD code" in PROPOSED.commit
    one = get_revision({"skip_covered_ranges": True, "init_segment_tail": False})
    assert one.proposals == ("skip_covered_ranges",) and one.successor_guard and one.name.startswith("committed+")
    assert get_revision({}) is COMMITTED and get_revision(dict.fromkeys(PROPOSAL_FLAGS, True)) is PROPOSED
    for bad, message in [("v2", "unknown revision 'v2'"), (None, "unknown revision None"), (3, "unknown revision 3"),
                         ({"skip": True}, "unknown proposal 'skip'"), ({"init_segment_tail": 1}, "true or false")]:
        with pytest.raises(InvalidInput, match=message) as info:
            get_revision(bad)
        assert "proposed" in str(info.value) or "proposal" in str(info.value)


def test_the_replay_command_line_names_the_valid_revisions(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"seg_ranges": [[0, 1 << 24]], "phys_avail": [[1 << 20, 1 << 24]], "revision": "v3"}))
    out = subprocess.run([sys.executable, "-m", "vmsim", "replay", str(path)], capture_output=True, text=True)
    assert out.returncode == 2 and "['committed', 'proposed', 'seed']" in out.stderr
    path.write_text(json.dumps({"seg_ranges": [[0, 1 << 24]], "phys_avail": [[1 << 20, 1 << 24]],
                                "revision": {"init_segment_tail": True}, "ops": [{"op": "dump"}]}))
    out = subprocess.run([sys.executable, "-m", "vmsim", "replay", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_the_proposed_walk_skips_covered_ranges_and_reaches_the_tail():
    # Chapter 4's exercise: segment [0, 4096), pairs [256, 1024) and [2048, 4096).
    pairs = [(256, 1024), (2048, 4096)]
    assert lazy_gap_walk(0, 4096, pairs) == [(0, 256), (256, 2048)]  # the quirk: [256, 1024) too
    assert lazy_gap_walk(0, 4096, pairs, skip_covered=True) == [(0, 256), (1024, 2048)]
    # A tail after the last pair: [1000, 1024).
    assert lazy_gap_walk(0, 1024, [(3, 1000)]) == [(0, 3)]
    assert lazy_gap_walk(0, 1024, [(3, 1000)], tail=True) == [(0, 3), (1000, 1024)]
    assert lazy_gap_walk(0, 1024, [(3, 1000)], skip_covered=True, tail=True) == [(0, 3), (1000, 1024)]


@pytest.mark.parametrize("layout", [pc(4 * GiB), pc(64 * GiB), pc(8 * GiB, holes=3, domains=2), arm64_vm(4 * GiB),
                                    firecracker(256 * MiB), pc(2 * GiB, kernel=8 * MiB)],
                         ids=["pc 4G", "pc 64G", "pc 8G holes numa", "arm64 4G", "firecracker", "pc 2G small kernel"])
def test_the_proposed_boot_initializes_only_heads_of_free_memory_and_everything_else(layout):
    m = layout.boot(revision="proposed", debug=True)
    heads = {pa for q in m.dump()["queues"] for pa in q["pages"]}
    free_init = [(a, b) for a, b, _ in m.initialized_runs()
                 for lo, hi in m.phys_avail if a < hi * PAGE and lo * PAGE < b]
    for a, b in free_init:  # every initialized free structure is one block head
        for pa in range(a, b, PAGE):
            if any(lo * PAGE <= pa < hi * PAGE for lo, hi in m.phys_avail):
                assert pa in heads, hex(pa)
    outside = sum(s.npages for s in m.segtab.segs) - sum(b - a for a, b in m.phys_avail)
    assert m.count_uninitialized() == sum(b - a for a, b in m.phys_avail) - len(heads)
    assert m.initialized == outside + len(heads)
    m.lazy_init()
    assert m.count_uninitialized() == 0  # no structure inside a segment is left, the tail included
    assert m.page_inits == layout.boot(lazy=False).startup_page_inits  # each structure exactly once


def test_the_committed_boot_initializes_the_quirks_free_pages_twice():
    rows = {r["revision"]: r for r in revision_costs({"pc 4G": pc(4 * GiB)}, first_allocs=16)}
    assert rows["proposed"]["total"] == rows["proposed"]["eager"]
    committed, proposed = rows["committed"], rows["proposed"]
    assert committed["total"] - committed["eager"] == committed["boot"] - proposed["boot"]
    assert rows["committed"]["drain"] == rows["proposed"]["drain"]  # the saving is not moved into the drain
    assert rows["proposed"]["boot"] < rows["committed"]["boot"] / 50


def test_the_tail_can_be_read_only_with_the_proposal():
    # The machine: [0, 1 GiB), phys_avail [64 KiB, 992 MiB); unfree of a page of the last 32 MiB.
    for revision in ("seed", "committed", {"init_segment_tail": False}):
        m = Machine([[0, GiB]], [[64 * 1024, 992 * MiB]], revision=revision)
        with pytest.raises(UninitializedPageRead, match="vm_phys_unfree_page"):
            m.unfree_page(1000 * MiB)
    m = Machine([[0, GiB]], [[64 * 1024, 992 * MiB]], revision={"init_segment_tail": True}, debug=True)
    assert m.count_uninitialized(992 * MiB, GiB) == 0 and m.unfree_page(1000 * MiB) is False
    assert m.scan_range(0, 1, 992 * MiB, segind=1) == (992 * MiB, GiB)


def two_domains(**kw):
    return Machine([[0, 4 * GiB]], [[1 << 20, 4 * GiB]], domains=[[0, 2 * GiB, 0], [2 * GiB, 4 * GiB, 1]], **kw)


def test_with_the_proposal_a_drain_waits_for_the_threads_block():
    # Chapter 8's window: the thread holds pfn 4096 (order 12) with the lock dropped.
    for revision in ("committed", "proposed"):
        m = two_domains(revision=revision, debug=True)
        held = m.lazy_begin_block()
        assert (held.pfn, held.order, held.lock_dropped) == (4096, 12, True)
        if revision == "committed":
            with pytest.raises(UninitializedPageRead, match="vm_page_scan_contig"):
                m.scan_range(0, 1, 16 * MiB, 32 * MiB)
            continue
        with m.record() as events:
            assert m.scan_range(0, 1, 16 * MiB, 32 * MiB) == (16 * MiB, 32 * MiB)
        waits = [e for e in events if e[0] == "lazy_wait"]
        assert waits == [("lazy_wait", 0, 4096, 12)] and events[-1] == ("initdone", 0, False)
        assert m.initdone == (True, False) and m.free_block(4096 * PAGE)[2] == "DEFAULT"
        assert m.lazy_step(1) == 1  # the thread finds its block done, and goes on
        m.lazy_init()
        assert m.count_uninitialized() == 0


def test_with_the_proposal_the_blacklist_finds_a_domains_first_page():
    with pytest.raises(CorruptionRefused, match="free lock of domain 1 is not held"):
        two_domains(revision="committed", blacklist=[2 * GiB])
    m = two_domains(revision={"domain_end_exclusive": True}, blacklist=[2 * GiB], debug=True)
    assert m.blacklisted == [2 * GiB] and m.initdone == (False, True)


def test_with_the_proposal_the_page_after_a_run_keeps_its_pool():
    # A run [1 MiB, 2 MiB) ends where the kernel begins; the committed chunk helper rewrites the
    # kernel's first page with pool LAZYINIT, and kmem_bootstrap_free() of it trips the pool assertion.
    layout = ([[MiB, 64 * MiB]], [[MiB, 2 * MiB], [32 * MiB, 64 * MiB]])
    m = Machine(*layout, revision="committed")
    assert m.page(2 * MiB).pool == "LAZYINIT"
    before = m.dump()
    with pytest.raises(InvariantViolation, match="unexpected pool LAZYINIT"):
        m.bootstrap_free(2 * MiB, 4)
    assert m.dump() == before
    m = Machine(*layout, revision={"successor_inside_run": True}, debug=True)
    assert m.page(2 * MiB).pool == "DEFAULT"
    m.bootstrap_free(2 * MiB, 4)
    assert m.free_block(2 * MiB) == (2 * MiB, 2, "DEFAULT") and m.free_pages_count() == 256 + 8192 + 4


def test_bootstrap_free_refuses_pages_the_allocator_already_has(tmp_path):
    m = Machine([pfn_range(0, 64)], [pfn_range(8, 64)], arch="arm64", lazy=False)
    with pytest.raises(InvalidInput, match="overlaps pages the allocator already manages"):
        m.bootstrap_free(6 * PAGE, 4)
    m.bootstrap_free(4 * PAGE, 4)
    with pytest.raises(InvalidInput, match="overlaps"):
        m.bootstrap_free(4 * PAGE, 1)
    m.check()
    assert m.alloc_pages(0, "DEFAULT", 2) == 4 * PAGE  # the freed pages are the allocator's now
    m.check()
