"""Every bad argument is the library's own error, names its field and changes nothing (vmsim.validate).

The library half calls :class:`vmsim.machine.Machine` directly; the command-line half runs
``python -m vmsim replay`` on bad files and requires exit status 2, one line on stderr and
never a traceback.
"""

import json
import subprocess
import sys

import pytest
from layouts import PAGE, GiB, MiB, pfn_range

from vmsim.errors import CorruptionRefused, InvalidInput, ScenarioError, VmsimError
from vmsim.machine import Machine
from vmsim.page import PageArray
from vmsim.replay import parse_scenario, run_scenario
from vmsim.validate import PADDR_LIMIT, show


def snapshot(m: Machine):
    return (json.dumps(m.dump()), m.nallocated, list(m.blacklisted), m.initdone,
            m.initialized_runs(), m.page_inits)


@pytest.fixture
def m():
    machine = Machine([pfn_range(0, 8192)], [pfn_range(16, 7936)], arch="arm64", debug=True)
    machine.alloc_pages(0, "DEFAULT", 0)  # pfn 2048
    return machine


BAD_CONSTRUCTIONS = [
    (lambda: Machine(None, []), "segment ranges must be a list"),
    (lambda: Machine(5, []), "segment ranges must be a list"),
    (lambda: Machine("0-4096", []), "segment ranges must be a list"),
    (lambda: Machine([5], []), "segment entry 5 is not a \\[start, end\\) pair"),
    (lambda: Machine([[False, GiB]], []), "segment entry \\[False, 1073741824\\] is not a \\[start, end\\) pair"),
    (lambda: Machine([[0, 1.5 * MiB]], []), "is not a \\[start, end\\) pair"),
    (lambda: Machine([[1 << 70, (1 << 70) + GiB]], []), "64-bit vm_paddr_t"),
    (lambda: Machine([[PADDR_LIMIT - GiB, PADDR_LIMIT]], []), "64-bit vm_paddr_t"),
    (lambda: Machine([[0, GiB]], None), "phys_avail must be a list"),
    (lambda: Machine([[0, GiB]], [[True, GiB]]), "not a \\[start, end\\) pair"),
    (lambda: Machine([[0, GiB]], [], domains=[]), "domains is empty"),
    (lambda: Machine([[0, GiB]], [], domains=[5]), "affinity entry 5 is not \\[start, end, domain\\]"),
    (lambda: Machine([[0, GiB]], [], domains=[[0, GiB, True]]), "affinity domain True must be an integer"),
    (lambda: Machine([[0, GiB]], [], domains={"a": 1}), "domains must be a list"),
    (lambda: Machine([[0, GiB]], [], blacklist=None), "blacklist must be a list"),
    (lambda: Machine([[0, GiB]], [], blacklist=[True]), "blacklist address True must be an integer"),
    (lambda: Machine([[0, GiB]], [], blacklist=[1 << 64]), "64-bit vm_paddr_t"),
    (lambda: Machine([[0, GiB]], [], lazy=1), "lazy must be true or false"),
    (lambda: Machine([[0, GiB]], [], debug="yes"), "debug must be true or false"),
    (lambda: Machine([[0, GiB]], [], free_reserved=True), "free_reserved True must be an integer"),
    (lambda: Machine([[0, GiB]], [], revision=None), "unknown revision"),
    (lambda: Machine([[0, GiB]], [], arch=["amd64"]), "unknown architecture"),
]


@pytest.mark.parametrize("build, message", BAD_CONSTRUCTIONS, ids=[m for _, m in BAD_CONSTRUCTIONS])
def test_a_bad_layout_is_the_librarys_own_error_naming_the_field(build, message):
    with pytest.raises(InvalidInput, match=message):
        build()


