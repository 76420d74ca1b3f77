"""Figures as compact PNG and as ``<img>`` elements that carry their alt text.

Shared by the notebook display of every figure (:class:`vmsim.viz.style.BookFigure`)
and by the widgets' pre-rendered frames.  PNGs are reduced to a palette of
at most 128 colours: the figures use a handful of flat colours, so this
keeps a frame well under 100 KB without visible loss.
"""

from __future__ import annotations

import base64
import html
import io

from matplotlib.figure import Figure
from PIL import Image

__all__ = ["png_bytes", "img_tag", "DPI"]

#: Default resolution: readable on screen, light on the page.
DPI = 80
_COLORS = 128


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """*fig* as a palette PNG (at most 128 colours, optimized)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor=fig.get_facecolor())
    buf.seek(0)
    image = Image.open(buf).convert("RGB").quantize(colors=_COLORS, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def img_tag(fig: Figure, dpi: int = DPI, alt: str | None = None) -> str:
    """An ``<img>`` element holding *fig* inline, with *alt* (default: the figure's ``alt_text``)."""
    text = alt if alt is not None else getattr(fig, "alt_text", "")
    data = base64.b64encode(png_bytes(fig, dpi)).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(text, quote=True)}" '
            f'style="max-width:100%;height:auto;display:block;margin:2px 0">')
