"""What this book's proposed boot loop saves, measured beside the seed and the committed revisions.

Run: ``python benchmarks/bench_revisions.py`` (about a minute).  For each layout of the
proposal's issue -- a Firecracker-like VM at 128 MiB and 1 GiB (the machines of the
change's commit message), PCs of 4, 16, 64 and 256 GiB and 1 and 4 TiB whose kernel and
preloaded files end past 16 MiB (the default 30 MiB from 2 MiB) and below it (8 MiB),
an arm64 virtual machine and a two-socket NUMA server -- it prints the
``vm_page_init_page`` calls of the eager boot and, per revision, of the lazy boot, of the
first 1,024 single-page allocations, and of the ``vmlazyinit`` drain, then the total and
the boot time the cost model gives (82 ns a call, the commit message's Firecracker
figure).  ``vmsim.experiments.revision_costs`` computes the table; chapter 10 draws it.

What to read in it: the proposed boot makes a small fraction of the committed one's calls
wherever the gap-walk quirk fires, and the drain costs the same in every revision, so
the work is not moved into the drain: it disappears.  The proposed total is exactly one
call per structure in a segment, the eager boot's count; the committed one initializes
the quirk's pages twice.
"""

from __future__ import annotations

import time

from vmsim.experiments import revision_costs
from vmsim.layout import arm64_vm, firecracker, pc

MiB, GiB, TiB = 1 << 20, 1 << 30, 1 << 40


def layouts() -> dict:
    """The machines of the table, by name."""
    out = {"firecracker 128 MiB": firecracker(128 * MiB), "firecracker 1 GiB": firecracker(GiB)}
    for ram, label in ((4 * GiB, "4 GiB"), (16 * GiB, "16 GiB"), (64 * GiB, "64 GiB"), (256 * GiB, "256 GiB"),
                       (TiB, "1 TiB"), (4 * TiB, "4 TiB")):
        out[f"pc {label}, kernel to 32 MiB"] = pc(ram)
        out[f"pc {label}, kernel to 10 MiB"] = pc(ram, kernel=8 * MiB)
    out["arm64 virt 8 GiB"] = arm64_vm(8 * GiB)
    out["2-socket NUMA pc 512 GiB"] = pc(512 * GiB, domains=2)
    return out


def main() -> None:
    t = time.perf_counter()
    rows = revision_costs(layouts())
    print(f"{'layout':30} {'revision':10} {'eager':>12} {'lazy boot':>10} {'boot ms':>8} {'first':>7} "
          f"{'drain':>12} {'total':>12} {'total/eager':>11}")
    for r in rows:
        print(f"{r['layout']:30} {r['revision']:10} {r['eager']:12,} {r['boot']:10,} {r['boot_ms']:8.2f} "
              f"{r['first']:7,} {r['drain']:12,} {r['total']:12,} {r['total'] / r['eager']:11.3f}")
    by = {(r["layout"], r["revision"]): r for r in rows}
    print()
    print("saving of the proposed boot against the committed one (calls at boot):")
    for name in dict.fromkeys(r["layout"] for r in rows):
        c, p = by[(name, "committed")], by[(name, "proposed")]
        print(f"  {name:30} {c['boot'] - p['boot']:10,} calls, {c['boot_ms'] - p['boot_ms']:7.2f} ms "
              f"(x{c['boot'] / p['boot']:.1f}); drain {'unchanged' if c['drain'] == p['drain'] else 'CHANGED'}")
    print(f"\n({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
