"""Small machine layouts shared by the tests (byte addresses)."""

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
