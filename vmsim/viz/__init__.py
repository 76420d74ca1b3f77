"""Figures of the allocator's state, drawn with matplotlib.

Every function returns a :class:`matplotlib.figure.Figure` (not a pyplot
figure, so a notebook displays it once, where it is returned) whose
``alt_text`` attribute is a one-sentence description computed from the data.
Nothing here changes matplotlib's global settings or the machines drawn.

* :func:`memory_map`, :func:`compare_maps` -- the physical address space by page state;
* :func:`free_queues` -- ``vm_phys_free_queues`` as a pools-by-orders grid;
* :func:`block_anatomy` -- one operation's blocks: taken, split, merged, initialized;
* :func:`boot_cost` -- boot-time page initializations against RAM;
* :func:`lazy_progress` -- the ``vmlazyinit`` thread draining the lazy pool;
* :func:`fallback_order` -- the queues an allocation searches, in order;
* :func:`boot_by_revision` -- boot-time initializations per revision (seed, committed, proposed);
* :func:`race_timeline` -- the race window of ``vm_phys_lazy_init_domain`` as a two-lane timeline
  (the steps from :func:`race_interleaving`).
"""

from .anatomy import block_anatomy
from .bootcost import boot_cost
from .fallback import fallback_order
from .memmap import compare_maps, memory_map
from .progress import lazy_progress
from .queues import free_queues
from .revisions import boot_by_revision
from .timeline import race_interleaving, race_timeline

__all__ = [
    "memory_map",
    "compare_maps",
    "free_queues",
    "block_anatomy",
    "boot_cost",
    "lazy_progress",
    "fallback_order",
    "boot_by_revision",
    "race_interleaving",
    "race_timeline",
]