BAD_CALLS = [
    (lambda m: m.alloc_pages(0, "DEFAULT", True), "order True is out of range"),
    (lambda m: m.alloc_pages(True, "DEFAULT", 0), "domain True is out of range"),
    (lambda m: m.alloc_pages(0, True, 0), "unknown pool True"),
    (lambda m: m.alloc_freelist_pages(0, True, "DEFAULT", 0), "unknown free list True"),
    (lambda m: m.alloc_npages(0, "DEFAULT", True), "npages True is out of range"),
    (lambda m: m.free_pages(2048 * PAGE, True), "order True is out of range"),
    (lambda m: m.free_pages(True, 0), "address True must be an integer"),
    (lambda m: m.free_pages(1 << 64, 0), "does not fit in the 64-bit vm_paddr_t"),
    (lambda m: m.free_pages(1 << 20000, 0), "an integer of 20001 bits"),
    (lambda m: m.free_contig(2048 * PAGE, True), "npages True must be an integer"),
    (lambda m: m.alloc_contig(0, True), "npages True must be an integer"),
    (lambda m: m.alloc_contig(0, 1, alignment=True), "alignment True must be an integer"),
    (lambda m: m.alloc_contig(0, 1, boundary=False), "boundary False must be an integer"),
    (lambda m: m.alloc_contig(0, 1, high=1 << 64), "high 0x10000000000000000 does not fit"),
    (lambda m: m.alloc_contig(0, 1, low=-1), "low -1 must be an integer >= 0"),
    (lambda m: m.find_range(0, 1, high=1 << 64), "does not fit in the 64-bit vm_paddr_t"),
    (lambda m: m.find_range(0, True), "npages True must be positive"),
    (lambda m: m.unfree_page(False), "address False must be an integer"),
    (lambda m: m.blacklist_add(1 << 64), "does not fit"),
    (lambda m: m.lazy_step(True), "max_blocks True must be an integer"),
    (lambda m: m.free_pages_count(True), "domain True must be an integer"),
    (lambda m: m.queue(0, "DEFAULT", "DEFAULT", True), "order True is out of range"),
    (lambda m: m.page(3 * PAGE + 1), "not page aligned"),
]


@pytest.mark.parametrize("call, message", BAD_CALLS, ids=[m for _, m in BAD_CALLS])
def test_a_bad_argument_is_refused_and_leaves_the_machine_as_it_was(m, call, message):
    before = snapshot(m)
    with pytest.raises(InvalidInput, match=message):
        call(m)
    assert snapshot(m) == before


def test_a_boundary_smaller_than_the_run_finds_nothing_as_in_the_kernel(m):
    # vm_phys_alloc_contig has no assertion on it: no block passes vm_addr_ok(), so NULL.
    before = snapshot(m)
    assert m.alloc_contig(0, 8, boundary=4 * PAGE) is None
    assert snapshot(m) == before
    assert m.alloc_contig(0, 8, boundary=8 * PAGE) is not None


def test_the_seeds_free_contig_refusal_is_its_own_error_and_changes_nothing():
    # The 2023 max_order() arithmetic would free the order-2 block at pfn 4 and then pfn 4 again.
    m = Machine([pfn_range(0, 64)], [pfn_range(4, 64)], arch="arm64", lazy=False)
    assert m.alloc_pages(0, "DEFAULT", 0) == 4 * PAGE
    assert m.free_contig_plan(4 * PAGE, 1) == [("free", 4 * PAGE, 2), ("free", 4 * PAGE, 0)]
    before = snapshot(m)
    with pytest.raises(CorruptionRefused, match="not exactly the run") as info:
        m.free_contig(4 * PAGE, 1)
    assert not isinstance(info.value, InvalidInput) and "left the machine unchanged" in str(info.value)
    assert snapshot(m) == before
    m.free_pages(4 * PAGE, 0)  # the machine goes on
    m.check()


def test_an_inverted_range_from_find_range_is_visible():
    # Two segments: [4 KiB, 636 KiB) and [2 MiB, 256 MiB).  With low = 1 MiB the first one's
    # room is computed as 636 KiB - 1 MiB, which wraps around in vm_paddr_t: it qualifies.
    from vmsim import pc

    m = pc(256 * MiB).boot()
    r = m.find_range(0, 1, 1 * MiB, 2 * MiB)
    assert r == (1 * MiB, 636 * 1024) and r.inverted
    assert m.initdone == (True,)  # and the domain was drained
    assert not m.find_range(0, 1, 2 * MiB, segind=1).inverted  # where callers start: the segment of low
    out = run_scenario(pc(256 * MiB).scenario([{"op": "find_range", "domain": 0, "npages": 1,
                                                "low": MiB, "high": 2 * MiB}]))
    assert out["results"] == [[MiB, 636 * 1024]]
    assert [n["op"] for n in out["notes"] if "inverted range" in n["note"]] == [0]
    assert "notes" not in run_scenario(pc(256 * MiB).scenario([{"op": "dump"}], revision="committed"))


