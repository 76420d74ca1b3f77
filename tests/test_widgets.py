"""Widgets (vmsim.widgets): driven from code, linked in the front end, frames with alt text."""


import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import pytest  # noqa: E402
from layouts import MiB  # noqa: E402
from widget_state import alts, links  # noqa: E402

from vmsim import viz  # noqa: E402
from vmsim.errors import InvalidInput  # noqa: E402
from vmsim.layout import pc  # noqa: E402
from vmsim.widgets import (  # noqa: E402
    LIVE_LABEL,
    StaticGrid,
    StaticSlider,
    allocation_stepper,
    boot_explorer,
    contig_explorer,
    fallback_explorer,
)

FRAME_LIMIT = 80_000




def check_frames(frames):
    for frame in frames:
        assert len(frame) < FRAME_LIMIT
        assert all(len(a) > 20 for a in alts(frame))


@pytest.fixture(scope="module")
def machines():
    return {ram: pc(ram).boot() for ram in (64 * MiB, 256 * MiB, 1024 * MiB)}


def test_static_slider_switches_frames_in_python_and_in_the_front_end(machines):
    calls = []

    def render(ram):
        calls.append(ram)
        return viz.memory_map(machines[ram], bins=64)

    w = StaticSlider(list(machines), render, description="RAM", labels=["64M", "256M", "1G"])
    assert calls == list(machines) and isinstance(w, widgets.VBox)
    assert isinstance(w.slider, widgets.SelectionSlider) and isinstance(w.stack, widgets.Stack)
    assert (w.index, w.frame_index) == (0, 0)
    w.value = 1024 * MiB
    assert (w.index, w.frame_index, w.stack.selected_index) == (2, 2, 2)
    w.index = 1
    assert w.value == 256 * MiB and w.frame_index == 1
    assert (w.slider.model_id, "index", w.stack.model_id, "selected_index") in links(w)
    check_frames(w.frames)
    assert "1023 MiB" in alts(w.frames[2])[0]
    assert calls == list(machines)  # moving the slider renders nothing
    with pytest.raises(InvalidInput):
        w.value = 3


def test_static_slider_bounds_its_frames_and_uses_given_alt_text(machines):
    with pytest.raises(InvalidInput):
        StaticSlider(range(25), lambda v: "<p>x</p>")
    with pytest.raises(InvalidInput):
        StaticSlider([1, 2], lambda v: "<p>x</p>", labels=["one"])
    m = machines[64 * MiB]
    w = StaticSlider([64], lambda v: viz.free_queues(m), alt=lambda v: f"queues of a {v} MiB machine, domain 0")
    assert alts(w.frames[0]) == ["queues of a 64 MiB machine, domain 0"]


def test_static_slider_live_refresh_rerenders_stale_frames_on_demand():
    setting = {"n": 1}
    w = StaticSlider([1, 2, 3], lambda v: f"<p>{v * setting['n']}</p>",
                     live=(widgets.IntText(description="factor"),))
    assert LIVE_LABEL in w.children[-1].children[0].value
    setting["n"] = 10
    w.refresh()
    assert w.frames == ["<p>10</p>", "<p>2</p>", "<p>3</p>"] and w.stale == 2
    w.index = 2
    assert w.frames[2] == "<p>30</p>" and w.stale == 1
    w.append(4, "four")
    assert (w.index, w.frame_index, w.frames[-1], w.slider.options[-1]) == (3, 3, "<p>40</p>", ("four", 3))


def test_static_grid_links_both_controls_to_nested_stacks():
    w = StaticGrid(["a", "b", "c"], [1, 2], lambda a, b: f"<p>{a}{b}</p>", kind_b="toggle")
    assert w.frames == [["<p>a1</p>", "<p>a2</p>"], ["<p>b1</p>", "<p>b2</p>"], ["<p>c1</p>", "<p>c2</p>"]]
    assert isinstance(w.control_b, widgets.ToggleButtons)
    w.value = ("c", 2)
    assert w.index == (2, 1) and w.frame_index == (2, 1)
    found = links(w)
    assert (w.control_a.model_id, "index", w.stack.model_id, "selected_index") in found
    for inner in w.stack.children:
        assert (w.control_b.model_id, "index", inner.model_id, "selected_index") in found
    with pytest.raises(InvalidInput):
        StaticGrid(range(10), range(10), lambda a, b: "")


