"""Replay: a JSON scenario in, a JSON result out.

The format is fixed (``README.md`` documents it) so that scenarios written
elsewhere can be replayed and their results compared.  A scenario names a
layout and a list of operations; the result holds one entry per operation
and the final state (:func:`vmsim.dump.state`), plus ``notes`` when an
operation did something a reader should know about (an inverted range from
``find_range``).

Every scenario is checked strictly, because a typo must not pass for a
result: unknown keys and op fields, duplicate JSON keys, integers too wide
for 64 bits and values of the wrong type are refused with a
:class:`~vmsim.errors.ScenarioError` that names them.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .errors import ScenarioError, VmsimError
from .machine import Machine
from .validate import show

__all__ = ["run_scenario", "load_scenario", "parse_scenario", "SCENARIO_KEYS", "OPS", "OP_FIELDS"]

SCENARIO_KEYS = {"arch", "lazy", "seg_ranges", "domains", "phys_avail", "ops", "revision", "blacklist", "comment"}
#: The largest number of decimal digits a 64-bit value needs.
_MAX_DIGITS = 20


def _alloc_pages(m: Machine, op: dict):
    return m.alloc_pages(op["domain"], op["pool"], op["order"])


def _alloc_freelist_pages(m: Machine, op: dict):
    return m.alloc_freelist_pages(op["domain"], op["freelist"], op["pool"], op["order"])


def _alloc_npages(m: Machine, op: dict):
    return m.alloc_npages(op["domain"], op["pool"], op["npages"])


def _free_pages(m: Machine, op: dict):
    m.free_pages(op["pa"], op["order"])


def _free_contig(m: Machine, op: dict):
    m.free_contig(op["pa"], op["npages"])


def _alloc_contig(m: Machine, op: dict):
    return m.alloc_contig(op["domain"], op["npages"], op["low"], op["high"],
                          op.get("alignment", m.arch.page_size), op.get("boundary", 0))


def _unfree_page(m: Machine, op: dict):
    return m.unfree_page(op["pa"])


def _find_range(m: Machine, op: dict):
    r = m.find_range(op["domain"], op["npages"], op["low"], op["high"])
    return None if r is None else [r.start, r.end]


def _scan_range(m: Machine, op: dict):
    r = m.scan_range(op["domain"], op["npages"], op["low"], op["high"])
    return None if r is None else [r.start, r.end]


def _lazy_init(m: Machine, op: dict):
    m.lazy_init()


def _lazy_step(m: Machine, op: dict):
    return m.lazy_step(op.get("blocks", 1))


def _lazy_begin_block(m: Machine, op: dict):
    step = m.lazy_begin_block()
    if step is None:
        return None
    return {"domain": step.domain, "pa": step.pfn << m.arch.page_shift, "order": step.order,
            "lock_dropped": step.lock_dropped}


def _blacklist_add(m: Machine, op: dict):
    return m.blacklist_add(op["pa"])


def _bootstrap_free(m: Machine, op: dict):
    m.bootstrap_free(op["pa"], op.get("npages", 1))


def _page(m: Machine, op: dict):
    view = m.page(op["pa"])
    block = view.free_block
    return {"initialized": view.initialized, "pool": view.pool, "order": view.order,
            "free_block": None if block is None else {"pa": block[0], "order": block[1], "pool": block[2]},
            "allocated": view.allocated, "blacklisted": view.blacklisted}


def _dump(m: Machine, op: dict):
    return m.dump()


#: Each operation: the function that runs it, its required fields, its optional fields.
OPS: dict[str, tuple[Callable[[Machine, dict], object], tuple[str, ...], tuple[str, ...]]] = {
    "alloc_pages": (_alloc_pages, ("domain", "pool", "order"), ()),
    "alloc_freelist_pages": (_alloc_freelist_pages, ("domain", "freelist", "pool", "order"), ()),
    "alloc_npages": (_alloc_npages, ("domain", "pool", "npages"), ()),
    "free_pages": (_free_pages, ("pa", "order"), ()),
    "free_contig": (_free_contig, ("pa", "npages"), ()),
    "alloc_contig": (_alloc_contig, ("domain", "npages", "low", "high"), ("alignment", "boundary")),
    "unfree_page": (_unfree_page, ("pa",), ()),
    "find_range": (_find_range, ("domain", "npages", "low", "high"), ()),
    "scan_range": (_scan_range, ("domain", "npages", "low", "high"), ()),
    "lazy_init": (_lazy_init, (), ()),
    "lazy_step": (_lazy_step, (), ("blocks",)),
    "lazy_begin_block": (_lazy_begin_block, (), ()),
    "blacklist_add": (_blacklist_add, ("pa",), ()),
    "bootstrap_free": (_bootstrap_free, ("pa",), ("npages",)),
    "page": (_page, ("pa",), ()),
    "dump": (_dump, (), ()),
}
#: Every field an op may carry: ``op``, ``comment`` and its own.
OP_FIELDS = {name: {"op", "comment", *required, *optional} for name, (_, required, optional) in OPS.items()}


def _op_name(i: int, op) -> str:
    """Check op *i*'s shape and fields; return its name."""
    if not isinstance(op, dict):
        raise ScenarioError("replay", f"op {i} must be a JSON object, not {show(op)}")
    name = op.get("op")
    if not isinstance(name, str) or name not in OPS:
        raise ScenarioError("replay", f"op {i}: unknown operation {show(name)}; known: {sorted(OPS)}")
    _, required, _ = OPS[name]
    missing = [f for f in required if f not in op]
    if missing:
        raise ScenarioError("replay", f"op {i} ({name}) lacks the field {missing[0]!r}")
    unknown = sorted(set(op) - OP_FIELDS[name])
    if unknown:
        raise ScenarioError("replay", f"op {i} ({name}) has unknown fields {unknown}; "
                                      f"{name} takes {sorted(OP_FIELDS[name] - {'op', 'comment'})}")
    return name


