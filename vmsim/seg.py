"""Physical segments and the free-list index map.

Models ``vm_phys_add_seg()``, ``vm_phys_create_seg()`` / ``_vm_phys_create_seg()``
and the segment half of ``vm_phys_init()`` in ``sys/vm/vm_phys.c``: ranges of
physical memory become segments, split at the free-list boundaries of the
architecture and at NUMA domain boundaries, sorted by address; each segment is
bound to the free queues of its (domain, free-list index); adjacent segments
that share queues are coalesced.

Addresses inside the model are page frame numbers (pfn = byte address >>
``PAGE_SHIFT``); byte addresses appear only at the public API.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from .arch import Arch
from .errors import InvalidInput
from .validate import byte_range, integer, items, show

__all__ = ["Segment", "SegmentTable", "build_segments"]


@dataclass
class Segment:
    """``struct vm_phys_seg``: pages ``[start, end)`` (pfns) of one domain.

    ``flind`` selects ``vm_phys_free_queues[domain][flind]`` (the segment's
    ``free_queues`` pointer); ``first_index`` is the index of its first page in
    the page array (``first_page``).
    """

    start: int
    end: int
    domain: int
    flind: int = -1
    first_index: int = 0

    @property
    def npages(self) -> int:
        return self.end - self.start


@dataclass
class SegmentTable:
    """``vm_phys_segs[]`` after ``vm_phys_init()``, with the free-list map."""

    arch: Arch
    segs: list[Segment]
    ndomains: int
    freelist_to_flind: list[int]
    nfreelists: int
    array_base: int
    array_size: int
    affinity: list[tuple[int, int, int]] | None = None

    def __post_init__(self) -> None:
        self._starts = [s.start for s in self.segs]
        self._last = 0

    def find(self, pfn: int) -> int:
        """Index of the segment holding page *pfn*, or -1 (``vm_phys_paddr_to_seg``)."""
        seg = self.segs[self._last]
        if seg.start <= pfn < seg.end:
            return self._last
        i = bisect_right(self._starts, pfn) - 1
        if i >= 0 and pfn < self.segs[i].end:
            self._last = i
            return i
        return -1

    def vm_phys_domain(self, pa: int, exclusive_end: bool = False) -> int:
        """``vm_phys_domain(pa)``: the domain of byte address *pa*, by the affinity table.

        Like the kernel's inline function (``sys/vm/vm_phys.h``), the first
        entry with ``start <= pa <= end`` wins: the end is *inclusive*, so an
        address on a boundary between two domains belongs to the lower one
        here.  *exclusive_end* is this book's proposed fix, ``pa < end``.
        Returns -1 when no entry matches, 0 on a one-domain machine.
        """
        if self.affinity is None:
            return 0
        shift = self.arch.page_shift
        for start, end, domain in self.affinity:
            if start << shift <= pa and (pa < end << shift if exclusive_end else pa <= end << shift):
                return domain
        return -1

    def flind_name(self, flind: int) -> str:
        """The lowest-numbered ``VM_FREELIST_*`` name mapped to *flind*."""
        for freelist, f in enumerate(self.freelist_to_flind):
            if f == flind:
                return self.arch.freelists[freelist]
        raise InvalidInput("flind_name", f"no free list maps to index {flind}")

    def index_of(self, pfn: int) -> int:
        """Page-array index of the in-segment page *pfn* (``PHYS_TO_VM_PAGE``)."""
        if self.arch.dense:
            return pfn - self.array_base
        seg = self.segs[self.find(pfn)]
        return seg.first_index + (pfn - seg.start)

    def pfn_at_index(self, index: int) -> tuple[int, int]:
        """The page at array *index*: ``(pfn, segind)``; segind is -1 for a hole.

        ``pfn`` is -1 when *index* lies past the end of the page array.
        """
        if index >= self.array_size or index < 0:
            return -1, -1
        if self.arch.dense:
            pfn = self.array_base + index
            return pfn, self.find(pfn)
        for segind, seg in enumerate(self.segs):
            if seg.first_index <= index < seg.first_index + seg.npages:
                return seg.start + index - seg.first_index, segind
        raise AssertionError("sparse page array index not covered by a segment")


def _create_seg(arch: Arch, raw: list[Segment], start: int, end: int, domain: int) -> None:
    """``_vm_phys_create_seg``: insert ``[start, end)`` keeping address order."""
    if len(raw) >= arch.physseg_max:
        raise InvalidInput("vm_phys_create_seg", f"more than VM_PHYSSEG_MAX={arch.physseg_max} segments")
    i = len(raw)
    while i > 0 and raw[i - 1].start >= end:
        i -= 1
    raw.insert(i, Segment(start, end, domain))


def _create_seg_numa(arch: Arch, raw, start: int, end: int, affinity) -> None:
    """``vm_phys_create_seg``: split ``[start, end)`` at domain boundaries."""
    if affinity is None:
        _create_seg(arch, raw, start, end, 0)
        return
    for a_start, a_end, domain in affinity:
        if a_end <= start:
            continue
        if a_start > start:
            raise InvalidInput(
                "vm_phys_create_seg", f"no affinity information for pa {start << arch.page_shift:#x}"
            )
        if a_end >= end:
            _create_seg(arch, raw, start, end, domain)
            return
        _create_seg(arch, raw, start, a_end, domain)
        start = a_end
    raise InvalidInput("vm_phys_create_seg", "reached the end of the affinity table")


def _add_seg(arch: Arch, raw, start: int, end: int, affinity) -> None:
    """``vm_phys_add_seg``: split at the LOWMEM and DMA32 boundaries."""
    for boundary in (arch.lowmem_boundary, arch.dma32_boundary):
        if boundary is None:
            continue
        b = boundary >> arch.page_shift
        if start < b < end:
            _create_seg_numa(arch, raw, start, b, affinity)
            start = b
    _create_seg_numa(arch, raw, start, end, affinity)


def _freelist_map(arch: Arch, raw: list[Segment]) -> tuple[list[int], int]:
    """The first half of ``vm_phys_init``: ``vm_freelist_to_flind[]``.

    A list that gets no memory aliases the index of the list before it; only
    a list with every earlier list absent maps to -1.
    """
    present = [0] * arch.nfreelist
    lowmem = arch.lowmem_boundary >> arch.page_shift if arch.lowmem_boundary else None
    dma32 = arch.dma32_boundary >> arch.page_shift if arch.dma32_boundary else None
    threshold = arch.dma32_npages_threshold
    npages = 0
    for seg in reversed(raw):
        if lowmem is not None and seg.end <= lowmem:
            present[arch.freelist_index("LOWMEM")] = 1
        elif dma32 is not None and (threshold is None or npages > threshold) and seg.end <= dma32:
            present[arch.freelist_index("DMA32")] = 1
        else:
            if threshold is not None:
                npages += seg.npages
            present[0] = 1
    for f in range(1, arch.nfreelist):
        present[f] += present[f - 1]
    nfreelists = present[-1]
    return [p - 1 for p in present], nfreelists


def _seg_flind(arch: Arch, seg: Segment, fmap: list[int]) -> int:
    if arch.lowmem_boundary is not None and seg.end <= arch.lowmem_boundary >> arch.page_shift:
        return fmap[arch.freelist_index("LOWMEM")]
    if arch.dma32_boundary is not None and seg.end <= arch.dma32_boundary >> arch.page_shift:
        return fmap[arch.freelist_index("DMA32")]
    return fmap[0]


def _coalesce(raw: list[Segment]) -> list[Segment]:
    """The last step of ``vm_phys_init``: merge adjacent segments sharing queues."""
    out = [raw[0]]
    for seg in raw[1:]:
        prev = out[-1]
        if prev.end == seg.start and (prev.domain, prev.flind) == (seg.domain, seg.flind):
            prev.end = seg.end
        else:
            out.append(seg)
    return out


def _check_ranges(op: str, arch: Arch, ranges, what: str) -> list[tuple[int, int]]:
    out = []
    for r in items(op, f"{what} ranges", ranges):
        start, end = byte_range(op, what, r, arch.page_size)
        out.append((start >> arch.page_shift, end >> arch.page_shift))
    for (_s1, e1), (s2, _e2) in zip(sorted(out), sorted(out)[1:]):
        if s2 < e1:
            raise InvalidInput(op, f"{what} ranges overlap at pa {s2 << arch.page_shift:#x}")
    return out


def _check_affinity(arch: Arch, domains) -> tuple[list[tuple[int, int, int]] | None, int]:
    op = "vm_phys_register_domains"
    if domains is None:
        return None, 1
    table = []
    for entry in items(op, "domains", domains):
        if isinstance(entry, (list, tuple)) and len(entry) == 3:
            start, end = byte_range(op, "affinity", entry[:2], arch.page_size)
            dom = integer(op, "affinity domain", entry[2])
            if dom >= arch.maxmemdom:
                raise InvalidInput(op, f"domain {dom} is not below MAXMEMDOM={arch.maxmemdom}")
        else:
            raise InvalidInput(op, f"affinity entry {show(entry)} is not [start, end, domain]")
        table.append((start >> arch.page_shift, end >> arch.page_shift, dom))
    if not table:
        raise InvalidInput(op, "domains is empty: give [start, end, domain] entries, or None for one domain")
    for (_s1, e1, _), (s2, _e2, _) in zip(table, table[1:]):
        if s2 < e1:
            raise InvalidInput(op, "affinity entries must be in ascending address order without overlap")
    ndomains = max(d for _, _, d in table) + 1
    if ndomains == 1:
        return None, 1  # vm_phys_register_domains ignores a one-domain table
    return table, ndomains


def build_segments(arch: Arch, seg_ranges, domains=None) -> SegmentTable:
    """Register *seg_ranges* and run the segment part of ``vm_phys_init``.

    *seg_ranges* are byte ``[start, end)`` pairs as given to
    ``vm_phys_add_seg``; *domains* is the ``mem_affinity`` table as byte
    ``[start, end, domain]`` triples, or ``None`` for one domain.
    """
    op = "vm_phys_add_seg"
    ranges = _check_ranges(op, arch, seg_ranges, "segment")
    if not ranges:
        raise InvalidInput(op, "no segments: the machine has no memory")
    affinity, ndomains = _check_affinity(arch, domains)
    raw: list[Segment] = []
    for start, end in ranges:
        _add_seg(arch, raw, start, end, affinity)
    fmap, nfreelists = _freelist_map(arch, raw)
    for seg in raw:
        seg.flind = _seg_flind(arch, seg, fmap)
        if seg.flind < 0:
            raise InvalidInput("vm_phys_init", f"segment at pfn {seg.start:#x} maps to a missing free list")
    index = 0
    for seg in raw:
        seg.first_index = index
        index += seg.npages
    segs = _coalesce(raw)
    if arch.dense:
        base = segs[0].start
        for seg in segs:
            seg.first_index = seg.start - base
        size = segs[-1].end - base
    else:
        base, size = 0, index
    return SegmentTable(arch, segs, ndomains, fmap, nfreelists, base, size, affinity)

