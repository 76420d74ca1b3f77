"""Replay: scenario files with expected results, the command line, malformed input (vmsim.replay)."""

import json
import pathlib
import subprocess
import sys

import pytest

from vmsim.errors import ScenarioError, VmsimError
from vmsim.replay import run_scenario
from vmsim.revisions import REVISIONS

SCENARIOS = sorted(p for p in (pathlib.Path(__file__).parent / "scenarios").glob("*.json")
                   if not p.name.endswith(".expected.json"))


def outcome(scenario: dict) -> dict:
    """The replay's result, or the error it ends with (what an expected file records)."""
    try:
        return run_scenario(scenario, debug=True)
    except VmsimError as e:
        return {"error": {"type": type(e).__name__, "message": str(e)}}


def expected_path(path: pathlib.Path, revision: str) -> pathlib.Path:
    """``NAME.expected.json`` for the scenario's own revision, ``NAME.REVISION.expected.json`` for the others."""
    own = json.loads(path.read_text()).get("revision", "seed")
    return path.with_name(f"{path.stem}.expected.json" if revision == own else f"{path.stem}.{revision}.expected.json")


@pytest.mark.parametrize("revision", sorted(REVISIONS))
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_replays_to_its_expected_result_in_every_revision(path, revision):
    scenario = json.loads(path.read_text())
    assert scenario["comment"], "every scenario says why its result is what it is"
    expected = json.loads(expected_path(path, revision).read_text())
    assert outcome(dict(scenario, revision=revision)) == expected


def test_state_lists_every_nonempty_queue_sorted_with_heads_in_list_order():
    scenario = json.loads((SCENARIOS[0].parent / "issue_example.json").read_text())
    final = run_scenario(scenario)["final"]
    keys = [(q["domain"], q["freelist"] != "DEFAULT", ["LAZYINIT", "DEFAULT", "DIRECT"].index(q["pool"]), q["order"])
            for q in final["queues"]]
    assert keys == sorted(keys) and all(q["pages"] for q in final["queues"])
    assert set(final) == {"page_inits", "initialized", "default_pool", "free_pages", "queues"}


def run_cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "vmsim", *args], input=stdin, capture_output=True, text=True)


def test_command_line_prints_the_result_json(tmp_path):
    path = SCENARIOS[0].parent / "issue_example.json"
    out = run_cli("replay", str(path))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == json.loads(path.with_name("issue_example.expected.json").read_text())
    out = run_cli("replay", "-", stdin=path.read_text())
    assert out.returncode == 0 and json.loads(out.stdout)["results"][0] == 16777216


def test_command_line_reports_a_bad_free_clearly(tmp_path):
    scenario = {"arch": "arm64", "seg_ranges": [[0, 65536]], "phys_avail": [[16384, 65536]],
                "ops": [{"op": "free_pages", "pa": 16384, "order": 0}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(scenario))
    out = run_cli("replay", str(path))
    assert out.returncode == 2
    assert "page at pa 0x4000 is not allocated" in out.stderr and "op 0 (free_pages)" in out.stderr


MALFORMED = [
    ([], "must be a JSON object"),
    ({"seg_ranges": [[0, 65536]]}, "'phys_avail'"),
    ({"seg_ranges": [[0, 65536]], "phys_avail": [], "colour": 1}, "unknown scenario keys"),
    ({"seg_ranges": [[0, 65536]], "phys_avail": [], "ops": [{"op": "alloc"}]}, "unknown operation 'alloc'"),
    ({"seg_ranges": [[0, 65536]], "phys_avail": [], "ops": [{"op": "alloc_pages", "domain": 0}]},
     "lacks the field 'pool'"),
    ({"seg_ranges": [[0, 65536]], "phys_avail": [], "ops": "dump"}, "'ops' must be a list"),
    ({"seg_ranges": [[0, 65536]], "phys_avail": [], "blacklist": 5}, "'blacklist' must be a list"),
    ({"seg_ranges": [["a", 65536]], "phys_avail": []}, "not a \\[start, end\\) pair"),
]


@pytest.mark.parametrize("scenario, message", MALFORMED, ids=[m for _, m in MALFORMED])
def test_malformed_scenarios_are_refused_by_name(scenario, message):
    with pytest.raises((ScenarioError, ValueError), match=message):
        run_scenario(scenario)


def test_unreadable_file_is_a_clear_error(tmp_path):
    out = run_cli("replay", str(tmp_path / "missing.json"))
    assert out.returncode == 2 and "cannot read" in out.stderr
    (tmp_path / "x.json").write_text("{")
    out = run_cli("replay", str(tmp_path / "x.json"))
    assert out.returncode == 2 and "not valid JSON" in out.stderr
