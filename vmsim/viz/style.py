"""Shared look of the book's figures: palette, figure factory, number formats.

Every figure is drawn on an explicit white face so it stays readable on a
dark page theme, takes its colours and number formats from
:mod:`vmsim.palette` (shared with the SVG pictures of :mod:`vmsim.svg`) and
never touches matplotlib's global ``rcParams``:
figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot
figures, so a notebook shows each exactly once -- where it is returned.
"""

from __future__ import annotations

from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from ..palette import (
    ALLOC_COLOR,
    INIT_COLOR,
    OKABE_ITO,
    POOL_COLORS,
    STATE_COLORS,
    UNINIT_COLOR,
    axis_unit,
    describe,
    fmt_bytes,
    fmt_int,
    fmt_pct,
)
from ..palette import text_color as _text_color

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
    "axis_unit",
]

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



def text_color(color) -> str:
    """Black or white, whichever reads better on *color* (any matplotlib colour)."""
    return _text_color(to_rgb(color))
