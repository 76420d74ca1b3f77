"""Ready-made machine layouts, for the book, the widgets and the quiz.

A :class:`Layout` is what ``vm_page_startup()`` sees: the segments registered
with ``vm_phys_add_seg`` (every ``phys_avail`` range plus the early segments,
such as the kernel image, that need page structures without being free), the
``phys_avail[]`` ranges, and the NUMA affinity table.  The builders produce
the shapes real machines have; all sizes are byte counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidInput
from .machine import Machine
from .validate import integer

__all__ = ["Layout", "pc", "arm64_vm", "firecracker"]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class Layout:
    """Segments, ``phys_avail`` and domains of one machine, byte addresses."""

    seg_ranges: tuple[tuple[int, int], ...]
    phys_avail: tuple[tuple[int, int], ...]
    domains: tuple[tuple[int, int, int], ...] | None = None
    arch: str = "amd64"

    def boot(self, **kw) -> Machine:
        """Boot a :class:`~vmsim.machine.Machine` on this layout (keywords pass through)."""
        domains = None if self.domains is None else [list(d) for d in self.domains]
        return Machine([list(r) for r in self.seg_ranges], [list(r) for r in self.phys_avail],
                       arch=self.arch, domains=domains, **kw)

    def scenario(self, ops=(), **kw) -> dict:
        """A replay scenario for this layout (``lazy``, ``revision``, ``blacklist`` in *kw*)."""
        out = {"arch": self.arch, "seg_ranges": [list(r) for r in self.seg_ranges],
               "phys_avail": [list(r) for r in self.phys_avail], "ops": list(ops), **kw}
        if self.domains is not None:
            out["domains"] = [list(d) for d in self.domains]
        return out

    @property
    def ram(self) -> int:
        """Bytes inside segments."""
        return sum(b - a for a, b in self.seg_ranges)


def _punch(ranges: list[tuple[int, int]], holes: int, hole_size: int) -> list[tuple[int, int]]:
    """Remove *holes* reserved ranges, evenly spread, from the largest range."""
    if holes <= 0:
        return ranges
    i = max(range(len(ranges)), key=lambda k: ranges[k][1] - ranges[k][0])
    lo, hi = ranges[i]
    step = (hi - lo) // (holes + 1)
    if step <= hole_size * 2:
        raise InvalidInput("layout", f"{holes} holes do not fit in [{lo:#x}, {hi:#x})")
    pieces, start = [], lo
    for k in range(1, holes + 1):
        cut = (lo + k * step) // (2 * MiB) * (2 * MiB)
        pieces.append((start, cut))
        start = cut + hole_size
    pieces.append((start, hi))
    return ranges[:i] + pieces + ranges[i + 1:]


def _address_at(ranges, amount: int) -> int:
    """The address below which *ranges* hold *amount* bytes."""
    for a, b in sorted(ranges):
        if amount <= b - a:
            return a + amount
        amount -= b - a
    return max(b for _, b in ranges)


def _domains(seg_ranges, free, n: int):
    """An affinity table over *seg_ranges* giving each of *n* domains an equal share of the *free* memory.

    As on a real multi-socket machine, each domain holds about the same
    amount of memory (the PCI hole stays with the domain around it).  The
    cuts fall on whole GiB, as firmware tables usually put them, when that
    leaves memory in every domain, and on 2 MiB (superpage) boundaries on a
    machine too small for that.
    """
    if n <= 1:
        return None
    total = sum(b - a for a, b in free)
    top = max(b for _, b in seg_ranges)
    for grain in (GiB, 2 * MiB):
        cuts = [min(a for a, _ in seg_ranges) // grain * grain]
        cuts += [_address_at(free, total * k // n) // grain * grain for k in range(1, n)] + [top]
        if all(any(a < cuts[k + 1] and cuts[k] < b for a, b in free) for k in range(n)):
            return tuple((cuts[k], cuts[k + 1], k) for k in range(n))
    raise InvalidInput("layout", f"{n} NUMA domains cannot each get memory of the {total:#x} bytes this machine has")


def _check_sizes(ram, kernel, holes, hole_size, domains, room: int) -> None:
    """The builders' arguments: whole numbers of the right size, the kernel inside the memory before it."""
    op = "layout"
    ram = integer(op, "ram", ram)
    if ram < 64 * MiB or ram % (2 * MiB):
        raise InvalidInput(op, f"ram {ram:#x} must be a multiple of 2 MiB and at least 64 MiB")
    kernel = integer(op, "kernel", kernel)
    if kernel % (4 * KiB) or kernel >= room:
        raise InvalidInput(op, f"kernel {kernel:#x} must be a multiple of 4 KiB that leaves free memory after it")
    integer(op, "holes", holes)
    hole_size = integer(op, "hole_size", hole_size, 4 * KiB)
    if hole_size % (4 * KiB):
        raise InvalidInput(op, f"hole_size {hole_size:#x} must be a multiple of 4 KiB")
    integer(op, "domains", domains, 1, 8)


