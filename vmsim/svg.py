"""The book's core pictures as SVG text, with the standard library only.

The matplotlib figures of :mod:`vmsim.viz` need numpy and matplotlib, which a
reader's browser does not have; the live panels of the book run vmsim on
Pyodide and draw with this module instead.  It draws the same pictures from the
same data, in the same colours and with the same legends (all from
:mod:`vmsim.palette`):

* :func:`memory_map` -- the physical address space by page state, and whether
  each page's ``struct vm_page`` is initialized (as :func:`vmsim.viz.memory_map`);
* :func:`free_queues` -- ``vm_phys_free_queues[domain][flind]`` as a pools by
  orders grid of block counts (as :func:`vmsim.viz.free_queues` and
  ``sysctl vm.phys_free``);
* :func:`counters` -- the counters the book's captions give (:func:`counter_rows`).

Every function returns one ``<svg>`` element whose ``<title>`` and
``aria-label`` carry a one-sentence description.  Each coloured rectangle says
what it stands for in ``data-`` attributes (a memory map's ``data-state`` and
``data-pages``, a queue cell's ``data-pool``, ``data-order`` and
``data-blocks``), so the pictures can be checked as well as looked at.
"""

from __future__ import annotations

import math
from html import escape

from .arch import NFREEPOOL, POOL_NAMES
from .census import STATES, census, fold, free_list_indexes
from .cost import FIRECRACKER_1G
from .errors import InvalidInput
from .palette import (
    HOLE_COLOR,
    INIT_COLOR,
    INIT_LABELS,
    POOL_COLORS,
    STATE_COLORS,
    UNINIT_COLOR,
    axis_unit,
    describe,
    fmt_bytes,
    fmt_int,
    fmt_pct,
    text_color,
)

__all__ = ["memory_map", "free_queues", "counters", "counter_rows"]

_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
#: Vertical layout of a memory map row (SVG units): state strip, gap, init strip, gap to the next row.
_STATE_H, _SEP, _INIT_H, _GAP = 26, 3, 9, 18
#: Colour ramp of the queue grid (dark to light, after matplotlib's cividis).
_RAMP = ("#00224E", "#35456C", "#666970", "#948E77", "#C8B866", "#FEE838")


def _svg(width: float, height: float, alt: str, body: list[str]) -> str:
    label = escape(alt, quote=True)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" width="100%" '
            f'role="img" aria-label="{label}" shape-rendering="crispEdges" '
            f'style="{_FONT};background:white;max-width:{width:g}px">'
            f"<title>{escape(alt)}</title>" + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, size: float = 12, anchor: str = "start", weight: str = "normal",
          color: str = "#222") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="{color}">{escape(s)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str, **data) -> str:
    attrs = "".join(f' data-{k.replace("_", "-")}="{escape(str(v), quote=True)}"' for k, v in data.items())
    return f'<rect x="{x:.2f}" y="{y:.2f}" width="{w:.2f}" height="{h:.2f}" fill="{fill}"{attrs}/>'


def _legend(x: float, y: float, width: float, items: list[tuple[str, str]]) -> tuple[list[str], float]:
    """Swatches and labels in rows from (*x*, *y*); returns the elements and the height used."""
    out, cx, cy = [], x, y
    for label, color in items:
        w = 22 + 6.6 * len(label)
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 18
        out.append(f'<rect x="{cx:.1f}" y="{cy:.1f}" width="12" height="12" fill="{color}" stroke="#444" '
                   'stroke-width="0.5"/>')
        out.append(_text(cx + 16, cy + 10.5, label, 11))
        cx += w + 10
    return out, cy - y + 18


def _summary(c) -> str:
    seg = sum(c.segment_pages) or 1
    parts = [f"{fmt_pct(100 * sum(c.states[s]) / seg)} {s}" for s in STATES[1:] if sum(c.states[s])]
    init = sum(c.initialized)
    return (f"of {fmt_int(sum(c.segment_pages))} page frames in segments, " + ", ".join(parts)
            + f"; {fmt_int(init)} structures ({fmt_pct(100 * init / seg)}) initialized")


