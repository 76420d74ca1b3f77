"""Sliders that work in the static HTML book and live in a kernel.

The built book is static HTML: a slider driven by a kernel callback moves
there but nothing it controls changes.  :class:`StaticSlider` and
:class:`StaticGrid` pre-render one frame (an image with alt text) per
position when the notebook runs, put the frames in an ipywidgets ``Stack``
and ``jslink`` the slider's ``index`` to the stack's ``selected_index``:
front-end state only, which the book's embedded widget manager runs with no
kernel and no network.

With a kernel the same widget is live as well: a Python observer keeps the
stack in step when the slider is moved from code, and :meth:`refresh`
re-renders the frames after a live control changed what they show -- the
visible frame at once, the others when they are next selected -- while a
status line says what is being computed.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Sequence

import ipywidgets as widgets

from ..errors import InvalidInput
from .frames import DPI, as_frame

__all__ = ["StaticSlider", "StaticGrid", "LIVE_LABEL", "LIVE_CLASS", "STATIC_NOTE", "live_box", "live_slider",
           "progress", "Memo"]

#: The label every control that needs a kernel carries.
LIVE_LABEL = "live: needs a running kernel"
#: CSS class of the box holding the live controls.
LIVE_CLASS = "vmsim-live"


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


@contextlib.contextmanager
def progress(total: int, description: str, enabled: bool = True):
    """Show a progress bar in the running notebook while *total* items are made.

    Yields a function to call after each item.  Outside a kernel (tests,
    scripts) nothing is shown; in a kernel the bar is removed when done, so
    the saved notebook keeps no trace of it.
    """
    if not (enabled and _in_kernel() and total > 1):
        yield lambda: None
        return
    from IPython.display import display

    bar = widgets.IntProgress(value=0, min=0, max=total, description=description,
                              style={"description_width": "initial"})
    handle = display(bar, display_id=True)

    def step() -> None:
        bar.value += 1

    try:
        yield step
    finally:
        bar.close()
        handle.update({"text/plain": ""}, raw=True)


class Memo:
    """A bounded cache of what live settings computed: the oldest entry goes first."""

    def __init__(self, size: int = 64):
        self.size = size
        self._items: dict = {}

    def get(self, key, make: Callable):
        """The value cached for *key*, made with ``make()`` on a miss."""
        if key not in self._items:
            if len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = make()
        return self._items[key]

    def __len__(self) -> int:
        return len(self._items)


def live_slider(options, description: str) -> widgets.SelectionSlider:
    """A slider for a live control: it reports only when released, since each value recomputes frames."""
    return widgets.SelectionSlider(options=options, description=description, continuous_update=False,
                                   style={"description_width": "initial"})


#: What a saved page says in place of its live controls.
STATIC_NOTE = ("In this saved page the controls that recompute these frames are hidden: they need Python. "
               "Run the chapter in JupyterLab to use them, or the live panel below where there is one.")


def live_box(*controls: widgets.Widget, note: str = "", static_note: str = STATIC_NOTE) -> widgets.VBox:
    """The live controls, under a heading that says they need a kernel.

    The heading carries two texts: the label and *note*, shown where a
    kernel runs (JupyterLab), and *static_note*, hidden there by an inline
    style and shown instead by the book's stylesheet in a saved page, where
    the controls themselves are hidden (``book/_ext/static/book-reader.css``).
    """
    head = widgets.HTML(
        f'<span class="vmsim-kernel-only"><b>{LIVE_LABEL}</b>'
        + (f" &mdash; {html.escape(note)}" if note else "") + "</span>"
        + f'<span class="vmsim-static-only" style="display:none">{html.escape(static_note)}</span>')
    box = widgets.VBox([head, widgets.HBox(list(controls), layout=widgets.Layout(flex_flow="row wrap"))],
                       layout=widgets.Layout(border="1px dashed #888", padding="4px", margin="6px 0"))
    box.add_class(LIVE_CLASS)  # lets a static page (and the browser test) tell these controls apart
    return box


def _options(op: str, values: Sequence, labels: Sequence[str] | None, max_frames: int) -> list[tuple[str, int]]:
    values = list(values)
    if not 1 <= len(values) <= max_frames:
        raise InvalidInput(op, f"{len(values)} values; a static slider holds 1 to {max_frames} frames")
    labels = [str(v) for v in values] if labels is None else [str(x) for x in labels]
    if len(labels) != len(values):
        raise InvalidInput(op, f"{len(labels)} labels for {len(values)} values")
    return list(zip(labels, range(len(values))))


def _selection(kind: str, options, description: str) -> widgets.Widget:
    """A control whose ``index`` selects a frame: a slider or toggle buttons."""
    if kind == "toggle":
        return widgets.ToggleButtons(options=options, description=description,
                                     style={"description_width": "initial", "button_width": "auto"})
    return widgets.SelectionSlider(options=options, description=description, continuous_update=True,
                                   style={"description_width": "initial"},
                                   layout=widgets.Layout(width="min(100%, 640px)"))


class _Frames(widgets.VBox):
    """Frame bookkeeping shared by the static widgets: render, staleness, status line.

    A frame is named by a key, a tuple of control indexes; subclasses say
    which keys exist (``_keys``), which is visible (``_key``), the values a
    key stands for (``_values_at``) and the HTML widget showing it (``_html_at``).
    """

    def _setup(self, dpi: int, alt) -> None:
        self.dpi = dpi
        self._alt = alt
        self._stale: set[tuple[int, ...]] = set()
        self.status = widgets.HTML("")

    def _frame(self, key: tuple[int, ...]) -> str:
        values = self._values_at(key)
        alt = self._alt(*values) if callable(self._alt) else self._alt
        return as_frame(self.render(*values), self.dpi, alt)

    def _show(self, key: tuple[int, ...]) -> None:
        """Re-render the frame at *key* if a live change made it stale."""
        if key not in self._stale:
            return
        self.status.value = "<i>rendering this frame&hellip;</i>"
        try:
            self._html_at(key).value = self._frame(key)
            self._stale.discard(key)
        finally:
            self.status.value = ""

    def refresh(self) -> None:
        """Mark every frame stale (a live control changed them); re-render the visible one now."""
        self._stale = set(self._keys())
        self._show(self._key())

    @property
    def stale(self) -> int:
        """How many frames still show an earlier setting of the live controls."""
        return len(self._stale)


class StaticSlider(_Frames):
    """A slider over *values* and one pre-rendered frame per value.

    ``render(value)`` returns a figure, a list of figures or frame HTML;
    *labels* are the slider's labels (default ``str(value)``); *alt*, a
    string or a function ``alt(value) -> str``, replaces the first figure's
    alt text (a figure without one keeps its own).
    At most *max_frames* values (:meth:`append`, a live action, may add
    more).  ``.value`` and ``.index`` get and set the position;
    ``.frame_index`` is the frame the stack shows; *live* widgets are placed
    under the frames in a box marked :data:`LIVE_LABEL`.  ``kind="toggle"``
    makes the control toggle buttons instead of a slider.
    """

    def __init__(self, values, render: Callable, description: str = "", labels=None, alt=None,
                 max_frames: int = 24, dpi: int = DPI, live: Sequence[widgets.Widget] = (),
                 live_note: str = "", show_progress: bool = True, kind: str = "slider"):
        super().__init__()
        self._setup(dpi, alt)
        self.values = list(values)
        self.render = render
        self.control = _selection(kind, _options("StaticSlider", self.values, labels, max_frames), description)
        with progress(len(self.values), f"rendering {description or 'frames'}", show_progress) as step:
            frames = []
            for i in range(len(self.values)):
                frames.append(widgets.HTML(self._frame((i,))))
                step()
        self.stack = widgets.Stack(children=frames, selected_index=0)
        self.link = widgets.jslink((self.control, "index"), (self.stack, "selected_index"))
        self.control.observe(self._on_index, names="index")
        self.children = [self.control, self.status, self.stack] + ([live_box(*live, note=live_note)] if live else [])

    @property
    def slider(self) -> widgets.Widget:
        """The selection control (a ``SelectionSlider`` unless built with ``kind="toggle"``)."""
        return self.control

    def _values_at(self, key):
        return (self.values[key[0]],)

    def _html_at(self, key) -> widgets.HTML:
        return self.stack.children[key[0]]

    def _keys(self):
        return [(i,) for i in range(len(self.values))]

    def _key(self) -> tuple[int]:
        return (self.control.index,)

    def _on_index(self, change) -> None:
        self.stack.selected_index = change["new"]
        self._show(self._key())

    @property
    def index(self) -> int:
        return self.control.index

    @index.setter
    def index(self, i: int) -> None:
        self.control.index = i

    @property
    def value(self):
        return self.values[self.control.index]

    @value.setter
    def value(self, v) -> None:
        if v not in self.values:
            raise InvalidInput("StaticSlider", f"{v!r} is not one of the slider's values")
        self.control.index = self.values.index(v)

    @property
    def frame_index(self) -> int:
        """The frame the stack shows."""
        return self.stack.selected_index

    @property
    def frames(self) -> list[str]:
        """Every frame's HTML, in slider order."""
        return [h.value for h in self.stack.children]

    def append(self, value, label: str | None = None, select: bool = True) -> None:
        """Add a position (live: needs a kernel to be seen); optionally move the slider to it."""
        self.values.append(value)
        i = len(self.values) - 1
        self.stack.children = (*self.stack.children, widgets.HTML(self._frame((i,))))
        options = [*self.control.options, (str(value) if label is None else label, i)]
        current = self.control.index
        self.control.options = options
        self.control.index = i if select else current