def pc(ram: int, *, kernel: int = 30 * MiB, holes: int = 0, hole_size: int = 64 * KiB,
       domains: int = 1, arch: str = "amd64") -> Layout:
    """A BIOS-booted amd64 PC with *ram* bytes of memory.

    Low memory ``[4 KiB, 636 KiB)``; the kernel image and preloaded files at
    ``[2 MiB, 2 MiB + kernel)`` (an early segment: page structures, not free);
    the rest free up to 3 GiB (the PCI hole takes ``[3 GiB, 4 GiB)``), then
    above 4 GiB.  *holes* firmware-reserved ranges of *hole_size* bytes split
    the largest range, and *domains* NUMA domains share the memory evenly.
    """
    _check_sizes(ram, kernel, holes, hole_size, domains, room=min(ram, 3 * GiB) - 2 * MiB)
    kend = 2 * MiB + kernel
    below = min(ram, 3 * GiB)
    free = [(4 * KiB, 636 * KiB), (kend, below)]
    if ram > below:
        free.append((4 * GiB, 4 * GiB + ram - below))
    free = _punch(free, holes, hole_size)
    segs = [free[0], (2 * MiB, free[1][1])] + free[2:]
    return Layout(tuple(segs), tuple(free), _domains(segs, free, domains), arch)


def arm64_vm(ram: int, *, kernel: int = 24 * MiB, holes: int = 0, hole_size: int = 64 * KiB,
             domains: int = 1) -> Layout:
    """An arm64 virtual machine: RAM from 1 GiB up, the kernel at its start."""
    _check_sizes(ram, kernel, holes, hole_size, domains, room=ram)
    base = GiB
    free = _punch([(base + kernel, base + ram)], holes, hole_size)
    segs = [(base, free[0][1])] + free[1:]
    return Layout(tuple(segs), tuple(free), _domains(segs, free, domains), "arm64")


def firecracker(ram: int, *, kernel: int = 10 * MiB) -> Layout:
    """A Firecracker-like amd64 microVM with *ram* bytes (at most 3 GiB), as the change's commit message measured.

    The layout is ours, shaped after such a guest's memory map: low memory
    ``[4 KiB, 636 KiB)``, then RAM from 1 MiB, all free except the kernel and
    its preloaded files at ``[2 MiB, 2 MiB + kernel)``, so ``phys_avail``
    keeps the MiB below the kernel, ``[1 MiB, 2 MiB)``, as its own range.  The
    default kernel ends below 16 MiB.
    """
    _check_sizes(ram, kernel, 0, 4 * KiB, 1, room=min(ram, 3 * GiB) - 2 * MiB)
    if ram > 3 * GiB:
        raise InvalidInput("layout", f"ram {ram:#x}: a firecracker() guest here has at most 3 GiB")
    segs = ((4 * KiB, 636 * KiB), (MiB, ram))
    free = ((4 * KiB, 636 * KiB), (MiB, 2 * MiB), (2 * MiB + kernel, ram))
    return Layout(segs, free, None, "amd64")
