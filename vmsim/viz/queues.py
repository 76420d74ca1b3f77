"""The free queues as a grid: pools by orders, one panel per free list.

Models the table that ``sysctl vm.phys_free`` prints (``sysctl_vm_phys_free()``
in ``sys/vm/vm_phys.c``): for one domain and free list, the number of free
blocks (``lcnt``) of ``vm_phys_free_queues[domain][flind][pool][order]``.  Each
cell shows the block count and the pages it holds (``lcnt << order``),
optionally the address of the head block, the next one an allocation takes.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.patches import Rectangle

from ..arch import NFREEPOOL, POOL_NAMES
from ..census import free_list_indexes
from ..errors import InvalidInput
from .style import POOL_COLORS, describe, finish, fmt_bytes, fmt_int, new_figure, text_color

__all__ = ["free_queues"]

_CMAP = "cividis"



def _counts(machine, domain: int, flind: int) -> np.ndarray:
    fq = machine.vm.fq
    return np.array([[fq.lcnt(domain, flind, p, o) for o in range(machine.vm.nfreeorder)]
                     for p in range(NFREEPOOL)])


def _panel(ax, machine, domain: int, flind: int, counts: np.ndarray, norm, show_heads: bool):
    """Draw one free list's grid into *ax*; return the image (for the colour bar)."""
    shift = machine.arch.page_shift
    norders = counts.shape[1]
    pages = counts * (1 << np.arange(norders))[None, :]
    image = ax.imshow(np.ma.masked_equal(pages, 0), cmap=_CMAP, norm=norm, aspect="auto",
                      extent=(-0.5, norders - 0.5, NFREEPOOL - 0.5, -0.5))
    cmap = image.get_cmap()
    for p in range(NFREEPOOL):
        for o in range(norders):
            if not counts[p, o]:
                ax.text(o, p, "0", ha="center", va="center", fontsize=8, color="#9A9A9A", in_layout=False)
                continue
            fg = text_color(cmap(norm(pages[p, o])))
            lines = [f"{fmt_int(int(counts[p, o]))}", f"{fmt_int(int(pages[p, o]))} pg"]
            if show_heads:
                head = machine.vm.fq.first(domain, flind, p, o)
                lines.append(f"{head << shift:#x}")
            ax.text(o, p - 0.22, lines[0], ha="center", va="center", fontsize=8.5, weight="bold", color=fg,
                    in_layout=False)
            ax.text(o, p + 0.12, "\n".join(lines[1:]), ha="center", va="center", fontsize=6.5, color=fg,
                    linespacing=1.1, in_layout=False)
        ax.add_patch(Rectangle((-0.95, p - 0.35), 0.3, 0.7, facecolor=POOL_COLORS[POOL_NAMES[p]],
                               edgecolor="#444444", linewidth=0.5, clip_on=False))
    ax.set_xticks(range(norders), [f"{o}\n{fmt_bytes(1 << (o + shift))}" for o in range(norders)], fontsize=7)
    ax.set_yticks(range(NFREEPOOL), [f"{p} {POOL_NAMES[p]}" for p in range(NFREEPOOL)], fontsize=8)
    ax.tick_params(axis="y", pad=18, length=0)
    ax.set_xticks(np.arange(-0.5, norders), minor=True)
    ax.set_yticks(np.arange(-0.5, NFREEPOOL), minor=True)
    ax.grid(which="minor", color="#BBBBBB", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_xlim(-0.5, norders - 0.5)
    ax.set_ylabel("pool")
    total_blocks, total_pages = int(counts.sum()), int(pages.sum())
    ax.set_title(f"{machine.segtab.flind_name(flind)} free list (flind {flind}): "
                 f"{fmt_int(total_blocks)} blocks, {fmt_int(total_pages)} pages", fontsize=9.5, loc="left")
    return image


def _sentence(machine, flind: int, counts: np.ndarray) -> str:
    parts = []
    for p in range(NFREEPOOL):
        blocks = int(counts[p].sum())
        pages = int(sum(int(counts[p, o]) << o for o in range(counts.shape[1])))
        parts.append(f"{POOL_NAMES[p]} {fmt_int(blocks)} blocks ({fmt_int(pages)} pages)" if blocks
                     else f"{POOL_NAMES[p]} empty")
    return f"{machine.segtab.flind_name(flind)} list: " + ", ".join(parts)


def free_queues(machine, domain: int = 0, freelist: str | None = "DEFAULT", show_heads: bool = False):
    """A grid of one domain's free queues: pools (rows) by orders (columns).

    *freelist* names a ``VM_FREELIST_*`` of the machine's architecture (an
    absent list that aliases another draws that one), or ``None`` for one
    panel per free-list index.  Colour is the pages a queue holds, on a log
    scale; the text is the block count (``lcnt``), the pages and, with
    *show_heads*, the head block's address.  The figure carries ``counts``:
    ``{(flind, pool name, order): lcnt}``.
    """
    if not (isinstance(domain, int) and 0 <= domain < machine.vm.ndomains):
        raise InvalidInput("free_queues", f"domain {domain!r} is out of range (the machine has {machine.vm.ndomains})")
    flinds = free_list_indexes(machine, freelist)
    grids = {flind: _counts(machine, domain, flind) for flind in flinds}
    most = max(int((g * (1 << np.arange(g.shape[1]))[None, :]).max()) for g in grids.values())
    norm = LogNorm(vmin=1, vmax=max(2, most))
    fig = new_figure(10, 0.9 + 1.75 * len(flinds))
    axes = fig.subplots(len(flinds), 1, squeeze=False)[:, 0]
    for ax, flind in zip(axes, flinds):
        image = _panel(ax, machine, domain, flind, grids[flind], norm, show_heads)
    axes[-1].set_xlabel("order (block size)")
    fig.colorbar(image, ax=list(axes), label="pages in queue (log scale)", shrink=0.9, pad=0.01)
    fig.suptitle(f"Free queues of domain {domain}: {describe(machine)}", fontsize=11)
    counts = {(flind, POOL_NAMES[p], o): int(g[p, o]) for flind, g in grids.items()
              for p in range(NFREEPOOL) for o in range(g.shape[1])}
    alt = (f"Free queues of domain {domain} of a {describe(machine)} machine, blocks per pool and order: "
           + "; ".join(_sentence(machine, flind, g) for flind, g in grids.items()) + ".")
    return finish(fig, alt, counts=counts)
