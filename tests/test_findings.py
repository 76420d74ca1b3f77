"""Chapter 10's findings: the scenario files say what the findings claim; the timeline, the comparison figure
and the proposal explorer (vmsim.viz.timeline, vmsim.viz.revisions, vmsim.widgets.proposal)."""

import io
import json
import pathlib
import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from layouts import PAGE, GiB, MiB  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from widget_state import alts, links  # noqa: E402

from vmsim import viz  # noqa: E402
from vmsim.errors import InvalidInput  # noqa: E402
from vmsim.experiments import revision_costs  # noqa: E402
from vmsim.layout import firecracker, pc  # noqa: E402
from vmsim.replay import run_scenario  # noqa: E402
from vmsim.revisions import PROPOSAL_FLAGS  # noqa: E402
from vmsim.viz.timeline import Interleaving, race_interleaving  # noqa: E402
from vmsim.widgets import proposal_explorer  # noqa: E402
from vmsim.widgets.proposal import FINDINGS_PC, FLAG_TITLES, RACE_PC  # noqa: E402

SCENARIOS = pathlib.Path(__file__).parent / "scenarios"
FINDINGS = sorted(p for p in SCENARIOS.glob("finding_*.json") if not p.name.endswith(".expected.json"))
ON_FINDINGS_PC = {"finding_gap_walk", "finding_segment_tail", "finding_segment_tail_scan",
                  "finding_segment_tail_unfree", "finding_segment_tail_bootstrap_free", "finding_successor_write",
                  "finding_domain_end"}
ON_RACE_PC = {"finding_race_scan", "finding_race_unfree"}


FRAME_LIMIT = 80_000


def check_figure(fig):
    """What every figure promises: a Figure with a one-sentence alt text, a title, a white face, drawable."""
    assert isinstance(fig, Figure)
    assert len(fig.alt_text) > 20 and fig.alt_text.endswith(".")
    assert (fig._suptitle and fig._suptitle.get_text()) or any(ax.get_title() for ax in fig.axes)
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    fig.savefig(io.BytesIO(), format="png", dpi=40)




def expected(name: str, revision: str) -> dict:
    suffix = "" if revision == "committed" else f".{revision}"
    return json.loads((SCENARIOS / f"{name}{suffix}.expected.json").read_text())


def error(name: str, revision: str) -> dict:
    return expected(name, revision).get("error")


# -- the scenario files -------------------------------------------------------------------------------------
def test_every_finding_has_a_committed_scenario_on_one_of_the_two_layouts():
    assert {p.stem for p in FINDINGS} == ON_FINDINGS_PC | ON_RACE_PC
    for path in FINDINGS:
        scenario = json.loads(path.read_text())
        assert scenario["revision"] == "committed" and "Finding" in scenario["comment"]
        layout = FINDINGS_PC if path.stem in ON_FINDINGS_PC else RACE_PC
        extra = {"blacklist": scenario["blacklist"]} if "blacklist" in scenario else {}
        assert layout.scenario(scenario["ops"], revision="committed", comment=scenario["comment"], **extra) == scenario


def test_finding_1_the_committed_walk_initializes_a_covered_free_page_and_the_drain_does_it_again():
    for revision in ("seed", "committed"):
        out = expected("finding_gap_walk", revision)
        assert out["results"][0]["initialized"] and out["results"][0]["pool"] == "DEFAULT"
        assert out["results"][0]["free_block"] == {"pa": 18 * MiB, "order": 9, "pool": "LAZYINIT"}
    committed, proposed = expected("finding_gap_walk", "committed"), expected("finding_gap_walk", "proposed")
    assert not proposed["results"][0]["initialized"]
    boot_c, boot_p = committed["results"][1]["page_inits"], proposed["results"][1]["page_inits"]
    assert (boot_c, boot_p) == (9750, 6164)
    assert committed["final"]["page_inits"] - boot_c == proposed["final"]["page_inits"] - boot_p  # same drain
    # 5,632 pages of [18, 40 MiB) saved, 2,048 tail pages added, 2 successor writes saved.
    assert boot_c - boot_p == 5632 - 2048 + 2
    assert FINDINGS_PC.boot(revision={"skip_covered_ranges": True}).startup_page_inits == boot_c - 5632


