"""Latency of the book's widgets, each figure printed beside its target.

Run: ``PYTHONPATH=. python benchmarks/bench_widgets.py`` (Agg backend, no
kernel needed).  For each explorer of :mod:`vmsim.widgets` at its default
sizes it measures:

* build: constructing the widget, which pre-renders every frame (shown with
  a progress bar in a notebook; not a per-step latency);
* step: moving the main control from code to each position in turn, the
  Python half of what a reader's slider step does (in the static book the
  front end switches the pre-rendered frame itself) -- target < 100 ms;
* live: changing a live control, which recomputes the visible frame
  (uncached), then returning to a setting already seen (cached);
* frames: the size of each pre-rendered frame (target < 80 KB) and of all.

Target (issue "presentation layer"): every slider step < 100 ms at default sizes.
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")

from vmsim.widgets import (  # noqa: E402
    allocation_stepper,
    boot_explorer,
    contig_explorer,
    fallback_explorer,
)

STEP_TARGET_MS = 100
FRAME_TARGET_KB = 80


def _ms(f) -> float:
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1e3


def _positions(w) -> list:
    """Every position of the main control(s), in slider order."""
    if hasattr(w, "values_a"):
        return [(i, j) for i in range(len(w.values_a)) for j in range(len(w.values_b))]
    return list(range(len(w.values)))


def _frames(w) -> list[str]:
    f = w.frames
    return [x for row in f for x in row] if f and isinstance(f[0], list) else f


def _set(w, index):
    def go():
        w.index = index

    return go


def measure(name: str, build, live_control=None, live_values=()):
    """Print build time, step latency, frame sizes and (optionally) live-control latency; return the widget."""
    t = time.perf_counter()
    w = build()
    built = time.perf_counter() - t
    steps = [_ms(_set(w, i)) for i in _positions(w)[1:] + _positions(w)[:1]]
    sizes = [len(f) / 1024 for f in _frames(w)]
    ok = max(steps) < STEP_TARGET_MS and max(sizes) < FRAME_TARGET_KB
    print(f"{name}: {len(sizes)} frames, built in {built:.1f} s")
    print(f"  step: mean {statistics.mean(steps):.2f} ms, max {max(steps):.2f} ms (target < {STEP_TARGET_MS} ms)")
    print(f"  frames: max {max(sizes):.1f} KB, mean {statistics.mean(sizes):.1f} KB, total {sum(sizes):.0f} KB "
          f"(target < {FRAME_TARGET_KB} KB each)")
    if live_control is not None:
        control = getattr(w, live_control)
        first = control.value
        uncached = [_ms(lambda v=v: setattr(control, "value", v)) for v in live_values]
        stale = _ms(_set(w, _positions(w)[-1]))
        cached = _ms(lambda: setattr(control, "value", first))
        print(f"  live ({live_control}): uncached {', '.join(f'{x:.0f}' for x in uncached)} ms; then a step to a "
              f"frame not yet redrawn {stale:.0f} ms; back to a seen setting {cached:.1f} ms "
              "(live work shows a status line; no target)")
    print(f"  {'OK' if ok else 'MISSES TARGET'}")
    return w


def main() -> None:
    mib = 1 << 20
    measure("boot_explorer", boot_explorer, "holes", (2,))
    stepper = measure("allocation_stepper", allocation_stepper)
    live = _ms(lambda: stepper.apply(("alloc", "DIRECT", 0)))
    print(f"  live (allocate button): {live:.0f} ms to run the step and render its frame")
    fallback = measure("fallback_explorer", fallback_explorer)
    live = _ms(fallback.allocate)
    print(f"  live (allocate button): {live:.0f} ms to allocate on both machines and redraw the visible frame")
    measure("contig_explorer", contig_explorer, "blacklist", (100 * mib,))


if __name__ == "__main__":
    main()
