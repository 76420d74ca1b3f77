"""Figures (vmsim.viz): each draws the right numbers, says them in its alt text, and stays self-contained."""

import io

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from layouts import GiB, MiB  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from vmsim import viz  # noqa: E402
from vmsim.census import STATES  # noqa: E402
from vmsim.cost import FIRECRACKER_128M  # noqa: E402
from vmsim.errors import InvalidInput  # noqa: E402
from vmsim.experiments import boot_cost_series, fallback_search, lazy_thread_series  # noqa: E402
from vmsim.layout import pc  # noqa: E402
from vmsim.viz.style import STATE_COLORS, fmt_int  # noqa: E402

TiB = 1 << 40


@pytest.fixture(scope="module")
def small():
    m = pc(64 * MiB).boot()
    m.alloc_pages(0, "DIRECT", 3)
    return m


@pytest.fixture(scope="module")
def large():
    m = pc(4 * TiB).boot()
    m.alloc_pages(0, "DEFAULT", 0)
    return m


def check_figure(fig):
    """What every figure promises: a Figure with alt text, a title, labelled axes, a light face, drawable."""
    assert isinstance(fig, Figure)
    assert isinstance(fig.alt_text, str) and len(fig.alt_text) > 20 and fig.alt_text.endswith(".")
    titles = [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title(loc) for ax in fig.axes
                                                                     for loc in ("center", "left")]
    assert any(titles)
    plots = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert any(ax.get_xlabel() for ax in plots)
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    fig.savefig(io.BytesIO(), format="png", dpi=40)


def test_palette_covers_every_census_state():
    assert tuple(STATE_COLORS) == STATES


@pytest.mark.parametrize("which", ["small", "large"])
def test_memory_map_census_sums_to_the_pages_in_range(which, request):
    m = request.getfixturevalue(which)
    fig = viz.memory_map(m, bins=256)
    check_figure(fig)
    c, f = fig.census, fig.fold
    assert (c.lo, c.hi) == (f.lo, f.hi) and c.bins == f.bins
    assert sum(sum(c.states[s]) for s in STATES) == f.hi - f.lo
    for i in range(c.bins):
        assert sum(c.states[s][i] for s in STATES) == c.width
    assert sum(c.segment_pages) == m.total_pages
    assert sum(c.initialized) == m.initialized
    assert sum(c.states["allocated"]) == m.nallocated
    assert fmt_int(m.total_pages) in fig.alt_text and fmt_int(m.initialized) in fig.alt_text
    assert f.rows == (1 if which == "small" else 8)


def test_memory_map_outlines_a_highlighted_range(small):
    fig = viz.memory_map(small, highlight=[(32 * MiB, 48 * MiB, "run found")])
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "run found" in texts


def test_compare_maps_folds_every_machine_the_same_way():
    eager, lazy = pc(16 * GiB).boot(lazy=False), pc(16 * GiB).boot()
    fig = viz.compare_maps({"eager": eager, "lazy": lazy}, bins=128)
    check_figure(fig)
    assert list(fig.censuses) == ["eager", "lazy"]
    shapes = {(c.lo, c.hi, c.width) for c in fig.censuses.values()}
    assert len(shapes) == 1 and shapes.pop()[:2] == (fig.fold.lo, fig.fold.hi)
    assert sum(fig.censuses["eager"].initialized) == eager.total_pages
    assert "eager:" in fig.alt_text and "lazy:" in fig.alt_text
    with pytest.raises(ValueError):
        viz.compare_maps({})


@pytest.mark.parametrize("which", ["small", "large"])
def test_free_queue_grid_numbers_are_the_kernel_lcnt(which, request):
    m = request.getfixturevalue(which)
    fig = viz.free_queues(m, freelist=None, show_heads=True)
    check_figure(fig)
    fq = m.vm.fq
    expected = {(flind, pool, o): fq.lcnt(0, flind, p, o)
                for flind in range(m.segtab.nfreelists) for p, pool in enumerate(("LAZYINIT", "DEFAULT", "DIRECT"))
                for o in range(m.vm.nfreeorder)}
    assert fig.counts == expected
    lazy_blocks = sum(v for (flind, pool, _), v in expected.items() if flind == 0 and pool == "LAZYINIT")
    assert f"LAZYINIT {fmt_int(lazy_blocks)} blocks" in fig.alt_text
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    head = m.vm.fq.first(0, 0, 0, 12)
    assert f"{head << 12:#x}" in "\n".join(texts)


def test_free_queues_of_one_list_and_bad_requests(small):
    fig = viz.free_queues(small, freelist="LOWMEM")
    assert {k[0] for k in fig.counts} == {small.segtab.freelist_to_flind[2]}
    with pytest.raises(InvalidInput):
        viz.free_queues(small, freelist="NOPE")
    with pytest.raises(InvalidInput):
        viz.free_queues(small, domain=1)


def record(m, call):
    with m.record() as events:
        call(m)
    return events


