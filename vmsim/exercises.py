"""The book's exercises whose answer is a number or an address, each computed by the simulator.

One place for what a chapter's hidden check cell and the page's answer box both
ask: is this the answer to exercise *N.M*?  Each answer is computed here with
vmsim (never stored), so a solution in the book can only state it if the
simulator agrees, and the in-page answer box (which runs this same module in
the reader's browser) accepts exactly what the check cell accepts.  Standard
library only.

A chapter's check cell reads::

    from vmsim.exercises import check
    assert check("4.1", 17)

and the page calls :func:`check_text` with what the reader typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidInput
from .validate import show

__all__ = ["Exercise", "EXERCISES", "exercise", "answer", "check", "check_text", "parse_answer"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number (``"4.1"``), what the answer counts, and how to compute it."""

    number: str
    asks: str
    compute: Callable[[], int]
    address: bool = False


#: Every exercise with a number or an address for an answer, by number.
EXERCISES: dict[str, Exercise] = {}


def exercise(number: str, asks: str, address: bool = False):
    """Register the decorated function as the computation of exercise *number*'s answer."""

    def register(compute: Callable[[], int]) -> Callable[[], int]:
        if number in EXERCISES:
            raise ValueError(f"exercise {number} is registered twice")
        EXERCISES[number] = Exercise(number, asks, compute, address)
        return compute

    return register


def _get(number: str) -> Exercise:
    if number not in EXERCISES:
        raise InvalidInput("exercise", f"no exercise {show(number)} has a checked answer; "
                                       f"these do: {', '.join(EXERCISES)}")
    return EXERCISES[number]


def answer(number: str) -> int:
    """The answer to exercise *number*, computed now with the simulator."""
    return _get(number).compute()


def check(number: str, value) -> bool:
    """Whether *value* (an integer) is the answer to exercise *number*."""
    ex = _get(number)
    return isinstance(value, int) and not isinstance(value, bool) and value == ex.compute()


def parse_answer(text: str) -> int:
    """What a reader typed, as an integer: ``17``, ``4,182``, ``786 189``, ``0x8000``."""
    if not isinstance(text, str):
        raise InvalidInput("answer", f"the answer must be text, not {show(text)}")
    cleaned = text.strip().replace(",", "").replace("_", "").replace(" ", "").lower()
    try:
        if cleaned.startswith(("0x", "-0x")):
            return int(cleaned, 16)
        if cleaned and (cleaned.isdigit() or (cleaned[0] == "-" and cleaned[1:].isdigit())) and len(cleaned) < 40:
            return int(cleaned)
    except ValueError:
        pass
    raise InvalidInput("answer", f"{show(text)} is not a whole number (write 4096, 4,096 or 0x1000)")


def check_text(number: str, text: str) -> tuple[bool, str]:
    """Check what a reader typed for exercise *number*: ``(right, one sentence to show)``."""
    ex = _get(number)
    value = parse_answer(text)
    if check(number, value):
        return True, f"Right: {value:#x}." if ex.address else f"Right: {value:,}."
    return False, f"Not {value:#x}: try again, or open the solution." if ex.address else \
        f"Not {value:,}: try again, or open the solution."


# -- the exercises -----------------------------------------------------------------------------------
# Each function recomputes one answer with the simulator, importing the core modules it needs when it
# runs (never vmsim.viz or vmsim.widgets), so the module also loads in a browser's Python.
_KIB, _MIB, _GIB, _TIB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
_PAGE = 4096


def _pfns(lo: int, hi: int) -> list[int]:
    return [lo * _PAGE, hi * _PAGE]


def _toy(**kw):
    """The toy machine of chapters 0 and 2: arm64, one 64-page segment, pages 3-63 free, eager."""
    from .machine import Machine

    return Machine([_pfns(0, 64)], [_pfns(3, 64)], arch="arm64", lazy=False, **kw)


