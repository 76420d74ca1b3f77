"""The standard-library pictures (vmsim.svg): well-formed, faithful to the census, in the figures' colours."""

import xml.etree.ElementTree as ET

import pytest
from layouts import GiB, MiB

from vmsim import arm64_vm, pc, svg
from vmsim.census import STATES, census, fold
from vmsim.palette import INIT_COLOR, POOL_COLORS, STATE_COLORS, UNINIT_COLOR

NS = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{NS}svg" and root.get("role") == "img" and root.get("aria-label")
    assert root.find(f"{NS}title").text == root.get("aria-label")
    return root


def rects(root, attr):
    return [r for r in root.iter(f"{NS}rect") if r.get(f"data-{attr}") is not None]


MACHINES = {
    "lazy pc 1 GiB": lambda: pc(GiB).boot(),
    "eager pc 4 GiB, numa": lambda: pc(4 * GiB, domains=2).boot(lazy=False),
    "arm64 after work": lambda: _busy(arm64_vm(256 * MiB).boot()),
    "pc 64 GiB": lambda: pc(64 * GiB).boot(),
}


def _busy(m):
    for order in (0, 3, 9):
        m.alloc_pages(0, "DIRECT", order)
    m.lazy_step(2)
    m.unfree_page(m.phys_avail[-1][1] * 4096 - 4096)
    return m


@pytest.mark.parametrize("name", MACHINES)
def test_the_memory_map_adds_up_to_the_census(name):
    m = MACHINES[name]()
    root = parse(svg.memory_map(m, bins=256))
    segs = m.segtab.segs
    f = fold(segs[0].start, segs[-1].end, 256, 12)
    c = census(m, f.bins, f.lo, f.hi)
    shown = {s: 0 for s in STATES}
    for r in rects(root, "state"):
        shown[r.get("data-state")] += int(r.get("data-pages"))
        assert r.get("fill") == STATE_COLORS[r.get("data-state")]
    assert shown == {s: sum(c.states[s]) for s in STATES}
    init = {"initialized": 0, "uninitialized": 0, "hole": 0}
    for r in rects(root, "init"):
        init[r.get("data-init")] += int(r.get("data-pages"))
    assert init["initialized"] == sum(c.initialized) == m.initialized
    assert init["uninitialized"] == sum(c.segment_pages) - m.initialized
    # Geometry: in each row the rectangles of one bin column fill the strip's height.
    heights = {}
    for r in rects(root, "state"):
        key = (round(float(r.get("x")), 1), round(float(r.get("y")) // 60))
        heights[key] = heights.get(key, 0) + float(r.get("height"))
    assert all(abs(h - 26) < 0.01 for h in heights.values())
    assert "Memory map of a" in root.get("aria-label")


def test_the_legend_names_each_state_present_in_its_figure_colour():
    m = _busy(arm64_vm(256 * MiB).boot())
    root = parse(svg.memory_map(m))
    labels = [t.text for t in root.iter(f"{NS}text")]
    c = census(m, 64)
    for state in STATES:
        assert (state in labels) == (sum(c.states[state]) > 0), state
    assert "struct initialized" in labels and "struct not initialized" in labels
    fills = {r.get("fill") for r in root.iter(f"{NS}rect")}
    assert {INIT_COLOR, UNINIT_COLOR, STATE_COLORS["free:DIRECT"]} <= fills


def test_the_matplotlib_figures_and_the_svg_take_one_palette():
    from vmsim.viz import style

    assert style.STATE_COLORS is STATE_COLORS and style.POOL_COLORS is POOL_COLORS and style.INIT_COLOR == INIT_COLOR


@pytest.mark.parametrize("freelist", ["DEFAULT", None])
def test_the_queue_grid_shows_every_queues_block_count(freelist):
    m = _busy(pc(256 * MiB).boot())
    root = parse(svg.free_queues(m, 0, freelist))
    cells = rects(root, "blocks")
    flinds = [0] if freelist else list(range(m.segtab.nfreelists))
    assert len(cells) == len(flinds) * 3 * m.arch.nfreeorder
    for r in cells:
        flind, pool, order = int(r.get("data-flind")), r.get("data-pool"), int(r.get("data-order"))
        assert int(r.get("data-blocks")) == len(m.queue(0, m.segtab.flind_name(flind), pool, order))
    queued = sum(len(q["pages"]) << q["order"] for q in m.dump()["queues"]
                 if q["domain"] == 0 and (freelist is None or q["freelist"] == freelist))
    assert sum(int(r.get("data-blocks")) << int(r.get("data-order")) for r in cells) == queued


def test_the_counters_are_the_machines():
    m = pc(GiB).boot()
    m.alloc_pages(0, "DEFAULT", 0)
    root = parse(svg.counters(m))
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert f"{m.page_inits:,}" in texts and f"{m.free_pages_count():,}" in texts and "LAZYINIT" in texts
    assert dict(svg.counter_rows(m))["pages in the lazy pool"] == f"{m.lazy_pages():,}"


def test_a_four_tib_machine_draws_in_eight_rows():
    m = pc(4 << 40).boot()
    root = parse(svg.memory_map(m))
    import re

    assert len([t for t in root.iter(f"{NS}text") if re.fullmatch(r"\d+ GiB", t.text or "")]) == 8


def test_bad_arguments_are_refused():
    from vmsim.errors import InvalidInput

    m = arm64_vm(256 * MiB).boot()
    with pytest.raises(InvalidInput, match="no 'DMA32' free list"):
        svg.free_queues(m, 0, "DMA32")
    with pytest.raises(InvalidInput, match="domain 3 is out of range"):
        svg.free_queues(m, 3)