def test_finding_2_a_tail_exists_only_after_the_last_pair_of_the_array():
    committed = expected("finding_segment_tail", "committed")
    kernel, after_run, tail, _, tail_after_drain, freed = committed["results"]
    assert kernel["initialized"] and kernel["pool"] == "DEFAULT"  # after its segment's own last pair
    assert after_run["pool"] == "LAZYINIT"  # the chunk helper's successor write (Finding 4)
    assert not tail["initialized"] and not tail_after_drain["initialized"]
    assert freed is None
    proposed = expected("finding_segment_tail", "proposed")
    assert all(r["initialized"] and r["pool"] == "DEFAULT" for r in proposed["results"] if isinstance(r, dict))
    m = FINDINGS_PC.boot(revision="committed")
    m.lazy_init()
    assert m.count_uninitialized() == m.count_uninitialized(88 * MiB, 96 * MiB) == 2047


@pytest.mark.parametrize("name, op, pa", [("finding_segment_tail_scan", "vm_page_scan_contig", 88 * MiB + PAGE),
                                          ("finding_segment_tail_unfree", "vm_phys_unfree_page", 92 * MiB),
                                          ("finding_segment_tail_bootstrap_free", "vm_phys_free_pages", 92 * MiB)])
def test_finding_2_each_path_reads_garbage_in_the_tail_unless_the_proposal_initialized_it(name, op, pa):
    for revision in ("seed", "committed"):
        e = error(name, revision)
        assert e["type"] == "UninitializedPageRead" and f"{op} read" in e["message"] and f"{pa:#x}" in e["message"]
    assert error(name, "proposed") is None


def test_finding_2_the_proposal_frees_the_tail_page_and_scans_the_whole_segment():
    assert expected("finding_segment_tail_scan", "proposed")["results"][0] == [64 * MiB, 96 * MiB]
    assert expected("finding_segment_tail_unfree", "proposed")["results"] == [False]
    page = expected("finding_segment_tail_bootstrap_free", "proposed")["results"][1]
    assert page["free_block"] == {"pa": 92 * MiB, "order": 0, "pool": "DEFAULT"}


@pytest.mark.parametrize("name, op", [("finding_race_scan", "vm_page_scan_contig"),
                                      ("finding_race_unfree", "vm_phys_unfree_page")])
def test_finding_3_a_drain_in_the_window_lets_its_caller_read_the_threads_block(name, op):
    for revision in ("seed", "committed"):
        e = error(name, revision)
        assert e["type"] == "UninitializedPageRead" and f"{op} read" in e["message"] and "0x1001000" in e["message"]
    proposed = expected(name, "proposed")
    assert proposed["results"][0] == {"domain": 0, "pa": 16 * MiB, "order": 12, "lock_dropped": True}
    assert proposed["results"][1] in ([16 * MiB, 32 * MiB], True)
    assert proposed["results"][2] == 1  # the thread's step finds its block done
    assert proposed["final"]["page_inits"] == proposed["final"]["initialized"] == 16384  # each structure once


def test_finding_4_the_successor_write_trips_the_pool_assertion_of_a_bootstrap_free():
    for revision in ("seed", "committed"):
        e = error("finding_successor_write", revision)
        assert e["type"] == "InvariantViolation" and "0x200000 has unexpected pool LAZYINIT" in e["message"]
    before, freed, after = expected("finding_successor_write", "proposed")["results"]
    assert before["pool"] == "DEFAULT" and freed is None
    assert after["free_block"] == {"pa": 2 * MiB, "order": 2, "pool": "DEFAULT"}
    for ram in (128 * MiB, GiB):  # the Firecracker layouts have the same page after [1 MiB, 2 MiB)
        assert firecracker(ram).boot(revision="committed").page(2 * MiB).pool == "LAZYINIT"
        assert firecracker(ram).boot(revision={"successor_inside_run": True}).page(2 * MiB).pool == "DEFAULT"