def test_boot_explorer_shows_the_machine_of_its_settings():
    ex = boot_explorer([64 * MiB, 256 * MiB], holes=(0, 2), domains=(1,))
    assert ex.frame_index == (0, 0) and ex.state["mode"] == "lazy"
    ex.value = (256 * MiB, "eager")
    assert ex.frame_index == (1, 1)
    s = ex.state
    assert s["startup_page_inits"] == s["pages"] == pc(256 * MiB).boot(lazy=False).total_pages
    assert ex.machine.lazy is False
    for row in ex.frames:
        check_frames(row)
    eager_frame = ex.frames[1][1]
    assert f"{s['startup_page_inits']:,}" in eager_frame
    ex.holes.value = 2
    assert ex.state["holes"] == 2 and len(ex.machine.phys_avail) == len(pc(256 * MiB, holes=2).phys_avail)
    assert ex.stale == 3 and ex.frames[1][1] != eager_frame  # the visible frame was redrawn at once
    ex.index = (0, 1)
    assert ex.stale == 2


def test_every_combination_the_boot_explorer_offers_builds():
    # RAM x holes x NUMA domains of chapter 4's explorer, both revisions: no frame may be an error.
    from vmsim.widgets.boot import DEFAULT_BOOT_RAMS

    for ram in sorted({256 * MiB, 1 << 30, 3 << 30, 4 << 30, 16 << 30, *DEFAULT_BOOT_RAMS[:6]}):
        for holes in (0, 2, 8):
            for domains in (1, 2, 4):
                m = pc(ram, holes=holes, domains=domains).boot()
                assert m.ndomains == domains and all(m.free_pages_count(d) for d in range(domains))
                m.check()


def test_boot_explorer_explains_impossible_settings():
    ex = boot_explorer([64 * MiB], holes=(0, 600))
    ex.holes.value = 600  # 600 holes of 64 KiB do not fit in 64 MiB
    assert "holes do not fit" in ex.state["error"] and ex.machine is None
    assert "cannot be built" in ex.frames[0][0]


def test_allocation_stepper_steps_through_a_script_and_applies_live_steps():
    script = [("alloc", "DEFAULT", 0), ("free", 1), ("lazy", 1)]
    base = pc(128 * MiB).boot()
    st = allocation_stepper(base, script)
    assert base.nallocated == 0  # the machine given was copied
    assert [s["op"] for s in st.steps] == [("boot",)] + script
    assert st.frame_index == 0 and len(st.frames) == 4
    st.index = 1
    assert st.frame_index == 1 and st.state["result"] == 32 * MiB and st.state["events"] == 15
    assert st.steps[2]["free_pages"] == st.steps[0]["free_pages"]
    check_frames(st.frames)
    assert any("12 pieces back to DEFAULT" in a for a in alts(st.frames[1]))
    st.pool.value, st.order.value = "DIRECT", 3
    st.alloc_button.click()
    assert st.index == st.frame_index == 4 and st.state["op"] == ("alloc", "DIRECT", 3)
    assert st.machine.nallocated == 8
    with pytest.raises(InvalidInput):
        st.apply(("free", 3))  # step 3 was a thread step
    with pytest.raises(InvalidInput):
        allocation_stepper(script=[("explode",)])


def test_fallback_explorer_compares_the_search_before_and_after_the_drain():
    ex = fallback_explorer(orders=[0, 12])
    ex.value = (0, "DIRECT")
    assert ex.frame_index == (0, 1)
    s = ex.state
    assert s["before"][-1]["pool"] == "LAZYINIT" and s["after"][-1]["pool"] == "DEFAULT"
    assert ex.after.default_pool == "DEFAULT" and ex.before.default_pool == "LAZYINIT"
    for row in ex.frames:
        check_frames(row)
    assert "set_pool initializes 4,095 structures" in ex.frames[0][1]
    before = ex.frames[0][1]
    ex.allocate()
    assert ex.before.nallocated == 2 and ex.frames[0][1] != before  # the default machine holds one page


