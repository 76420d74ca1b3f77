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
from .errors import InvalidInput
from .page import UNINIT

if TYPE_CHECKING:
    from .machine import Machine

__all__ = ["Census", "census", "STATES", "Fold", "fold", "free_list_indexes"]

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
    pool, allocated = machine.vm.pages.pool, machine.allocated
    for seg in segs:
        a, b = max(seg.start, lo), min(seg.end, hi)
        # Bin by bin, counting (a C-speed scan of each stored superchunk) rather
        # than walking runs: a lazily booted 4 TiB machine has a run boundary in
        # every one of its quarter of a million superchunks.
        while a < b:
            i = (a - lo) // width
            end = min(b, lo + (i + 1) * width)
            c.segment_pages[i] += end - a
            c.initialized[i] += end - a - pool.count(a, end, UNINIT)
            c.states["allocated"][i] += allocated.count(a, end, 1)
            a = end
    for _, _, pool, order, queue in machine.vm.fq.queues():
        if not queue:
            continue
        out, n = c.states["free:" + POOL_NAMES[pool]], 1 << order
        for pfn in queue:
            i = (pfn - lo) // width
            if lo <= pfn and pfn + n <= min(hi, lo + (i + 1) * width):
                out[i] += n  # the usual case: the block lies inside one bin
            elif pfn + n > lo and pfn < hi:
                _spread(out, lo, hi, pfn, pfn + n, width)
    shift = machine.arch.page_shift
    for pa in machine.blacklisted:
        _spread(c.states["blacklisted"], lo, hi, pa >> shift, (pa >> shift) + 1, width)
    for i in range(nb):
        bin_pages = min(hi, lo + (i + 1) * width) - (lo + i * width)
        used = sum(c.states[s][i] for s in STATES[2:])
        c.states["hole"][i] = bin_pages - c.segment_pages[i]
        c.states["reserved"][i] = c.segment_pages[i] - used
    return c


_GIB = 1 << 30
#: (largest span in bytes, rows) -- larger spans get 8 rows (see :func:`fold`).
_ROWS = ((2 * _GIB, 1), (32 * _GIB, 2), (512 * _GIB, 4))

@dataclass(frozen=True)
class Fold:
    """How an address range is cut into rows of equal length (pfns)."""

    lo: int
    rows: int
    row_pages: int
    bins_per_row: int
    page_shift: int

    @property
    def hi(self) -> int:
        return self.lo + self.rows * self.row_pages

    @property
    def bins(self) -> int:
        return self.rows * self.bins_per_row

    def row_start(self, r: int) -> int:
        """First pfn of row *r*."""
        return self.lo + r * self.row_pages


def fold(lo: int, hi: int, bins: int, page_shift: int) -> Fold:
    """Rows for pfns ``[lo, hi)``: 1 row up to 2 GiB, 2 to 32 GiB, 4 to 512 GiB, else 8.

    Row length is rounded up to a multiple of an eighth of a power of two,
    and of the bins per row, so row starts are round numbers and every bin
    holds the same number of pages.
    """
    span = (hi - lo) << page_shift
    rows = next((n for limit, n in _ROWS if span <= limit), 8)
    per_row = max(1, bins // rows)
    need = -(-(hi - lo) // rows)
    unit = 1 << max(0, need.bit_length() - 4)
    unit = -(-unit // per_row) * per_row
    start = lo - lo % unit
    row_pages = -(-(hi - start) // rows // unit) * unit
    while start + rows * row_pages < hi:
        row_pages += unit
    return Fold(start, rows, row_pages, per_row, page_shift)


def free_list_indexes(machine: Machine, freelist: str | None) -> list[int]:
    """The free-list indexes (``flind``) a free-queue picture draws.

    Every free list of the machine for ``None``, else the one the arch's
    *freelist* (``"DEFAULT"``, ``"DMA32"``, ...) maps to through
    ``vm_freelist_to_flind``; an unknown or absent free list is an
    :class:`~vmsim.errors.InvalidInput` naming the ones there are.
    """
    if freelist is None:
        return list(range(machine.segtab.nfreelists))
    if freelist not in machine.arch.freelists:
        raise InvalidInput("free_queues", f"{machine.arch.name} has no {freelist!r} free list; "
                                          f"it has {list(machine.arch.freelists)}")
    flind = machine.segtab.freelist_to_flind[machine.arch.freelist_index(freelist)]
    if flind < 0:
        raise InvalidInput("free_queues", f"free list {freelist} is absent on this machine")
    return [flind]
