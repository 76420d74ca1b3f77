"""Proposal explorer: each of this book's five proposed changes, without and with, on one machine.

The proposals of chapter 10 ("Findings for FreeBSD developers") are **this
book's, not FreeBSD code**: flags of :data:`vmsim.revisions.PROPOSAL_FLAGS`
on top of the committed revision (b16b4c22).  For each flag the explorer
runs the finding's operations on the committed machine and on the committed
machine with just that flag (``revision={flag: True}``), and shows the
memory map afterwards, the range the finding is about outlined, with the
numbers that differ in a caption.  Both controls are pre-rendered, so they
work in the static book.

Four findings use :data:`FINDINGS_PC`, a small PC shaped like the machines
the findings need; the race (``drain_waits_for_thread``) uses
:data:`RACE_PC`, whose first lazy block is not covered by the gap-walk quirk
(on :data:`FINDINGS_PC` the quirk happens to initialize it, which hides the
race).  The replay scenarios ``tests/scenarios/finding_*.json`` boot the same
two layouts.
"""

from __future__ import annotations

import html

from ..cost import FIRECRACKER_1G
from ..errors import InvalidInput, VmsimError
from ..layout import Layout
from ..revisions import PROPOSAL_FLAGS
from ..viz import memory_map
from ..viz.style import fmt_int
from .frames import frame_html
from .static import Memo, StaticGrid

__all__ = ["ProposalExplorer", "proposal_explorer", "FINDINGS_PC", "RACE_PC", "FLAG_TITLES"]

_KIB, _MIB = 1 << 10, 1 << 20
_TOP = 1 << 40

#: A 96 MiB PC in miniature: low memory; RAM from 1 MiB with the kernel and preloaded files at
#: [2 MiB, 18 MiB) (ending past 16 MiB, after a phys_avail range [1 MiB, 2 MiB)); a hole at
#: [40 MiB, 48 MiB) standing for the PCI hole; RAM [48 MiB, 96 MiB) whose last 8 MiB are in a
#: segment but not in phys_avail (a segment tail); two NUMA domains split at 64 MiB.
FINDINGS_PC = Layout(
    seg_ranges=((4 * _KIB, 636 * _KIB), (1 * _MIB, 40 * _MIB), (48 * _MIB, 96 * _MIB)),
    phys_avail=((4 * _KIB, 636 * _KIB), (1 * _MIB, 2 * _MIB), (18 * _MIB, 40 * _MIB), (48 * _MIB, 88 * _MIB)),
    domains=((0, 64 * _MIB, 0), (64 * _MIB, 96 * _MIB, 1)),
)
#: One amd64 segment [0, 64 MiB), free from 1 MiB: the vmlazyinit thread's first block is 16 MiB:12.
RACE_PC = Layout(seg_ranges=((0, 64 * _MIB),), phys_avail=((1 * _MIB, 64 * _MIB),))

#: What each proposal changes, as the explorer's control labels it.
FLAG_TITLES = {
    "skip_covered_ranges": "1. the gap walk skips covered ranges",
    "init_segment_tail": "2. the walk initializes the segment tail",
    "drain_waits_for_thread": "3. the drain waits for vmlazyinit",
    "successor_inside_run": "4. no successor write past the run",
    "domain_end_exclusive": "5. vm_phys_domain: exclusive end",
}
_MODES = ("without", "with")


def _revision(flag: str, on: bool):
    return {flag: True} if on else "committed"


def _error(e: VmsimError) -> str:
    return f"{type(e).__name__}: {e}"


