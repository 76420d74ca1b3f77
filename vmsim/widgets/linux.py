"""Chapter 9's comparison: Linux's deferred ``struct page`` initialization against FreeBSD's lazy pool.

Both kernels are put on the same machine, a :func:`vmsim.layout.pc` layout
with *nodes* NUMA domains, and asked three questions: how many page
structures are initialized before the first allocation, who initializes the
rest and whether boot waits for it, and how long the boot path spends on
page structures.  FreeBSD's counts come from booting the layout with vmsim.
Linux's come from **this book's model of Linux, not from Linux code**: the
rule of Mel Gorman's 2015 series "Parallel struct page initialisation"
(Linux 4.2, commit 3a80a7fa7989), as chapter 9 cites it:

* every zone of a node below the node's highest zone (``ZONE_DMA`` below
  16 MiB, ``ZONE_DMA32`` below 4 GiB, on x86-64) is initialized at boot;
* of the node's highest zone, the first 2 GiB of pages are initialized at
  boot (the kernel rounds that up to a memory section, 128 MiB; the model
  does not);
* the rest of each node is initialized by that node's ``pgdatinitN`` thread,
  all nodes in parallel, and boot waits for every thread
  (``page_alloc_init_late``) before it starts ``init``.

The model assumes that Linux has a structure for exactly the pages FreeBSD
has one for (the page frames in segments), that its threads share a node's
work perfectly (*threads_per_node* > 1 stands for the ``padata`` version of
Linux 5.9), and that one structure costs the same in both kernels: the
cost model's figure, by default the 82 ns per ``vm_page_init_page`` of
FreeBSD's commit message (Linux's ``struct page`` is 64 bytes, FreeBSD's
104, so this likely overstates Linux's cost).  Neither kernel's on-demand
initialization (``deferred_grow_zone``, a stolen lazy block) is counted.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..cost import FIRECRACKER_1G, CostModel
from ..layout import pc
from ..viz.style import INIT_COLOR, OKABE_ITO, POOL_COLORS, finish, fmt_bytes, fmt_int, new_figure
from .frames import frame_html
from .static import StaticGrid

__all__ = ["DeferredInitComparison", "compare_deferred_init", "deferred_init_explorer", "LINUX_ZONE_ENDS",
           "LINUX_EARLY_BYTES", "DEFAULT_RAMS", "DEFAULT_NODES"]

_MIB, _GIB = 1 << 20, 1 << 30
#: Ends of x86-64's ``ZONE_DMA`` and ``ZONE_DMA32`` (bytes); ``ZONE_NORMAL`` lies above.
LINUX_ZONE_ENDS = (16 * _MIB, 4 * _GIB)
#: How much of each node's highest zone the 2015 rule initializes at boot.
LINUX_EARLY_BYTES = 2 * _GIB
#: The explorer's RAM sizes and node counts.
DEFAULT_RAMS = (1 * _GIB, 4 * _GIB, 16 * _GIB, 64 * _GIB, 256 * _GIB, 1024 * _GIB)
DEFAULT_NODES = (1, 2, 4)

_BOOT_CPU = INIT_COLOR
_WAITED = OKABE_ITO["reddish purple"]
_BACKGROUND = POOL_COLORS["LAZYINIT"]
_EAGER = "#8C8C8C"


@dataclass(frozen=True)
class DeferredInitComparison:
    """The two kernels on one machine: structure counts, and times from :attr:`model`.

    ``linux_deferred`` and ``freebsd_background`` are per node (domain).
    ``freebsd_initialized`` counts distinct structures, the other FreeBSD
    counts ``vm_page_init_page`` calls.
    """

    ram: int
    nodes: int
    threads_per_node: int
    model: CostModel
    #: Page structures of the machine (pages inside segments).
    pages: int
    #: Linux, by the book's model: initialized on the boot CPU before the first allocation.
    linux_early: int
    #: Linux: left to each node's threads, which boot waits for.
    linux_deferred: tuple[int, ...]
    #: FreeBSD: ``vm_page_init_page`` calls of ``vm_page_startup()`` (``Machine.startup_page_inits``).
    freebsd_startup: int
    #: FreeBSD: distinct structures initialized when ``vm_page_startup()`` returns.
    freebsd_initialized: int
    #: FreeBSD: calls the ``vmlazyinit`` thread makes in each domain if no allocation takes a lazy block first.
    freebsd_background: tuple[int, ...]

    @property
    def linux_boot_cpu_s(self) -> float:
        """Modelled seconds of the boot CPU's part, before the first allocation."""
        return self.model.seconds(self.linux_early)

    @property
    def linux_wait_s(self) -> float:
        """Modelled seconds boot waits for the per-node threads: the slowest node's share."""
        return self.model.seconds(max(self.linux_deferred)) / self.threads_per_node

    @property
    def linux_boot_path_s(self) -> float:
        """Linux's modelled page-structure time before ``init`` starts."""
        return self.linux_boot_cpu_s + self.linux_wait_s

    @property
    def freebsd_boot_path_s(self) -> float:
        """FreeBSD's modelled page-structure time on the boot path: ``vm_page_startup()`` alone."""
        return self.model.seconds(self.freebsd_startup)

    @property
    def freebsd_background_s(self) -> float:
        """Modelled seconds of the one ``vmlazyinit`` thread, which boot does not wait for."""
        return self.model.seconds(sum(self.freebsd_background))

    @property
    def eager_s(self) -> float:
        """Every structure on one CPU: an eager FreeBSD boot, or either kernel without deferral."""
        return self.model.seconds(self.pages)


