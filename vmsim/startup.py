"""Boot: the page-array half of ``vm_page_startup()`` and the boot blacklist.

Models the loop of ``vm_page_startup()`` in ``sys/vm/vm_page.c`` that
initializes page structures and hands every ``phys_avail[]`` run to
``vm_phys_enqueue_contig()``, in both modes of the ``debug.vm.lazy_page_init``
tunable, and ``vm_page_blacklist_check()`` / ``vm_page_blacklist_add()``.

The lazy walk over ``phys_avail`` is reproduced exactly as the seed writes
it, including two surprises (kernel notes section 3.2): after initializing a
gap it does not skip the covered range that follows, so that range is
initialized too whenever another ``phys_avail`` entry comes after it; and
pages of a segment after the last ``phys_avail`` entry are never initialized.
"""

from __future__ import annotations

from .arch import DEFAULT, LAZYINIT
from .errors import CorruptionRefused
from .phys import VmPhys

__all__ = ["vm_page_startup", "lazy_gap_walk", "blacklist_add", "parse_blacklist"]


def lazy_gap_walk(seg_start: int, seg_end: int, phys_avail: list[tuple[int, int]],
                  skip_covered: bool = False, tail: bool = False) -> list[tuple[int, int]]:
    """The ranges of one segment that the lazy boot initializes up front.

    Follows the seed's loop literally: ``startp`` begins at the segment's
    start; for each ``phys_avail`` pair ``[a, b)``: stop once ``startp``
    reaches the segment's end; skip a pair that ends before ``startp``; if the
    pair starts at or before ``startp``, jump ``startp`` to its end; otherwise
    initialize ``[startp, min(a, seg_end))`` and leave ``startp`` there.

    This book's proposal (not FreeBSD code, see :mod:`vmsim.revisions`):
    *skip_covered* also jumps ``startp`` over ``[a, b)`` after that gap, and
    *tail* initializes what is left of the segment after the last pair.
    """
    out = []
    startp = seg_start
    for a, b in phys_avail:
        if startp >= seg_end:
            break
        if b < startp:
            continue
        if a <= startp:
            startp = max(startp, b) if skip_covered else b
            continue
        endp = min(a, seg_end)
        if startp < endp:
            out.append((startp, endp))
            startp = max(endp, b) if skip_covered else endp
    if tail:
        covered_end = max((b for a, b in phys_avail if a < seg_end and b > seg_start), default=seg_start)
        start = max(startp, covered_end)
        if start < seg_end:
            out.append((start, seg_end))
    return out


def vm_page_startup(vm: VmPhys, phys_avail: list[tuple[int, int]], lazy: bool) -> None:
    """Initialize page structures and enqueue every free run, segment by segment.

    Eager (``lazy=False``): every page of the segment is initialized with
    DEFAULT.  Lazy: only the ranges of :func:`lazy_gap_walk` (DEFAULT), and
    each run's first page (LAZYINIT) right before the run is enqueued; the
    chunk helper then initializes each next block head.
    """
    rev = vm.rev
    for segind, seg in enumerate(vm.segs):
        if lazy:
            for lo, hi in lazy_gap_walk(seg.start, seg.end, phys_avail, rev.skip_covered_ranges,
                                        rev.init_segment_tail):
                vm._init_range(lo, hi, segind, DEFAULT)
        else:
            vm._init_range(seg.start, seg.end, segind, DEFAULT)
        for a, b in phys_avail:
            startp, endp = max(a, seg.start), min(b, seg.end)
            if endp <= startp:
                continue
            if lazy:
                vm._init_page(startp, segind, LAZYINIT)
            vm.enqueue_contig(startp, endp - startp)


def parse_blacklist(text: str, page_shift: int) -> list[int]:
    """``vm_page_blacklist_next``: parse ``vm.blacklist`` into page addresses.

    Entries are separated by spaces, commas or newlines and read as C
    integers (``0x`` hexadecimal, a leading ``0`` octal, else decimal); zero
    entries are skipped; each is truncated to its page.
    """
    out = []
    for word in text.replace(",", " ").split():
        value = _c_integer(word)
        if value:
            out.append(value >> page_shift << page_shift)
    return out


def _c_integer(word: str) -> int:
    """``strtoq(word, NULL, 0)`` for a whole word."""
    w = word.lower()
    if w.startswith("0x"):
        return int(w[2:], 16)
    if len(w) > 1 and w.startswith("0"):
        return int(w[1:], 8)
    return int(w, 10)


def blacklist_add(vm: VmPhys, pfn: int) -> bool:
    """``vm_page_blacklist_add``: remove a bad page from the free lists.

    A page that has no ``vm_page`` (in no segment) counts as success without
    being listed.  The domain is found by address, not through the page
    structure, which may not be initialized yet; then
    ``vm_phys_unfree_page`` -- which drains the domain's lazy pool first.
    Returns whether the page was found free (and so is now blacklisted).

    ``vm_phys_domain`` matches affinity entries with an inclusive end, so the
    first page of every domain but the first is looked up in the domain
    below it; ``vm_phys_unfree_page`` then finds the wrong lock held and its
    assertion fires.  vmsim raises that assertion before changing anything.
    """
    segind = vm.segtab.find(pfn)
    if segind < 0:
        return True
    locked = vm.segtab.vm_phys_domain(pfn << vm.arch.page_shift, vm.rev.domain_end_exclusive)
    domain = vm.segs[segind].domain
    if locked != domain:
        # vm_phys_unfree_page asserts that the segment's domain lock is held.
        raise CorruptionRefused(
            "vm_phys_unfree_page",
            f"the free lock of domain {domain} is not held: vm_page_blacklist_add locked domain {locked}, "
            "because vm_phys_domain() treats an affinity entry's end as inclusive",
        )
    return vm.unfree_page(pfn)
