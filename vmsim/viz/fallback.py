"""The fallback search of an allocation: which queues it looks at, in order.

Draws :func:`vmsim.experiments.fallback_search`, the path of
``vm_phys_alloc_pages()`` / ``vm_phys_alloc_freelist_pages()`` in
``sys/vm/vm_phys.c`` through ``vm_phys_free_queues``: for each free list a
grid of pools by orders, each visited queue numbered in visiting order,
empty queues grey, non-empty ones in their pool's colour, and the queue the
search takes from outlined.  The own-pool phase climbs the orders; the steal
phase comes down from the largest order, pools from ``vm_default_freepool`` up.
"""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ..arch import POOL_NAMES
from .style import POOL_COLORS, finish, fmt_int, new_figure, text_color

__all__ = ["fallback_order"]

_EMPTY = "#D9D9D9"
_PHASE_STYLE = {"own": "-", "steal": "--"}


def _panels(search: list[dict]) -> list[tuple[str, int, list[tuple[int, dict]]]]:
    """Group entries (with their visiting number) by consecutive free-list visit."""
    panels: list[tuple[str, int, list[tuple[int, dict]]]] = []
    for n, e in enumerate(search, 1):
        key = (e["freelist"], e["flind"])
        if panels and (panels[-1][0], panels[-1][1]) == key:
            panels[-1][2].append((n, e))
        else:
            panels.append((e["freelist"], e["flind"], [(n, e)]))
    return panels


def _draw_panel(ax, name: str, flind: int, visits: list[tuple[int, dict]], norders: int) -> None:
    labels: dict[tuple[int, int], list[str]] = {}
    for n, e in visits:
        labels.setdefault((POOL_NAMES.index(e["pool"]), e["order"]), []).append(str(n))
    for p in range(len(POOL_NAMES)):
        for o in range(norders):
            ax.add_patch(Rectangle((o - 0.5, p - 0.5), 1, 1, facecolor="white", edgecolor="#BBBBBB", linewidth=0.6))
    for _, e in visits:
        p, o = POOL_NAMES.index(e["pool"]), e["order"]
        color = POOL_COLORS[e["pool"]] if e["blocks"] else _EMPTY
        ax.add_patch(Rectangle((o - 0.5, p - 0.5), 1, 1, facecolor=color, edgecolor="#BBBBBB", linewidth=0.6))
        text = ",".join(labels[(p, o)])
        if e["blocks"]:
            text += f"\n{fmt_int(e['blocks'])} {'block' if e['blocks'] == 1 else 'blocks'}"
        ax.text(o, p, text, ha="center", va="center", fontsize=7.5, color=text_color(color), linespacing=1.0,
                in_layout=False)
        if e["chosen"]:
            ax.add_patch(Rectangle((o - 0.5, p - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2.6,
                                   zorder=4))
    for (_, a), (_, b) in zip(visits, visits[1:]):
        pa, pb = POOL_NAMES.index(a["pool"]), POOL_NAMES.index(b["pool"])
        if (pa, a["order"]) == (pb, b["order"]):
            continue
        ax.annotate("", xy=(b["order"], pb), xytext=(a["order"], pa),
                    arrowprops={"arrowstyle": "->", "color": "#333333", "linewidth": 0.9,
                                "linestyle": _PHASE_STYLE[b["phase"]], "shrinkA": 9, "shrinkB": 9,
                                "connectionstyle": "arc3,rad=0.25"})
    ax.set_xlim(-0.5, norders - 0.5)
    ax.set_ylim(len(POOL_NAMES) - 0.5, -0.5)
    ax.set_xticks(range(norders))
    ax.set_yticks(range(len(POOL_NAMES)), [f"{p} {name_}" for p, name_ in enumerate(POOL_NAMES)], fontsize=8)
    ax.set_ylabel("pool")
    ax.set_title(f"VM_FREELIST_{name} (flind {flind})", fontsize=9.5, loc="left")


def _sentence(search: list[dict]) -> str:
    chosen = next((e for e in search if e["chosen"]), None)
    empty = sum(1 for e in search if not e["blocks"])
    head = f"The search looks at {len(search)} queues"
    if chosen is None:
        return head + ", all empty, and fails"
    where = (f"{chosen['pool']} order {chosen['order']} on the {chosen['freelist']} free list "
             f"({chosen['phase']} phase, {fmt_int(chosen['blocks'])} "
             f"{'block' if chosen['blocks'] == 1 else 'blocks'} there)")
    return f"{head}: {empty} empty, then takes from {where}"


def fallback_order(search: list[dict], title: str | None = None, max_order: int | None = None):
    """Draw a :func:`~vmsim.experiments.fallback_search` result.

    One panel per free-list visit, pools by orders; each visited queue holds
    its visiting number (a queue visited twice, in both phases, holds both)
    and its block count when non-empty; arrows follow the search, solid in
    the own-pool phase and dashed while stealing; the chosen queue is
    outlined.  *max_order* fixes the columns (default: the largest order in
    *search*).  The figure carries ``search``.
    """
    norders = 1 + (max_order if max_order is not None else max((e["order"] for e in search), default=0))
    panels = _panels(search) or [("DEFAULT", 0, [])]
    fig = new_figure(10, 1.0 + 1.9 * len(panels))
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (name, flind, visits) in zip(axes, panels):
        _draw_panel(ax, name, flind, visits, norders)
    axes[-1].set_xlabel("order (blocks of 2^order pages)")
    handles = [Patch(facecolor=POOL_COLORS[p], edgecolor="#BBBBBB", label=f"non-empty {p} queue") for p in POOL_NAMES]
    handles += [Patch(facecolor=_EMPTY, edgecolor="#BBBBBB", label="visited, empty"),
                Patch(facecolor="white", edgecolor="black", linewidth=2.2, label="chosen: the block comes from here"),
                Line2D([], [], color="#333333", linestyle="-", label="own pool, orders ascending"),
                Line2D([], [], color="#333333", linestyle="--", label="steal: orders descending")]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    fig.suptitle(title or "Queues vm_phys_alloc_pages looks at, in order", fontsize=11)
    return finish(fig, _sentence(search) + ".", search=search)
