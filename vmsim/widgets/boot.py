"""Boot explorer: what ``vm_page_startup()`` leaves behind, by RAM size and boot mode.

Boots a :func:`vmsim.layout.pc` machine eagerly or lazily (the
``debug.vm.lazy_page_init`` tunable) and shows its memory map, its free
queues and the counters that matter: ``vm_page_init_page`` calls at boot,
structures initialized, pages in the lazy pool.  RAM size and boot mode are
pre-rendered (they work in the static book); holes in ``phys_avail``, NUMA
domains and the revision are live controls.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..cost import FIRECRACKER_1G
from ..errors import VmsimError
from ..layout import pc
from ..viz import free_queues, memory_map
from ..viz.style import fmt_bytes, fmt_int
from .frames import frame_html
from .static import Memo, StaticGrid, live_slider

__all__ = ["BootExplorer", "boot_explorer", "DEFAULT_BOOT_RAMS"]

_MIB, _GIB = 1 << 20, 1 << 30
#: 64 MiB to 1 TiB, a factor of four apart.
DEFAULT_BOOT_RAMS = (64 * _MIB, 256 * _MIB, _GIB, 4 * _GIB, 16 * _GIB, 64 * _GIB, 256 * _GIB, 1024 * _GIB)
_MODES = ("lazy", "eager")
_CACHE = 64


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td style='padding:0 12px 0 0'>{html.escape(k)}</td>"
                    f"<td style='text-align:right'>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table style='font-size:90%'>{cells}</table>"


class BootExplorer(StaticGrid):
    """RAM slider x lazy/eager toggle, with live holes / domains / revision controls.

    ``.settings`` is the full key of what is shown; ``.machine`` the booted
    machine for it (cached); ``.state`` its counters (the caption's numbers).
    """

    def __init__(self, rams=None, holes=(0, 2, 8), domains=(1, 2, 4), revisions=("seed", "committed"),
                 layout=pc, bins: int = 256, show_progress: bool = True, **kw):
        self.builder = layout
        self.bins = bins
        self._machines = Memo(_CACHE)
        self._frames = Memo(_CACHE)
        self.holes = live_slider(list(holes), "holes in phys_avail")
        self.domains = live_slider(list(domains), "NUMA domains")
        self.revision = widgets.Dropdown(options=list(revisions), description="revision",
                                         style={"description_width": "initial"})
        rams = list(rams or DEFAULT_BOOT_RAMS)
        super().__init__(rams, _MODES, self._render, description_a="RAM", description_b="boot",
                         labels_a=[fmt_bytes(r) for r in rams], kind_b="toggle",
                         live=(self.holes, self.domains, self.revision),
                         live_note="these change every frame above", show_progress=show_progress, **kw)
        for control in (self.holes, self.domains, self.revision):
            control.observe(lambda _change: self.refresh(), names="value")

    # -- model ----------------------------------------------------------------------------
    def _settings(self, ram: int, mode: str) -> tuple:
        return ram, mode, self.holes.value, self.domains.value, self.revision.value

    @property
    def settings(self) -> dict:
        """What the visible frame shows: ram, mode, holes, domains, revision."""
        ram, mode = self.value
        return dict(zip(("ram", "mode", "holes", "domains", "revision"), self._settings(ram, mode)))

    def _boot(self, key: tuple):
        ram, mode, holes, domains, revision = key
        return self._machines.get(key, lambda: self.builder(ram, holes=holes, domains=domains).boot(
            lazy=mode == "lazy", revision=revision))

    @property
    def machine(self):
        """The machine booted with the visible settings, or ``None`` if they describe no valid machine."""
        try:
            return self._boot(self._settings(*self.value))
        except VmsimError:
            return None

    @property
    def state(self) -> dict:
        """Counters of the visible machine, plus its settings (and ``error`` when it cannot be built)."""
        try:
            return {**self.settings, **_counters(self._boot(self._settings(*self.value)))}
        except VmsimError as e:
            return {**self.settings, "error": str(e)}

    # -- frames -----------------------------------------------------------------------------
    def _render(self, ram: int, mode: str) -> str:
        key = self._settings(ram, mode)
        return self._frames.get(key, lambda: self._draw(key))

    def _draw(self, key: tuple) -> str:
        ram, mode, holes, domains, revision = key
        try:
            m = self._boot(key)
        except VmsimError as e:
            return f"<p><b>This machine cannot be built:</b> {html.escape(str(e))}</p>"
        title = f"{fmt_bytes(ram)} PC, {mode} boot ({revision}), {holes} holes, {domains} domains"
        c = _counters(m)
        caption = _table([
            ("page structures in segments", fmt_int(c["pages"])),
            ("vm_page_init_page calls at boot", fmt_int(c["startup_page_inits"])),
            ("  modelled time (" + FIRECRACKER_1G.source + ")", f"{c['boot_ms']:.3g} ms"),
            ("structures initialized", f"{fmt_int(c['initialized'])} ({100 * c['initialized'] / c['pages']:.3g}%)"),
            ("free pages", fmt_int(c["free_pages"])),
            ("pages in the lazy pool", fmt_int(c["lazy_pages"])),
            ("vm_default_freepool", c["default_pool"]),
        ])
        return frame_html([memory_map(m, self.bins, title=f"Physical memory: {title}"),
                           free_queues(m, 0, freelist=None)], caption, dpi=self.dpi)


def _counters(m) -> dict:
    return {
        "pages": m.total_pages,
        "startup_page_inits": m.startup_page_inits,
        "boot_ms": FIRECRACKER_1G.seconds(m.startup_page_inits) * 1e3,
        "initialized": m.initialized,
        "free_pages": m.free_pages_count(),
        "lazy_pages": m.lazy_pages(),
        "default_pool": m.default_pool,
    }


def boot_explorer(rams=None, **kw) -> BootExplorer:
    """A :class:`BootExplorer` over *rams* (bytes; default :data:`DEFAULT_BOOT_RAMS`)."""
    return BootExplorer(rams, **kw)
