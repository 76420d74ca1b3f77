"""Allocation stepper: a scripted sequence of allocator operations, one step per slider position.

Each position shows the block anatomy of that step (:func:`vmsim.viz.block_anatomy`)
and the free queues after it.  The script mixes allocations from each pool
(``vm_phys_alloc_pages``), a free (``vm_phys_free_pages`` / ``vm_phys_free_contig``),
a contiguous allocation (``vm_phys_alloc_contig``), an unfree
(``vm_phys_unfree_page``, which drains the lazy pool first) and steps of the
``vmlazyinit`` thread.  Live buttons append further steps to the sequence.

Script operations (tuples):

* ``("alloc", pool, order)`` -- ``Machine.alloc_pages(0, pool, order)``;
* ``("free", step)`` -- free what step *step* (1-based) allocated;
* ``("contig", npages)`` -- ``Machine.alloc_contig(0, npages)``;
* ``("unfree", pa)`` -- ``Machine.unfree_page(pa)``;
* ``("lazy", blocks)`` -- ``Machine.lazy_step(blocks)``.
"""

from __future__ import annotations

import copy

import ipywidgets as widgets

from ..arch import POOL_NAMES
from ..errors import InvalidInput, VmsimError
from ..layout import pc
from ..viz import block_anatomy, free_queues
from ..viz.style import fmt_int
from .frames import DPI, frame_html
from .static import StaticSlider, progress

__all__ = ["AllocationStepper", "allocation_stepper", "DEFAULT_SCRIPT"]

_MIB = 1 << 20

#: On ``pc(128 MiB)``: the lazy pool holds 16 MiB blocks from 32 MiB up.
DEFAULT_SCRIPT = (
    ("alloc", "DEFAULT", 0),
    ("alloc", "DIRECT", 2),
    ("alloc", "DIRECT", 0),
    ("free", 1),
    ("lazy", 1),
    ("contig", 1536),
    ("unfree", 100 * _MIB),
    ("lazy", 1),
    ("alloc", "DEFAULT", 4),
)
_KINDS = {"alloc": 3, "free": 2, "contig": 2, "unfree": 2, "lazy": 2}


def _check(script) -> list[tuple]:
    out = []
    for op in script:
        if not (isinstance(op, tuple) and op and op[0] in _KINDS and len(op) == _KINDS[op[0]]):
            raise InvalidInput("allocation_stepper", f"operation {op!r} is not one of {sorted(_KINDS)} "
                                                     "with its arguments")
        out.append(op)
    return out


def label(op: tuple) -> str:
    """Short text for the slider: ``alloc DIRECT o2``, ``free step 1``, ..."""
    kind = op[0]
    if kind == "alloc":
        return f"alloc {op[1]} o{op[2]}"
    if kind == "free":
        return f"free step {op[1]}"
    if kind == "contig":
        return f"contig {op[1]} pages"
    if kind == "unfree":
        return f"unfree {op[1]:#x}"
    return f"vmlazyinit {op[1]} block{'s' if op[1] != 1 else ''}"


