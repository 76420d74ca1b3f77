"""The lazy pool draining: the ``vmlazyinit`` thread's progress over its steps.

Draws :func:`vmsim.experiments.lazy_thread_series`: free pages whose
``struct vm_page`` is still uninitialized and pages in the lazy pool, step by
step, while ``vm_phys_lazy_init()`` works through the domains; the background
shows ``vm_default_freepool`` (LAZYINIT until the thread finishes every domain,
then DEFAULT), and triangles mark the steps in which allocations ran.
"""

from __future__ import annotations

from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from .style import ALLOC_COLOR, INIT_COLOR, POOL_COLORS, finish, fmt_int, new_figure

__all__ = ["lazy_progress"]


def _pool_spans(series: list[dict]) -> list[tuple[float, float, str]]:
    """``(x0, x1, pool)`` runs of ``vm_default_freepool`` over the steps."""
    spans = []
    for row in series:
        x0, x1 = row["step"] - 0.5, row["step"] + 0.5
        if spans and spans[-1][2] == row["default_pool"]:
            spans[-1] = (spans[-1][0], x1, row["default_pool"])
        else:
            spans.append((x0, x1, row["default_pool"]))
    return spans


def lazy_progress(series: list[dict], title: str | None = None):
    """Uninitialized free pages and lazy-pool pages over the thread's steps.

    Background: ``vm_default_freepool`` per step; triangles under the curve:
    steps with allocations (``allocs`` > 0).  The figure carries ``series``.
    """
    if not series:
        raise ValueError("lazy_progress needs a non-empty series")
    steps = [row["step"] for row in series]
    fig = new_figure(10, 4.2)
    ax = fig.add_subplot()
    for x0, x1, pool in _pool_spans(series):
        ax.axvspan(x0, x1, facecolor=POOL_COLORS.get(pool, "#DDDDDD"), alpha=0.18, linewidth=0)
    ax.plot(steps, [r["lazy_pages"] for r in series], color=POOL_COLORS["LAZYINIT"], linewidth=2.2,
            label="pages in the lazy pool")
    ax.plot(steps, [r["uninitialized"] for r in series], color=INIT_COLOR, linewidth=1.4, linestyle="--",
            label="free pages with an uninitialized struct vm_page")
    marked = [r for r in series if r.get("allocs")]
    ax.plot([r["step"] for r in marked], [0] * len(marked), linestyle="none", marker="^", markersize=7,
            color=ALLOC_COLOR, clip_on=False, label="step with allocations")
    ax.set_xlim(steps[0] - 0.5, steps[-1] + 0.5)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("thread step (each step: the blocks vmlazyinit initializes, plus allocations)")
    ax.set_ylabel("pages")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_int(int(v))))
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(facecolor=POOL_COLORS["LAZYINIT"], alpha=0.3, label="vm_default_freepool = LAZYINIT"),
                Patch(facecolor=POOL_COLORS["DEFAULT"], alpha=0.3, label="vm_default_freepool = DEFAULT")]
    ax.legend(handles=handles, fontsize=8, loc="upper right")
    ax.set_title(title or "The vmlazyinit thread draining the lazy pool", fontsize=11)
    first, last = series[0], series[-1]
    flip = next((r["step"] for r in series if r["default_pool"] != first["default_pool"]), None)
    allocs = sum(r.get("allocs", 0) for r in series)
    alt = (f"Over {len(series) - 1} thread steps the lazy pool shrinks from {fmt_int(first['lazy_pages'])} to "
           f"{fmt_int(last['lazy_pages'])} pages and uninitialized free pages from "
           f"{fmt_int(first['uninitialized'])} to {fmt_int(last['uninitialized'])}; "
           + (f"vm_default_freepool becomes {last['default_pool']} at step {flip}"
              if flip is not None else f"vm_default_freepool stays {first['default_pool']}")
           + f"; {allocs} allocations ran in {len(marked)} steps.")
    return finish(fig, alt, series=series)

