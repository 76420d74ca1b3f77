"""Views of a machine's state: the replay STATE object and ``sysctl vm.phys_free``.

``state()`` produces the fixed replay format (see ``README.md``); ``phys_free()``
lays the free queues out like the kernel's ``sysctl_vm_phys_free()`` in
``sys/vm/vm_phys.c`` (one table per domain and free list, a column per pool,
orders from the largest down), with the lists named instead of numbered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .arch import NFREEPOOL, POOL_NAMES

if TYPE_CHECKING:
    from .machine import Machine

__all__ = ["state", "phys_free", "queue_rows"]


def queue_rows(machine: Machine):
    """Every non-empty free queue: ``(domain, flind, pool, order, [head pfns])``, sorted."""
    for dom, flind, pool, order, queue in machine.vm.fq.queues():
        if queue:
            yield dom, flind, pool, order, list(queue)


def state(machine: Machine) -> dict:
    """The replay STATE: counters, free pages per domain and every non-empty queue."""
    shift = machine.arch.page_shift
    names = machine.segtab.flind_name
    return {
        "page_inits": machine.page_inits,
        "initialized": machine.initialized,
        "default_pool": machine.default_pool,
        "free_pages": {str(d): n for d, n in enumerate(machine.vm.fq.free_count)},
        "queues": [
            {
                "domain": dom,
                "freelist": names(flind),
                "pool": POOL_NAMES[pool],
                "order": order,
                "pages": [pfn << shift for pfn in heads],
            }
            for dom, flind, pool, order, heads in queue_rows(machine)
        ],
    }


def phys_free(machine: Machine) -> str:
    """The free queue counts laid out like ``sysctl vm.phys_free``."""
    vm, arch = machine.vm, machine.arch
    lines = []
    for dom in range(vm.ndomains):
        lines.append(f"DOMAIN {dom}:")
        for flind in range(machine.segtab.nfreelists):
            lines.append("")
            lines.append(f"FREE LIST {flind} ({machine.segtab.flind_name(flind)}):")
            lines.append("")
            lines.append("  ORDER (SIZE)  |  NUMBER")
            lines.append("              " + "".join(f"  |  {POOL_NAMES[p]:>8}" for p in range(NFREEPOOL)))
            lines.append("--            " + "-- --       " * NFREEPOOL + "--")
            for oind in range(vm.max_order, -1, -1):
                size_k = 1 << (arch.page_shift - 10 + oind)
                row = "".join(f"  |  {vm.fq.lcnt(dom, flind, p, oind):8d}" for p in range(NFREEPOOL))
                lines.append(f"  {oind:2d} ({size_k:6d}K){row}")
        lines.append("")
    return "\n".join(lines)
