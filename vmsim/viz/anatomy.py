"""Block anatomy: one allocator operation, drawn from its recorded events.

Reads the events :meth:`vmsim.machine.Machine.record` collects -- blocks
leaving (``vm_freelist_rem``) and joining (``vm_freelist_add``) queues, page
structures initialized (``vm_page_init_page``), blocks moved between pools
(``vm_phys_set_pool``), lazy blocks drained (``vm_phys_lazy_init_domain``) --
and turns them into *stories*, one per block involved:

* a **take**: a block left a queue and did not come back; pieces of it went
  back to queues (the halves of ``vm_phys_split_pages``, the excess of
  ``vm_phys_alloc_contig`` / ``vm_phys_alloc_npages``, the halves of
  ``vm_phys_unfree_page``) and the rest is *kept* (off the free lists);
* a **free**: a block joined a queue; any free buddies it absorbed on the
  way (``vm_phys_free_pages`` coalescing) left their queues first; the rest
  is the block *freed* by the caller (or, for the lazy thread, the lazy
  block itself).

Each story is drawn as a bar per zoom level: pieces too small to read at one
level are shown enlarged on the next row, under a grey funnel.
"""

from __future__ import annotations

import textwrap
from bisect import bisect_right
from dataclasses import dataclass, field

from matplotlib.patches import Patch, Polygon, Rectangle

from ..arch import LAZYINIT, POOL_NAMES
from .style import ALLOC_COLOR, INIT_COLOR, POOL_COLORS, finish, fmt_bytes, fmt_int, new_figure, text_color

__all__ = ["Piece", "Story", "stories", "describe_story", "block_anatomy"]

#: A piece narrower than this share of its row is enlarged on the next row.
_READABLE = 0.07
_MAX_ROWS = 5
_MAX_LANES = 4
#: Vertical layout in data units: header, queue strip, bar, init band, gap.
_HEAD, _STRIP, _BAR, _BAND, _GAP = 0.5, 0.34, 1.0, 0.22, 0.6


@dataclass
class Piece:
    """Pages ``[lo, hi)`` of a story's block and what happened to them.

    ``role``: ``"half"`` (went back to *queue*, at the tail or head),
    ``"buddy"`` (a free block absorbed from *queue*), ``"lazy"`` (the lazy
    block the thread moved), ``"kept"`` (left the free lists) or ``"freed"``
    (given back by the caller).
    """

    lo: int
    hi: int
    role: str
    queue: tuple[int, int, int] | None = None
    order: int | None = None
    tail: bool | None = None


@dataclass
class Story:
    """One block of an operation: ``kind`` ``"take"`` or ``"free"``, see the module docstring.

    ``queue`` is the queue the block left (take) or joined (free);
    ``inits`` the ``[lo, hi)`` ranges of its structures initialized by the
    operation; ``set_pool`` the pools it was moved to; ``first`` the index
    of its first event, for ordering; ``lazy`` whether the ``vmlazyinit``
    code (thread or drain) did it.
    """

    kind: str
    pfn: int
    order: int
    queue: tuple[int, int, int]
    first: int
    tail: bool | None = None
    pieces: list[Piece] = field(default_factory=list)
    inits: list[tuple[int, int]] = field(default_factory=list)
    set_pool: list[int] = field(default_factory=list)
    lazy: bool = False

    @property
    def hi(self) -> int:
        return self.pfn + (1 << self.order)

    @property
    def initialized(self) -> int:
        return sum(b - a for a, b in self.inits)

    def count(self, role: str) -> int:
        return sum(1 for p in self.pieces if p.role == role)


def _lazy_episodes(events: list[tuple]) -> list[tuple[int, int]]:
    """``[start, end)`` event index ranges of each lazy block's handling (rem ... lazy_block)."""
    spans, floor = [], 0
    for i, ev in enumerate(events):
        if ev[0] != "lazy_block":
            continue
        _, pfn, order, _ = ev
        start = next(j for j in range(i - 1, floor - 1, -1)
                     if events[j][0] == "rem" and events[j][2:4] == (pfn, order) and events[j][1][2] == LAZYINIT)
        spans.append((start, i + 1))
        floor = i + 1
    return spans


