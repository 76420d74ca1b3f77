"""Small machine layouts shared by the tests (byte addresses)."""

import dataclasses

from vmsim.arch import ARM64

#: An arm64-like machine (sparse page array, one free list) with 13 orders,
#: so that small layouts can hold maximal 4096-page blocks.
ARM64_13 = dataclasses.replace(ARM64, name="arm64-13", nfreeorder=13)

PAGE = 4096
MiB = 1 << 20
GiB = 1 << 30


def pfn_range(lo: int, hi: int) -> list[int]:
    """A ``[start, end)`` byte range from page numbers."""
    return [lo * PAGE, hi * PAGE]


def queues(state: dict, **match) -> dict:
    """``{(freelist, pool, order): [head pfns]}`` of a STATE, filtered by *match*."""
    out = {}
    for q in state["queues"]:
        if all(q[k] == v for k, v in match.items()):
            out[(q["freelist"], q["pool"], q["order"])] = [pa // PAGE for pa in q["pages"]]
    return out
