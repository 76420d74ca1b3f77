"""What every page is, aggregated: the data behind memory maps and counters.

Figures never walk pages one by one: a 4 TiB machine has a billion of them.
:func:`census` splits an address range into bins and counts, per bin, how
many pages are in each *state* and how many structures are initialized,
using the page array's run-length storage and the list of free blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .arch import POOL_NAMES
from .page import UNINIT

if TYPE_CHECKING:
    from .machine import Machine

__all__ = ["Census", "census", "STATES"]

#: The states a page frame can be in, in drawing order.
STATES = ("hole", "reserved", "free:LAZYINIT", "free:DEFAULT", "free:DIRECT", "allocated", "blacklisted")


@dataclass
class Census:
    """Per-bin page counts over ``[lo, hi)`` (pfns), ``bins`` bins of ``width`` pages.

    ``states[name][i]``: pages of bin *i* in state *name* (see :data:`STATES`:
    ``hole`` is outside every segment, ``reserved`` in a segment but neither
    free, allocated nor blacklisted -- the kernel image, boot allocations);
    ``initialized[i]``: in-segment pages of bin *i* whose structure has been
    initialized; ``segment_pages[i]``: in-segment pages of bin *i*.
    """

    lo: int
    hi: int
    width: int
    states: dict[str, list[int]] = field(default_factory=dict)
    initialized: list[int] = field(default_factory=list)
    segment_pages: list[int] = field(default_factory=list)

    @property
    def bins(self) -> int:
        return len(self.initialized)


def _spread(out: list[int], lo: int, hi: int, a: int, b: int, width: int) -> None:
    """Add the pages of ``[a, b)`` (clipped to ``[lo, hi)``) to their bins."""
    a, b = max(a, lo), min(b, hi)
    while a < b:
        i = (a - lo) // width
        end = min(b, lo + (i + 1) * width)
        out[i] += end - a
        a = end


def census(machine: Machine, bins: int = 512, lo: int | None = None, hi: int | None = None) -> Census:
    """Count page states and initialized structures in *bins* bins of pfns ``[lo, hi)``.

    By default the range runs from the first segment's start to the last
    segment's end.
    """
    segs = machine.segtab.segs
    lo = segs[0].start if lo is None else lo
    hi = segs[-1].end if hi is None else hi
    width = max(1, -(-(hi - lo) // bins))
    nb = -(-(hi - lo) // width)
    c = Census(lo, hi, width, {s: [0] * nb for s in STATES}, [0] * nb, [0] * nb)
    for seg in segs:
        _spread(c.segment_pages, lo, hi, seg.start, seg.end, width)
        for start, end, value in machine.vm.pages.pool.runs(max(seg.start, lo), min(seg.end, hi)):
            if value != UNINIT:
                _spread(c.initialized, lo, hi, start, end, width)
        for start, end, value in machine.allocated.runs(max(seg.start, lo), min(seg.end, hi)):
            if value:
                _spread(c.states["allocated"], lo, hi, start, end, width)
    for _, _, pool, order, pfn in machine.vm.fq.heads():
        n = 1 << order
        if pfn + n > lo and pfn < hi:
            _spread(c.states["free:" + POOL_NAMES[pool]], lo, hi, pfn, pfn + n, width)
    shift = machine.arch.page_shift
    for pa in machine.blacklisted:
        _spread(c.states["blacklisted"], lo, hi, pa >> shift, (pa >> shift) + 1, width)
    for i in range(nb):
        bin_pages = min(hi, lo + (i + 1) * width) - (lo + i * width)
        used = sum(c.states[s][i] for s in STATES[2:])
        c.states["hole"][i] = bin_pages - c.segment_pages[i]
        c.states["reserved"][i] = c.segment_pages[i] - used
    return c
