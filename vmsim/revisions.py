"""The revisions of the lazy-init change that vmsim can run.

Models the few points where the revisions of ``sys/vm/vm_phys.c`` and
``sys/vm/vm_page.c`` differ, as flags on a frozen :class:`Revision`, never as
copies of whole functions.  Each flag names the commit that changed the
behaviour and what changed.

* ``seed`` -- the review revision of D40403 in ``shared/seed/`` applied to its
  mid-2023 tree.  The default: the system this project teaches.
* ``committed`` -- the change as committed, b16b4c22d2d1 "vm_page: Implement
  lazy page initialization" (June 2024), with the 2024 ``vm_phys.c`` around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidInput

__all__ = ["Revision", "SEED", "COMMITTED", "REVISIONS", "get_revision"]


@dataclass(frozen=True)
class Revision:
    """One revision of the change, as the handful of behaviours that differ.

    ``successor_guard``: whether a lazy chunk initializes the page after it
    only when that page is still inside the head's segment.  The seed's
    ``vm_phys_enqueue_contig_chunk`` has no such test, so the last chunk of a
    run that ends at a segment's end initializes the structure *past* the
    segment (the next segment's first entry, a hole's entry, or one past the
    page array); b16b4c22's ``vm_phys_enq_chunk`` tests the segment's end.

    ``free_contig_ilog2``: how ``vm_phys_free_contig`` picks the ends it holds
    back for coalescing.  The seed's 2023 tree uses ``max_order()`` of the
    first page and of the page after the run (reading that page's
    ``phys_addr``); the 2024 tree computes the orders from the run's page
    numbers alone and holds an end back only when it is less aligned than the
    largest block the run can hold.

    ``contig_max_blocks_only``: how ``vm_phys_find_freelist_contig`` finds a
    run longer than the largest block.  The seed's 2023 tree backs the start
    down over smaller free blocks to cover the fragment and may finish the
    run with blocks of diminishing size, and never compares the run's end
    with ``high``; the 2024 tree walks only consecutive free max-order
    blocks and keeps the run below ``min(high, segment end)``.
    """

    name: str
    commit: str
    summary: str
    successor_guard: bool
    free_contig_ilog2: bool
    contig_max_blocks_only: bool


SEED = Revision(
    name="seed",
    commit="D40403 review revision (shared/seed/000_7d33d6fbc9cfd527.txt)",
    summary="the review revision of the change on its mid-2023 tree",
    successor_guard=False,
    free_contig_ilog2=False,
    contig_max_blocks_only=False,
)

COMMITTED = Revision(
    name="committed",
    commit="b16b4c22d2d19bfb3d8e0fcce9e83b9d69f915e8",
    summary="the change as committed in June 2024, on the 2024 tree",
    successor_guard=True,
    free_contig_ilog2=True,
    contig_max_blocks_only=True,
)

REVISIONS = {r.name: r for r in (SEED, COMMITTED)}


def get_revision(name: str | Revision) -> Revision:
    """Return the revision called *name* (a :class:`Revision` is returned as is)."""
    if isinstance(name, Revision):
        return name
    try:
        return REVISIONS[name]
    except (KeyError, TypeError):
        raise InvalidInput("revision", f"unknown revision {name!r}; known: {sorted(REVISIONS)}") from None