def _gaps(lo: int, hi: int, pieces: list[Piece]) -> list[tuple[int, int]]:
    """The runs of ``[lo, hi)`` no piece covers."""
    out, at = [], lo
    for p in sorted(pieces, key=lambda p: p.lo):
        if p.lo > at:
            out.append((at, p.lo))
        at = max(at, p.hi)
    if at < hi:
        out.append((at, hi))
    return out


def _parse(events: list[tuple], offset: int, lazy_pfn: int | None = None) -> list[Story]:
    """Stories of one group of events: an operation, or the lazy block *lazy_pfn*'s handling."""
    lazy = lazy_pfn is not None
    taken: list[Story] = []
    done: list[Story] = []
    for k, ev in enumerate(events):
        if ev[0] == "rem":
            _, fl, pfn, order = ev
            taken.append(Story("take", pfn, order, fl, offset + k, lazy=lazy))
        elif ev[0] == "add":
            _, fl, pfn, order, tail = ev
            hi = pfn + (1 << order)
            covered = [s for s in taken if pfn <= s.pfn and s.hi <= hi]
            if covered:
                story = Story("free", pfn, order, fl, covered[0].first, tail=tail, lazy=lazy)
                for s in covered:
                    role = "lazy" if s.pfn == lazy_pfn else "buddy"
                    story.pieces.append(Piece(s.pfn, s.hi, role, s.queue, s.order))
                    story.set_pool += s.set_pool
                    taken.remove(s)
                done.append(story)
                continue
            home = next((s for s in taken if s.pfn <= pfn < s.hi), None)
            if home is not None:
                home.pieces.append(Piece(pfn, hi, "half", fl, order, tail))
            else:
                done.append(Story("free", pfn, order, fl, offset + k, tail=tail, lazy=lazy))
        elif ev[0] == "set_pool":
            _, pfn, order, pool = ev
            for s in taken:
                if s.pfn <= pfn < s.hi:
                    s.set_pool.append(pool)
    out = sorted(taken + done, key=lambda s: s.first)
    for s in out:
        role = "kept" if s.kind == "take" else "freed"
        s.pieces += [Piece(a, b, role) for a, b in _gaps(s.pfn, s.hi, s.pieces)]
        s.pieces.sort(key=lambda p: p.lo)
    return out


def _init_ranges(events: list[tuple]) -> tuple[list[tuple[int, int]], int]:
    """The union of the pfn ranges initialized (sorted, disjoint) and the number of initializations."""
    ranges, total = [], 0
    for ev in events:
        if ev[0] == "init":
            ranges.append((ev[1], ev[2]))
        elif ev[0] == "successor":
            ranges.append((ev[1], ev[1] + 1))
        else:
            continue
        total += ranges[-1][1] - ranges[-1][0]
    union: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if union and lo <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], hi))
        else:
            union.append((lo, hi))
    return union, total


def _attach_inits(stories_: list[Story], union: list[tuple[int, int]]) -> None:
    """Give each story the initialized ranges inside its block."""
    starts = [lo for lo, _ in union]
    for s in stories_:
        k = max(0, bisect_right(starts, s.pfn) - 1)
        while k < len(union) and union[k][0] < s.hi:
            a, b = max(union[k][0], s.pfn), min(union[k][1], s.hi)
            if a < b:
                s.inits.append((a, b))
            k += 1


def stories(events: list[tuple]) -> tuple[list[Story], dict]:
    """Parse recorded *events* into stories (in order) and a summary dict.

    The summary has ``initialized`` (structures initialized in all),
    ``lazy_blocks`` (blocks the lazy-init code handled) and ``drained``
    (domains whose lazy pool was drained, from ``initdone`` events).
    """
    spans = _lazy_episodes(events)
    inside = {i for a, b in spans for i in range(a, b)}
    main = [ev for i, ev in enumerate(events) if i not in inside]
    first_main = next((i for i in range(len(events)) if i not in inside), 0)
    out = _parse(main, first_main)
    for a, b in spans:
        out += _parse(events[a:b], a, lazy_pfn=events[b - 1][1])
    out.sort(key=lambda s: s.first)
    union, total = _init_ranges(events)
    _attach_inits(out, union)
    drained = [ev[1] for ev in events if ev[0] == "initdone"]
    return out, {"initialized": total, "lazy_blocks": len(spans), "drained": drained}


