"""Shared look of the book's figures: palette, figure factory, number formats.

Every figure is drawn on an explicit white face so it stays readable on a
dark page theme, uses the Okabe-Ito palette (safe for the common forms of
colour blindness) and never touches matplotlib's global ``rcParams``:
figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot
figures, so a notebook shows each exactly once -- where it is returned.
"""

from __future__ import annotations

from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

__all__ = [
    "OKABE_ITO",
    "STATE_COLORS",
    "POOL_COLORS",
    "INIT_COLOR",
    "UNINIT_COLOR",
    "ALLOC_COLOR",
    "BookFigure",
    "new_figure",
    "finish",
    "fmt_bytes",
    "fmt_int",
    "fmt_pct",
    "text_color",
    "describe",
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

#: One colour per :data:`vmsim.census.STATES` entry, in that order.
STATE_COLORS = {
    "hole": "#E8E8E8",
    "reserved": "#8C8C8C",
    "free:LAZYINIT": POOL_COLORS["LAZYINIT"],
    "free:DEFAULT": POOL_COLORS["DEFAULT"],
    "free:DIRECT": POOL_COLORS["DIRECT"],
    "allocated": ALLOC_COLOR,
    "blacklisted": OKABE_ITO["black"],
}

_FACE = "white"


class BookFigure(Figure):
    """A figure that a notebook shows as an image carrying its ``alt_text``.

    Plain :class:`~matplotlib.figure.Figure` objects (not made by pyplot)
    have no notebook display of their own; this one displays as an HTML
    ``<img>`` with the alt text (what the book's HTML pages keep) and as the
    alt text in plain-text contexts.
    """

    alt_text = ""

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .png import img_tag

        return {"text/html": img_tag(self, dpi=96), "text/plain": self.alt_text}


def new_figure(width: float, height: float, **kw) -> BookFigure:
    """A white-faced, constrained-layout figure of *width* x *height* inches."""
    kw.setdefault("layout", "constrained")
    return BookFigure(figsize=(width, height), facecolor=_FACE, **kw)


def finish(fig: Figure, alt_text: str, **data) -> Figure:
    """Attach the one-sentence ``alt_text`` (and any data drawn, as attributes); return *fig*."""
    fig.alt_text = alt_text
    for name, value in data.items():
        setattr(fig, name, value)
    return fig


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


def text_color(hex_color: str) -> str:
    """Black or white, whichever reads better on the colour *hex_color*."""
    r, g, b = to_rgb(hex_color)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def describe(machine) -> str:
    """``1023 MiB amd64, lazy boot (seed)``: what a default title says about a machine."""
    ram = fmt_bytes(machine.total_pages << machine.arch.page_shift)
    mode = "lazy" if machine.lazy else "eager"
    return f"{ram} {machine.arch.name}, {mode} boot ({machine.revision.name})"