def test_the_seeds_writes_past_a_segment_are_noted_in_the_replay():
    out = run_scenario({"arch": "arm64", "seg_ranges": [[0, 64 * PAGE]], "phys_avail": [[8 * PAGE, 64 * PAGE]]})
    assert [n["op"] for n in out["notes"]] == ["boot"] and "past the end of the page array" in out["notes"][0]["note"]
    assert "notes" not in run_scenario({"arch": "arm64", "seg_ranges": [[0, 64 * PAGE]],
                                        "phys_avail": [[8 * PAGE, 64 * PAGE]], "revision": "committed"})


def test_error_messages_never_fail_to_print_a_value():
    assert show(1 << 20000) == "an integer of 20001 bits"
    assert len(show("x" * 1000)) == 80


# -- check() costs what exists, not the address span ------------------------------------------


@pytest.mark.parametrize("base", [0, 1 << 42, 1 << 48, (1 << 64) - (1 << 31)], ids=["0", "2^42", "2^48", "near 2^64"])
def test_check_visits_only_the_superchunks_that_exist(base, monkeypatch):
    # The old allocated-page rule walked the allocation map from address 0 to the last segment's
    # end in 4096-page pieces: 2^40 pieces near 2^64.  Count the pieces every rule visits.
    import vmsim.page as page

    visited = []
    real = page._pieces

    def counting(lo, hi):
        for piece in real(lo, hi):
            visited.append(piece)
            if len(visited) > 10_000:
                raise AssertionError("check() walks the address span")
            yield piece

    m = Machine([[base, base + 64 * MiB]], [[base + MiB, base + 64 * MiB]])
    m.alloc_pages(0, "DEFAULT", 3)
    monkeypatch.setattr(page, "_pieces", counting)
    m.check()
    assert len(visited) <= 4 * (64 * MiB // PAGE // 4096)


def test_first_where_agrees_with_a_page_by_page_search():
    import random

    rng = random.Random(5)
    for _ in range(40):
        a, b = PageArray(0), PageArray(255)
        for _ in range(rng.randrange(1, 8)):
            lo = rng.randrange(0, 20000)
            a.fill(lo, lo + rng.choice([1, 7, 100, 4096, 5000]), 1)
            lo = rng.randrange(0, 20000)
            b.fill(lo, lo + rng.choice([1, 7, 100, 4096, 5000]), rng.choice([0, 1, 2]))
        slow = next((i for i in range(30000) if a.get(i) == 1 and b.get(i) in (255, 0)), None)
        assert a.first_where(1, b, (255, 0)) == slow


def test_a_uniform_superchunk_folds_back_to_one_value():
    arr = PageArray(255)
    arr.set(4096, 0)
    arr.fill(4097, 8192, 3)  # sparse, then a full array of 3s but for one 0
    arr.set(4096, 3)
    assert arr._chunks[1] == 3  # one integer again, not a 4 KiB array
    assert arr.count(4096, 8192, 3) == 4096


def test_memory_after_a_drain_is_one_integer_per_superchunk():
    from vmsim import pc

    m = pc(4 * GiB).boot()
    m.lazy_init()
    chunks = m.vm.pages.pool._chunks.values()
    assert sum(type(c) is not int for c in chunks) <= 16  # only where segments start or end mid-chunk


# -- the replay format and the command line ------------------------------------------------------

GOOD = {"arch": "arm64", "seg_ranges": [[0, 65536]], "phys_avail": [[16384, 65536]]}


def scenario(**kw):
    return dict(GOOD, **kw)


BAD_SCENARIOS = [
    (scenario(ops=[{"op": "alloc_contig", "domain": 0, "npages": 1, "low": 0, "high": 65536,
                    "alignmnet": 8192}]), "unknown fields \\['alignmnet'\\]"),
    (scenario(ops=[["alloc_pages"]]), "op 0 must be a JSON object"),
    (scenario(ops=[{"op": ["alloc_pages"]}]), "unknown operation \\['alloc_pages'\\]"),
    (scenario(domains=[]), "domains is empty"),
    (scenario(domains=[5]), "affinity entry 5"),
    (scenario(domains={"0": 1}), "'domains' must be a list"),
    (scenario(seg_ranges=[5]), "segment entry 5"),
    (scenario(lazy=1), "'lazy' must be true or false"),
    (scenario(arch=None), "'arch' must be an architecture name"),
    (scenario(ops=[{"op": "alloc_pages", "domain": 0, "pool": "DEFAULT", "order": True}]), "order True"),
    (scenario(ops=[{"op": "alloc_pages", "domain": 0, "pool": "DEFAULT", "order": 1.0}]), "order 1.0"),
    (scenario(ops=[{"op": "free_pages", "pa": 16384, "order": 0, "comment": "never allocated"}]),
     "is not allocated"),
]


@pytest.mark.parametrize("bad, message", BAD_SCENARIOS, ids=[m for _, m in BAD_SCENARIOS])
def test_a_bad_scenario_is_refused_by_name(bad, message):
    with pytest.raises(VmsimError, match=message):
        run_scenario(bad)


def test_the_scenario_text_is_parsed_strictly():
    with pytest.raises(ScenarioError, match="'lazy' appears twice"):
        parse_scenario('{"lazy": true, "lazy": false}')
    with pytest.raises(ScenarioError, match="of 4301 digits does not fit in 64 bits"):
        parse_scenario('{"x": ' + "9" * 4301 + "}")
    with pytest.raises(ScenarioError, match="NaN is not a JSON number"):
        parse_scenario('{"x": NaN}')
    with pytest.raises(ScenarioError, match="nested too deeply"):
        parse_scenario("[" * 100_000 + "]" * 100_000)
    assert parse_scenario('{"high": 18446744073709551615}') == {"high": (1 << 64) - 1}


def run_cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "vmsim", *args], input=stdin, capture_output=True)