# -- words ----------------------------------------------------------------------------------------
def _queue_name(machine, fl: tuple[int, int, int]) -> str:
    dom, flind, pool = fl
    return f"{machine.segtab.flind_name(flind)} list, {POOL_NAMES[pool]} pool" + (f", domain {dom}"
                                                                               if machine.vm.ndomains > 1 else "")


def _pa(machine, pfn: int) -> str:
    return f"{pfn << machine.arch.page_shift:#x}"


def _size(machine, pages: int) -> str:
    return fmt_bytes(pages << machine.arch.page_shift)


def _pages(n: int) -> str:
    return f"{fmt_int(n)} page" + ("" if n == 1 else "s")


def _set_pool_words(s: Story) -> str:
    if not s.set_pool:
        return ""
    pool = POOL_NAMES[s.set_pool[-1]]
    if s.initialized:
        return f"; set_pool to {pool} initialized {fmt_int(s.initialized)} structures"
    return f"; set_pool to {pool} (no initialization needed)"


def describe_story(machine, s: Story) -> str:
    """One line saying what happened to the block of *s*."""
    block = f"{_pa(machine, s.pfn)} (order {s.order}, {_size(machine, 1 << s.order)})"
    if s.kind == "take":
        halves = [p for p in s.pieces if p.role == "half"]
        kept = sum(p.hi - p.lo for p in s.pieces if p.role == "kept")
        text = f"took {block} from the {_queue_name(machine, s.queue)}" + _set_pool_words(s)
        if halves:
            ends = {"tail" if p.tail else "head" for p in halves}
            pools = {POOL_NAMES[p.queue[2]] for p in halves}
            one = len(halves) == 1
            text += (f"; {len(halves)} {'piece' if one else 'pieces'} back to {'/'.join(sorted(pools))} "
                     f"({'/'.join(sorted(ends))} of {'its queue' if one else 'their queues'})")
        return text + f"; {_pages(kept)} {'leaves' if kept == 1 else 'leave'} the free lists"
    where = f"the {_queue_name(machine, s.queue)}, at the {'tail' if s.tail else 'head'}"
    lazy = [p for p in s.pieces if p.role == "lazy"]
    buddies = s.count("buddy")
    merged = f", merged with {buddies} free {'buddy' if buddies == 1 else 'buddies'}" if buddies else ""
    if lazy:
        p = lazy[0]
        return (f"vmlazyinit: lazy block {_pa(machine, p.lo)} (order {p.order}) initialized "
                f"({fmt_int(s.initialized)} structures){merged}; now {block} in {where}")
    freed = sum(p.hi - p.lo for p in s.pieces if p.role == "freed")
    inits = f" (initializing {fmt_int(s.initialized)} structures)" if s.initialized else ""
    return f"freed {_pages(freed)}{merged}{inits}: {block} joins {where}"


# -- drawing ------------------------------------------------------------------------------------------
def _rows(s: Story) -> list[tuple[int, int]]:
    """The address range of each zoom row of story *s*."""
    rows = [(s.pfn, s.hi)]
    while len(rows) < _MAX_ROWS:
        a, b = rows[-1]
        small = [p for p in s.pieces if p.lo < b and p.hi > a and (p.hi - p.lo) / (b - a) < _READABLE]
        if not small:
            break
        hull = (min(p.lo for p in small), max(p.hi for p in small))
        if hull == (a, b):
            break
        rows.append(hull)
    return rows