def test_block_anatomy_of_a_first_allocation_shows_twelve_split_halves():
    m = pc(128 * MiB).boot()
    events = record(m, lambda m: m.alloc_pages(0, "DEFAULT", 0))
    fig = viz.block_anatomy(m, events, title="alloc DEFAULT order 0")
    check_figure(fig)
    (story,) = fig.stories
    assert story.kind == "take" and story.order == 12 and story.queue[2] == 0  # from the lazy pool
    halves = [p for p in story.pieces if p.role == "half"]
    assert sorted(p.order for p in halves) == list(range(12))
    assert all(p.tail and p.queue[2] == 1 for p in halves)  # DEFAULT, at the tail
    assert [(p.lo - story.pfn, p.hi - story.pfn) for p in story.pieces if p.role == "kept"] == [(0, 1)]
    assert story.initialized == 4095 and fig.summary["initialized"] == 4095
    assert "12 pieces back to DEFAULT" in fig.alt_text and "4,095 structures" in fig.alt_text


def test_block_anatomy_of_a_free_shows_the_buddies_merged():
    m = pc(128 * MiB).boot()
    pa = m.alloc_pages(0, "DEFAULT", 0)
    events = record(m, lambda m: m.free_pages(pa, 0))
    fig = viz.block_anatomy(m, events)
    (story,) = fig.stories
    assert story.kind == "free" and story.order == 12 and story.tail
    assert story.count("buddy") == 12 and story.count("freed") == 1
    assert "merged with 12 free buddies" in fig.alt_text


def test_block_anatomy_of_the_thread_and_of_a_draining_unfree():
    m = pc(128 * MiB).boot()
    fig = viz.block_anatomy(m, record(m, lambda m: m.lazy_step(1)))
    (story,) = fig.stories
    assert story.lazy and story.count("lazy") == 1 and "vmlazyinit" in fig.alt_text
    events = record(m, lambda m: m.unfree_page(100 * MiB))
    fig = viz.block_anatomy(m, events)
    check_figure(fig)
    assert fig.summary["drained"] == [0] and fig.summary["lazy_blocks"] > 2
    main = [s for s in fig.stories if not s.lazy]
    assert len(main) == 1 and main[0].count("half") == 12 and not any(p.tail for p in main[0].pieces if p.queue)
    assert "more lazy blocks initialized" in fig.alt_text


def test_block_anatomy_of_nothing_says_so():
    m = pc(64 * MiB).boot()
    m.lazy_init()
    fig = viz.block_anatomy(m, record(m, lambda m: m.lazy_step(1)))
    check_figure(fig)
    assert fig.stories == [] and fig.alt_text.startswith("No block")


def test_boot_cost_names_the_cost_model_and_the_numbers():
    series = boot_cost_series([64 * MiB, 256 * MiB])
    fig = viz.boot_cost(series)
    check_figure(fig)
    assert "82 ns" in fig.alt_text and "b16b4c22" in fig.alt_text
    assert fmt_int(series[-1]["eager"]) in fig.alt_text and fmt_int(series[-1]["lazy_seed"]) in fig.alt_text
    fig = viz.boot_cost(series, model=FIRECRACKER_128M)
    assert "92 ns" in fig.alt_text and fig.model is FIRECRACKER_128M
    ys = [line.get_ydata() for line in fig.axes[0].lines]
    assert [list(y) for y in ys] == [[r[k] for r in series] for k in ("eager", "lazy_seed", "lazy_committed")]


def test_lazy_progress_marks_allocations_and_the_flip():
    series = lazy_thread_series(pc(128 * MiB).boot(), 20, blocks_per_step=2, allocs_per_step=1)
    fig = viz.lazy_progress(series)
    check_figure(fig)
    flip = next(r["step"] for r in series if r["default_pool"] == "DEFAULT")
    assert f"becomes DEFAULT at step {flip}" in fig.alt_text
    assert f"{fmt_int(series[0]['lazy_pages'])} to 0 pages" in fig.alt_text
    with pytest.raises(ValueError):
        viz.lazy_progress([])


def test_fallback_order_highlights_the_chosen_queue():
    m = pc(1024 * MiB).boot()
    search = fallback_search(m, 0, "DIRECT", 0)
    fig = viz.fallback_order(search, max_order=12)
    check_figure(fig)
    assert fig.alt_text.startswith("The search looks at 14 queues: 13 empty, then takes from LAZYINIT order 12")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert f"14\n{search[-1]['blocks']} blocks" in texts


def test_figures_leave_global_matplotlib_settings_alone(small):
    before = dict(matplotlib.rcParams)
    viz.memory_map(small)
    viz.free_queues(small)
    viz.fallback_order(fallback_search(small, 0, "DEFAULT", 0))
    assert dict(matplotlib.rcParams) == before


def test_figures_show_in_a_notebook_as_an_image_with_their_alt_text(small):
    fig = viz.memory_map(small, bins=64)
    bundle = fig._repr_mimebundle_()
    assert bundle["text/plain"] == fig.alt_text
    assert bundle["text/html"].startswith('<img src="data:image/png;base64,')
    assert 'alt="Memory map of a' in bundle["text/html"]