class ProposalExplorer(StaticGrid):
    """A slider over the proposal flags and a without/with toggle, one memory map per pair.

    *findings* is the machine of four findings, *race* the one of the race
    (``drain_waits_for_thread``).  ``.scene(flag, on)`` returns the visible frame's outcome: the ``machine``
    after the finding's operations, the ``highlight`` ranges (bytes) and the
    caption's ``facts`` (label -> value text).  ``.state`` is the visible
    scene without the machine.
    """

    def __init__(self, flags=PROPOSAL_FLAGS, findings: Layout = FINDINGS_PC, race: Layout = RACE_PC,
                 bins: int = 512, show_progress: bool = True, **kw):
        # (``layout`` is an ipywidgets trait of every widget: the machine layouts go by other names.)
        self.findings, self.race, self.bins = findings, race, bins
        self._scenes = Memo(32)
        flags = list(flags)
        unknown = [f for f in flags if f not in PROPOSAL_FLAGS]
        if unknown:
            raise InvalidInput("proposal_explorer", f"unknown proposal {unknown[0]!r}; proposals are "
                                                    f"{list(PROPOSAL_FLAGS)}")
        super().__init__(flags, _MODES, self._render, description_a="proposal", description_b="",
                         labels_a=[FLAG_TITLES[f] for f in flags],
                         labels_b=["committed b16b4c22", "with this proposal (not FreeBSD code)"], kind_b="toggle",
                         show_progress=show_progress, **kw)

    # -- model --------------------------------------------------------------------------
    def scene(self, flag: str, on: bool | str) -> dict:
        """The outcome of *flag*'s finding without (``on`` false or ``"without"``) or with the flag."""
        on = on is True or on == "with"
        return self._scenes.get((flag, on), lambda: _SCENES[flag](self, _revision(flag, on)))

    @property
    def state(self) -> dict:
        """The visible scene's flag, mode, highlight and facts."""
        flag, mode = self.value
        s = self.scene(flag, mode)
        return {"flag": flag, "with": mode == "with", "highlight": s["highlight"], "facts": s["facts"]}

    @property
    def machine(self):
        """The machine of the visible scene, after the finding's operations."""
        return self.scene(*self.value)["machine"]

    def _gap_walk(self, revision) -> dict:
        m = self.findings.boot(revision=revision)
        walked = self._scenes.get("walked", lambda: _walked_pairs(self.findings.boot(revision="committed")))
        return {"machine": m, "highlight": [(a, b, "free, yet initialized by the committed walk") for a, b in walked],
                "facts": {
                    "vm_page_init_page calls at boot": fmt_int(m.startup_page_inits),
                    "modelled boot time": f"{FIRECRACKER_1G.seconds(m.startup_page_inits) * 1e3:.3g} ms",
                    "free pages initialized with pool DEFAULT at boot": fmt_int(_default_free(m))}}

    def _tail(self, revision) -> dict:
        m = self.findings.boot(revision=revision)
        m.lazy_init()
        tails = _tails(m)
        domain = m.page(tails[0][0]).domain if tails else 0
        try:
            found = m.scan_range(domain, 1, 0, _TOP)
            scan = f"reads [{found.start:#x}, {found.end:#x}), all initialized"
        except VmsimError as e:
            scan = _error(e)
        return {"machine": m, "highlight": [(a, b, "segment tail") for a, b in tails], "facts": {
            "structures never initialized, after the drain": fmt_int(m.count_uninitialized()),
            f"scan_range of domain {domain}": scan}}

    def _race(self, revision) -> dict:
        m = self.race.boot(revision=revision)
        held = m.lazy_begin_block()
        shift = m.arch.page_shift
        lo, hi = held.pfn << shift, (held.pfn + (1 << held.order)) << shift
        try:
            found = m.scan_range(held.domain, 1, lo, hi)
            scan = f"reads [{found.start:#x}, {found.end:#x}), all initialized (the drain waited)"
        except VmsimError as e:
            scan = _error(e)
        return {"machine": m, "highlight": [(lo, hi, "vmlazyinit's block, lock dropped")], "facts": {
            "block held by vmlazyinit": f"{lo:#x}, order {held.order}",
            f"scan_range over [{lo:#x}, {hi:#x}) in the window": scan,
            "uninitialized structures in that range when the scan ran": fmt_int(m.count_uninitialized(lo, hi))}}

    def _successor(self, revision) -> dict:
        m = self.findings.boot(revision=revision)
        stale = _stale_lazy(m)
        shift = m.arch.page_shift
        first = stale[0] if stale else _first_after_run(m)
        try:
            m.bootstrap_free(first, 1)
            freed = f"frees it into pool {m.free_block(first)[2]}"
        except VmsimError as e:
            freed = _error(e)
        return {"machine": m, "highlight": [(first, first + (1 << shift), "the page after the run")], "facts": {
            "non-free structures whose pool reads LAZYINIT": ", ".join(f"{pa:#x}" for pa in stale) or "none",
            f"kmem_bootstrap_free({first:#x})": freed}}

    def _domain(self, revision) -> dict:
        domains = self.findings.domains or ()
        first = min((start for start, _, dom in domains if dom != domains[0][2]), default=None)
        if first is None:
            return {"machine": self.findings.boot(revision=revision), "highlight": [],
                    "facts": {"vm.blacklist": "the machine has one domain: nothing to show"}}
        try:
            m = self.findings.boot(revision=revision, blacklist=[first])
            outcome = (f"listed: {first in m.blacklisted}; domains drained at boot: "
                       f"{[d for d, done in enumerate(m.initdone) if done]}")
        except VmsimError as e:
            m = self.findings.boot(revision=revision)
            outcome = _error(e) + " (the map shows the boot without the entry)"
        return {"machine": m, "highlight": [(first, first + m.arch.page_size, "first page of domain "
                                             f"{m.page(first).domain}")],
                "facts": {f"vm.blacklist={first:#x}": outcome,
                          "vm_page_init_page calls at boot": fmt_int(m.startup_page_inits)}}

    # -- frames ---------------------------------------------------------------------------
    def _render(self, flag: str, mode: str) -> str:
        s = self.scene(flag, mode)
        m = s["machine"]
        title = f"{FLAG_TITLES[flag]}: {'with the proposal' if mode == 'with' else 'committed b16b4c22'}"
        rows = "".join(f"<tr><td style='padding:0 12px 0 0'>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                       for k, v in s["facts"].items())
        caption = (f"<b>{html.escape(title)}</b> (revision <code>{html.escape(m.revision.name)}</code>)"
                   f"<table style='font-size:90%'>{rows}</table>")
        fig = memory_map(m, self.bins, title=title, highlight=s["highlight"])
        alt = fig.alt_text + " " + " ".join(f"{k}: {v}." for k, v in s["facts"].items())
        return frame_html(fig, caption, dpi=self.dpi, alt=alt)


_SCENES = {
    "skip_covered_ranges": ProposalExplorer._gap_walk,
    "init_segment_tail": ProposalExplorer._tail,
    "drain_waits_for_thread": ProposalExplorer._race,
    "successor_inside_run": ProposalExplorer._successor,
    "domain_end_exclusive": ProposalExplorer._domain,
}


def _default_free(m) -> int:
    """Free pages (inside ``phys_avail``) whose structure holds pool DEFAULT."""
    shift = m.arch.page_shift
    return sum(max(0, min(b, hi << shift) - max(a, lo << shift)) for a, b, pool in m.initialized_runs()
               if pool == "DEFAULT" for lo, hi in m.phys_avail) >> shift


def _walked_pairs(m) -> list[tuple[int, int]]:
    """The ``phys_avail`` pairs (bytes) holding free structures that *m*'s boot initialized with pool DEFAULT."""
    shift = m.arch.page_shift
    runs = [(a, b) for a, b, pool in m.initialized_runs() if pool == "DEFAULT"]
    return [(lo << shift, hi << shift) for lo, hi in m.phys_avail
            if any(a < hi << shift and lo << shift < b for a, b in runs)]


def _tails(m) -> list[tuple[int, int]]:
    """Byte ranges of segments after the end of the last phys_avail pair."""
    shift = m.arch.page_shift
    last = max(b for _, b in m.phys_avail)
    out = []
    for seg in m.segtab.segs:
        start = max(seg.start, last)
        if start < seg.end:
            out.append((start << shift, seg.end << shift))
    return out


def _stale_lazy(m) -> list[int]:
    """Addresses of structures outside every free block whose pool reads LAZYINIT."""
    out = []
    for a, b, pool in m.initialized_runs():
        if pool != "LAZYINIT":
            continue
        for pa in range(a, b, m.arch.page_size):
            if m.free_block(pa) is None:
                out.append(pa)
    return out


def _first_after_run(m) -> int:
    """The first page after a free run that is still inside its segment (the successor's address)."""
    shift = m.arch.page_shift
    for _, b in m.phys_avail:
        for seg in m.segtab.segs:
            if seg.start <= b < seg.end and not any(lo <= b < hi for lo, hi in m.phys_avail):
                return b << shift
    return m.phys_avail[0][0] << shift


def proposal_explorer(flags=PROPOSAL_FLAGS, **kw) -> ProposalExplorer:
    """A :class:`ProposalExplorer` over *flags* (default: all five proposals)."""
    return ProposalExplorer(flags, **kw)