def _label(p: Piece, frac: float) -> str:
    if p.role == "half":
        pool = POOL_NAMES[p.queue[2]]
        end = "tail" if p.tail else "head"
        return f"o{p.order} → {pool}\n{end}" if frac >= 0.14 else f"o{p.order}"
    if p.role == "buddy":
        return f"o{p.order} merged\nfrom {POOL_NAMES[p.queue[2]]}" if frac >= 0.14 else f"o{p.order}"
    if p.role == "lazy":
        return f"lazy o{p.order}" if frac >= 0.1 else f"o{p.order}"
    return {"kept": "taken", "freed": "freed"}[p.role]


def _color(p: Piece) -> str:
    if p.role in ("half", "buddy"):
        return POOL_COLORS[POOL_NAMES[p.queue[2]]]
    if p.role == "lazy":
        return POOL_COLORS["LAZYINIT"]
    return ALLOC_COLOR


def _draw_row(ax, s: Story, a: int, b: int, y: float, machine) -> None:
    span = b - a
    for p in s.pieces:
        lo, hi = max(p.lo, a), min(p.hi, b)
        if lo >= hi:
            continue
        x, w = (lo - a) / span, (hi - lo) / span
        color = _color(p)
        ax.add_patch(Rectangle((x, y), w, _BAR, facecolor=color, edgecolor="#333333", linewidth=0.7,
                               hatch="///" if p.role == "freed" else None))
        if w >= _READABLE:
            ax.text(x + w / 2, y + _BAR / 2, _label(p, w), ha="center", va="center", fontsize=7.5, in_layout=False,
                    color=text_color(color), linespacing=1.0,
                    bbox={"facecolor": color, "edgecolor": "none", "pad": 0.5} if p.role == "freed" else None)
    band = y + _BAR + 0.04
    ax.add_patch(Rectangle((0, band), 1, _BAND, facecolor="#EEEEEE", edgecolor="none"))
    for lo, hi in s.inits:
        lo, hi = max(lo, a), min(hi, b)
        if lo < hi:
            ax.add_patch(Rectangle(((lo - a) / span, band), (hi - lo) / span, _BAND, facecolor=INIT_COLOR,
                                   edgecolor="none"))
    ax.text(-0.008, y + _BAR / 2, _pa(machine, a), ha="right", va="center", fontsize=7, family="monospace")
    ax.text(1.008, y + _BAR / 2, _size(machine, span), ha="left", va="center", fontsize=7)


def _header(machine, s: Story) -> list[str]:
    return textwrap.wrap(describe_story(machine, s), 135)


def _story_height(machine, s: Story) -> float:
    return _HEAD * len(_header(machine, s)) + _STRIP + len(_rows(s)) * (_BAR + _BAND + _GAP)


def _draw_story(ax, s: Story, y: float, machine) -> float:
    """Draw *s* from height *y* down; return the height below it."""
    lines = _header(machine, s)
    ax.text(0, y + 0.1, "\n".join(lines), ha="left", va="top", fontsize=8, linespacing=1.25)
    y += _HEAD * len(lines)
    pool = POOL_NAMES[s.queue[2]]
    color = POOL_COLORS[pool]
    where = (f"before: order {s.order} in the {pool} queue" if s.kind == "take"
             else f"after: order {s.order} in the {pool} queue, at the {'tail' if s.tail else 'head'}")
    ax.add_patch(Rectangle((0, y), 1, _STRIP - 0.06, facecolor=color, edgecolor="#333333", linewidth=0.7))
    ax.text(0.5, y + (_STRIP - 0.06) / 2, where, ha="center", va="center", fontsize=7, color=text_color(color),
            in_layout=False)
    y += _STRIP
    rows = _rows(s)
    for i, (a, b) in enumerate(rows):
        _draw_row(ax, s, a, b, y, machine)
        if i + 1 < len(rows):
            na, nb = rows[i + 1]
            top = y + _BAR + _BAND + 0.06
            ax.add_patch(Polygon([((na - a) / (b - a), top), ((nb - a) / (b - a), top), (1, top + _GAP - 0.1),
                                  (0, top + _GAP - 0.1)], closed=True, facecolor="#CCCCCC", edgecolor="none",
                                 alpha=0.6))
        y += _BAR + _BAND + _GAP
    return y


