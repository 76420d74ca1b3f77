"""Figures as self-contained HTML frames: PNG data URIs with alt text.

A frame is what one position of a static slider shows: one or more figures
as ``<img src="data:image/png;base64,..." alt="...">`` (the ``alt`` from each
figure's ``alt_text``) and an optional HTML caption.  PNGs are reduced to a
small palette (:mod:`vmsim.viz.png`) so a frame stays well under 100 KB and
a page of two dozen frames stays light.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from ..viz.png import DPI, img_tag, png_bytes

__all__ = ["png_bytes", "img_tag", "frame_html", "as_frame", "DPI"]


def frame_html(figures, caption: str = "", dpi: int = DPI, alt: str | None = None) -> str:
    """One frame: the *figures* (a figure or a sequence) stacked, then *caption* (HTML).

    *alt*, when given, replaces the first figure's alt text.
    """
    figs = [figures] if isinstance(figures, Figure) else list(figures)
    imgs = [img_tag(f, dpi, alt if i == 0 else None) for i, f in enumerate(figs)]
    cap = f'<div class="vmsim-caption" style="font-size:90%;margin-top:4px">{caption}</div>' if caption else ""
    return '<div class="vmsim-frame">' + "".join(imgs) + cap + "</div>"


def as_frame(result, dpi: int = DPI, alt: str | None = None) -> str:
    """Whatever a render function returned -- HTML text, a figure or figures -- as frame HTML."""
    if isinstance(result, str):
        return result
    return frame_html(result, dpi=dpi, alt=alt)
