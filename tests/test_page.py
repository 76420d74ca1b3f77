"""The lazily stored page array (vmsim.page): the fast paths agree with per-page loops."""

from hypothesis import given
from hypothesis import strategies as st

from vmsim.page import UNINIT, PageArray

N = 20000
writes = st.lists(st.tuples(st.integers(0, N - 1), st.sampled_from([1, 2, 5, 63, 65, 300, 4096, 9000]),
                            st.sampled_from([0, 1, 2, UNINIT])), max_size=60)


@given(writes, st.integers(0, N - 1), st.integers(1, N))
def test_fill_count_runs_and_get_agree_with_a_plain_dict(ops, a, length):
    arr, ref = PageArray(UNINIT), {}
    for lo, n, v in ops:
        hi = min(N, lo + n)
        before = sum(1 for i in range(lo, hi) if ref.get(i, UNINIT) == UNINIT)
        assert arr.fill(lo, hi, v) == before  # fill reports how many were still default
        for i in range(lo, hi):  # the slow path fill() replaces
            ref[i] = v
    b = min(N, a + length)
    assert all(arr.get(i) == ref.get(i, UNINIT) for i in range(a, b))
    for v in (0, 1, UNINIT):
        assert arr.count(a, b, v) == sum(1 for i in range(a, b) if ref.get(i, UNINIT) == v)
    runs = list(arr.runs(a, b))
    assert runs[0][0] == a and runs[-1][1] == b
    assert all(e == s2 and v != v2 for (_, e, v), (s2, _, v2) in zip(runs, runs[1:]))
    assert all(ref.get(i, UNINIT) == v for s, e, v in runs for i in range(s, e))


def test_an_untouched_array_costs_nothing_and_a_wide_fill_stays_compact():
    arr = PageArray(UNINIT)
    assert arr.get(10**12) == UNINIT and arr.touched_chunks() == 0
    arr.fill(0, 1 << 24, 1)  # 64 GiB of pages: one integer per 4096 pages
    assert arr.touched_chunks() == 4096 and arr.count(0, 1 << 24, 1) == 1 << 24
    arr.set(4097, 2)  # a single exception becomes a small sparse chunk
    assert arr.get(4097) == 2 and arr.get(4096) == 1 and arr.count(4096, 8192, 1) == 4095
