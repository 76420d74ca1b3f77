"""The page array: ``struct vm_page`` fields stored lazily.

Models the ``vm_page_array`` of ``sys/vm/vm_page.c`` and the unit of work the
lazy-init change defers, ``vm_page_init_page()``.  A real machine with 4 TiB
of RAM has a billion page structures; the simulator must not pay for the ones
nobody touched, exactly as the kernel's lazy boot does not.

:class:`PageArray` is a map from an index (a physical page number) to one byte,
with a default for every index never written.  It is stored per *superchunk*
of 4096 indices, each superchunk in the cheapest of three forms:

* absent, or an ``int``: every index holds that value (an eager boot of a
  64 GiB machine is 4096 such integers);
* a :class:`_Sparse`: a base value plus at most 64 exceptions (a lazy boot
  writes one page per 16 MiB block, so each block costs a tiny dict);
* a ``bytearray`` of 4096 bytes, once a superchunk is truly mixed.

Wide updates (:meth:`PageArray.fill`) are slice assignments, never per-page
Python loops.  The slow path they replace -- setting each index one at a
time -- is what ``tests/test_page.py`` compares them against.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import InvariantViolation, UninitializedPageRead

__all__ = ["PageArray", "Pages", "StrayInit", "UNINIT"]

#: The ``pool`` byte of a ``struct vm_page`` that was never initialized.
UNINIT = 0xFF

_SHIFT = 12
_SIZE = 1 << _SHIFT
_MASK = _SIZE - 1
_SPARSE_MAX = 64
#: A maximal run of one byte value: the C-speed way to split a bytearray into runs.
_RUN = re.compile(rb"(.)\1*", re.S)


class _Sparse:
    """A superchunk that is *base* everywhere except at a few offsets."""

    __slots__ = ("base", "diff")

    def __init__(self, base: int, diff: dict[int, int]):
        self.base = base
        self.diff = diff


class PageArray:
    """A lazily stored byte per page index, *default* where never written."""

    __slots__ = ("default", "_chunks")

    def __init__(self, default: int):
        self.default = default
        self._chunks: dict[int, object] = {}

    # -- reading -------------------------------------------------------------
    def get(self, i: int) -> int:
        """The value at index *i*."""
        c = self._chunks.get(i >> _SHIFT)
        if c is None:
            return self.default
        t = type(c)
        if t is int:
            return c  # type: ignore[return-value]
        if t is bytearray:
            return c[i & _MASK]  # type: ignore[index]
        return c.diff.get(i & _MASK, c.base)  # type: ignore[attr-defined]

    def count(self, lo: int, hi: int, value: int) -> int:
        """How many indices in ``[lo, hi)`` hold *value*."""
        s = lo >> _SHIFT
        if hi - 1 >> _SHIFT == s and hi > lo:
            return _count_chunk(self._chunks.get(s, self.default), lo & _MASK, (lo & _MASK) + hi - lo, value)
        if hi <= lo:
            return 0
        # The partial superchunks at either end, then the whole ones between,
        # each counted without slicing (the wide case of a census or a check).
        first, last = -(-lo >> _SHIFT), hi >> _SHIFT
        if first >= last:
            return sum(_count_chunk(self._chunks.get(s, self.default), a, b, value) for s, a, b in _pieces(lo, hi))
        total = self.count(lo, first << _SHIFT, value) + self.count(last << _SHIFT, hi, value)
        chunks, d = self._chunks, self.default
        for s in range(first, last):
            c = chunks.get(s, d)
            t = type(c)
            if t is int:
                if c == value:
                    total += _SIZE
            elif t is bytearray:
                total += c.count(value)  # type: ignore[attr-defined]
            else:
                diff = c.diff  # type: ignore[attr-defined]
                total += sum(1 for x in diff.values() if x == value) + (_SIZE - len(diff) if c.base == value else 0)
        return total

    def runs(self, lo: int, hi: int) -> Iterator[tuple[int, int, int]]:
        """Maximal runs ``(start, end, value)`` covering ``[lo, hi)``, in order."""
        cur_start, cur_val = lo, None
        for s, a, b in _pieces(lo, hi):
            base = s << _SHIFT
            for start, _end, val in _chunk_runs(self._chunks.get(s, self.default), a, b):
                if val != cur_val:
                    if cur_val is not None:
                        yield cur_start, base + start, cur_val
                    cur_start, cur_val = base + start, val
        if cur_val is not None:
            yield cur_start, hi, cur_val

    # -- writing -------------------------------------------------------------
    def set(self, i: int, value: int) -> int:
        """Store *value* at index *i*; return the previous value."""
        s = i >> _SHIFT
        if s not in self._chunks:
            if value != self.default:
                self._chunks[s] = _Sparse(self.default, {i & _MASK: value})
            return self.default
        old = self.get(i)
        if old != value:
            self._fill_chunk(s, i & _MASK, (i & _MASK) + 1, value)
        return old

    def set_each(self, indices: range, value: int) -> int:
        """:meth:`set` for each of *indices*; return how many of them held the default before."""
        chunks, d = self._chunks, self.default
        prev = 0
        for i in indices:
            s = i >> _SHIFT
            if s in chunks:
                prev += self.set(i, value) == d
            else:
                if value != d:
                    chunks[s] = _Sparse(d, {i & _MASK: value})
                prev += 1
        return prev

    def fill(self, lo: int, hi: int, value: int) -> int:
        """Store *value* at every index of ``[lo, hi)``.

        Returns how many of those indices held the default before, which is
        how the page array counts newly initialized structures.
        """
        s = lo >> _SHIFT
        if hi - 1 >> _SHIFT == s and hi > lo:
            return self._fill_chunk(s, lo & _MASK, (lo & _MASK) + hi - lo, value)
        prev = 0
        for s, a, b in _pieces(lo, hi):
            prev += self._fill_chunk(s, a, b, value)
        return prev

    def _store(self, s: int, c: object) -> None:
        if c == self.default and type(c) is int:
            self._chunks.pop(s, None)
        else:
            self._chunks[s] = c

    def _settle(self, s: int, ba: bytearray) -> None:
        """Store a written bytearray superchunk, folded back to one integer when it became uniform.

        Without the fold, a drained machine would keep a 4 KiB array for
        every superchunk it ever initialized, although each now holds one
        value (a lazy 4 TiB boot and its drain would need over 1 GB).
        """
        first = ba[0]
        if ba[-1] == first and ba.count(first) == _SIZE:
            self._store(s, first)
        else:
            self._store(s, ba)

    def _fill_chunk(self, s: int, a: int, b: int, v: int) -> int:
        d = self.default
        c = self._chunks.get(s, d)
        prev = _count_chunk(c, a, b, d)
        n = b - a
        if n == _SIZE:
            self._store(s, v)
        elif type(c) is int:
            if c != v:
                if n <= _SPARSE_MAX:
                    self._store(s, _Sparse(c, dict.fromkeys(range(a, b), v)))
                else:
                    ba = bytearray((c,)) * _SIZE
                    ba[a:b] = bytes((v,)) * n
                    self._store(s, ba)
        elif type(c) is bytearray:
            c[a:b] = bytes((v,)) * n
            if c[0] == v == c[-1]:
                self._settle(s, c)  # type: ignore[arg-type]
        else:
            self._fill_sparse(s, c, a, b, v)  # type: ignore[arg-type]
        return prev

    def _fill_sparse(self, s: int, c: _Sparse, a: int, b: int, v: int) -> None:
        diff = c.diff
        if v == c.base:
            for off in [o for o in diff if a <= o < b]:
                del diff[off]
            if not diff:
                self._store(s, c.base)
        elif len(diff) + (b - a) > _SPARSE_MAX:
            ba = bytearray((c.base,)) * _SIZE
            for off, val in diff.items():
                ba[off] = val
            ba[a:b] = bytes((v,)) * (b - a)
            self._settle(s, ba)
        else:
            for off in range(a, b):
                diff[off] = v

    def touched_chunks(self) -> int:
        """How many superchunks hold anything but the default (for benchmarks)."""
        return len(self._chunks)

    def first_where(self, value: int, other: PageArray, other_values) -> int | None:
        """The first index where this array holds *value* and *other* one of *other_values*.

        Costs time in proportion to the superchunks this array has written
        (*value* must not be its default), never to the index span: a
        superchunk where either side holds one value everywhere is decided
        at once, any other is compared as two 4096-bit masks.
        """
        if value == self.default:
            raise ValueError("first_where needs a value other than the default")
        mine = bytes(int(v == value) for v in range(256))
        theirs = bytes(int(v in other_values) for v in range(256))
        for s in sorted(self._chunks):
            c, o = self._chunks[s], other._chunks.get(s, other.default)
            if type(o) is int and o not in other_values:
                continue
            if type(c) is int and c != value:
                continue
            hits = (int.from_bytes(self._mask(c, mine), "little")
                    & int.from_bytes(other._mask(o, theirs), "little"))
            if hits:
                return (s << _SHIFT) + (((hits & -hits).bit_length() - 1) >> 3)
        return None

    @staticmethod
    def _mask(c: object, table: bytes) -> bytes:
        """Superchunk *c* as 4096 bytes passed through *table* (1 where it holds a wanted value)."""
        if type(c) is int:
            return table[c:c + 1] * _SIZE  # type: ignore[index]
        if type(c) is bytearray:
            return c.translate(table)  # type: ignore[attr-defined]
        out = bytearray(table[c.base:c.base + 1]) * _SIZE  # type: ignore[attr-defined]
        for off, val in c.diff.items():  # type: ignore[attr-defined]
            out[off] = table[val]
        return bytes(out)


def _pieces(lo: int, hi: int) -> Iterator[tuple[int, int, int]]:
    """Split ``[lo, hi)`` into (superchunk, start offset, end offset) pieces."""
    while lo < hi:
        s = lo >> _SHIFT
        end = min(hi, (s + 1) << _SHIFT)
        yield s, lo & _MASK, end - (s << _SHIFT)
        lo = end


def _count_chunk(c: object, a: int, b: int, v: int) -> int:
    t = type(c)
    if t is int:
        return b - a if c == v else 0
    if t is bytearray:
        return c.count(v, a, b)  # type: ignore[attr-defined]
    inside = [val for off, val in c.diff.items() if a <= off < b]  # type: ignore[attr-defined]
    if c.base == v:  # type: ignore[attr-defined]
        return (b - a) - len(inside)
    return inside.count(v)


def _chunk_runs(c: object, a: int, b: int) -> Iterator[tuple[int, int, int]]:
    if type(c) is int:
        yield a, b, c  # type: ignore[misc]
        return
    if type(c) is bytearray:
        for run in _RUN.finditer(c, a, b):  # type: ignore[call-overload]
            yield run.start(), run.end(), c[run.start()]  # type: ignore[index]
        return
    base = c.base  # type: ignore[attr-defined]
    pos = a
    for off in sorted(o for o in c.diff if a <= o < b):  # type: ignore[attr-defined]
        if off > pos:
            yield pos, off, base
        yield off, off + 1, c.diff[off]  # type: ignore[attr-defined]
        pos = off + 1
    if pos < b:
        yield pos, b, base


@dataclass(frozen=True)
class StrayInit:
    """A ``vm_page_init_page()`` call on a structure outside every segment.

    ``where`` is ``"hole"`` (a dense page array's entry for an address no
    segment covers) or ``"past-array"`` (one entry beyond the page array, a
    write the kernel makes into memory it does not own).  ``index`` is the
    page-array index, ``pa`` and ``segind`` the values written.
    """

    where: str
    index: int
    pa: int
    segind: int
    pool: int


class Pages:
    """The page array of one machine: ``struct vm_page`` fields that vmsim tracks.

    * ``pool``: one byte per page, :data:`UNINIT` until ``vm_page_init_page``
      runs for it; afterwards the page's ``pool`` field.
    * ``order``: the ``order`` field of free-block heads (absent means
      ``VM_NFREEORDER``); maintained by the free-queue primitives.
    * identity (``phys_addr``, ``segind``): implied by the page's position,
      except where an initialization wrote other values (``bogus``), as the
      seed's chunk helper can for the structure past a segment.
    * ``page_inits`` counts ``vm_page_init_page`` calls, boot included;
      ``initialized`` counts distinct in-segment pages ever initialized.
    """

    def __init__(self, segtab, page_shift: int, nfreeorder: int):
        self.segtab = segtab
        self.page_shift = page_shift
        self.nfreeorder = nfreeorder
        self.pool = PageArray(UNINIT)
        self.order: dict[int, int] = {}
        self.bogus: dict[int, tuple[int, int]] = {}
        self.stray: list[StrayInit] = []
        self.page_inits = 0
        self.initialized = 0

    # -- vm_page_init_page ---------------------------------------------------
    def init_page(self, pfn: int, segind: int, pool: int, pa_pfn: int | None = None) -> None:
        """``vm_page_init_page(m, pa, segind, pool)`` for the in-segment page *pfn*.

        *pa_pfn* is the physical address written (as a pfn); it defaults to the
        page's own.  The page stops being a free head (``order`` reset).
        """
        self.page_inits += 1
        if self.pool.set(pfn, pool) == UNINIT:
            self.initialized += 1
        self.order.pop(pfn, None)
        if pa_pfn is None:
            pa_pfn = pfn
        if pa_pfn != pfn or segind != self.segtab.find(pfn):
            self.bogus[pfn] = (pa_pfn, segind)
        else:
            self.bogus.pop(pfn, None)

    def init_canonical(self, pfn: int, pool: int) -> None:
        """:meth:`init_page` when the caller knows *pfn*'s segment index is the one written."""
        self.page_inits += 1
        if self.pool.set(pfn, pool) == UNINIT:
            self.initialized += 1
        self.order.pop(pfn, None)
        if self.bogus:
            self.bogus.pop(pfn, None)

    def init_heads(self, pfns: range, pool: int) -> None:
        """:meth:`init_canonical` for each of *pfns* (canonical identities, none a free head)."""
        self.page_inits += len(pfns)
        self.initialized += self.pool.set_each(pfns, pool)

    def init_range(self, lo: int, hi: int, segind: int, pool: int) -> None:
        """``vm_page_init_page`` for every page of ``[lo, hi)`` (one segment), ascending.

        The pages must not be free heads; this is the slice-assignment form
        of a per-page loop of :meth:`init_page` (``tests/test_page.py``
        checks that both agree).
        """
        if hi <= lo:
            return
        self.page_inits += hi - lo
        self.initialized += self.pool.fill(lo, hi, pool)
        if self.bogus:
            for pfn in [p for p in self.bogus if lo <= p < hi]:
                del self.bogus[pfn]

    def init_lazy_tail(self, head: int, n: int, pool: int) -> None:
        """``vm_phys_set_pool``'s lazy branch: *head* takes *pool*, pages ``head + 1 .. head + n - 1`` are initialized.

        One slice assignment over the whole block (the head was initialized
        already, so it adds nothing to :attr:`initialized`) instead of a
        write of the head followed by :meth:`init_range` of the rest; both
        give the same array (``tests/test_page.py``).
        """
        self.page_inits += n - 1
        self.initialized += self.pool.fill(head, head + n, pool)
        if self.bogus:
            for pfn in [p for p in self.bogus if head < p < head + n]:
                del self.bogus[pfn]

    def init_index(self, index: int, pa_pfn: int, segind: int, pool: int) -> None:
        """``vm_page_init_page`` on page-array entry *index* (pointer arithmetic).

        Used where the kernel computes a ``vm_page`` pointer by adding to
        another one: the entry may belong to another segment, to a hole of a
        dense array, or lie past the end of the array.
        """
        pfn, _ = self.segtab.pfn_at_index(index)
        if pfn < 0:
            self.page_inits += 1
            self.stray.append(StrayInit("past-array", index, pa_pfn << self.page_shift, segind, pool))
        elif self.segtab.find(pfn) < 0:
            self.page_inits += 1
            self.stray.append(StrayInit("hole", index, pa_pfn << self.page_shift, segind, pool))
        else:
            self.init_page(pfn, segind, pool, pa_pfn)

    # -- checked reads -------------------------------------------------------
    def is_init(self, pfn: int) -> bool:
        """Whether the structure of page *pfn* has been initialized."""
        return self.pool.get(pfn) != UNINIT

    def read_ident(self, op: str, pfn: int) -> tuple[int, int, int]:
        """``(m->pool, phys_addr as a pfn, m->segind)`` in one checked read."""
        v = self.pool.get(pfn)
        if v == UNINIT:
            raise UninitializedPageRead(op, pfn << self.page_shift, "pool")
        if self.bogus and pfn in self.bogus:
            pa, segind = self.bogus[pfn]
            return v, pa, segind
        return v, pfn, self.segtab.find(pfn)

    def read_pool(self, op: str, pfn: int) -> int:
        """``m->pool``, raising :class:`UninitializedPageRead` on garbage."""
        v = self.pool.get(pfn)
        if v == UNINIT:
            raise UninitializedPageRead(op, pfn << self.page_shift, "pool")
        return v

    def read_order(self, op: str, pfn: int) -> int:
        """``m->order`` (``VM_NFREEORDER`` when not a free head), checked."""
        if self.pool.get(pfn) == UNINIT:
            raise UninitializedPageRead(op, pfn << self.page_shift, "order")
        return self.order.get(pfn, self.nfreeorder)

    def read_segind(self, op: str, pfn: int) -> int:
        """``m->segind``, checked."""
        if self.pool.get(pfn) == UNINIT:
            raise UninitializedPageRead(op, pfn << self.page_shift, "segind")
        if self.bogus and pfn in self.bogus:
            return self.bogus[pfn][1]
        return self.segtab.find(pfn)

    def read_phys(self, op: str, pfn: int) -> int:
        """``VM_PAGE_TO_PHYS(m)`` (``m->phys_addr``) as a pfn, checked."""
        if self.pool.get(pfn) == UNINIT:
            raise UninitializedPageRead(op, pfn << self.page_shift, "phys_addr")
        if self.bogus and pfn in self.bogus:
            return self.bogus[pfn][0]
        return pfn

    def require_not_head(self, op: str, pfn: int) -> None:
        """The ``KASSERT(m->order == VM_NFREEORDER)`` of the enqueue paths."""
        if self.read_order(op, pfn) != self.nfreeorder:
            raise InvariantViolation(op, f"page at pa {pfn << self.page_shift:#x} is already a free block head")
