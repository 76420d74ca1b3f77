"""Data series for figures (vmsim.experiments): boot cost, the lazy thread, fallback searches."""

import copy
import json

import pytest
from layouts import MiB

from vmsim.errors import InvalidInput
from vmsim.experiments import boot_cost_series, fallback_search, lazy_thread_series
from vmsim.layout import pc


def test_boot_cost_series_counts_every_page_eagerly_and_far_fewer_lazily():
    rows = boot_cost_series([64 * MiB, 1024 * MiB])
    assert [r["ram"] for r in rows] == [64 * MiB, 1024 * MiB]
    for r in rows:
        lay = pc(r["ram"])
        assert r["pages"] == lay.boot(lazy=False).total_pages
        assert r["eager"] == r["pages"]  # vm_page_startup initializes every segment page
        assert r["lazy_seed"] == lay.boot().startup_page_inits
        assert r["lazy_committed"] == lay.boot(revision="committed").startup_page_inits
        assert r["lazy_committed"] <= r["lazy_seed"] < r["eager"]
    # 1 GiB: 7,756 inits lazily (the kernel area, low memory, one per chunk) instead of 261,790.
    assert (rows[1]["lazy_seed"], rows[1]["eager"]) == (7756, 261790)


def test_lazy_thread_series_drains_the_pool_and_flips_the_default_pool():
    m = pc(256 * MiB).boot()
    rows = lazy_thread_series(m, steps=40, blocks_per_step=2)
    assert rows[0]["step"] == 0 and rows[0]["lazy_pages"] == pc(256 * MiB).boot().lazy_pages()
    lazy = [r["lazy_pages"] for r in rows]
    assert lazy == sorted(lazy, reverse=True) and lazy[-1] == 0
    assert rows[0]["default_pool"] == "LAZYINIT" and rows[-1]["default_pool"] == "DEFAULT"
    assert rows[-1]["uninitialized"] == 0 == m.uninitialized_free()
    assert rows[-1]["page_inits"] == m.page_inits  # the machine given is the one that ran
    assert sum(r["blocks"] for r in rows) == len(m.thread.history)


def test_lazy_thread_series_interleaves_seeded_allocations():
    a = lazy_thread_series(pc(128 * MiB).boot(), 6, blocks_per_step=1, allocs_per_step=2, seed=7, pool="DIRECT")
    b = lazy_thread_series(pc(128 * MiB).boot(), 6, blocks_per_step=1, allocs_per_step=2, seed=7, pool="DIRECT")
    assert a == b
    assert [r["allocs"] for r in a[1:]] == [2] * 6
    assert a[-1]["allocated"] == 12


@pytest.mark.parametrize("kw", [{"steps": -1}, {"steps": 2, "blocks_per_step": "x"},
                                {"steps": 2, "allocs_per_step": 1, "pool": "LAZYINIT"},
                                {"steps": 2, "allocs_per_step": 1, "order": 13}])
def test_lazy_thread_series_refuses_bad_arguments(kw):
    with pytest.raises(InvalidInput):
        lazy_thread_series(pc(64 * MiB).boot(), **kw)


def _agrees(m, pool, order, domain=0):
    """fallback_search leaves *m* alone and names the queue a real allocation takes from."""
    before = json.dumps(m.dump())
    search = fallback_search(m, domain, pool, order)
    assert json.dumps(m.dump()) == before
    twin = copy.deepcopy(m)
    with twin.record() as events:
        pa = twin.alloc_pages(domain, pool, order)
    chosen = [e for e in search if e["chosen"]]
    if pa is None:
        assert chosen == [] and all(e["blocks"] == 0 for e in search)
        return search
    assert chosen == [search[-1]]
    rem = events[0]
    assert rem[0] == "rem"
    (dom, flind, pind), head, oind = rem[1], rem[2], rem[3]
    e = search[-1]
    assert (dom, flind, e["pool"], e["order"]) == (domain, e["flind"], ("LAZYINIT", "DEFAULT", "DIRECT")[pind], oind)
    assert e["head"] == head << m.arch.page_shift == pa  # the lowest pages of the block are kept
    assert all(x["blocks"] == 0 for x in search[:-1])
    return search


@pytest.mark.parametrize("drained", [False, True])
def test_fallback_search_agrees_with_alloc_pages_before_and_after_the_drain(drained):
    m = pc(1024 * MiB).boot()
    m.alloc_pages(0, "DEFAULT", 0)
    m.alloc_pages(0, "DIRECT", 5)
    if drained:
        m.lazy_init()
    for pool in ("DEFAULT", "DIRECT"):
        for order in range(13):
            search = _agrees(m, pool, order)
            steal = [e for e in search if e["phase"] == "steal"]
            if steal:
                first = "DEFAULT" if drained else "LAZYINIT"
                assert steal[0]["pool"] == first and steal[0]["order"] == 12


def test_fallback_search_orders_own_pool_up_then_steals_down():
    m = pc(1024 * MiB).boot()
    search = _agrees(m, "DIRECT", 3)
    assert [(e["phase"], e["pool"], e["order"]) for e in search] == (
        [("own", "DIRECT", o) for o in range(3, 13)] + [("steal", "LAZYINIT", 12)])


def test_fallback_search_visits_an_aliasing_free_list_again_then_the_next_one():
    # pc(64 MiB): DMA32 is absent and aliases flind 0 (DEFAULT); LOWMEM is flind 1.
    m = pc(64 * MiB).boot()
    while m.alloc_pages(0, "DIRECT", 12) is not None and m.vm.fq.free_count[0] > 2048:
        pass
    while m.alloc_freelist_pages(0, "DEFAULT", "DIRECT", 0) is not None:
        pass
    search = _agrees(m, "DEFAULT", 0)
    lists = [(e["freelist"], e["flind"]) for e in search]
    assert ("DEFAULT", 0) in lists and ("DMA32", 0) in lists and lists[-1] == ("LOWMEM", 1)


def test_fallback_search_of_an_exhausted_domain_has_no_choice():
    m = pc(64 * MiB).boot()
    while m.alloc_pages(0, "DEFAULT", 0) is not None:
        pass
    search = _agrees(m, "DIRECT", 0)
    assert search and not any(e["chosen"] for e in search)


@pytest.mark.parametrize("args", [(1, "DEFAULT", 0), (0, "LAZYINIT", 0), (0, "NOPE", 0), (0, "DEFAULT", 13)])
def test_fallback_search_refuses_what_vm_phys_alloc_pages_refuses(args):
    with pytest.raises(InvalidInput):
        fallback_search(pc(64 * MiB).boot(), *args)
