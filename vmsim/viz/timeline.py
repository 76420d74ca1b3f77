"""The race window of ``vm_phys_lazy_init_domain()`` as a two-lane timeline.

Models, and then draws, one interleaving of two CPUs in ``sys/vm/vm_phys.c``:
the ``vmlazyinit`` thread takes a lazy block off its queue, reserves its
pages with ``vm_domain_allocate()`` and drops the domain's free lock while
``vm_phys_set_pool()`` initializes the block's structures; meanwhile another
CPU calls ``vm_phys_find_range()``, whose synchronous drain empties the lazy
queues without that block, sets ``initdone`` and lets its caller scan the
range (``vm_page_scan_contig()`` in ``sys/vm/vm_page.c``).  Chapter 10
("Findings for FreeBSD developers") shows it for the committed revision and
for this book's ``drain_waits_for_thread`` proposal (not FreeBSD code).

:func:`race_interleaving` runs the interleaving on a machine through its
public operations (``lazy_begin_block``, ``scan_range``, ``lazy_step``) and
turns the events of :meth:`vmsim.machine.Machine.record` into one
:class:`Step` per action; :func:`race_timeline` draws one or more such
interleavings as sequence diagrams, time flowing down.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from matplotlib.patches import Patch, Rectangle

from ..errors import InvalidInput, UninitializedPageRead
from .style import ALLOC_COLOR, OKABE_ITO, POOL_COLORS, finish, fmt_int, new_figure

__all__ = ["Step", "Interleaving", "race_interleaving", "race_timeline", "LANES"]

#: The two lanes, in drawing order: key and column heading.
LANES = {"thread": "vmlazyinit thread", "cpu": "another CPU (a contiguous-memory reclaim)"}
#: Box colour per kind of step.
_KIND_COLORS = {"action": "#F2F2F2", "wait": POOL_COLORS["LAZYINIT"], "garbage": ALLOC_COLOR,
                "ok": OKABE_ITO["bluish green"]}
_KIND_TEXT = {"action": "black", "wait": "black", "garbage": "white", "ok": "white"}
_WINDOW_COLOR = OKABE_ITO["yellow"]


@dataclass(frozen=True)
class Step:
    """One action of the interleaving: which lane does it, what it is, and how it went.

    ``kind`` is ``"action"``, ``"wait"`` (the drain sleeps), ``"garbage"``
    (a read of an uninitialized structure) or ``"ok"`` (a scan that read only
    initialized structures).
    """

    lane: str
    text: str
    kind: str = "action"


@dataclass(frozen=True)
class Interleaving:
    """The steps of one run of the race, and what came of it.

    ``window`` is ``(first, last)``: the indexes of the steps between which
    the thread has the domain's lock dropped and its block on no queue.
    ``held`` is the thread's block as ``(domain, pa, order)``; ``drained`` the
    number of other lazy blocks the other CPU's drain initialized;
    ``found`` the range ``vm_phys_find_range`` returned (bytes) or ``None``;
    ``garbage_pa`` where the scan read an uninitialized structure, or ``None``;
    ``scanned`` how many structures the scan read when it read only
    initialized ones; ``waited`` whether the drain slept for the thread.
    """

    revision: str
    steps: tuple[Step, ...]
    window: tuple[int, int]
    held: tuple[int, int, int]
    drained: int
    found: tuple[int, int] | None
    garbage_pa: int | None
    scanned: int
    waited: bool


def _inits(events) -> int:
    return sum(e[2] - e[1] for e in events if e[0] == "init")


def race_interleaving(machine, domain: int, npages: int, low: int, high: int) -> Interleaving:
    """Run the race of chapter 10 on *machine* and return its steps.

    The ``vmlazyinit`` thread takes its next block and stops with the lock
    dropped (:meth:`~vmsim.machine.Machine.lazy_begin_block`); another CPU
    calls ``vm_phys_find_range(domain, npages, low, high)`` and scans the
    range it returns (:meth:`~vmsim.machine.Machine.scan_range`); then the
    thread finishes its block (:meth:`~vmsim.machine.Machine.lazy_step`).
    Each step is taken from the events the machine records, except the
    reservation and the unlock, which the thread's returned block reports
    (``lock_dropped``).  Mutates *machine*.  Raises
    :class:`~vmsim.errors.InvalidInput` if the thread has no block left or
    keeps the lock (a free-page shortage: then there is no window).
    """
    op = "race_interleaving"
    shift = machine.arch.page_shift
    steps: list[Step] = []
    with machine.record() as taken:
        held = machine.lazy_begin_block()
    if held is None:
        raise InvalidInput(op, "the vmlazyinit thread has no lazy block left to take")
    if not held.lock_dropped:
        raise InvalidInput(op, "the thread kept the domain's lock (free pages are short): there is no window")
    n = 1 << held.order
    pa = held.pfn << shift
    for e in taken:
        if e[0] == "rem":
            steps.append(Step("thread", f"vm_freelist_rem: takes the lazy block at {e[2] << shift:#x} "
                                        f"(order {e[3]}) off its queue"))
    steps.append(Step("thread", f"vm_domain_allocate: reserves the block's {fmt_int(n)} pages"))
    steps.append(Step("thread", "vm_domain_free_unlock: drops the domain's free lock"))
    steps.append(Step("thread", f"vm_phys_set_pool: initializing the block's other {fmt_int(n - 1)} "
                                "structures, the block on no queue"))
    window_start = len(steps) - 1

    steps.append(Step("cpu", f"vm_phys_find_range(domain {domain}, {fmt_int(npages)} "
                             f"{'page' if npages == 1 else 'pages'}, "
                             f"[{low:#x}, {high:#x}))"))
    garbage, found = None, None
    with machine.record() as scan:
        try:
            found = machine.scan_range(domain, npages, low, high)
        except UninitializedPageRead as e:
            garbage = e.pa
    drained, since, waited, window_end = 0, 0, False, None
    for i, e in enumerate(scan):
        if e[0] == "lazy_wait":
            steps.append(Step("cpu", f"vm_phys_lazy_init_domain: drains the {drained} other lazy blocks "
                                     f"({fmt_int(_inits(scan[since:i]))} inits)"))
            steps.append(Step("cpu", "finds one block of the domain in flight: sleeps until the thread "
                                     "wakes it", "wait"))
            waited, since = True, i + 1
        elif e[0] == "lazy_block" and waited and e[1] == held.pfn:
            steps.append(Step("thread", f"finishes the {fmt_int(_inits(scan[since:i]))} inits, relocks, "
                                        "vm_phys_free_pages into DEFAULT; no block in flight: wakes the drain"))
            window_end = len(steps) - 1
        elif e[0] == "lazy_block":
            drained += 1
        elif e[0] == "initdone":
            if not waited:
                steps.append(Step("cpu", f"vm_phys_lazy_init_domain: drains the {drained} other lazy blocks "
                                         f"({fmt_int(_inits(scan[since:i]))} inits)"))
            steps.append(Step("cpu", f"sets initdone[{e[1]}]: the domain counts as drained"))
    if found is None and garbage is None:
        steps.append(Step("cpu", "vm_phys_find_range finds no range: nothing is scanned", "ok"))
        scanned = 0
    else:
        if found is None:
            # The scan raised after vm_phys_find_range had drained the domain; asking again
            # (initdone is set, so nothing changes) gives the range it had returned.
            found = machine.find_range(domain, npages, low, high)
        steps.append(Step("cpu", f"vm_phys_find_range returns [{found[0]:#x}, {found[1]:#x})"))
        if garbage is not None:
            steps.append(Step("cpu", f"vm_page_scan_contig reads the structure at {garbage:#x}: garbage "
                                     "(never initialized)", "garbage"))
            scanned = 0
        else:
            scanned = max(0, found[1] - found[0]) >> shift
            steps.append(Step("cpu", f"vm_page_scan_contig reads {fmt_int(scanned)} structures, all "
                                     "initialized", "ok"))
    with machine.record() as finished:
        machine.lazy_step(1)
    if any(e[0] == "lazy_block" and e[1] == held.pfn for e in finished):
        steps.append(Step("thread", f"finishes the {fmt_int(_inits(finished))} inits, relocks, "
                                    "vm_phys_free_pages: the block joins DEFAULT"))
        window_end = len(steps) - 1
    else:
        steps.append(Step("thread", "goes on with its next block"))
    return Interleaving(machine.revision.name, tuple(steps), (window_start, window_end), (held.domain, pa, held.order),
                        drained, None if found is None else (found[0], found[1]), garbage, scanned, waited)


def _wrap(text: str, width: int = 46) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _panel(ax, label: str, il: Interleaving) -> None:
    n = len(il.steps)
    xs = {"thread": 0.25, "cpu": 0.75}
    ax.set_xlim(0, 1)
    ax.set_ylim(n - 0.4, -1.1)
    ax.axvline(0.5, color="#BBBBBB", linewidth=0.8)
    for lane, x in xs.items():
        ax.text(x, -0.85, LANES[lane], ha="center", va="center", fontsize=9, fontweight="bold")
    a, b = il.window
    if b is not None:
        ax.add_patch(Rectangle((0.015, a - 0.45), 0.47, b - a + 0.9, facecolor=_WINDOW_COLOR, alpha=0.35,
                               edgecolor="none", zorder=0))
        ax.text(0.02, (a + b) / 2, "lock dropped,\nblock on\nno queue", ha="left", va="center", fontsize=7,
                color="#333333", zorder=1)
    for i, s in enumerate(il.steps):
        ax.text(xs[s.lane], i, _wrap(s.text), ha="center", va="center", fontsize=7.5, color=_KIND_TEXT[s.kind],
                zorder=3, linespacing=1.05,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": _KIND_COLORS[s.kind], "edgecolor": "#666666",
                      "linewidth": 0.6})
    ax.set_yticks(range(n), [str(i + 1) for i in range(n)], fontsize=7)
    ax.set_ylabel("step (time flows down)", fontsize=8)
    ax.set_xticks([])
    ax.set_xlabel(f"{label}: {_outcome(il)}", fontsize=9)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)


def _outcome(il: Interleaving) -> str:
    if il.garbage_pa is not None:
        return f"the scan reads garbage at {il.garbage_pa:#x}"
    if il.waited:
        return f"the drain waits; the scan reads {fmt_int(il.scanned)} initialized structures"
    return f"the scan reads {fmt_int(il.scanned)} initialized structures"


def race_timeline(interleavings, title: str | None = None):
    """Draw interleavings from :func:`race_interleaving` as stacked two-lane sequence diagrams.

    *interleavings* maps a panel label to an :class:`Interleaving` (or is a
    sequence of them, labelled by revision).  Each panel has the thread's
    lane on the left and the other CPU's on the right, one row per step,
    the lock-dropped window shaded, a garbage read in vermillion, a clean
    scan in green and the drain's sleep in orange.  The figure carries
    ``interleavings``.
    """
    items = dict(interleavings) if isinstance(interleavings, dict) else {il.revision: il for il in interleavings}
    if not items:
        raise InvalidInput("race_timeline", "needs at least one interleaving")
    rows = [len(il.steps) for il in items.values()]
    fig = new_figure(10, 1.3 + sum(0.44 * r + 0.9 for r in rows))
    axes = fig.subplots(len(items), 1, squeeze=False, gridspec_kw={"height_ratios": [r + 2 for r in rows]})[:, 0]
    for ax, (label, il) in zip(axes, items.items()):
        _panel(ax, label, il)
    handles = [Patch(facecolor=_WINDOW_COLOR, alpha=0.35, label="thread's lock dropped, block on no queue"),
               Patch(facecolor=_KIND_COLORS["garbage"], label="read of an uninitialized structure"),
               Patch(facecolor=_KIND_COLORS["wait"], label="the drain sleeps"),
               Patch(facecolor=_KIND_COLORS["ok"], label="scan of initialized structures")]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    fig.suptitle(title or "The window in vm_phys_lazy_init_domain, step by step", fontsize=11)
    alt = ("Sequence diagrams of the vmlazyinit thread and another CPU, time flowing down: "
           + "; ".join(f"{label}: the thread holds the order-{il.held[2]} block at {il.held[1]:#x} with the lock "
                       f"dropped while the other CPU's drain initializes {il.drained} other blocks and "
                       f"{_outcome(il)}" for label, il in items.items()) + ".")
    return finish(fig, alt, interleavings=items)