def test_contig_explorer_finds_runs_and_counts_what_the_blacklist_initializes():
    ex = contig_explorer(npages=[1, 8192])
    ex.value = 8192
    assert ex.frame_index == 1
    s = ex.state
    start, end = s["run"]
    assert end - start == 8192 * 4096 and s["blacklist_inits"] == 0 and s["contig_inits"] == 2 * 4095
    check_frames(ex.frames)
    ex.blacklist.value = 100 * MiB
    s = ex.state
    assert s["blacklist_inits"] > 0 and s["contig_inits"] == 0
    assert ex.machine.blacklisted == [100 * MiB] and ex.machine.uninitialized_free() == 0
    ex.boundary.value = 4 * MiB
    assert "error" in ex.state and "refuses" in ex.frames[1]


def test_live_controls_sit_in_a_box_marked_for_static_pages():
    from vmsim.widgets.static import LIVE_CLASS, live_box

    box = live_box(widgets.IntText(description="factor"), note="recomputes every frame")
    assert LIVE_CLASS in box._dom_classes


def test_deferred_init_model_applies_linux_2015_rule_per_node_and_counts_freebsd_with_vmsim():
    from vmsim.widgets import compare_deferred_init

    gib, cap = 1 << 30, (2 << 30) // 4096
    c = compare_deferred_init(64 * gib)
    m = pc(64 * gib).boot()
    below_4g = sum(min(s.end, (4 * gib) >> 12) - s.start for s in m.segtab.segs if s.start < (4 * gib) >> 12)
    # one node: DMA and DMA32 (below the highest zone, NORMAL) whole, then the first 2 GiB of NORMAL
    assert c.linux_early == below_4g + cap and c.linux_early + sum(c.linux_deferred) == c.pages == m.total_pages
    assert (c.freebsd_startup, c.freebsd_initialized) == (m.startup_page_inits, m.initialized)
    # a node whose memory all lies below 4 GiB: its highest zone is DMA32, and it gets 2 GiB at most
    assert compare_deferred_init(1 * gib).linux_deferred == (0,)
    four = compare_deferred_init(64 * gib, nodes=4)
    # node 0 holds all memory below 4 GiB and NORMAL above it; nodes 1 to 3 only NORMAL: 2 GiB early each
    assert four.nodes == 4 and four.linux_early == below_4g + 4 * cap
    assert four.linux_early + sum(four.linux_deferred) == four.pages
    assert four.linux_wait_s == four.model.seconds(max(four.linux_deferred))
    assert compare_deferred_init(64 * gib, nodes=4, threads_per_node=4).linux_wait_s == four.linux_wait_s / 4
    assert four.linux_boot_path_s < c.linux_boot_path_s
    assert abs(c.linux_boot_path_s - c.eager_s) < 1e-9  # one node, one thread: boot waits for every structure
    # vmlazyinit's work per domain is what the thread really does when nothing else took a lazy block
    two = compare_deferred_init(4 * gib, nodes=2)
    machine = pc(4 * gib, domains=2).boot()
    before = machine.page_inits
    machine.lazy_init()
    assert sum(two.freebsd_background) == machine.page_inits - before
    assert two.freebsd_boot_path_s == two.model.seconds(machine.startup_page_inits)
    with pytest.raises(ValueError):
        compare_deferred_init(gib, threads_per_node=0)


def test_deferred_init_explorer_prerenders_every_frame_with_alt_text():
    from vmsim.widgets import deferred_init_explorer

    ex = deferred_init_explorer(rams=[1 << 30, 4 << 30], nodes=(1, 2), show_progress=False)
    assert isinstance(ex.control_b, widgets.ToggleButtons)
    assert sorted(ex.comparisons) == [(1 << 30, 1), (1 << 30, 2), (4 << 30, 1), (4 << 30, 2)]
    for row in ex.frames:
        check_frames(row)
        for frame in row:
            assert "Linux" in alts(frame)[0] and "vmlazyinit" in frame
    ex.value = (4 << 30, 2)
    assert ex.frame_index == (1, 1)
    c = ex.comparisons[(4 << 30, 2)]
    assert f"{c.linux_early:,}" in ex.frames[1][1] and f"{c.freebsd_initialized:,}" in ex.frames[1][1]