class StaticGrid(_Frames):
    """Two controls over *values_a* x *values_b*, one pre-rendered frame per pair.

    ``render(a, b)`` returns a figure, figures or frame HTML.  The frames sit
    in nested stacks: the outer one follows control A, each inner one
    control B, all ``jslink``\\ ed.  Control B is a slider, or toggle buttons
    with ``kind_b="toggle"``.  At most *max_frames* values per control and
    *max_total* frames in all.
    """

    def __init__(self, values_a, values_b, render: Callable, description_a: str = "", description_b: str = "",
                 labels_a=None, labels_b=None, alt=None, max_frames: int = 24, max_total: int = 48,
                 dpi: int = DPI, live: Sequence[widgets.Widget] = (), live_note: str = "",
                 show_progress: bool = True, kind_b: str = "slider"):
        super().__init__()
        self._setup(dpi, alt)
        self.values_a, self.values_b = list(values_a), list(values_b)
        if len(self.values_a) * len(self.values_b) > max_total:
            raise InvalidInput("StaticGrid", f"{len(self.values_a)} x {len(self.values_b)} frames; "
                                             f"at most {max_total}")
        self.render = render
        self.control_a = _selection("slider", _options("StaticGrid", self.values_a, labels_a, max_frames),
                                    description_a)
        self.control_b = _selection(kind_b, _options("StaticGrid", self.values_b, labels_b, max_frames),
                                    description_b)
        total = len(self.values_a) * len(self.values_b)
        with progress(total, "rendering frames", show_progress) as step:
            inner = []
            for i in range(len(self.values_a)):
                row = []
                for j in range(len(self.values_b)):
                    row.append(widgets.HTML(self._frame((i, j))))
                    step()
                inner.append(widgets.Stack(children=row, selected_index=0))
        self.stack = widgets.Stack(children=inner, selected_index=0)
        self.links = [widgets.jslink((self.control_a, "index"), (self.stack, "selected_index"))]
        self.links += [widgets.jslink((self.control_b, "index"), (s, "selected_index")) for s in inner]
        self.control_a.observe(self._on_index, names="index")
        self.control_b.observe(self._on_index, names="index")
        self.children = ([self.control_a, self.control_b, self.status, self.stack]
                         + ([live_box(*live, note=live_note)] if live else []))

    def _values_at(self, key):
        return self.values_a[key[0]], self.values_b[key[1]]

    def _html_at(self, key) -> widgets.HTML:
        return self.stack.children[key[0]].children[key[1]]

    def _keys(self):
        return [(i, j) for i in range(len(self.values_a)) for j in range(len(self.values_b))]

    def _key(self) -> tuple[int, int]:
        return self.control_a.index, self.control_b.index

    def _on_index(self, _change) -> None:
        i, j = self._key()
        self.stack.selected_index = i
        for inner in self.stack.children:
            inner.selected_index = j
        self._show((i, j))

    @property
    def index(self) -> tuple[int, int]:
        return self.control_a.index, self.control_b.index

    @index.setter
    def index(self, ij: tuple[int, int]) -> None:
        self.control_a.index, self.control_b.index = ij

    @property
    def value(self) -> tuple:
        return self.values_a[self.control_a.index], self.values_b[self.control_b.index]

    @value.setter
    def value(self, ab) -> None:
        a, b = ab
        if a not in self.values_a or b not in self.values_b:
            raise InvalidInput("StaticGrid", f"{ab!r} is not a pair of the controls' values")
        self.index = (self.values_a.index(a), self.values_b.index(b))

    @property
    def frame_index(self) -> tuple[int, int]:
        """The (outer, inner) frame the stacks show."""
        i = self.stack.selected_index
        return i, self.stack.children[i].selected_index

    @property
    def frames(self) -> list[list[str]]:
        """Every frame's HTML, by control A then control B."""
        return [[h.value for h in inner.children] for inner in self.stack.children]