def _node_pages(segtab, domain: int) -> list[tuple[int, int]]:
    """The page ranges (pfns) of *domain*'s segments."""
    return [(s.start, s.end) for s in segtab.segs if s.domain == domain]


def _zone_pages(ranges: list[tuple[int, int]], page_shift: int) -> list[int]:
    """Pages of *ranges* in each of Linux's zones DMA, DMA32, NORMAL."""
    cuts = [0] + [end >> page_shift for end in LINUX_ZONE_ENDS] + [1 << 64]
    return [sum(max(0, min(b, hi) - max(a, lo)) for a, b in ranges) for lo, hi in zip(cuts, cuts[1:])]


def compare_deferred_init(ram: int, nodes: int = 1, threads_per_node: int = 1, model: CostModel | None = None,
                          revision: str = "seed") -> DeferredInitComparison:
    """Boot ``pc(ram, domains=nodes)`` with vmsim and apply the book's model of Linux's 2015 rule to it.

    FreeBSD: a lazy boot of *revision*; ``freebsd_background`` is what the
    ``vmlazyinit`` thread initializes in each domain when nothing else has
    taken a lazy block: every page of every lazy block but its head (the
    thread and its merges initialize each lazy block once).  Linux: per node,
    every zone below the node's highest zone, plus the first
    :data:`LINUX_EARLY_BYTES` of the highest zone, early; the rest deferred
    to the node's threads (see the module docstring for the assumptions).
    """
    model = model or FIRECRACKER_1G
    if not isinstance(threads_per_node, int) or threads_per_node < 1:
        raise ValueError(f"threads_per_node must be a positive integer, not {threads_per_node!r}")
    m = pc(ram, domains=nodes).boot(revision=revision)
    shift = m.arch.page_shift
    early_cap = LINUX_EARLY_BYTES >> shift
    early, deferred, background = 0, [], []
    for dom in range(m.ndomains):
        zones = _zone_pages(_node_pages(m.segtab, dom), shift)
        top = max(k for k, n in enumerate(zones) if n) if any(zones) else 0
        early += sum(zones[:top]) + min(zones[top], early_cap)
        deferred.append(zones[top] - min(zones[top], early_cap))
        background.append(m.lazy_pages(dom) - _lazy_blocks(m, dom))
    return DeferredInitComparison(ram, m.ndomains, threads_per_node, model, m.total_pages, early, tuple(deferred),
                                  m.startup_page_inits, m.initialized, tuple(background))


def _lazy_blocks(m, domain: int) -> int:
    """How many blocks the LAZYINIT queues of *domain* hold (each free list index once)."""
    seen, blocks = set(), 0
    for name in m.arch.freelists:
        flind = m.segtab.freelist_to_flind[m.arch.freelist_index(name)]
        if flind < 0 or flind in seen:
            continue
        seen.add(flind)
        blocks += sum(len(m.queue(domain, name, "LAZYINIT", order)) for order in range(m.arch.nfreeorder))
    return blocks


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.0f} ms" if ms >= 10 else f"{ms:.2g} ms"