@exercise("0.1", "bytes of struct vm_page that describe 1 GiB of RAM on amd64")
def _ex_0_1() -> int:
    from .cost import FIRECRACKER_1G

    return FIRECRACKER_1G.array_bytes(_GIB // _PAGE)


@exercise("0.2", "page structures operation 1 of the quiz with seed 0 (three operations) initializes")
def _ex_0_2() -> int:
    from .quiz import make_problems

    return make_problems(0, nops=3)[0].steps[0].inits


@exercise("0.3", "the address the changed toy scenario returns for its order-3 request", address=True)
def _ex_0_3() -> int:
    from .replay import run_scenario

    scenario = {"arch": "arm64", "lazy": False, "seg_ranges": [_pfns(0, 64)], "phys_avail": [_pfns(3, 64)],
                "ops": [{"op": "alloc_pages", "domain": 0, "pool": "DEFAULT", "order": 0},
                        {"op": "alloc_pages", "domain": 0, "pool": "DEFAULT", "order": 3}]}
    return run_scenario(scenario)["results"][1]


@exercise("1.1", "segments of pc(6 GiB)")
def _ex_1_1() -> int:
    from .layout import pc

    return len(pc(6 * _GIB).boot().segtab.segs)


@exercise("1.3", "MiB of RAM of the smallest pc(ram) with a DMA32 free list (RAM a multiple of 2 MiB)")
def _ex_1_3() -> int:
    from .arch import AMD64
    from .layout import pc
    from .seg import build_segments

    def has_dma32(ram: int) -> bool:
        return build_segments(AMD64, pc(ram).seg_ranges).nfreelists == 3

    lo, hi = 4 * _GIB, 128 * _GIB  # lo has two free lists, hi three: bisect on 2 MiB steps
    assert not has_dma32(lo) and has_dma32(hi)
    while hi - lo > 2 * _MIB:
        mid = (lo + hi) // 2 // (2 * _MIB) * (2 * _MIB)
        lo, hi = (lo, mid) if has_dma32(mid) else (mid, hi)
    return hi // _MIB


@exercise("1.5", "segments left after vm_phys_init() of [0, 8 MiB) and [8 MiB, 64 MiB)")
def _ex_1_5() -> int:
    from .machine import Machine

    ranges = [[0, 8 * _MIB], [8 * _MIB, 64 * _MIB]]
    return len(Machine(ranges, ranges).segtab.segs)


@exercise("2.6", "the address of the order-3 block after one single-page allocation on the toy machine",
          address=True)
def _ex_2_6() -> int:
    toy = _toy()
    toy.alloc_pages(0, "DEFAULT", 0)
    return toy.alloc_pages(0, "DEFAULT", 3)


@exercise("3.2", "milliseconds of modelled eager initialization of pc(16 GiB), rounded")
def _ex_3_2() -> int:
    from .cost import FIRECRACKER_1G
    from .layout import pc

    return round(FIRECRACKER_1G.seconds(pc(16 * _GIB).boot(lazy=False).startup_page_inits) * 1e3)


@exercise("3.3", "GiB of the smallest pc(ram) whose modelled eager initialization exceeds 100 ms")
def _ex_3_3() -> int:
    from .cost import FIRECRACKER_1G
    from .layout import pc

    def eager_ms(gib: int) -> float:
        return FIRECRACKER_1G.seconds(pc(gib * _GIB).boot(lazy=False).startup_page_inits) * 1e3

    return next(g for g in range(1, 64) if eager_ms(g) > 100)


@exercise("5.5", "page structures the DIRECT order-3 request initializes on the quiz machine of seed 0")
def _ex_5_5() -> int:
    from .machine import Machine

    m = Machine([_pfns(0, 6144)], [_pfns(448, 6144)], revision="committed")
    before = m.page_inits
    m.alloc_pages(0, "DIRECT", 3)
    return m.page_inits - before


@exercise("7.4", "vm_page_init_page calls of the committed lazy pc(256 MiB) boot with a blacklisted free page")
def _ex_7_4() -> int:
    from .layout import pc

    return pc(256 * _MIB).boot(blacklist=[0x6400000], revision="committed").startup_page_inits


@exercise("8.1", "the physical address whose structure NoSuccessorInit's boot reads first", address=True)
def _ex_8_1() -> int:
    from .bugs import NoSuccessorInit
    from .errors import UninitializedPageRead
    from .machine import Machine

    try:
        Machine([_pfns(0, 8192)], [_pfns(16, 7936)], arch="arm64", phys_class=NoSuccessorInit)
    except UninitializedPageRead as e:
        return e.pa
    raise AssertionError("the broken boot read no uninitialized structure")


@exercise("8.2", "vm_page_init_page calls the free of block 32:4 makes on the two-run machine")
def _ex_8_2() -> int:
    from .machine import Machine

    m = Machine([_pfns(0, 64)], [_pfns(32, 48), _pfns(48, 64)], arch="arm64")
    pa = m.alloc_pages(0, "DEFAULT", 4)
    before = m.page_inits
    m.free_pages(pa, 4)
    return m.page_inits - before


@exercise("8.3", "structures of [992 MiB, 1 GiB) of the issue machine that a lazy boot never initializes")
def _ex_8_3() -> int:
    from .machine import Machine

    m = Machine([[0, _GIB]], [[64 * _KIB, 992 * _MIB]])
    m.lazy_init()
    return m.count_uninitialized(992 * _MIB, _GIB)


@exercise("8.4", "runs of 1 to 64 pages at pages 1 to 64 that the 2023 vm_phys_free_contig frees wrongly")
def _ex_8_4() -> int:
    from .machine import Machine

    m = Machine([_pfns(0, 256)], [_pfns(1, 256)], arch="arm64", lazy=False)
    return sum(not _covers_exactly(m.free_contig_plan(lo * _PAGE, n), lo * _PAGE, n * _PAGE)
               for lo in range(1, 65) for n in range(1, 65))


def _covers_exactly(plan, start: int, size: int) -> bool:
    """Whether a ``free_contig_plan`` (byte addresses) frees ``[start, start + size)`` once, nothing else."""
    spans = sorted((pa, pa + (n * _PAGE if kind == "enqueue" else _PAGE << n)) for kind, pa, n in plan)
    at = start
    for a, b in spans:
        if a != at:
            return False
        at = b
    return at == start + size


@exercise("9.1", "GiB by which FreeBSD's page array exceeds Linux's on a 4 TiB machine")
def _ex_9_1() -> int:
    from .cost import FIRECRACKER_1G

    linux_struct_page = 64  # bytes, the chapter's constant
    pages = 4 * _TIB // _PAGE
    return (FIRECRACKER_1G.array_bytes(pages) - pages * linux_struct_page) // _GIB


@exercise("9.2", "page structures initialized before boot goes on, Linux's 2015 rule, pc(1 TiB, domains=4)")
def _ex_9_2() -> int:
    from .layout import pc

    return pc(_TIB, domains=4).boot().total_pages
