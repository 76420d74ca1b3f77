"""Architecture presets: the constants of ``sys/<arch>/include/vmparam.h``.

Models the parts of ``sys/amd64/include/vmparam.h`` and
``sys/arm64/include/vmparam.h`` that ``sys/vm/vm_phys.c`` depends on: the page
size, the number of buddy orders, which free lists exist and where their
boundaries lie, the three free pools introduced by the lazy-init change, the
segment and domain limits, and whether the page array is dense (one
``struct vm_page`` per page frame, holes included) or sparse (segments back to
back).

Architecture differences are data, not branches: code in the model reads
these fields and never tests the architecture's name.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Arch",
    "AMD64",
    "ARM64",
    "ARM64_2024",
    "ARCHES",
    "get_arch",
    "POOL_NAMES",
    "LAZYINIT",
    "DEFAULT",
    "DIRECT",
    "NFREEPOOL",
    "FREELIST_NAMES",
    "VM_STRUCT_PAGE_SIZE",
]

#: ``VM_FREEPOOL_*`` after the change (seed hunk 1): the lazy pool is 0.
LAZYINIT = 0
DEFAULT = 1
DIRECT = 2
NFREEPOOL = 3
POOL_NAMES = ("LAZYINIT", "DEFAULT", "DIRECT")

#: ``VM_FREELIST_*`` constants, in their numeric order.
FREELIST_NAMES = ("DEFAULT", "DMA32", "LOWMEM")

#: ``sizeof(struct vm_page)`` on amd64 in 2024 (104 bytes; see kernel notes
#: section 2.5).  Used only by the cost model and the book's arithmetic.
VM_STRUCT_PAGE_SIZE = 104


@dataclass(frozen=True)
class Arch:
    """Constants of one architecture's ``vmparam.h``.

    ``freelists`` lists the ``VM_FREELIST_*`` names the architecture defines,
    in numeric order starting with ``DEFAULT``.  ``lowmem_boundary`` and
    ``dma32_boundary`` are byte addresses (``None`` when the list does not
    exist); ``dma32_npages_threshold`` is ``VM_DMA32_NPAGES_THRESHOLD`` (the
    DMA32 list is created only when more pages than this lie above 4 GiB), or
    ``None`` when the architecture does not define it.
    """

    name: str
    page_shift: int
    nfreeorder: int
    freelists: tuple[str, ...]
    lowmem_boundary: int | None
    dma32_boundary: int | None
    dma32_npages_threshold: int | None
    physseg_max: int
    maxmemdom: int
    dense: bool

    def __post_init__(self) -> None:
        if self.freelists[:1] != ("DEFAULT",):
            raise ValueError(f"arch {self.name}: VM_FREELIST_DEFAULT must be free list 0")
        for name in self.freelists:
            if name not in FREELIST_NAMES:
                raise ValueError(f"arch {self.name}: unknown free list {name!r}")
        if ("LOWMEM" in self.freelists) != (self.lowmem_boundary is not None):
            raise ValueError(f"arch {self.name}: LOWMEM list and boundary must come together")
        if ("DMA32" in self.freelists) != (self.dma32_boundary is not None):
            raise ValueError(f"arch {self.name}: DMA32 list and boundary must come together")
        if self.lowmem_boundary is not None and self.dma32_boundary is not None:
            if not self.lowmem_boundary < self.dma32_boundary:
                raise ValueError(f"arch {self.name}: VM_LOWMEM_BOUNDARY must lie below 4 GiB")
        if not 1 <= self.nfreeorder <= 20:
            raise ValueError(f"arch {self.name}: VM_NFREEORDER {self.nfreeorder} out of range")

    @property
    def page_size(self) -> int:
        """``PAGE_SIZE`` in bytes."""
        return 1 << self.page_shift

    @property
    def max_order(self) -> int:
        """The largest buddy order, ``VM_NFREEORDER - 1``."""
        return self.nfreeorder - 1

    @property
    def nfreelist(self) -> int:
        """``VM_NFREELIST``."""
        return len(self.freelists)

    def freelist_index(self, name: str) -> int:
        """The ``VM_FREELIST_*`` constant called *name* on this architecture."""
        return self.freelists.index(name)


#: amd64 (``sys/amd64/include/vmparam.h``): dense page array, 13 orders
#: (16 MiB blocks), DEFAULT / DMA32 / LOWMEM lists, DMA32 only when more than
#: 64 GiB lie above 4 GiB.
AMD64 = Arch(
    name="amd64",
    page_shift=12,
    nfreeorder=13,
    freelists=("DEFAULT", "DMA32", "LOWMEM"),
    lowmem_boundary=16 << 20,
    dma32_boundary=1 << 32,
    dma32_npages_threshold=16777216,
    physseg_max=63,
    maxmemdom=8,
    dense=True,
)

#: arm64 of the seed's tree (``sys/arm64/include/vmparam.h``, mid-2023): sparse
#: page array, a single DEFAULT free list ("Create one free page lists" in the
#: seed's context) and 12 orders, so 8 MiB is the largest block.
ARM64 = Arch(
    name="arm64",
    page_shift=12,
    nfreeorder=12,
    freelists=("DEFAULT",),
    lowmem_boundary=None,
    dma32_boundary=None,
    dma32_npages_threshold=None,
    physseg_max=64,
    maxmemdom=8,
    dense=False,
)

#: arm64 of the committed change's tree (2024): a DMA32 list for memory below
#: 4 GiB with no page threshold (D43503, "arm64: Add a VM_FREELIST_DMA32
#: freelist") and 13 orders (16 MiB blocks), like amd64.
ARM64_2024 = Arch(
    name="arm64-2024",
    page_shift=12,
    nfreeorder=13,
    freelists=("DEFAULT", "DMA32"),
    lowmem_boundary=None,
    dma32_boundary=1 << 32,
    dma32_npages_threshold=None,
    physseg_max=64,
    maxmemdom=8,
    dense=False,
)

ARCHES = {a.name: a for a in (AMD64, ARM64, ARM64_2024)}


def get_arch(name: str | Arch) -> Arch:
    """Return the preset called *name* (an :class:`Arch` is returned as is)."""
    if isinstance(name, Arch):
        return name
    try:
        return ARCHES[name]
    except (KeyError, TypeError):
        from .errors import InvalidInput

        raise InvalidInput("arch", f"unknown architecture {name!r}; known: {sorted(ARCHES)}") from None
