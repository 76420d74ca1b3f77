"""Replay: a JSON scenario in, a JSON result out.

The format is fixed (``README.md`` documents it) so that scenarios written
elsewhere can be replayed and their results compared.  A scenario names a
layout and a list of operations; the result holds one entry per operation
and the final state (:func:`vmsim.dump.state`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .errors import ScenarioError, VmsimError
from .machine import Machine

__all__ = ["run_scenario", "load_scenario", "SCENARIO_KEYS", "OPS"]

SCENARIO_KEYS = {"arch", "lazy", "seg_ranges", "domains", "phys_avail", "ops", "revision", "blacklist", "comment"}


def _need(op: dict, index: int, field: str):
    if field not in op:
        raise ScenarioError("replay", f"op {index} ({op.get('op')}) lacks the field {field!r}")
    return op[field]


def _alloc_pages(m: Machine, op: dict, i: int):
    return m.alloc_pages(_need(op, i, "domain"), _need(op, i, "pool"), _need(op, i, "order"))


def _alloc_freelist_pages(m: Machine, op: dict, i: int):
    return m.alloc_freelist_pages(
        _need(op, i, "domain"), _need(op, i, "freelist"), _need(op, i, "pool"), _need(op, i, "order")
    )


def _alloc_npages(m: Machine, op: dict, i: int):
    return m.alloc_npages(_need(op, i, "domain"), _need(op, i, "pool"), _need(op, i, "npages"))


def _free_pages(m: Machine, op: dict, i: int):
    m.free_pages(_need(op, i, "pa"), _need(op, i, "order"))


def _free_contig(m: Machine, op: dict, i: int):
    m.free_contig(_need(op, i, "pa"), _need(op, i, "npages"))


def _alloc_contig(m: Machine, op: dict, i: int):
    return m.alloc_contig(
        _need(op, i, "domain"),
        _need(op, i, "npages"),
        _need(op, i, "low"),
        _need(op, i, "high"),
        op.get("alignment", m.arch.page_size),
        op.get("boundary", 0),
    )


def _unfree_page(m: Machine, op: dict, i: int):
    return m.unfree_page(_need(op, i, "pa"))


def _find_range(m: Machine, op: dict, i: int):
    r = m.find_range(_need(op, i, "domain"), _need(op, i, "npages"), _need(op, i, "low"), _need(op, i, "high"))
    return None if r is None else list(r)


def _lazy_init(m: Machine, op: dict, i: int):
    m.lazy_init()


def _dump(m: Machine, op: dict, i: int):
    return m.dump()


OPS: dict[str, Callable[[Machine, dict, int], object]] = {
    "alloc_pages": _alloc_pages,
    "alloc_freelist_pages": _alloc_freelist_pages,
    "alloc_npages": _alloc_npages,
    "free_pages": _free_pages,
    "free_contig": _free_contig,
    "alloc_contig": _alloc_contig,
    "unfree_page": _unfree_page,
    "find_range": _find_range,
    "lazy_init": _lazy_init,
    "dump": _dump,
}


def machine_from_scenario(scenario: dict, debug: bool = False) -> Machine:
    """Boot the machine a scenario describes."""
    if not isinstance(scenario, dict):
        raise ScenarioError("replay", "a scenario must be a JSON object")
    unknown = set(scenario) - SCENARIO_KEYS
    if unknown:
        raise ScenarioError("replay", f"unknown scenario keys {sorted(unknown)}")
    for key in ("seg_ranges", "phys_avail"):
        if not isinstance(scenario.get(key), list):
            raise ScenarioError("replay", f"the scenario needs {key!r} as a list of [start, end] pairs")
    domains = scenario.get("domains")
    if domains is not None and not isinstance(domains, list):
        raise ScenarioError("replay", "'domains' must be a list of [start, end, domain] triples")
    blacklist = scenario.get("blacklist", [])
    if not isinstance(blacklist, list):
        raise ScenarioError("replay", "'blacklist' must be a list of physical addresses")
    return Machine(
        scenario["seg_ranges"],
        scenario["phys_avail"],
        arch=scenario.get("arch", "amd64"),
        domains=domains,
        lazy=scenario.get("lazy", True),
        revision=scenario.get("revision", "seed"),
        blacklist=blacklist,
        debug=debug,
    )


def run_scenario(scenario: dict, debug: bool = False) -> dict:
    """Replay *scenario*; return ``{"results": [...], "final": STATE}``.

    Errors name the operation's index.  With *debug*, every invariant is
    checked after each operation.
    """
    machine = machine_from_scenario(scenario, debug)
    ops = scenario.get("ops", [])
    if not isinstance(ops, list):
        raise ScenarioError("replay", "'ops' must be a list")
    results = []
    for i, op in enumerate(ops):
        if not isinstance(op, dict) or op.get("op") not in OPS:
            name = op.get("op") if isinstance(op, dict) else op
            raise ScenarioError("replay", f"op {i}: unknown operation {name!r}; known: {sorted(OPS)}")
        try:
            results.append(OPS[op["op"]](machine, op, i))
        except VmsimError as e:
            e.add_note(f"while replaying op {i} ({op['op']})")
            raise
    return {"results": results, "final": machine.dump()}


def load_scenario(path: str) -> dict:
    """Read a scenario file (``-`` for standard input)."""
    import sys

    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ScenarioError("replay", f"{path} is not valid JSON: {e}") from None
    except OSError as e:
        raise ScenarioError("replay", f"cannot read {path}: {e.strerror}") from None