def memory_map(machine, bins: int = 256, width: int = 760, title: str | None = None) -> str:
    """The physical address space of *machine*: page states above, initialized structures below.

    Folded into rows as :func:`vmsim.census.fold` decides (one row up to
    2 GiB, up to eight for the largest machines).  Each rectangle of the
    upper strip carries ``data-state`` (a :data:`vmsim.census.STATES` name)
    and ``data-pages``; the lower strip's carry ``data-init`` (``initialized``,
    ``uninitialized`` or ``hole``) and ``data-pages``.  Neighbouring bins with
    the same make-up are drawn as one rectangle.
    """
    segs = machine.segtab.segs
    f = fold(segs[0].start, segs[-1].end, bins, machine.arch.page_shift)
    c = census(machine, f.bins, f.lo, f.hi)
    left, right, top = 92, 12, 30
    strip_w = width - left - right
    row_h = _STATE_H + _SEP + _INIT_H + _GAP
    body = [_text(left, 18, title or f"Physical memory: {describe(machine)}", 13, weight="bold")]
    row_bytes = f.row_pages << f.page_shift
    unit, uname = axis_unit(row_bytes)
    bin_w = strip_w / f.bins_per_row
    for r in range(f.rows):
        y = top + r * row_h
        start = (f.row_start(r) << f.page_shift) / unit
        body.append(_text(left - 6, y + _STATE_H / 2 + 4, f"{start:g} {uname}", 11, "end"))
        for lo, hi in _runs(c, r * f.bins_per_row, (r + 1) * f.bins_per_row):
            x, w = left + (lo - r * f.bins_per_row) * bin_w, (hi - lo) * bin_w
            pages = sum(c.states[s][lo] for s in STATES) or 1
            yy = y
            for s in STATES:
                n = sum(c.states[s][lo:hi])
                if n:
                    h = _STATE_H * c.states[s][lo] / pages
                    body.append(_rect(x, yy, w, h, STATE_COLORS[s], state=s, pages=n))
                    yy += h
            seg = c.segment_pages[lo]
            init = c.initialized[lo]
            yi = y + _STATE_H + _SEP
            for name, part, color in (("initialized", init, INIT_COLOR), ("uninitialized", seg - init, UNINIT_COLOR),
                                      ("hole", pages - seg, HOLE_COLOR)):
                if part:
                    h = _INIT_H * part / pages
                    body.append(_rect(x, yi, w, h, color, init=name, pages=part * (hi - lo)))
                    yi += h
        body.append(f'<rect x="{left}" y="{y}" width="{strip_w:.2f}" height="{_STATE_H}" fill="none" '
                    'stroke="#666" stroke-width="0.6"/>')
    axis_y = top + f.rows * row_h - _GAP + 14
    span = row_bytes / unit
    for k in range(5):
        x = left + strip_w * k / 4
        body.append(_text(x, axis_y, f"{span * k / 4:g}", 10, "middle", color="#444"))
    body.append(_text(left + strip_w / 2, axis_y + 14,
                      f"physical address ({uname})" if f.rows == 1 else
                      f"offset within the row ({uname}); each row is {fmt_bytes(row_bytes)}", 11, "middle"))
    present = [(s, STATE_COLORS[s]) for s in STATES if sum(c.states[s])]
    items = present + [(INIT_LABELS["initialized"], INIT_COLOR), (INIT_LABELS["uninitialized"], UNINIT_COLOR)]
    legend, h = _legend(left, axis_y + 26, strip_w, items)
    body += legend
    alt = f"Memory map of a {describe(machine)} machine: " + _summary(c) + "."
    return _svg(width, axis_y + 26 + h + 6, alt, body)


def _runs(c, lo: int, hi: int):
    """Runs ``[a, b)`` of bins in ``[lo, hi)`` whose page states and initialization are all the same."""
    def key(i):
        return tuple(c.states[s][i] for s in STATES) + (c.initialized[i], c.segment_pages[i])

    a = lo
    for i in range(lo + 1, hi + 1):
        if i == hi or key(i) != key(a):
            yield a, i
            a = i


def _ramp(x: float) -> str:
    """The colour at *x* in [0, 1] along :data:`_RAMP`."""
    x = min(1.0, max(0.0, x)) * (len(_RAMP) - 1)
    i = min(int(x), len(_RAMP) - 2)
    t = x - i
    a, b = _RAMP[i].lstrip("#"), _RAMP[i + 1].lstrip("#")
    mix = [round(int(a[k:k + 2], 16) * (1 - t) + int(b[k:k + 2], 16) * t) for k in (0, 2, 4)]
    return "#" + "".join(f"{v:02X}" for v in mix)