def _footer(summary: dict, hidden: list[Story]) -> str:
    parts = []
    lazy_hidden = [s for s in hidden if s.lazy]
    other = [s for s in hidden if not s.lazy]
    if summary["drained"]:
        doms = ", ".join(str(d) for d in summary["drained"])
        parts.append(f"vm_phys_lazy_init_domain drained domain {doms}")
    if lazy_hidden:
        inits = sum(s.initialized for s in lazy_hidden)
        parts.append(f"{fmt_int(len(lazy_hidden))} more lazy blocks initialized and freed to DEFAULT "
                     f"({fmt_int(inits)} structures, {sum(s.count('buddy') for s in lazy_hidden)} merges)")
    if other:
        parts.append(f"{fmt_int(len(other))} more blocks not drawn")
    n = summary["initialized"]
    parts.append(f"{fmt_int(n)} page {'structure' if n == 1 else 'structures'} initialized in all")
    return "; ".join(parts) + "."


def _choose(all_stories: list[Story]) -> tuple[list[Story], list[Story]]:
    """Stories to draw in full (the operation's own first, then lazy ones) and the rest."""
    main = [s for s in all_stories if not s.lazy]
    lazy = [s for s in all_stories if s.lazy]
    shown = main[:_MAX_LANES]
    if len(lazy) <= 2 or not main:
        shown += lazy[:_MAX_LANES - len(shown)]
    hidden = [s for s in all_stories if s not in shown]
    return sorted(shown, key=lambda s: s.first), hidden


def _legend(fig) -> None:
    handles = [Patch(facecolor=POOL_COLORS[p], edgecolor="#333333", label=f"free block, {p} pool")
               for p in POOL_NAMES]
    handles += [Patch(facecolor=ALLOC_COLOR, edgecolor="#333333", label="leaves the free lists"),
                Patch(facecolor=ALLOC_COLOR, edgecolor="#333333", hatch="///", label="freed by the caller"),
                Patch(facecolor=INIT_COLOR, edgecolor="none", label="struct vm_page initialized now (band)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)


def block_anatomy(machine, events: list[tuple], title: str | None = None):
    """Draw one operation recorded with ``with machine.record() as events:``.

    For each block involved: which queue it left or joined, how it was split
    (each piece's order and the queue it went to, head or tail) or what it
    merged with, which of its page structures were initialized, and what
    stays off the free lists.  Lazy blocks handled by the ``vmlazyinit``
    code are drawn when few, else summarized.  The figure carries the parsed
    ``stories`` and ``summary`` (see :func:`stories`).
    """
    all_stories, summary = stories(events)
    shown, hidden = _choose(all_stories)
    height_units = sum(_story_height(machine, s) for s in shown) or 1.0
    fig = new_figure(10, 1.5 + 0.4 * height_units)
    ax = fig.add_subplot()
    y = 0.0
    for s in shown:
        y = _draw_story(ax, s, y, machine)
    if not shown:
        ax.text(0.5, 0.5, "no block left or joined a free queue", ha="center", va="center", fontsize=10)
    ax.set_xlim(-0.11, 1.07)
    ax.set_ylim(max(y, 1.0), -0.05)
    ax.set_yticks([])
    ax.set_xticks([0, 1], ["block start", "block end"], fontsize=8)
    ax.set_xlabel("pages of each block, left to right (the address at the left, the span at the right; "
                  "a grey funnel enlarges the pieces too small to read)", fontsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    footer = _footer(summary, hidden)
    fig.suptitle(title or "What one operation did to the free queues", fontsize=11)
    ax.set_title(footer, fontsize=8, loc="left", color="#333333", wrap=True)
    _legend(fig)
    alt = "; ".join(describe_story(machine, s) for s in shown) or "No block left or joined a free queue"
    alt = f"{alt}. {footer}"
    return finish(fig, alt, stories=all_stories, summary=summary)
