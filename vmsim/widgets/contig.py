"""Contig explorer: which run ``vm_phys_alloc_contig()`` finds, and what it initializes first.

For each run length the explorer copies the machine, optionally blacklists a
page first (``vm_page_blacklist_add`` -> ``vm_phys_unfree_page``, which drains
the domain's lazy pool: every structure gets initialized), then calls
``vm_phys_alloc_contig`` and shows the recorded operation as a block anatomy
and the memory map with the run outlined.  The run length is pre-rendered;
alignment, boundary and the blacklisted page are live controls.
"""

from __future__ import annotations

import copy
import html

from ..errors import VmsimError
from ..layout import pc
from ..viz import block_anatomy, memory_map
from ..viz.style import fmt_bytes, fmt_int
from .frames import frame_html
from .static import Memo, StaticSlider, live_slider

__all__ = ["ContigExplorer", "contig_explorer", "DEFAULT_NPAGES"]

_KIB, _MIB = 1 << 10, 1 << 20
#: Run lengths from one page to 48 MiB (above 4096 pages runs span several maximal blocks).
DEFAULT_NPAGES = (1, 16, 256, 1024, 2048, 4096, 6144, 8192, 12288)
_ALIGNMENTS = (4 * _KIB, 64 * _KIB, 2 * _MIB, 16 * _MIB)
_BOUNDARIES = (4 * _MIB, 16 * _MIB, 64 * _MIB)


class ContigExplorer(StaticSlider):
    """A run-length slider with live alignment, boundary and blacklist controls.

    ``.machine`` is the machine after the visible setting's operations (a
    copy: the base machine never changes); ``.state`` holds the settings,
    the run found (byte ``start``, ``end``, or ``None``) and the structures
    initialized by the blacklist drain and by ``alloc_contig``.
    """

    def __init__(self, machine=None, npages=DEFAULT_NPAGES, blacklist=(100 * _MIB, 200 * _MIB),
                 show_progress: bool = True, **kw):
        self.base = copy.deepcopy(machine) if machine is not None else pc(256 * _MIB).boot()
        self._results = Memo(32)
        self._frames = Memo(64)
        self.alignment = live_slider([(fmt_bytes(a), a) for a in _ALIGNMENTS], "alignment")
        self.boundary = live_slider([("none", 0)] + [(fmt_bytes(b), b) for b in _BOUNDARIES], "boundary")
        # 0 means none, as a zero entry of vm.blacklist is skipped.
        self.blacklist = live_slider([("none", 0)] + [(f"{pa:#x}", pa) for pa in blacklist], "blacklist page")
        for control in (self.alignment, self.boundary, self.blacklist):
            control.observe(lambda _change: self.refresh(), names="value")
        super().__init__(list(npages), self._render, description="npages",
                         labels=[f"{n} ({fmt_bytes(n * self.base.arch.page_size)})" for n in npages],
                         live=(self.alignment, self.boundary, self.blacklist),
                         live_note="these change every frame above", show_progress=show_progress, **kw)

    def _settings(self, npages: int) -> tuple:
        return npages, self.alignment.value, self.boundary.value, self.blacklist.value

    def _run(self, key: tuple) -> dict:
        """The outcome for *key*, cached by settings."""
        return self._results.get(key, lambda: self._compute(key))

    def _compute(self, key: tuple) -> dict:
        """Blacklist (optional), then allocate, on a copy of the base machine."""
        npages, alignment, boundary, bad = key
        m = copy.deepcopy(self.base)
        out = {"npages": npages, "alignment": alignment, "boundary": boundary, "blacklist": bad, "machine": m,
               "run": None, "blacklist_inits": 0, "contig_inits": 0}
        with m.record() as events:
            out["events"] = events
            try:
                if bad:
                    m.blacklist_add(bad)
                out["blacklist_inits"] = m.page_inits - self.base.page_inits
                start = m.alloc_contig(0, npages, alignment=alignment, boundary=boundary)
            except VmsimError as e:
                out["error"] = str(e)
            else:
                out["contig_inits"] = m.page_inits - self.base.page_inits - out["blacklist_inits"]
                if start is not None:
                    out["run"] = (start, start + npages * m.arch.page_size)
        return out

    def _render(self, npages: int) -> str:
        key = self._settings(npages)
        return self._frames.get(key, lambda: self._draw(key))

    def _draw(self, key: tuple) -> str:
        r = self._run(key)
        npages = key[0]
        if "error" in r:
            return f"<p><b>vm_phys_alloc_contig refuses:</b> {html.escape(r['error'])}</p>"
        m = r["machine"]
        request = (f"vm_phys_alloc_contig({npages} pages, alignment {fmt_bytes(r['alignment'])}, "
                   f"boundary {fmt_bytes(r['boundary']) if r['boundary'] else 'none'})")
        highlight = []
        if r["run"] is None:
            found = "no run found"
        else:
            found = f"run [{r['run'][0]:#x}, {r['run'][1]:#x})"
            highlight.append((r["run"][0], r["run"][1], "run found"))
        bad = ""
        if r["blacklist"]:
            bad = f"after blacklisting {r['blacklist']:#x}, "
            highlight.append((r["blacklist"], r["blacklist"] + m.arch.page_size, "blacklisted page"))
        caption = (f"<b>{html.escape(request)}</b>: {bad}{found}. Structures initialized: "
                   f"{fmt_int(r['blacklist_inits'])} by the blacklist's drain of the lazy pool, "
                   f"{fmt_int(r['contig_inits'])} by alloc_contig (set_pool on lazy blocks of the run).")
        figs = [block_anatomy(m, r["events"], title=f"{bad}{request}"),
                memory_map(m, 256, title=f"After the call: {found}", highlight=highlight)]
        return frame_html(figs, caption, dpi=self.dpi)

    @property
    def state(self) -> dict:
        """Settings and outcome of the visible frame (without the machine)."""
        r = self._run(self._settings(self.value))
        return {k: v for k, v in r.items() if k not in ("machine", "events")}

    @property
    def machine(self):
        """The machine after the visible frame's operations."""
        return self._run(self._settings(self.value))["machine"]


def contig_explorer(machine=None, **kw) -> ContigExplorer:
    """A :class:`ContigExplorer` on a copy of *machine* (default: a lazy ``pc(256 MiB)``)."""
    return ContigExplorer(machine, **kw)
