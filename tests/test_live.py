"""The live panels' Python side (vmsim.live), driven from CPython exactly as the page drives it on Pyodide."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from book_toc import toc_documents
from layouts import GiB, MiB

from vmsim import pc
from vmsim.live import ACTIONS, Lab, check_answer, parse_size, run_code, scratch_namespace


def test_a_lab_boots_what_no_static_frame_has_and_matches_the_library():
    lab = Lab()
    out = lab.boot({"layout": "pc", "ram": "48 GiB", "domains": 3, "revision": "committed"})
    assert out["ok"], out
    m = pc(48 * GiB, domains=3).boot(revision="committed")
    counters = dict(out["counters"])
    assert counters["vm_page_init_page calls at boot"] == f"{m.startup_page_inits:,}"
    assert counters["free pages"] == f"{m.free_pages_count():,}" and out["ndomains"] == 3
    ET.fromstring(out["map"]), ET.fromstring(out["queues"])
    json.dumps(out)  # what the page receives


def test_operations_accumulate_and_report_their_work():
    lab = Lab()
    lab.boot({"layout": "pc", "ram": "1 GiB"})
    out = lab.act({"op": "alloc_pages", "pool": "DEFAULT", "order": 0})
    assert out["ok"] and "returned 0x2000000" in out["message"] and "4,095 vm_page_init_page calls" in out["message"]
    out = lab.act({"op": "lazy_step", "blocks": 3})
    assert "initialized 3 blocks" in out["message"]
    assert lab.act({"op": "free_last"})["ok"] and lab.allocations == []
    out = lab.act({"op": "unfree_page", "pa": "0x20000000"})
    assert "returned true" in out["message"] and dict(out["counters"])["domains drained (initdone)"] == "0"
    assert "returned [" in lab.act({"op": "alloc_contig", "npages": 6000, "alignment": "2 MiB"})["message"]


@pytest.mark.parametrize("settings, message", [
    ({"layout": "pc", "ram": "lots"}, "ram 'lots' is not a size"),
    ({"layout": "pc", "ram": "101 MiB"}, "must be a multiple of 2 MiB"),
    ({"layout": "toaster"}, "unknown layout 'toaster'"),
    ({"layout": "pc", "revision": "v9"}, "unknown revision 'v9'"),
    ({"layout": "pc", "domains": 9}, "domains 9 must be an integer in \\[1, 8\\]"),
    ({"layout": "pc", "colour": 1}, "unknown settings \\['colour'\\]"),
    ({"layout": "firecracker", "ram": "8 GiB"}, "at most 3 GiB"),
])
def test_bad_settings_are_one_sentence_and_keep_the_machine(settings, message):
    import re

    lab = Lab()
    lab.boot({"layout": "pc", "ram": "256 MiB"})
    before = lab.machine
    out = lab.boot(settings)
    assert out["ok"] is False and re.search(message, out["error"]) and "Traceback" not in out["error"]
    assert lab.machine is before


def test_bad_operations_are_one_sentence_and_change_nothing():
    lab = Lab()
    assert "boot a machine first" in lab.act({"op": "lazy_init"})["error"]
    lab.boot({"layout": "arm64_vm", "ram": "256 MiB"})
    before = lab.machine.dump()
    for action, message in [({"op": "alloc_pages", "order": 99}, "order 99 is out of range"),
                            ({"op": "unfree_page", "pa": "1 KiB"}, "not page aligned"),
                            ({"op": "free_last"}, "nothing allocated"), ({"op": "dance"}, "unknown operation")]:
        out = lab.act(action)
        assert out["ok"] is False and message in out["error"], out
    assert lab.machine.dump() == before


def test_a_broken_allocator_is_caught_in_the_panel():
    out = Lab().boot({"layout": "arm64_vm", "ram": "64 MiB", "bug": "NoSuccessorInit"})
    assert out["ok"] is False and "uninitialized-read" in out["error"]


def test_sizes_read_as_a_reader_writes_them():
    assert parse_size("ram", "48 GiB") == 48 * GiB and parse_size("ram", "1.5 TiB") == 3 << 39
    assert parse_size("x", "256M") == 256 * MiB and parse_size("x", "0x1000") == 4096 and parse_size("x", 7) == 7


def test_the_scratchpad_prints_shows_the_last_value_and_only_the_last_frame():
    ns = scratch_namespace()
    out = run_code("m = Machine([[0, 1 << 30]], [[65536, 1040187392]])\nprint('booted')\nm.page_inits", ns)
    assert out == {"stdout": "booted\n", "stderr": "", "value": "87", "svg": None, "error": None}
    assert run_code("m.alloc_pages(0, 'DEFAULT', 0)", ns)["value"] == str(16 << 20)  # the namespace lives on
    out = run_code("def f():\n    return 1 / 0\nf()", ns)
    assert out["error"] == "line 2: ZeroDivisionError: division by zero"
    out = run_code("m.alloc_pages(0, 'LAZYINIT', 0)", ns)
    assert out["error"].startswith("line 1: InvalidInput: vm_phys_alloc_pages: pool 0 is out of range")
    assert run_code("x = (", ns)["error"].startswith("line 1: SyntaxError")
    assert run_code("svg.counters(m)", ns)["svg"].startswith("<svg")


def test_an_answer_box_checks_with_the_exercises_module():
    from vmsim.exercises import EXERCISES, answer

    if not EXERCISES:
        pytest.skip("no exercise registered yet")
    number = next(iter(EXERCISES))
    assert check_answer(number, f"{answer(number):,}")["ok"] is True
    assert check_answer(number, str(answer(number) + 1))["ok"] is False
    assert "not a whole number" in check_answer(number, "many")["message"]
    assert "no exercise" in check_answer("99.9", "1")["message"]


def test_a_session_answers_the_pages_requests_in_json():
    from vmsim.live import Session

    s = Session()
    out = json.loads(s.handle_json(json.dumps({"kind": "boot", "panel": "p1", "settings": {"ram": "64 MiB"},
                                               "views": ["map"]})))
    assert out["ok"] and "map" in out and "queues" not in out
    out = json.loads(s.handle_json(json.dumps({"kind": "act", "panel": "p1",
                                               "action": {"op": "alloc_pages", "pool": "DIRECT", "order": 2}})))
    assert out["ok"] and out["allocations"] == 1
    assert json.loads(s.handle_json('{"kind": "run", "pad": "a", "code": "x = 2"}'))["error"] is None
    assert json.loads(s.handle_json('{"kind": "run", "pad": "a", "code": "x * 21"}'))["value"] == "42"
    assert "NameError" in json.loads(s.handle_json('{"kind": "run", "pad": "b", "code": "x"}'))["error"]
    for bad in ("[1]", "{", '{"kind": "fly"}', '{"kind": "act"}'):
        out = json.loads(s.handle_json(bad))
        assert out["ok"] is False and out["error"].startswith("live:"), (bad, out)


# -- the panels and scratchpads the chapters carry (cell metadata ``vmsim_live``) -----------------
BOOK = Path(__file__).resolve().parents[1]
LIVE_JS = (BOOK / "book" / "_ext" / "static" / "vmsim-live.js").read_text()
#: Example arguments a reader might type into an operation's fields.
ACTION_ARGS = {"unfree_page": {"pa": "0x8000000"}, "blacklist_add": {"pa": "0x9000000"},
               "scan_range": {"low": "0"}, "alloc_contig": {"npages": 1024, "alignment": "4 KiB"}}


def chapters():
    for doc in toc_documents(BOOK / "_toc.yml"):
        path = BOOK / f"{doc}.ipynb"
        if path.exists():
            yield doc, json.loads(path.read_text())


def live_metadata(nb, key):
    return [(c, c["metadata"]["vmsim_live"][key]) for c in nb["cells"]
            if key in c["metadata"].get("vmsim_live", {})]


def widget_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"
            and re.search(r"\bvmsim\.widgets\b|\bwidgets\.\w+\(|\bvw\.\w+_explorer\(|StaticSlider\(|_explorer\(",
                          "".join(c["source"]))]


def boot_settings(config):
    """The settings a panel sends on its first boot (as vmsim-live.js computes them)."""
    settings = dict(config.get("settings", {}))
    if "proposals" in settings:
        settings["revision"] = {flag: True for flag in settings.pop("proposals")}
    return settings


@pytest.mark.parametrize("doc, nb", list(chapters()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_chapter_with_a_widget_has_a_live_panel_that_boots_and_runs_its_operations(doc, nb):
    panels = live_metadata(nb, "panel")
    assert bool(panels) == bool(widget_cells(nb)), f"{doc}: a live panel beside each pre-rendered widget"
    for cell, config in panels:
        assert cell in widget_cells(nb), f"{doc}: panel on a cell with no widget"
        unknown = set(config) - {"title", "settings", "controls", "actions", "views", "bugs"}
        assert not unknown, f"{doc}: unknown panel keys {unknown}"
        for control in config.get("controls", []):
            assert re.search(rf"\n\s+{control}: function", LIVE_JS), f"{doc}: the page has no {control!r} control"
        assert set(config.get("views", [])) <= {"map", "queues"}
        lab = Lab()
        out = lab.boot(boot_settings(config), config.get("views", ["map", "queues"]))
        assert out["ok"], f"{doc}: {out}"
        for op in config.get("actions", []):
            assert op in ACTIONS and f"\n    {op}: function" in LIVE_JS, f"{doc}: unknown operation {op!r}"
            out = lab.act({"op": op, **ACTION_ARGS.get(op, {})})
            assert "internal error" not in out.get("error", ""), f"{doc}: {op}: {out}"


@pytest.mark.parametrize("doc, nb", list(chapters()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_exercises_section_gets_a_scratchpad_whose_code_runs(doc, nb):
    markdown = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    pads = live_metadata(nb, "scratchpad")
    if "## Exercises" in markdown and doc != "book/teachers":
        assert re.search(r"\([\w-]+-exercises\)=\n## Exercises", markdown), f"{doc}: label the exercises section"
        assert len(pads) == 1, f"{doc}: one scratchpad's starting code"
    for _cell, code in pads:
        out = run_code(code, scratch_namespace())
        assert out["error"] is None and (out["value"] or out["stdout"]), f"{doc}: {out}"