class AllocationStepper(StaticSlider):
    """A slider over the steps of *script* run on *machine* (position 0: after boot).

    ``.machine`` is the machine after the last step (the live one);
    ``.steps`` one summary dict per position; ``.state`` the summary of the
    selected position.  :meth:`apply` runs one more operation and appends
    its frame; the live buttons call it.
    """

    def __init__(self, machine=None, script=None, dpi: int = DPI, show_progress: bool = True, **kw):
        self.machine = machine if machine is not None else pc(128 * _MIB).boot()
        self._frame_dpi = dpi
        ops = _check(DEFAULT_SCRIPT if script is None else script)
        self.steps: list[dict] = [self._summary(("boot",), None, None, 0)]
        self._frames_done: list[str] = [self._draw(self.steps[0], None)]
        with progress(len(ops), "running the script", show_progress) as step:
            for op in ops:
                self._run(op)
                step()
        self.pool = widgets.Dropdown(options=[p for p in POOL_NAMES if p != "LAZYINIT"], description="pool")
        self.order = widgets.Dropdown(options=list(range(self.machine.vm.nfreeorder)), description="order")
        self.alloc_button = widgets.Button(description="allocate (live)", icon="plus")
        self.thread_button = widgets.Button(description="thread step (live)", icon="forward")
        self.alloc_button.on_click(lambda _b: self.apply(("alloc", self.pool.value, self.order.value)))
        self.thread_button.on_click(lambda _b: self.apply(("lazy", 1)))
        labels = ["0 boot"] + [f"{i} {label(s['op'])}" for i, s in enumerate(self.steps[1:], 1)]
        super().__init__(list(range(len(self.steps))), self._frame_at, description="step", labels=labels,
                         live=(self.pool, self.order, self.alloc_button, self.thread_button),
                         live_note="each click adds a step at the end", dpi=dpi, show_progress=False, **kw)

    # -- running ------------------------------------------------------------------------------
    def _call(self, op: tuple):
        m = self.machine
        kind = op[0]
        if kind == "alloc":
            return m.alloc_pages(0, op[1], op[2])
        if kind == "contig":
            return m.alloc_contig(0, op[1])
        if kind == "unfree":
            return m.unfree_page(op[1])
        if kind == "lazy":
            return m.lazy_step(op[1])
        return self._free(op[1])

    def _free(self, step: int):
        if not (isinstance(step, int) and 1 <= step < len(self.steps)):
            raise InvalidInput("allocation_stepper", f"free of step {step!r}: no such earlier step")
        done = self.steps[step]
        kind, pa = done["op"][0], done["result"]
        if kind not in ("alloc", "contig") or pa is None:
            raise InvalidInput("allocation_stepper", f"step {step} ({label(done['op'])}) allocated nothing")
        if kind == "alloc":
            self.machine.free_pages(pa, done["op"][2])
        else:
            self.machine.free_contig(pa, done["op"][1])
        return pa

    def _summary(self, op: tuple, result, events, step: int) -> dict:
        m = self.machine
        return {"step": step, "op": op, "result": result, "events": 0 if events is None else len(events),
                "page_inits": m.page_inits, "initialized": m.initialized, "free_pages": m.free_pages_count(),
                "lazy_pages": m.lazy_pages(), "default_pool": m.default_pool}

    def _run(self, op: tuple) -> dict:
        with self.machine.record() as events:
            result = self._call(op)
        summary = self._summary(op, result, events, len(self.steps))
        self.steps.append(summary)
        self._frames_done.append(self._draw(summary, events))
        return summary

    def apply(self, op: tuple) -> dict:
        """Run *op* (see the module docstring) after the last step; add and select its frame."""
        self.status.value = f"<i>running {label(_check([op])[0])}&hellip;</i>"
        try:
            summary = self._run(op)
        except VmsimError as e:
            self.status.value = f"<b>refused:</b> {e}"
            raise
        self.status.value = ""
        self.append(len(self.steps) - 1, f"{summary['step']} {label(op)}")
        return summary

    # -- frames --------------------------------------------------------------------------------
    def _draw(self, s: dict, events) -> str:
        m = self.machine
        what = "after boot" if s["op"] == ("boot",) else f"step {s['step']}: {label(s['op'])}"
        result = s["result"]
        shown = f"{result:#x}" if s["op"][0] in ("alloc", "contig", "free") and result is not None else repr(result)
        caption = (f"<b>{what}</b> &rarr; {shown}; page_inits {fmt_int(s['page_inits'])}, "
                   f"structures initialized {fmt_int(s['initialized'])}, free pages {fmt_int(s['free_pages'])}, "
                   f"lazy pool {fmt_int(s['lazy_pages'])} pages, vm_default_freepool {s['default_pool']}")
        figs = [] if events is None else [block_anatomy(m, events, title=f"Step {s['step']}: {label(s['op'])}")]
        figs.append(free_queues(m, 0, freelist="DEFAULT"))
        return frame_html(figs, caption, dpi=self._frame_dpi)

    def _frame_at(self, i: int) -> str:
        return self._frames_done[i]

    @property
    def state(self) -> dict:
        """The summary of the selected step."""
        return self.steps[self.index]


def allocation_stepper(machine=None, script=None, **kw) -> AllocationStepper:
    """An :class:`AllocationStepper`; *machine* is copied, never changed (default: a lazy ``pc(128 MiB)``)."""
    return AllocationStepper(None if machine is None else copy.deepcopy(machine), script, **kw)
