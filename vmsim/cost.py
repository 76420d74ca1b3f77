"""From counts to time: what initializing page structures costs.

The unit of work the lazy-init change defers is one ``vm_page_init_page()``
call.  This model turns counts of those calls into seconds:

* by default with the change's own measurement (commit b16b4c22's message):
  booting FreeBSD in Firecracker with 1 GiB of RAM spent 21.5 ms initializing
  262,144 page structures, about 82 ns each (3 ms for 128 MiB, about 92 ns);
* optionally calibrated on the reader's machine: the time to write as many
  104-byte records (``sizeof(struct vm_page)`` on amd64) as there are pages,
  which is the memory-bandwidth floor below any real initialization.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .arch import VM_STRUCT_PAGE_SIZE

__all__ = ["CostModel", "FIRECRACKER_1G", "FIRECRACKER_128M", "calibrate"]


@dataclass(frozen=True)
class CostModel:
    """Nanoseconds per ``vm_page_init_page`` call, and where the figure comes from."""

    ns_per_init: float
    source: str
    struct_size: int = VM_STRUCT_PAGE_SIZE

    def seconds(self, inits: int) -> float:
        """Modelled time for *inits* calls."""
        return inits * self.ns_per_init * 1e-9

    def array_bytes(self, pages: int) -> int:
        """Bytes of page array for *pages* pages."""
        return pages * self.struct_size

    def describe(self) -> str:
        """One line for figure captions: the constant and its source."""
        return f"{self.ns_per_init:.0f} ns per vm_page_init_page ({self.source}); struct vm_page = {self.struct_size} B"


#: 21.5 ms for 1 GiB (262,144 pages): the commit message's Firecracker figure.
FIRECRACKER_1G = CostModel(21.5e6 / 262144, "b16b4c22: Firecracker, 1 GiB, 21.5 ms")
#: 3 ms for 128 MiB (32,768 pages), the same measurement's small VM.
FIRECRACKER_128M = CostModel(3e6 / 32768, "b16b4c22: Firecracker, 128 MiB, 3 ms")


def calibrate(pages: int = 1 << 18, repeat: int = 3) -> CostModel:
    """Measure the memory-bandwidth floor for *pages* 104-byte records here.

    Writes ``pages * 104`` bytes (a zeroed record per page, as bulk copies)
    and keeps the best of *repeat* runs.  Real initialization costs more:
    this is the floor, not an estimate of the kernel.
    """
    record = bytes(VM_STRUCT_PAGE_SIZE)
    block = record * 4096
    buf = bytearray(len(block) * max(1, pages // 4096))
    best = float("inf")
    for _ in range(repeat):
        view = memoryview(buf)
        t = time.perf_counter()
        for off in range(0, len(buf), len(block)):
            view[off:off + len(block)] = block
        best = min(best, time.perf_counter() - t)
    n = len(buf) // VM_STRUCT_PAGE_SIZE
    return CostModel(best / n * 1e9, f"memory-bandwidth floor measured here ({n:,} records)")