def _typed(scenario: dict, key: str, kind, what: str, default=None, nullable: bool = False):
    """The value of *key*, which must be of *kind* (``null`` only where *nullable*); *default* when absent."""
    if key not in scenario:
        return default
    value = scenario[key]
    if value is None and nullable:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ScenarioError("replay", f"{key!r} must be {what}, not {show(value)}")
    return value


def machine_from_scenario(scenario: dict, debug: bool = False) -> Machine:
    """Boot the machine a scenario describes."""
    if not isinstance(scenario, dict):
        raise ScenarioError("replay", "a scenario must be a JSON object")
    unknown = set(scenario) - SCENARIO_KEYS
    if unknown:
        raise ScenarioError("replay", f"unknown scenario keys {sorted(unknown)}; known: {sorted(SCENARIO_KEYS)}")
    for key in ("seg_ranges", "phys_avail"):
        if not isinstance(scenario.get(key), list):
            raise ScenarioError("replay", f"the scenario needs {key!r} as a list of [start, end] pairs")
    domains = _typed(scenario, "domains", list, "a list of [start, end, domain] triples", nullable=True)
    blacklist = _typed(scenario, "blacklist", list, "a list of physical addresses", [])
    _typed(scenario, "comment", str, "text")
    try:
        return Machine(
            scenario["seg_ranges"],
            scenario["phys_avail"],
            arch=_typed(scenario, "arch", str, "an architecture name", "amd64"),
            domains=domains,
            lazy=_typed(scenario, "lazy", bool, "true or false", True),
            revision=_typed(scenario, "revision", (str, dict), "a revision name or an object of proposals", "seed"),
            blacklist=blacklist,
            debug=debug,
        )
    except VmsimError as e:
        e.add_note("while booting the scenario's machine")
        raise


def run_scenario(scenario: dict, debug: bool = False) -> dict:
    """Replay *scenario*; return ``{"results": [...], "final": STATE}`` (and ``"notes"``, if any).

    Errors name the operation's index.  With *debug*, every invariant is
    checked after each operation.  A note is ``{"op": index, "note": text}``.
    """
    machine = machine_from_scenario(scenario, debug)
    ops = scenario.get("ops", [])
    if not isinstance(ops, list):
        raise ScenarioError("replay", "'ops' must be a list")
    names = [_op_name(i, op) for i, op in enumerate(ops)]
    results, notes = [], []
    strays = _stray_notes(machine, "boot", 0, notes)
    for i, (name, op) in enumerate(zip(names, ops)):
        try:
            result = OPS[name][0](machine, op)
        except VmsimError as e:
            e.add_note(f"while replaying op {i} ({name})")
            raise
        if name in ("find_range", "scan_range") and result is not None and result[0] > result[1]:
            notes.append({"op": i, "note": (
                f"{name} returned an inverted range [{result[0]:#x}, {result[1]:#x}): low lies above "
                "that segment, the kernel's unsigned room check wrapped around, and the domain was drained")})
        strays = _stray_notes(machine, i, strays, notes)
        results.append(result)
    out = {"results": results, "final": machine.dump()}
    if notes:
        out["notes"] = notes
    return out


def _stray_notes(machine: Machine, when, seen: int, notes: list) -> int:
    """Note each ``vm_page_init_page`` outside every segment since the first *seen*; return the new count."""
    strays = machine.stray_inits
    for stray in strays[seen:]:
        where = "a hole of the page array" if stray.where == "hole" else "one entry past the end of the page array"
        notes.append({"op": when, "note": (
            f"vm_page_init_page wrote the structure at page-array index {stray.index}, in {where} "
            f"(the seed's chunk helper initializes the page after a run that ends at its segment's end; "
            f"pa {stray.pa:#x} written)")})
    return len(strays)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise ScenarioError("replay", f"the key {key!r} appears twice in one JSON object")
        out[key] = value
    return out


def _int64(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise ScenarioError("replay", f"an integer of {len(text.lstrip('-'))} digits does not fit in 64 bits")
    return int(text)


def _no_constant(text: str):
    raise ScenarioError("replay", f"{text} is not a JSON number")


def parse_scenario(text: str, name: str = "the scenario") -> dict:
    """Parse scenario text strictly: no duplicate keys, no NaN or Infinity, integers of 64 bits at most."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_int64, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise ScenarioError("replay", f"{name} is not valid JSON: {e}") from None
    except RecursionError:
        raise ScenarioError("replay", f"{name} is nested too deeply to be a scenario") from None


def load_scenario(path: str) -> dict:
    """Read a scenario file (``-`` for standard input) and parse it with :func:`parse_scenario`."""
    import sys

    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    except OSError as e:
        raise ScenarioError("replay", f"cannot read {path}: {e.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError("replay", f"{path} is not UTF-8 text (byte {e.start} cannot be decoded)") from None
    return parse_scenario(text, path)
