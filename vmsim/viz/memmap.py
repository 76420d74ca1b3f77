"""Memory maps: the physical address space, coloured by what each page frame is.

A picture of ``vm_phys_segs[]``, the free queues of ``sys/vm/vm_phys.c`` and
the page array together: every page frame is in a hole, reserved (in a
segment but never given to the allocator, such as the kernel image), free in
one of the pools, allocated or blacklisted, and its ``struct vm_page`` is
initialized (``vm_page_init_page()`` has run) or not.

The map never looks at pages one by one: :func:`vmsim.census.census` counts
states per bin from the model's run-length storage, so a 4 TiB machine costs
no more to draw than a 64 MiB one.  Large address spaces are folded into
rows; each row is a strip of states above a thin strip of initialized
structures.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.patches import Patch, Rectangle

from ..census import STATES, Census, Fold, census, fold
from .style import (
    INIT_COLOR,
    STATE_COLORS,
    UNINIT_COLOR,
    axis_unit,
    describe,
    finish,
    fmt_bytes,
    fmt_int,
    fmt_pct,
    new_figure,
)

__all__ = ["Fold", "fold", "memory_map", "compare_maps"]

#: Vertical layout of one row, in data units: state strip, init strip, gap.
_STATE_H, _SEP, _INIT_H, _GAP = 1.0, 0.1, 0.3, 0.45
_ROW_H = _STATE_H + _SEP + _INIT_H + _GAP
_PX = 24


def _image(fractions: np.ndarray, colors: list[str]) -> np.ndarray:
    """An RGB image: each column stacks *fractions* (states x bins) top down in *colors*."""
    palette = np.array([to_rgb(c) for c in colors])
    tops = np.cumsum(fractions, axis=0)[:-1]  # the last colour fills up to 1, whatever the rounding
    centers = (np.arange(_PX) + 0.5) / _PX
    return palette[(tops[None, :, :] <= centers[:, None, None]).sum(axis=1)]


def _fractions(c: Census) -> tuple[np.ndarray, np.ndarray]:
    """Per bin: state fractions (states x bins) and [initialized, uninitialized, hole] fractions."""
    states = np.array([c.states[s] for s in STATES], dtype=float)
    total = states.sum(axis=0)
    total[total == 0] = 1
    init = np.array(c.initialized, dtype=float)
    seg = np.array(c.segment_pages, dtype=float)
    return states / total, np.vstack([init, seg - init, total - seg]) / total


def _draw(ax, c: Census, f: Fold, highlight=()) -> None:
    """Draw census *c*, folded as *f*, into *ax*."""
    row_bytes = f.row_pages << f.page_shift
    u, uname = axis_unit(row_bytes)
    states, init = _fractions(c)
    single = f.rows == 1
    for r in range(f.rows):
        cols = slice(r * f.bins_per_row, (r + 1) * f.bins_per_row)
        x0 = _x(f, f.row_start(r), r, u, single)
        x1 = _x(f, f.row_start(r + 1), r, u, single)
        y = r * _ROW_H
        ax.imshow(_image(states[:, cols], [STATE_COLORS[s] for s in STATES]), extent=(x0, x1, y + _STATE_H, y),
                  aspect="auto", interpolation="nearest", origin="upper")
        yi = y + _STATE_H + _SEP
        ax.imshow(_image(init[:, cols], [INIT_COLOR, UNINIT_COLOR, STATE_COLORS["hole"]]),
                  extent=(x0, x1, yi + _INIT_H, yi), aspect="auto", interpolation="nearest", origin="upper")
        for top, h in ((y, _STATE_H), (yi, _INIT_H)):
            ax.add_patch(Rectangle((x0, top), x1 - x0, h, fill=False, edgecolor="#666666", linewidth=0.5))
    for lo_pa, hi_pa, label in highlight:
        _highlight(ax, f, lo_pa >> f.page_shift, hi_pa >> f.page_shift, label, u, single)
    ax.set_ylim(f.rows * _ROW_H - _GAP + 0.15, -0.55 if highlight else -0.15)
    if single:
        ax.set_xlim((f.lo << f.page_shift) / u, (f.hi << f.page_shift) / u)
        ax.set_xlabel(f"physical address ({uname})")
        ax.set_yticks([_STATE_H / 2, _STATE_H + _SEP + _INIT_H / 2], ["page frames", "struct vm_page"], fontsize=8)
    else:
        ax.set_xlim(0, row_bytes / u)
        ax.set_xlabel(f"offset within the row ({uname}); each row is {fmt_bytes(row_bytes)}")
        starts = [(f.row_start(r) << f.page_shift) / u for r in range(f.rows)]
        ax.set_yticks([r * _ROW_H + _STATE_H / 2 for r in range(f.rows)], [f"{s:g} {uname}" for s in starts],
                      fontsize=8)
        ax.set_ylabel("row start (physical address)")
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _x(f: Fold, pfn: float, r: int, u: int, single: bool) -> float:
    """The x coordinate of page *pfn* drawn in row *r*."""
    base = 0 if single else f.row_start(r)
    return (pfn - base) * (1 << f.page_shift) / u


def _highlight(ax, f: Fold, lo: int, hi: int, label: str, u: int, single: bool) -> None:
    """Outline pfns ``[lo, hi)`` in every row they touch (at least a visible sliver); label the first piece."""
    first = True
    min_w = f.row_pages / 250
    for r in range(f.rows):
        a, b = max(lo, f.row_start(r)), min(hi, f.row_start(r + 1))
        if a >= b:
            continue
        if b - a < min_w:
            a, b = (a + b - min_w) / 2, (a + b + min_w) / 2
        xa, xb = _x(f, a, r, u, single), _x(f, b, r, u, single)
        y = r * _ROW_H
        ax.add_patch(Rectangle((xa, y - 0.06), xb - xa, _STATE_H + _SEP + _INIT_H + 0.12, fill=False, edgecolor="black",
                               linewidth=1.8, zorder=5))
        if first:
            ax.text((xa + xb) / 2, y - 0.1, label, ha="center", va="bottom", fontsize=8, zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9})
            first = False


def _legend(fig, present: set[str]) -> None:
    handles = [Patch(facecolor=STATE_COLORS[s], edgecolor="#444444", linewidth=0.5, label=s)
               for s in STATES if s in present]
    handles += [Patch(facecolor=INIT_COLOR, edgecolor="#444444", linewidth=0.5, label="struct initialized"),
                Patch(facecolor=UNINIT_COLOR, edgecolor="#444444", linewidth=0.5, label="struct not initialized")]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5), fontsize=8, frameon=False,
               title="upper strip: page frame state; lower strip: its struct vm_page", title_fontsize=8)


def _present(c: Census) -> set[str]:
    return {s for s in STATES if sum(c.states[s])}


def _summary(c: Census) -> str:
    """'62% free:LAZYINIT, ...; 7,756 of 261,790 structures (3.0%) initialized'."""
    seg = sum(c.segment_pages)
    parts = []
    for s in STATES[1:]:
        n = sum(c.states[s])
        if n:
            parts.append(f"{fmt_pct(100 * n / seg)} {s}")
    init = sum(c.initialized)
    return (f"of {fmt_int(seg)} page frames in segments, " + ", ".join(parts)
            + f"; {fmt_int(init)} structures ({fmt_pct(100 * init / seg)}) initialized")


def _span(machines) -> tuple[int, int]:
    lo = min(m.segtab.segs[0].start for m in machines)
    hi = max(m.segtab.segs[-1].end for m in machines)
    return lo, hi


def _height(f: Fold) -> float:
    """Figure height (inches) for one map of *f*'s rows, title and legend included."""
    return 1.7 + f.rows * (0.8 if f.rows <= 2 else 0.55)


