"""Speed and memory of the vmsim core, each figure printed beside its target.

Run: ``python benchmarks/bench_core.py`` (about five minutes; ``--quick`` skips the
100,000-operation debug run).  Each measurement runs in a fresh process, so that peak
resident memory is that of the measurement alone, and each time is also given as a
ratio against a fixed reference, measured in the same process just before: a plain
Python loop doing one dict store per iteration.  On a loaded machine both slow down
alike, so the ratio says more than the seconds.

Targets (the "vmsim core" issue, point 15, and the hardening issue):

* a 4 TiB amd64 machine boots lazily in under 0.5 s as a whole process (measured
  0.76 s on an idle machine when the target was set), with under 300 MB resident;
* the same boot followed by a full drain (``lazy_init``) stays under 300 MB, and the
  drain takes under 5 s;
* a 64 GiB machine boots eagerly in under 3 s;
* a random mix of order-0..3 allocations and frees runs at >= 250,000 ops/s;
* a random 100,000-operation replay on a 1 GiB lazy machine, drawn so that memory is
  often exhausted (about four in five block allocations fail), takes under 1 s of
  ``run_scenario`` time;
* ``check()`` takes under 50 ms on a 1 GiB machine wherever its segments sit;
* debug mode (``check()`` after every operation) runs that 100,000-operation replay
  in under 5 minutes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40
REF_N = 2_000_000


def reference() -> float:
    """Seconds per iteration of the reference loop (one dict store)."""
    d: dict[int, int] = {}
    t = time.perf_counter()
    for i in range(REF_N):
        d[i & 1023] = i
    return (time.perf_counter() - t) / REF_N


def pc_layout(ram: int):
    """A BIOS-booted amd64 PC: low memory, a 1 GiB PCI hole below 4 GiB, the rest above."""
    segs = [[0x1000, 0x9F000], [0x100000, 3 * GiB], [4 * GiB, ram + GiB]]
    avail = [[0x1000, 0x9F000], [0x2000000, 3 * GiB - (64 << 20)], [4 * GiB, ram + GiB - (ram >> 6)]]
    return segs, avail


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _boot(ram: int, lazy: bool) -> dict:
    from vmsim.machine import Machine

    segs, avail = pc_layout(ram)
    ref = reference()
    t = time.perf_counter()
    m = Machine(segs, avail, lazy=lazy)
    dt = time.perf_counter() - t
    return {"seconds": dt, "ref": ref, "rss_mb": _rss_mb(), "page_inits": m.page_inits, "pages": m.total_pages}


def _drain(ram: int) -> dict:
    from vmsim.machine import Machine

    segs, avail = pc_layout(ram)
    m = Machine(segs, avail)
    ref = reference()
    t = time.perf_counter()
    blocks = m.lazy_init()
    dt = time.perf_counter() - t
    return {"seconds": dt, "ref": ref, "rss_mb": _rss_mb(), "blocks": blocks,
            "chunks": m.vm.pages.pool.touched_chunks()}


def _ops(n: int) -> dict:
    import random

    from vmsim.machine import Machine

    m = Machine([[0, 4 * GiB]], [[1 << 20, 4 * GiB]])
    m.lazy_init()
    rng = random.Random(1)
    script = [(rng.random(), rng.random(), rng.randrange(4), rng.choice(("DEFAULT", "DIRECT"))) for _ in range(n)]
    live: list[tuple[int, int]] = []
    ref = reference()
    t = time.perf_counter()
    for r_free, r_pick, order, pool in script:
        if live and (r_free < 0.5 or len(live) > 5000):
            i = int(r_pick * len(live))
            live[i], live[-1] = live[-1], live[i]
            pa, o = live.pop()
            m.free_pages(pa, o)
        else:
            live.append((m.alloc_pages(0, pool, order), order))
    dt = time.perf_counter() - t
    m.check()
    return {"seconds": dt, "ref": ref, "ops_per_second": n / dt}


#: The 1 GiB machine of the README's example.
ONE_GIB = {"arch": "amd64", "lazy": True, "seg_ranges": [[0, GiB]], "phys_avail": [[65536, 1040187392]]}


def draw_scenario(n: int, seed: int = 1) -> tuple[dict, float]:
    """A random *n*-operation replay on the 1 GiB machine, and the share of block allocations that failed.

    Drawn by running the operations on a machine, so that frees name only
    blocks and pages it allocated: mostly ``alloc_pages`` of orders 0..12
    (large orders often, so memory is soon exhausted), some ``alloc_npages``,
    few frees, and one ``lazy_init`` half way.
    """
    import random

    from vmsim.machine import Machine

    rng = random.Random(seed)
    m = Machine(ONE_GIB["seg_ranges"], ONE_GIB["phys_avail"])
    live: list[tuple[str, object, int]] = []
    ops: list[dict] = []
    tries = fails = 0
    while len(ops) < n:
        if len(ops) == n // 2:
            m.lazy_init()
            ops.append({"op": "lazy_init"})
            continue
        r = rng.random()
        if live and r < 0.06:
            k = rng.randrange(len(live))
            live[k], live[-1] = live[-1], live[k]
            kind, what, order = live.pop()
            for pa in ([what] if kind == "block" else what)[:n - len(ops)]:
                m.free_pages(pa, order)
                ops.append({"op": "free_pages", "pa": pa, "order": order})
        elif r < 0.97:
            order, pool = rng.choice([0, 0, 1, 2, 3, 4, 6, 9, 12]), rng.choice(["DEFAULT", "DIRECT"])
            pa = m.alloc_pages(0, pool, order)
            ops.append({"op": "alloc_pages", "domain": 0, "pool": pool, "order": order})
            tries += 1
            if pa is None:
                fails += 1
            else:
                live.append(("block", pa, order))
        else:
            npages, pool = rng.randrange(1, 16), rng.choice(["DEFAULT", "DIRECT"])
            pages = m.alloc_npages(0, pool, npages)
            ops.append({"op": "alloc_npages", "domain": 0, "pool": pool, "npages": npages})
            if pages:
                live.append(("pages", pages, 0))
    return dict(ONE_GIB, ops=ops), fails / max(1, tries)


def _replay(n: int, debug: bool = False) -> dict:
    from vmsim.replay import run_scenario

    scenario, failed = draw_scenario(n)
    ref = reference()
    t = time.perf_counter()
    run_scenario(scenario, debug=debug)
    dt = time.perf_counter() - t
    return {"seconds": dt, "ref": ref, "ops_per_second": n / dt, "failed": failed}


def _check(base: int) -> dict:
    from vmsim.machine import Machine

    m = Machine([[base, base + GiB]], [[base + MiB, base + GiB]])
    for order in (0, 3, 9, 12):
        m.alloc_pages(0, "DIRECT", order)
    ref = reference()
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        m.check()
        best = min(best, time.perf_counter() - t)
    return {"seconds": best, "ref": ref}


def _child(call: str) -> dict:
    code = f"import json, sys; sys.path.insert(0, 'benchmarks'); import bench_core as b; print(json.dumps(b.{call}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _process_seconds(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t


def main(quick: bool = False) -> None:
    best = lambda runs, key: min(r[key] for r in runs)  # noqa: E731 -- best of three, as timeit does
    boot4 = [_child(f"_boot({4 * TiB}, True)") for _ in range(3)]
    whole = min(_process_seconds("from vmsim import pc; pc(4 << 40).boot()") for _ in range(3))
    empty = min(_process_seconds("import vmsim") for _ in range(3))
    drain = [_child(f"_drain({4 * TiB})") for _ in range(2)]
    eager = [_child(f"_boot({64 * GiB}, False)") for _ in range(3)]
    lazy64 = _child(f"_boot({64 * GiB}, True)")
    ops = [_child("_ops(200_000)") for _ in range(3)]
    replay = [_child("_replay(100_000)") for _ in range(3)]
    checks = {name: _child(f"_check({base})") for name, base in
              (("at 0", 0), ("at 2^42", 1 << 42), ("at 2^48", 1 << 48), ("near 2^64", (1 << 64) - 2 * GiB))}
    debug = None if quick else _child("_replay(100_000, debug=True)")
    ref = min(r["ref"] for r in boot4 + eager + ops + replay)

    rows = [
        ("4 TiB lazy boot, whole process, s", whole, "< 0.5", whole < 0.5),
        ("  of which the boot itself, s", best(boot4, "seconds"), "", None),
        ("  of which start-up and import, s", empty, "", None),
        ("4 TiB lazy boot, peak RSS MB", best(boot4, "rss_mb"), "< 300", best(boot4, "rss_mb") < 300),
        ("4 TiB boot + full drain, peak RSS MB", best(drain, "rss_mb"), "< 300", best(drain, "rss_mb") < 300),
        ("4 TiB full drain, s", best(drain, "seconds"), "< 5.0", best(drain, "seconds") < 5.0),
        ("64 GiB eager boot, s", best(eager, "seconds"), "< 3.0", best(eager, "seconds") < 3.0),
        ("alloc/free order 0-3, ops/s", max(r["ops_per_second"] for r in ops), ">= 250000",
         max(r["ops_per_second"] for r in ops) >= 250_000),
        ("1 GiB random replay (100k ops), s", best(replay, "seconds"), "< 1.0", best(replay, "seconds") < 1.0),
    ]
    rows += [(f"check() of 1 GiB {name}, ms", c["seconds"] * 1e3, "< 50", c["seconds"] < 0.05)
             for name, c in checks.items()]
    if debug is not None:
        rows.append(("debug replay (100k ops, check each), s", debug["seconds"], "< 300", debug["seconds"] < 300))
    print(f"reference: {ref * 1e9:.1f} ns per iteration of a dict-store loop on this machine now "
          f"(the 'x ref' column is each time in those iterations)")
    print()
    print(f"{'figure':42} {'measured':>12} {'x ref':>12} {'target':>10}  met")
    for name, value, target, ok in rows:
        in_ref = ""
        if name.endswith(", s"):
            in_ref = f"{value / ref:12,.0f}"
        elif name.endswith(", ms"):
            in_ref = f"{value * 1e-3 / ref:12,.0f}"
        met = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:42} {value:12.3f} {in_ref:>12} {target:>10}  {met}")
    print()
    print(f"4 TiB: {boot4[0]['pages']:,} page structures; lazy boot initialized {boot4[0]['page_inits']:,} "
          f"({boot4[0]['page_inits'] / boot4[0]['pages']:.4%}); the drain moved {drain[0]['blocks']:,} blocks and "
          f"leaves {drain[0]['chunks']:,} superchunks, each one integer")
    print(f"64 GiB: eager boot {eager[0]['page_inits']:,} inits, lazy boot {lazy64['page_inits']:,} "
          f"(ratio {eager[0]['page_inits'] / lazy64['page_inits']:.0f}x; most of the lazy figure is the gap-walk "
          "quirk initializing [32 MiB, 3 GiB))")
    print(f"random replay: {replay[0]['failed']:.0%} of its block allocations fail; "
          f"{max(r['ops_per_second'] for r in replay):,.0f} ops/s")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
