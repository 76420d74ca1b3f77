"""Interactive front ends over the figures, for the book and for JupyterLab.

Each explorer's main control works in the static HTML book (frames
pre-rendered when the notebook runs, switched by front-end links) and, with
a running kernel, its extra controls -- labelled "live: needs a running
kernel" -- recompute the frames.  Every explorer can be driven from code:
set a control's value or call a method, then read ``.machine`` / ``.state``.

* :class:`StaticSlider`, :class:`StaticGrid` -- the helpers that give both;
* :func:`boot_explorer` -- RAM size and boot mode against the boot's outcome;
* :func:`allocation_stepper` -- a scripted sequence of operations, step by step;
* :func:`fallback_explorer` -- the queues an allocation searches, before and after the drain;
* :func:`contig_explorer` -- the run ``vm_phys_alloc_contig`` finds and what it initializes;
* :func:`deferred_init_explorer` -- Linux's deferred ``struct page`` initialization (the book's model)
  against FreeBSD's lazy boot, by RAM size and NUMA nodes (:func:`compare_deferred_init`);
* :func:`proposal_explorer` -- each of this book's proposed changes (chapter 10), without and with.
"""

from .boot import boot_explorer
from .contig import contig_explorer
from .fallback import fallback_explorer
from .linux import DeferredInitComparison, compare_deferred_init, deferred_init_explorer
from .proposal import proposal_explorer
from .static import LIVE_LABEL, StaticGrid, StaticSlider
from .stepper import allocation_stepper

__all__ = [
    "StaticSlider",
    "StaticGrid",
    "LIVE_LABEL",
    "boot_explorer",
    "allocation_stepper",
    "fallback_explorer",
    "contig_explorer",
    "deferred_init_explorer",
    "compare_deferred_init",
    "DeferredInitComparison",
    "proposal_explorer",
]
