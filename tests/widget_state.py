"""What a saved widget shows, for the widget tests: its frames' alt text and its front-end links."""

from __future__ import annotations

import re

from ipywidgets.embed import embed_data


def alts(frame: str) -> list[str]:
    """The alt text of every image in a frame (every image must have one)."""
    imgs = re.findall(r"<img [^>]*>", frame)
    found = [re.search(r'alt="([^"]*)"', tag) for tag in imgs]
    assert imgs and all(found)
    return [m.group(1) for m in found]


def links(w) -> list[tuple]:
    """``(source model, source trait, target model, target trait)`` of every jslink in the saved state."""
    out = []
    for spec in embed_data(views=[w])["manager_state"]["state"].values():
        if spec["model_name"] == "LinkModel":
            (src, strait), (dst, dtrait) = spec["state"]["source"], spec["state"]["target"]
            out.append((src.removeprefix("IPY_MODEL_"), strait, dst.removeprefix("IPY_MODEL_"), dtrait))
    return out