CLI_INPUTS = [
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "is not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"seg_ranges": [[0, ' + b"1" * 5000 + b"]], \"phys_avail\": []}", "does not fit in 64 bits"),
    (json.dumps(scenario(ops=[{"op": ["x"]}])).encode(), "unknown operation"),
    (json.dumps(scenario(domains=[])).encode(), "domains is empty"),
    (json.dumps(scenario(domains=[5])).encode(), "affinity entry 5"),
    (json.dumps(dict(GOOD, seg_ranges=[5])).encode(), "segment entry 5"),
    (json.dumps(scenario(seg_ranges=[[1 << 70, (1 << 70) + 65536]])).encode(), "does not fit in 64 bits"),
    (b'{"arch": "arm64", "arch": "amd64", "seg_ranges": [], "phys_avail": []}', "'arch' appears twice"),
    (json.dumps(scenario(ops=[{"op": "alloc_contig", "domain": 0, "npages": 1, "low": 0,
                               "high": 65536, "alignmnet": 8192}])).encode(), "alignmnet"),
    (json.dumps(scenario(ops=[{"op": "alloc_pages", "domain": 0, "pool": "DEFAULT", "order": True}])).encode(),
     "order True"),
]


@pytest.mark.parametrize("data, message", CLI_INPUTS, ids=[m for _, m in CLI_INPUTS])
def test_the_command_line_reports_bad_input_in_one_line_with_status_2(tmp_path, data, message):
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    out = run_cli("replay", str(path))
    err = out.stderr.decode()
    assert out.returncode == 2, err
    assert message in err and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("vmsim: ")


def test_replay_output_is_one_line_in_a_pipe_and_indented_on_request(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(scenario(ops=[{"op": "dump"}])))
    piped = run_cli("replay", str(path))
    assert piped.returncode == 0 and piped.stdout.decode().count("\n") == 1
    indented = run_cli("replay", "--indent", "2", str(path))
    assert json.loads(indented.stdout) == json.loads(piped.stdout) and indented.stdout.count(b"\n") > 10


def test_the_help_text_carries_no_restructuredtext_markup():
    out = run_cli("--help")
    assert out.returncode == 0 and b"``" not in out.stdout and b":mod:" not in out.stdout
