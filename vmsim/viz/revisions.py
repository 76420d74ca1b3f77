"""Boot cost per revision: the seed, the committed change and this book's proposal, side by side.

Draws :func:`vmsim.experiments.revision_costs`: for each machine layout, the
``vm_page_init_page`` calls of a lazy ``vm_page_startup()`` in each revision
(grouped horizontal bars, log scale) with the eager boot's count marked for
scale, and the same counts as modelled time on a second axis
(:class:`vmsim.cost.CostModel`).  The ``proposed`` revision is this book's
proposal (chapter 10), not FreeBSD code.
"""

from __future__ import annotations

from matplotlib.lines import Line2D

from ..cost import FIRECRACKER_1G, CostModel
from ..errors import InvalidInput
from .style import ALLOC_COLOR, INIT_COLOR, OKABE_ITO, POOL_COLORS, finish, fmt_int, new_figure

__all__ = ["boot_by_revision", "REVISION_COLORS"]

#: One colour per revision, the same wherever revisions are compared.
REVISION_COLORS = {"seed": POOL_COLORS["LAZYINIT"], "committed": INIT_COLOR, "proposed": OKABE_ITO["bluish green"]}
_LABELS = {"seed": "seed (D40403 review revision)", "committed": "committed b16b4c22",
           "proposed": "proposed (this book, not FreeBSD)"}


def _ms(model: CostModel, calls: float) -> str:
    ms = model.seconds(calls) * 1e3
    return f"{ms:.3g} ms"


def boot_by_revision(rows: list[dict], model: CostModel | None = None, title: str | None = None):
    """Boot-time ``vm_page_init_page`` calls per layout and revision, with modelled time.

    *rows* is a :func:`~vmsim.experiments.revision_costs` result (keys
    ``layout``, ``revision``, ``boot``, ``eager``); layouts keep their first
    appearance's order, revisions theirs.  A bar's label gives its count and
    *model*'s time for it (default :data:`vmsim.cost.FIRECRACKER_1G`); a black
    tick marks each layout's eager boot.  The figure carries ``rows`` and
    ``model``.
    """
    if not rows:
        raise InvalidInput("boot_by_revision", "needs at least one row of revision_costs")
    model = model or FIRECRACKER_1G
    layouts = list(dict.fromkeys(r["layout"] for r in rows))
    revisions = list(dict.fromkeys(r["revision"] for r in rows))
    by = {(r["layout"], r["revision"]): r for r in rows}
    height = 0.8 / len(revisions)
    fig = new_figure(10, 1.6 + 0.22 * len(layouts) * len(revisions) + 0.25 * len(layouts))
    ax = fig.add_subplot()
    top = max(r["eager"] for r in rows)
    for k, rev in enumerate(revisions):
        ys, counts = [], []
        for i, name in enumerate(layouts):
            if (name, rev) in by:
                ys.append(i - 0.4 + (k + 0.5) * height)
                counts.append(by[(name, rev)]["boot"])
        color = REVISION_COLORS.get(rev, "#999999")
        ax.barh(ys, [n - 1 for n in counts], height=height * 0.92, color=color, label=_LABELS.get(rev, rev), left=1)
        for y, n in zip(ys, counts):
            ax.text(n * 1.08, y, f"{fmt_int(n)} ({_ms(model, n)})", va="center", ha="left", fontsize=6.5, zorder=4,
                    bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    eager = [by[(name, revisions[0])]["eager"] if (name, revisions[0]) in by else None for name in layouts]
    for i, n in enumerate(eager):
        if n:
            ax.plot([n, n], [i - 0.45, i + 0.45], color=ALLOC_COLOR, linewidth=2, zorder=2)
    ax.set_xscale("log")
    ax.set_xlim(1e3, top * 40)
    ax.set_yticks(range(len(layouts)), layouts, fontsize=8)
    ax.set_ylim(len(layouts) - 0.5, -0.5)
    ax.set_xlabel("vm_page_init_page calls made by vm_page_startup (log scale); in brackets the modelled time")
    secondary = ax.secondary_xaxis("top", functions=(lambda n: model.seconds(n) * 1e3,
                                                     lambda ms: ms / (model.seconds(1) * 1e3)))
    secondary.set_xlabel(f"modelled boot time (ms): {model.describe()}", fontsize=7.5)
    ax.grid(True, axis="x", color="#DDDDDD", linewidth=0.6)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color=ALLOC_COLOR, linewidth=2, label="eager boot (every structure)"))
    fig.legend(handles=handles, fontsize=8, loc="outside lower center", ncols=len(handles), frameon=False)
    ax.set_title(title or "Page structures initialized at boot, by revision", fontsize=11)
    alt = _alt(layouts, by, model)
    return finish(fig, alt, rows=rows, model=model)


def _alt(layouts: list[str], by: dict, model: CostModel) -> str:
    pairs = [(name, by[(name, "committed")], by[(name, "proposed")]) for name in layouts
             if (name, "committed") in by and (name, "proposed") in by]
    text = f"Horizontal bars, log scale, of the calls a lazy boot makes on {len(layouts)} layouts"
    if not pairs:
        return text + "."
    name, c, p = max(pairs, key=lambda t: t[1]["boot"] - t[2]["boot"])
    return (text + f": the largest saving is on {name}, where the committed boot makes {fmt_int(c['boot'])} calls "
            f"({_ms(model, c['boot'])}) and the proposed one {fmt_int(p['boot'])} ({_ms(model, p['boot'])}), "
            f"against {fmt_int(c['eager'])} for an eager boot.")
