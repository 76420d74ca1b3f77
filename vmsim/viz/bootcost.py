"""Boot cost against RAM size: how many page structures boot initializes, and how long that takes.

Draws :func:`vmsim.experiments.boot_cost_series`: the ``vm_page_init_page``
calls of ``vm_page_startup()`` for an eager boot, the seed's lazy boot and the
committed lazy boot, and the same counts turned into time with a
:class:`vmsim.cost.CostModel`.
"""

from __future__ import annotations

from matplotlib.ticker import FixedLocator, NullLocator

from ..cost import FIRECRACKER_1G, CostModel
from ..experiments import boot_cost_series
from .style import ALLOC_COLOR, INIT_COLOR, POOL_COLORS, finish, fmt_bytes, fmt_int, new_figure

__all__ = ["boot_cost", "DEFAULT_RAMS"]

_GIB = 1 << 30
#: 1 GiB to 4 TiB, a factor of four apart.
DEFAULT_RAMS = tuple(_GIB << (2 * k) for k in range(7))

#: (series key, legend label, colour, marker, line style)
_SERIES = (
    ("eager", "eager boot (every page)", ALLOC_COLOR, "o", "-"),
    ("lazy_seed", "lazy boot, seed revision", POOL_COLORS["LAZYINIT"], "s", "--"),
    ("lazy_committed", "lazy boot, committed b16b4c22", INIT_COLOR, "^", ":"),
)


def _seconds_text(s: float) -> str:
    return f"{s:.3g} s" if s >= 1 else f"{s * 1e3:.3g} ms"


def _ram_axis(ax, rams: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(rams))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([fmt_bytes(r) for r in rams], fontsize=8, rotation=30)
    ax.set_xlabel("RAM (bytes, log scale)")
    ax.grid(True, which="major", color="#DDDDDD", linewidth=0.6)


def boot_cost(series: list[dict] | None = None, model: CostModel | None = None, rams=None):
    """Page initializations at boot (left) and their modelled time (right) against RAM, log-log.

    *series* is a :func:`~vmsim.experiments.boot_cost_series` result; when
    ``None`` it is computed for *rams* (default :data:`DEFAULT_RAMS`, 1 GiB to
    4 TiB).  *model* turns counts into time (default
    :data:`vmsim.cost.FIRECRACKER_1G`); the figure's caption line and
    ``alt_text`` name its constant and source.  The figure carries
    ``series`` and ``model``.
    """
    model = model or FIRECRACKER_1G
    if series is None:
        series = boot_cost_series(list(rams or DEFAULT_RAMS))
    rams_ = [row["ram"] for row in series]
    fig = new_figure(10, 4.4)
    left, right = fig.subplots(1, 2)
    for key, label, color, marker, style in _SERIES:
        counts = [row[key] for row in series]
        left.plot(rams_, counts, color=color, marker=marker, linestyle=style, label=label)
        right.plot(rams_, [model.seconds(n) * 1e3 for n in counts], color=color, marker=marker, linestyle=style,
                   label=label)
    for ax in (left, right):
        _ram_axis(ax, rams_)
        ax.set_yscale("log")
    left.set_ylabel("vm_page_init_page calls at boot")
    left.set_title("Page structures initialized by vm_page_startup", fontsize=10)
    right.set_ylabel("modelled initialization time (ms, log scale)")
    right.set_title(f"...as time, at {model.ns_per_init:.0f} ns each", fontsize=10)
    left.legend(fontsize=8, loc="upper left")
    fig.suptitle("Boot cost of struct vm_page initialization, eager and lazy", fontsize=11)
    fig.supxlabel(f"Time model: {model.describe()}", fontsize=7.5, color="#333333")
    big = series[-1]
    alt = (f"Log-log plots of page structures initialized at boot from {fmt_bytes(rams_[0])} to "
           f"{fmt_bytes(rams_[-1])} of RAM: at {fmt_bytes(big['ram'])} an eager boot initializes "
           f"{fmt_int(big['eager'])} ({_seconds_text(model.seconds(big['eager']))}), the seed's lazy boot "
           f"{fmt_int(big['lazy_seed'])} ({_seconds_text(model.seconds(big['lazy_seed']))}) and the committed "
           f"lazy boot {fmt_int(big['lazy_committed'])} "
           f"({_seconds_text(model.seconds(big['lazy_committed']))}), with times from {model.describe()}.")
    return finish(fig, alt, series=series, model=model)