def comparison_figure(c: DeferredInitComparison):
    """Three bars of modelled page-structure time: no deferral, Linux's 2015 rule, FreeBSD's lazy boot."""
    fig = new_figure(7.6, 3.0)
    ax = fig.subplots()
    rows = ["FreeBSD, lazy boot", "Linux, 2015 rule", "no deferral (one CPU)"]
    ms = 1e3
    ax.barh(2, c.eager_s * ms, color=_EAGER, label="boot CPU, every structure")
    ax.barh(1, c.linux_boot_cpu_s * ms, color=_BOOT_CPU, label="boot CPU, before the first allocation")
    ax.barh(1, c.linux_wait_s * ms, left=c.linux_boot_cpu_s * ms, color=_WAITED,
            label="per-node threads; boot waits")
    ax.barh(0, c.freebsd_boot_path_s * ms, color=_BOOT_CPU)
    ax.barh(0, c.freebsd_background_s * ms, left=c.freebsd_boot_path_s * ms, color=_BACKGROUND, hatch="//",
            edgecolor="white", label="vmlazyinit, idle CPUs; boot does not wait")
    ax.plot([c.linux_boot_path_s * ms] * 2, [0.55, 1.45], color="black", linewidth=1.5)
    ax.plot([c.freebsd_boot_path_s * ms] * 2, [-0.45, 0.45], color="black", linewidth=1.5)
    ax.set_yticks(range(3), rows)
    ax.set_ylim(-0.6, 3.4)
    ax.set_xlabel(f"modelled page-structure time (ms, at {c.model.ns_per_init:.0f} ns per structure); "
                  "black tick: boot goes on", fontsize=8)
    threads = "1 thread" if c.threads_per_node == 1 else f"{c.threads_per_node} threads"
    ax.set_title(f"pc({fmt_bytes(c.ram)}), {c.nodes} node{'s' if c.nodes > 1 else ''}, Linux {threads} per node "
                 "(the book's model of Linux)", fontsize=9)
    ax.legend(fontsize=7, loc="upper right", ncol=2, frameon=False)
    alt = (f"Bars of modelled page-structure time for pc({fmt_bytes(c.ram)}) with {c.nodes} NUMA "
           f"node{'s' if c.nodes > 1 else ''}: without deferral {_ms(c.eager_s)} on one CPU; Linux's 2015 rule "
           f"{_ms(c.linux_boot_cpu_s)} on the boot CPU plus {_ms(c.linux_wait_s)} waited for; FreeBSD's lazy boot "
           f"{_ms(c.freebsd_boot_path_s)} on the boot path and {_ms(c.freebsd_background_s)} left to vmlazyinit, "
           "which boot does not wait for.")
    return finish(fig, alt, comparison=c)


def _caption(c: DeferredInitComparison) -> str:
    rows = [
        ("page structures of the machine", fmt_int(c.pages), ""),
        ("initialized before the first allocation", fmt_int(c.linux_early), fmt_int(c.freebsd_initialized)),
        ("initialized later, by", "pgdatinitN, one per node", "vmlazyinit, one thread"),
        ("   ... how many", fmt_int(sum(c.linux_deferred)), fmt_int(sum(c.freebsd_background))),
        ("   ... does boot wait?", "yes, before init", "no"),
        ("page-structure time on the boot path", _ms(c.linux_boot_path_s), _ms(c.freebsd_boot_path_s)),
    ]
    head = ("<tr><th></th><th style='text-align:right;padding:0 8px'>Linux (book's model)</th>"
            "<th style='text-align:right'>FreeBSD (vmsim)</th></tr>")
    body = "".join(f"<tr><td style='padding:0 12px 0 0'>{html.escape(k)}</td>"
                   f"<td style='text-align:right;padding:0 8px'>{html.escape(a)}</td>"
                   f"<td style='text-align:right'>{html.escape(b)}</td></tr>" for k, a, b in rows)
    return f"<table style='font-size:90%'>{head}{body}</table>"


def deferred_init_explorer(rams=DEFAULT_RAMS, nodes=DEFAULT_NODES, threads_per_node: int = 1,
                           model: CostModel | None = None, show_progress: bool = True) -> StaticGrid:
    """A RAM slider by NUMA-node buttons over :func:`compare_deferred_init`, every frame pre-rendered.

    Each frame shows :func:`comparison_figure` and a table of the counts.
    The widget's ``comparisons`` maps ``(ram, nodes)`` to the
    :class:`DeferredInitComparison` drawn.
    """
    comparisons: dict[tuple[int, int], DeferredInitComparison] = {}

    def render(ram: int, n: int) -> str:
        c = compare_deferred_init(ram, n, threads_per_node, model)
        comparisons[(ram, n)] = c
        return frame_html(comparison_figure(c), _caption(c))

    grid = StaticGrid(list(rams), list(nodes), render, description_a="RAM", description_b="NUMA nodes",
                      labels_a=[fmt_bytes(r) for r in rams], kind_b="toggle", show_progress=show_progress)
    grid.comparisons = comparisons
    return grid
