"""Fallback explorer: the queues an allocation searches, before and after the lazy pool drains.

For a requested pool and order, draws :func:`vmsim.experiments.fallback_search`
twice: on the machine as it is (``vm_default_freepool`` is LAZYINIT, so at
each order of the steal phase ``vm_phys_alloc_freelist_pages`` tries the
lazy pool first) and on a copy after ``vm_phys_lazy_init()`` has drained it
(the steal phase starts at DEFAULT).  Order and pool are pre-rendered; a
live button performs the allocation on both machines.
"""

from __future__ import annotations

import copy

import ipywidgets as widgets

from ..arch import LAZYINIT, POOL_NAMES
from ..experiments import fallback_search
from ..layout import pc
from ..viz import fallback_order
from ..viz.style import fmt_int
from .frames import frame_html
from .static import StaticGrid

__all__ = ["FallbackExplorer", "fallback_explorer"]

_MIB = 1 << 20
_POOLS = tuple(p for p in POOL_NAMES if p != "LAZYINIT")


def _default_machine():
    """A lazy ``pc(1 GiB)`` after one DEFAULT page allocation: DEFAULT owns the split halves."""
    m = pc(1024 * _MIB).boot()
    m.alloc_pages(0, "DEFAULT", 0)
    return m


def _outcome(search: list[dict]) -> str:
    chosen = next((e for e in search if e["chosen"]), None)
    if chosen is None:
        return "fails: every queue is empty"
    order = chosen["order"]
    inits = (1 << order) - 1 if chosen["pool"] == POOL_NAMES[LAZYINIT] else 0
    return (f"takes {chosen['head']:#x} from {chosen['pool']} order {order} after {len(search) - 1} empty "
            f"queues; set_pool initializes {fmt_int(inits)} structures")


class FallbackExplorer(StaticGrid):
    """Order slider x pool toggle; each frame: the search before and after the drain.

    ``.before`` is the machine as given, ``.after`` a copy with the lazy pool
    drained; ``.state`` holds both searches for the visible request.
    :meth:`allocate` performs the visible request on both machines.
    """

    def __init__(self, machine=None, domain: int = 0, pools=_POOLS, orders=None, show_progress: bool = True, **kw):
        self.before = copy.deepcopy(machine) if machine is not None else _default_machine()
        self.after = copy.deepcopy(self.before)
        self.after.lazy_init()
        self.domain = domain
        orders = list(range(self.before.vm.nfreeorder) if orders is None else orders)
        self.alloc_button = widgets.Button(description="allocate it (live)", icon="play")
        self.alloc_button.on_click(lambda _b: self.allocate())
        super().__init__(orders, list(pools), self._render, description_a="order", description_b="pool",
                         kind_b="toggle", live=(self.alloc_button,),
                         live_note="performs the request on both machines and redraws", show_progress=show_progress,
                         **kw)

    def searches(self, order: int, pool: str) -> tuple[list[dict], list[dict]]:
        """``fallback_search`` of the request on the machine before and after the drain."""
        return (fallback_search(self.before, self.domain, pool, order),
                fallback_search(self.after, self.domain, pool, order))

    def _render(self, order: int, pool: str) -> str:
        before, after = self.searches(order, pool)
        top = self.before.vm.max_order
        request = f"vm_phys_alloc_pages({pool}, order {order})"
        figs = [fallback_order(before, title=f"{request} before the drain (vm_default_freepool = "
                                             f"{self.before.default_pool})", max_order=top),
                fallback_order(after, title=f"{request} after the drain (vm_default_freepool = "
                                            f"{self.after.default_pool})", max_order=top)]
        caption = f"<b>Before:</b> {_outcome(before)}.<br><b>After:</b> {_outcome(after)}."
        return frame_html(figs, caption, dpi=self.dpi)

    @property
    def state(self) -> dict:
        """The visible request and its two searches."""
        order, pool = self.value
        before, after = self.searches(order, pool)
        return {"order": order, "pool": pool, "before": before, "after": after}

    @property
    def machine(self):
        """The machine before the drain (the one the explorer was given, copied)."""
        return self.before

    def allocate(self) -> tuple:
        """Perform the visible request on both machines; redraw. Returns both addresses (or ``None``)."""
        order, pool = self.value
        result = (self.before.alloc_pages(self.domain, pool, order), self.after.alloc_pages(self.domain, pool, order))
        self.refresh()
        return result


def fallback_explorer(machine=None, **kw) -> FallbackExplorer:
    """A :class:`FallbackExplorer` on a copy of *machine* (default: a lazy ``pc(1 GiB)`` after one allocation)."""
    return FallbackExplorer(machine, **kw)