def free_queues(machine, domain: int = 0, freelist: str | None = "DEFAULT", width: int = 760) -> str:
    """One domain's free queues: a grid of pools (rows) by orders (columns), one panel per free list.

    A cell's colour is the pages its queue holds on a log scale; its text the
    block count (``lcnt``) and the pages.  Each cell is a rectangle with
    ``data-flind``, ``data-pool``, ``data-order`` and ``data-blocks``.
    """
    if not (isinstance(domain, int) and not isinstance(domain, bool) and 0 <= domain < machine.ndomains):
        raise InvalidInput("free_queues", f"domain {domain!r} is out of range (the machine has {machine.ndomains})")
    flinds = free_list_indexes(machine, freelist)
    norders = machine.arch.nfreeorder
    counts = {flind: [[machine.vm.fq.lcnt(domain, flind, p, o) for o in range(norders)]
                      for p in range(NFREEPOOL)] for flind in flinds}
    most = max([c << o for g in counts.values() for row in g for o, c in enumerate(row)] + [2])
    left, top, cell_h = 96, 28, 34
    cell_w = (width - left - 10) / norders
    body = [_text(left, 18, f"Free queues of domain {domain}: {describe(machine)}", 13, weight="bold")]
    y = top
    sentences = []
    for flind in flinds:
        grid = counts[flind]
        blocks = sum(map(sum, grid))
        pages = sum(c << o for row in grid for o, c in enumerate(row))
        name = machine.segtab.flind_name(flind)
        body.append(_text(left, y + 12, f"{name} free list (flind {flind}): {fmt_int(blocks)} blocks, "
                                        f"{fmt_int(pages)} pages", 11.5))
        y += 20
        for p in range(NFREEPOOL):
            pool = POOL_NAMES[p]
            body.append(f'<rect x="6" y="{y + 9:.1f}" width="10" height="16" fill="{POOL_COLORS[pool]}" '
                        'stroke="#444" stroke-width="0.5"/>')
            body.append(_text(22, y + 21, f"{p} {pool}", 11))
            for o in range(norders):
                n = grid[p][o]
                x = left + o * cell_w
                fill = _ramp(math.log(n << o) / math.log(most)) if n else "#FFFFFF"
                body.append(_rect(x, y, cell_w, cell_h, fill, flind=flind, pool=pool, order=o, blocks=n))
                fg = text_color(fill) if n else "#9A9A9A"
                body.append(_text(x + cell_w / 2, y + 15, fmt_int(n), 11, "middle", "bold" if n else "normal", fg))
                if n:
                    body.append(_text(x + cell_w / 2, y + 28, f"{fmt_int(n << o)} pg", 8.5, "middle", color=fg))
            y += cell_h
        body.append(f'<rect x="{left}" y="{y - NFREEPOOL * cell_h}" width="{cell_w * norders:.2f}" '
                    f'height="{NFREEPOOL * cell_h}" fill="none" stroke="#888" stroke-width="0.6"/>')
        y += 8
        sentences.append(f"{name} list: " + ", ".join(
            f"{POOL_NAMES[p]} {fmt_int(sum(grid[p]))} blocks ({fmt_int(sum(c << o for o, c in enumerate(grid[p])))}"
            " pages)" if sum(grid[p]) else f"{POOL_NAMES[p]} empty" for p in range(NFREEPOOL)))
    shift = machine.arch.page_shift
    for o in range(norders):
        x = left + (o + 0.5) * cell_w
        body.append(_text(x, y + 10, str(o), 10, "middle"))
        body.append(_text(x, y + 22, fmt_bytes(1 << (o + shift)), 8.5, "middle", color="#444"))
    body.append(_text(left + cell_w * norders / 2, y + 38, "order (block size)", 11, "middle"))
    alt = (f"Free queues of domain {domain} of a {describe(machine)} machine, blocks per pool and order: "
           + "; ".join(sentences) + ".")
    return _svg(width, y + 46, alt, body)


def counter_rows(machine) -> list[tuple[str, str]]:
    """The counters the book's captions give, as ``(label, value)`` text pairs."""
    pages = machine.total_pages
    boot = machine.startup_page_inits
    return [
        ("page structures in segments", fmt_int(pages)),
        ("vm_page_init_page calls at boot", fmt_int(boot)),
        ("  modelled boot time (" + FIRECRACKER_1G.source + ")", f"{FIRECRACKER_1G.seconds(boot) * 1e3:.3g} ms"),
        ("vm_page_init_page calls so far", fmt_int(machine.page_inits)),
        ("structures initialized", f"{fmt_int(machine.initialized)} ({fmt_pct(100 * machine.initialized / pages)})"),
        ("free pages", fmt_int(machine.free_pages_count())),
        ("pages in the lazy pool", fmt_int(machine.lazy_pages())),
        ("pages allocated", fmt_int(machine.nallocated)),
        ("vm_default_freepool", machine.default_pool),
        ("domains drained (initdone)", ", ".join(str(d) for d, done in enumerate(machine.initdone) if done) or "none"),
    ]


def counters(machine, width: int = 520) -> str:
    """:func:`counter_rows` as a two-column table."""
    rows = counter_rows(machine)
    body = []
    for i, (label, value) in enumerate(rows):
        y = 18 + i * 20
        if i % 2:
            body.append(f'<rect x="0" y="{y - 14}" width="{width}" height="20" fill="#F3F3F3"/>')
        body.append(_text(8, y, label, 12))
        body.append(_text(width - 8, y, value, 12, "end", "bold"))
    alt = "Counters: " + "; ".join(f"{label.strip()} {value}" for label, value in rows) + "."
    return _svg(width, 24 + 20 * len(rows) - 14, alt, body)
