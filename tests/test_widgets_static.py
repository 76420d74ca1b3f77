"""The static-page helpers of vmsim.widgets.static: alt text and what a saved page shows of live controls."""

import html
import re

import ipywidgets as widgets
from matplotlib.figure import Figure

from vmsim.widgets import LIVE_LABEL, StaticSlider
from vmsim.widgets.static import STATIC_NOTE, live_box


def plain_figure(v):
    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([0, v])
    return fig


def alts(frame: str) -> list[str]:
    return [html.unescape(a) for a in re.findall(r'alt="([^"]*)"', frame)]


def test_a_string_alt_is_used_for_every_frame():
    s = StaticSlider([1, 2, 3], plain_figure, alt="A line from zero.", show_progress=False)
    assert [alts(f) for f in s.frames] == [["A line from zero."]] * 3


def test_a_callable_alt_is_called_per_value():
    s = StaticSlider([1, 2], plain_figure, alt=lambda v: f"A line to {v}.", show_progress=False)
    assert [alts(f) for f in s.frames] == [["A line to 1."], ["A line to 2."]]


def test_live_controls_carry_the_saved_pages_note_hidden_where_a_kernel_runs():
    box = live_box(widgets.Button(description="go"), note="recomputes")
    head = box.children[0].value
    assert LIVE_LABEL in head and "recomputes" in head
    static = re.search(r'<span class="vmsim-static-only" style="display:none">([^<]*)</span>', head)
    assert static and html.unescape(static.group(1)) == STATIC_NOTE
    assert "vmsim-live" in box._dom_classes
