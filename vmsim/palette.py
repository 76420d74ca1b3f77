"""Colours and number formats shared by every picture the book draws, matplotlib or SVG.

The matplotlib figures (:mod:`vmsim.viz`) and the standard-library SVG pictures
(:mod:`vmsim.svg`, which the book's live panels draw in the browser) take their
colours, legend labels and number formats from here, so a page's pre-rendered
figure and its live panel look alike.  Colours are the Okabe-Ito palette, safe
for the common forms of colour blindness.  Standard library only.
"""

from __future__ import annotations

__all__ = [
    "OKABE_ITO",
    "STATE_COLORS",
    "POOL_COLORS",
    "INIT_COLOR",
    "UNINIT_COLOR",
    "ALLOC_COLOR",
    "HOLE_COLOR",
    "INIT_LABELS",
    "rgb",
    "text_color",
    "fmt_bytes",
    "fmt_int",
    "fmt_pct",
    "describe",
    "axis_unit",
]

#: The eight colours of Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

#: Free pools, the same in every figure.
POOL_COLORS = {"LAZYINIT": OKABE_ITO["orange"], "DEFAULT": OKABE_ITO["sky blue"], "DIRECT": OKABE_ITO["bluish green"]}
ALLOC_COLOR = OKABE_ITO["vermillion"]
INIT_COLOR = OKABE_ITO["blue"]
UNINIT_COLOR = OKABE_ITO["yellow"]
HOLE_COLOR = "#E8E8E8"

#: One colour per :data:`vmsim.census.STATES` entry, in that order.
STATE_COLORS = {
    "hole": HOLE_COLOR,
    "reserved": "#8C8C8C",
    "free:LAZYINIT": POOL_COLORS["LAZYINIT"],
    "free:DEFAULT": POOL_COLORS["DEFAULT"],
    "free:DIRECT": POOL_COLORS["DIRECT"],
    "allocated": ALLOC_COLOR,
    "blacklisted": OKABE_ITO["black"],
}

#: Legend labels of the lower strip of a memory map.
INIT_LABELS = {"initialized": "struct initialized", "uninitialized": "struct not initialized"}


def rgb(hex_color: str) -> tuple[float, float, float]:
    """``#RRGGBB`` as three floats in [0, 1]."""
    h = hex_color.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def text_color(color) -> str:
    """Black or white, whichever reads better on *color* (``#RRGGBB`` or an RGB(A) tuple of floats)."""
    r, g, b = rgb(color) if isinstance(color, str) else tuple(color)[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def fmt_bytes(n: float) -> str:
    """``64 MiB``, ``1.5 GiB``, ``4 TiB``: binary units, at most three significant digits."""
    k = 0
    while abs(n) >= 1024 and k < len(_UNITS) - 1:
        n /= 1024
        k += 1
    text = f"{n:.0f}" if float(n).is_integer() or abs(n) >= 100 else f"{n:.3g}"
    return f"{text} {_UNITS[k]}"


def fmt_int(n: int) -> str:
    """An integer with thousands separators."""
    return f"{n:,}"


def fmt_pct(x: float) -> str:
    """A percentage that never rounds a small share to 0 nor a large one to 100."""
    if x == 0 or x == 100:
        return f"{x:.0f}%"
    if x < 0.01:
        return "<0.01%"
    if x < 1:
        return f"{x:.2f}%"
    if x > 99.9:
        return ">99.9%"
    return f"{x:.1f}%"


def describe(machine) -> str:
    """``1023 MiB amd64, lazy boot (seed)``: what a default title says about a machine."""
    ram = fmt_bytes(machine.total_pages << machine.arch.page_shift)
    mode = "lazy" if machine.lazy else "eager"
    return f"{ram} {machine.arch.name}, {mode} boot ({machine.revision.name})"


_AXIS_UNITS = ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"))


def axis_unit(nbytes: int) -> tuple[int, str]:
    """The unit an address axis spanning *nbytes* is labelled in: ``(bytes per unit, name)``."""
    return next(((u, name) for u, name in _AXIS_UNITS if nbytes >= 2 * u), (1, "B"))