def test_finding_5_blacklisting_a_domains_first_page_takes_the_wrong_lock():
    for revision in ("seed", "committed"):
        e = error("finding_domain_end", revision)
        assert e["type"] == "CorruptionRefused" and "locked domain 0" in e["message"]
    page, state = expected("finding_domain_end", "proposed")["results"]
    assert page["blacklisted"] and state["free_pages"] == {"0": 10142, "1": 6143}
    assert {q["pool"] for q in state["queues"] if q["domain"] == 1} == {"DEFAULT"}  # only domain 1 drained
    assert {q["pool"] for q in state["queues"] if q["domain"] == 0} == {"LAZYINIT"}


def test_each_proposal_alone_fixes_its_own_scenario():
    flags = {"finding_gap_walk": "skip_covered_ranges", "finding_segment_tail_scan": "init_segment_tail",
             "finding_segment_tail_unfree": "init_segment_tail",
             "finding_segment_tail_bootstrap_free": "init_segment_tail",
             "finding_race_scan": "drain_waits_for_thread", "finding_race_unfree": "drain_waits_for_thread",
             "finding_successor_write": "successor_inside_run", "finding_domain_end": "domain_end_exclusive"}
    for name, flag in flags.items():
        scenario = json.loads((SCENARIOS / f"{name}.json").read_text())
        out = run_scenario(dict(scenario, revision={flag: True}), debug=True)  # no error
        if name == "finding_gap_walk":
            assert not out["results"][0]["initialized"]


# -- vmsim.viz.timeline ---------------------------------------------------------------------------------------
def test_race_interleaving_follows_the_recorded_events():
    committed = race_interleaving(RACE_PC.boot(revision="committed"), 0, 1, 16 * MiB, 32 * MiB)
    assert isinstance(committed, Interleaving) and committed.revision == "committed"
    assert committed.held == (0, 16 * MiB, 12) and committed.drained == 6 and not committed.waited
    assert committed.garbage_pa == 16 * MiB + PAGE and committed.found == (16 * MiB, 32 * MiB)
    lanes = [s.lane for s in committed.steps]
    assert lanes[:4] == ["thread"] * 4 and lanes[-1] == "thread" and set(lanes[4:-1]) == {"cpu"}
    assert [s.kind for s in committed.steps].count("garbage") == 1
    assert committed.window == (3, len(committed.steps) - 1)
    proposed = race_interleaving(RACE_PC.boot(revision={"drain_waits_for_thread": True}), 0, 1, 16 * MiB, 32 * MiB)
    assert proposed.waited and proposed.garbage_pa is None and proposed.scanned == 4096
    kinds = [s.kind for s in proposed.steps]
    wait = kinds.index("wait")
    assert proposed.steps[wait + 1].lane == "thread" and proposed.window == (3, wait + 1)
    assert "initdone" in proposed.steps[wait + 2].text and kinds[-2] == "ok"


def test_race_interleaving_needs_a_window():
    m = RACE_PC.boot(revision="committed", free_reserved=1 << 30)  # a shortage: the thread keeps the lock
    with pytest.raises(InvalidInput, match="no window"):
        race_interleaving(m, 0, 1, 16 * MiB, 32 * MiB)
    m = RACE_PC.boot(lazy=False)
    with pytest.raises(InvalidInput, match="no lazy block"):
        race_interleaving(m, 0, 1, 16 * MiB, 32 * MiB)


def test_race_timeline_draws_one_panel_per_interleaving():
    ils = {rev: race_interleaving(RACE_PC.boot(revision=rev), 0, 1, 16 * MiB, 32 * MiB)
           for rev in ("committed", "proposed")}
    fig = viz.race_timeline(ils)
    check_figure(fig)
    assert len(fig.axes) == 2 and fig.interleavings == ils
    assert "garbage at 0x1001000" in fig.alt_text and "the drain waits" in fig.alt_text
    assert viz.race_timeline(list(ils.values())).interleavings.keys() == ils.keys()
    with pytest.raises(InvalidInput):
        viz.race_timeline({})


