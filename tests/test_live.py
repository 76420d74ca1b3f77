"""The live panels' Python side (vmsim.live), driven from CPython exactly as the page drives it on Pyodide."""

import json
import xml.etree.ElementTree as ET

import pytest
from layouts import GiB, MiB

from vmsim import pc
from vmsim.live import Lab, check_answer, parse_size, run_code, scratch_namespace


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
