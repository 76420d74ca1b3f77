"""The revisions of the lazy-init change that vmsim can run.

Models the few points where the revisions of ``sys/vm/vm_phys.c`` and
``sys/vm/vm_page.c`` differ, as flags on a frozen :class:`Revision`, never as
copies of whole functions.  Each flag names the commit that changed the
behaviour and what changed.

* ``seed`` -- an intermediate review revision of D40403, the diff this book was
  written from, applied to its mid-2023 tree (README.md, "Revisions").  The default: the system this project teaches.
* ``committed`` -- the change as committed, b16b4c22d2d1 "vm_page: Implement
  lazy page initialization" (June 2024), with the 2024 ``vm_phys.c`` around it.
* ``proposed`` -- **this book's proposal, not FreeBSD code**: the committed
  revision with the five changes of chapter 10 ("Findings for FreeBSD
  developers"), each a flag of its own (:data:`PROPOSAL_FLAGS`), so that a
  mapping such as ``{"skip_covered_ranges": True}`` selects the committed
  revision with only that change.  The newest FreeBSD tree checked (a fork of
  freebsd-src carrying 2026 sources) still has all five findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from .errors import InvalidInput
from .validate import show

__all__ = ["Revision", "SEED", "COMMITTED", "PROPOSED", "PROPOSAL_FLAGS", "REVISIONS", "get_revision"]


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

    The remaining flags are this book's proposals, off in both FreeBSD
    revisions (chapter 10 describes each):

    ``skip_covered_ranges``: after initializing the gap before a
    ``phys_avail`` pair, the lazy boot's walk jumps over the pair, so no free
    page is initialized at boot beyond each run's first page and the block
    heads (the committed walk initializes the pair too whenever a later pair
    exists).

    ``init_segment_tail``: the walk also initializes a segment's pages after
    its last ``phys_avail`` pair, which the committed walk never reaches, so
    no structure inside a segment stays uninitialized.

    ``drain_waits_for_thread``: a synchronous drain (``vm_phys_find_range``,
    ``vm_phys_unfree_page``) that empties the lazy queues while the
    ``vmlazyinit`` thread holds a block with the lock dropped sleeps until the
    thread has freed it, and only then marks the domain done.  The rule: the
    thread counts, per domain and under the free lock, the blocks it holds
    off the queues; the drain waits for the count to reach zero.

    ``successor_inside_run``: the chunk helper initializes the page after a
    block only while that page is still inside the run being enqueued, so the
    last chunk no longer rewrites a non-free page past the run with pool
    LAZYINIT (which ``vm_phys_free_pages`` would refuse to free).

    ``domain_end_exclusive``: ``vm_phys_domain()`` matches an affinity entry
    with an exclusive end, so a domain's first page belongs to that domain
    (the boot blacklist then takes the right lock).
    """

    name: str
    commit: str
    summary: str
    successor_guard: bool
    free_contig_ilog2: bool
    contig_max_blocks_only: bool
    skip_covered_ranges: bool = False
    init_segment_tail: bool = False
    drain_waits_for_thread: bool = False
    successor_inside_run: bool = False
    domain_end_exclusive: bool = False

    @property
    def proposals(self) -> tuple[str, ...]:
        """The names of this book's proposals that are switched on."""
        return tuple(flag for flag in PROPOSAL_FLAGS if getattr(self, flag))


SEED = Revision(
    name="seed",
    commit="an intermediate review revision of D40403, on a mid-2023 tree",
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

#: This book's proposals, in the order chapter 10 presents them.
PROPOSAL_FLAGS = ("skip_covered_ranges", "init_segment_tail", "drain_waits_for_thread", "successor_inside_run",
                  "domain_end_exclusive")

PROPOSED = replace(
    COMMITTED,
    name="proposed",
    commit="none: this book's proposal on top of b16b4c22, not FreeBSD code",
    summary="the committed change with this book's five proposed fixes (chapter 10)",
    **dict.fromkeys(PROPOSAL_FLAGS, True),
)

REVISIONS = {r.name: r for r in (SEED, COMMITTED, PROPOSED)}


def get_revision(name) -> Revision:
    """The revision called *name*, or the committed one with the proposals a mapping switches on.

    *name* is ``"seed"``, ``"committed"`` or ``"proposed"``, a
    :class:`Revision` (returned as is), or a mapping from names in
    :data:`PROPOSAL_FLAGS` to ``True``/``False``, e.g.
    ``{"skip_covered_ranges": True}``.
    """
    if isinstance(name, Revision):
        return name
    if isinstance(name, Mapping):
        return _with_proposals(name)
    if isinstance(name, str) and name in REVISIONS:
        return REVISIONS[name]
    raise InvalidInput("revision", f"unknown revision {show(name)}; known: {sorted(REVISIONS)}, "
                                   f"or a mapping of {list(PROPOSAL_FLAGS)} to true/false")


def _with_proposals(flags: Mapping) -> Revision:
    unknown = [k for k in flags if k not in PROPOSAL_FLAGS]
    if unknown:
        raise InvalidInput("revision", f"unknown proposal {show(unknown[0])}; proposals are {list(PROPOSAL_FLAGS)}")
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise InvalidInput("revision", f"proposal {key} must be true or false, not {show(value)}")
    on = [k for k in PROPOSAL_FLAGS if flags.get(k)]
    if len(on) == len(PROPOSAL_FLAGS):
        return PROPOSED
    if not on:
        return COMMITTED
    return replace(COMMITTED, name="committed+" + "+".join(on),
                   commit="b16b4c22 with part of this book's proposal (not FreeBSD code)",
                   summary="the committed change with this book's " + ", ".join(on),
                   **dict.fromkeys(on, True))