def memory_map(machine, bins: int = 512, title: str | None = None, highlight=()):
    """The physical address space of *machine* as folded strips of page states.

    Upper strip of each row: the share of each :data:`vmsim.census.STATES`
    entry in every bin; lower strip: the share of page structures that are
    initialized.  *highlight* is a sequence of ``(start, end, label)`` byte
    ranges to outline (a run found by ``vm_phys_alloc_contig``, say).  The
    figure carries the :class:`~vmsim.census.Census` drawn as ``census`` and
    the :class:`Fold` as ``fold``.
    """
    lo, hi = _span([machine])
    f = fold(lo, hi, bins, machine.arch.page_shift)
    c = census(machine, f.bins, f.lo, f.hi)
    fig = new_figure(10, _height(f))
    ax = fig.add_subplot()
    _draw(ax, c, f, highlight)
    ax.set_title(title or f"Physical memory: {describe(machine)}", fontsize=11)
    _legend(fig, _present(c))
    alt = f"Memory map of a {describe(machine)} machine: " + _summary(c) + "."
    return finish(fig, alt, census=c, fold=f)


def compare_maps(machines: dict, bins: int = 512, title: str | None = None):
    """Memory maps of several machines, stacked on one shared address scale.

    *machines* maps a label to a machine, e.g. ``{"eager": m1, "lazy": m2}``;
    all are folded the same way over the union of their address ranges.
    The figure carries ``censuses`` (label -> census) and ``fold``.
    """
    if not machines:
        raise ValueError("compare_maps needs at least one machine")
    ms = list(machines.values())
    lo, hi = _span(ms)
    f = fold(lo, hi, bins, ms[0].arch.page_shift)
    cs = {label: census(m, f.bins, f.lo, f.hi) for label, m in machines.items()}
    fig = new_figure(10, 1.2 + (_height(f) - 1.0) * len(cs))
    axes = fig.subplots(len(cs), 1, squeeze=False)[:, 0]
    present: set[str] = set()
    for ax, (label, c) in zip(axes, cs.items()):
        _draw(ax, c, f)
        init = sum(c.initialized)
        ax.set_title(f"{label}: {fmt_int(init)} structures initialized "
                     f"({fmt_pct(100 * init / max(1, sum(c.segment_pages)))})", fontsize=10, loc="left")
        present |= _present(c)
    fig.suptitle(title or "Physical memory compared", fontsize=11)
    _legend(fig, present)
    alt = "Memory maps compared: " + "; ".join(f"{label}: {_summary(c)}" for label, c in cs.items()) + "."
    return finish(fig, alt, censuses=cs, fold=f)