# -- vmsim.viz.revisions --------------------------------------------------------------------------------------
def test_boot_by_revision_draws_every_row_and_names_the_largest_saving():
    rows = revision_costs({"pc 4 GiB": pc(4 * GiB), "firecracker 128 MiB": firecracker(128 * MiB)}, first_allocs=4)
    fig = viz.boot_by_revision(rows)
    check_figure(fig)
    bars = [p for p in fig.axes[0].patches]
    assert len(bars) == len(rows)
    assert sorted(round(b.get_x() + b.get_width()) for b in bars) == sorted(r["boot"] for r in rows)
    assert "pc 4 GiB" in fig.alt_text and "786,186" in fig.alt_text and "7,946" in fig.alt_text
    with pytest.raises(InvalidInput):
        viz.boot_by_revision([])


# -- vmsim.widgets.proposal -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def explorer():
    return proposal_explorer(show_progress=False)


def test_proposal_explorer_has_a_frame_per_flag_and_mode_linked_in_the_front_end(explorer):
    assert explorer.values_a == list(PROPOSAL_FLAGS) and explorer.values_b == ["without", "with"]
    assert [label for label, _ in explorer.control_a.options] == [FLAG_TITLES[f] for f in PROPOSAL_FLAGS]
    frames = [f for row in explorer.frames for f in row]
    assert len(frames) == 10
    assert all(len(f) < FRAME_LIMIT and all(len(a) > 20 for a in alts(f)) for f in frames)
    saved = links(explorer)
    assert (explorer.control_a.model_id, "index", explorer.stack.model_id, "selected_index") in saved
    for inner in explorer.stack.children:
        assert (explorer.control_b.model_id, "index", inner.model_id, "selected_index") in saved
    explorer.value = ("init_segment_tail", "with")
    assert explorer.frame_index == (1, 1) and explorer.state["with"] is True
    assert "structures never initialized, after the drain: 0" in alts(explorer.frames[1][1])[0]
    with pytest.raises(InvalidInput):
        proposal_explorer(["no_such_flag"], show_progress=False)


def test_proposal_explorer_scenes_show_each_finding_and_its_fix(explorer):
    facts = {(flag, on): explorer.scene(flag, on)["facts"] for flag in PROPOSAL_FLAGS for on in (False, True)}
    gap = [facts[("skip_covered_ranges", on)]["vm_page_init_page calls at boot"] for on in (False, True)]
    assert gap == ["9,750", "4,118"]
    assert facts[("init_segment_tail", False)]["structures never initialized, after the drain"] == "2,047"
    scan = "scan_range over [0x1000000, 0x2000000) in the window"
    assert facts[("drain_waits_for_thread", False)][scan].startswith("UninitializedPageRead")
    assert "all initialized" in facts[("drain_waits_for_thread", True)][scan]
    assert facts[("successor_inside_run", False)]["non-free structures whose pool reads LAZYINIT"] == \
        "0x200000, 0x5800000"
    assert facts[("successor_inside_run", True)]["kmem_bootstrap_free(0x200000)"] == "frees it into pool DEFAULT"
    assert facts[("domain_end_exclusive", False)]["vm.blacklist=0x4000000"].startswith("CorruptionRefused")
    assert facts[("domain_end_exclusive", True)]["vm.blacklist=0x4000000"] == \
        "listed: True; domains drained at boot: [1]"
    highlights = {flag: explorer.scene(flag, False)["highlight"] for flag in PROPOSAL_FLAGS}
    assert highlights["skip_covered_ranges"] == [(18 * MiB, 40 * MiB, "free, yet initialized by the committed walk")]
    assert highlights["init_segment_tail"] == [(88 * MiB, 96 * MiB, "segment tail")]
    assert highlights["drain_waits_for_thread"][0][:2] == (16 * MiB, 32 * MiB)
    assert re.search(r"revision <code>committed\+domain_end_exclusive</code>", explorer.frames[4][1])
