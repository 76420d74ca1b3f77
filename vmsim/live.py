"""What the book's live panels run in the reader's browser: a machine driven by JSON, and a scratchpad.

The built book loads this package on Pyodide when a reader clicks "Run live"
(``book/_ext/live_book.py`` packs it, ``book/_ext/static/vmsim-live.js`` calls
it), so the page runs exactly the simulator the book was built with.  Nothing
here is specific to the browser, and the tests drive it from CPython:

* :class:`Lab` -- one panel's machine: :meth:`Lab.boot` builds it from a
  settings dict (a layout builder, its RAM, holes, NUMA domains and kernel
  size, the revision, the boot mode, the architecture), :meth:`Lab.act` runs
  one operation on it, and both answer with a dict of what to show: counters
  and SVG pictures (:mod:`vmsim.svg`) or an ``error`` sentence;
* :func:`run_code` -- the scratchpad: runs a reader's Python with ``vmsim``
  imported, and returns what it printed, the value of its last expression and,
  when it fails, only the last frame and the message;
* :func:`check_answer` -- an exercise's answer box (:mod:`vmsim.exercises`).

Every answer is JSON-able, and no exception leaves this module: a
:class:`~vmsim.errors.VmsimError` becomes its own message, anything else a
one-line "internal error".  Standard library only.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import io
import re
import traceback

from . import svg
from .errors import InvalidInput, VmsimError
from .validate import show

__all__ = ["Lab", "Session", "LAYOUTS", "parse_size", "parse_address", "run_code", "scratch_namespace",
           "check_answer"]

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "mb": 1 << 20,
          "g": 1 << 30, "gib": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tib": 1 << 40, "tb": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_size(field: str, value) -> int:
    """A byte count: an integer, or text such as ``48 GiB``, ``1.5 TiB``, ``256M``, ``0x1000``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lower().startswith("0x"):
            try:
                return int(text, 16)
            except ValueError:
                pass
        m = _SIZE.fullmatch(text)
        if m and m.group(2).lower() in _UNITS:
            number = float(m.group(1)) if "." in m.group(1) else int(m.group(1))
            size = number * _UNITS[m.group(2).lower()]
            if size == int(size):
                return int(size)
    raise InvalidInput("live", f"{field} {show(value)} is not a size (write 48 GiB, 1.5 TiB, 256 MiB or 4096)")


def parse_address(field: str, value) -> int:
    """A physical address: an integer, ``0x1000000`` or a size from 0 such as ``16 MiB``."""
    return parse_size(field, value)


def _layouts():
    from .layout import arm64_vm, firecracker, pc

    return {"pc": pc, "arm64_vm": arm64_vm, "firecracker": firecracker}


#: The layout builders a panel offers, by name, with the settings each takes.
LAYOUTS = {
    "pc": ("ram", "holes", "domains", "kernel"),
    "arm64_vm": ("ram", "holes", "domains", "kernel"),
    "firecracker": ("ram", "kernel"),
}
_SETTINGS = {"layout", "ram", "holes", "domains", "kernel", "revision", "lazy", "arch", "blacklist", "bug"}


class Lab:
    """One live panel: a machine built from settings, operations on it, and what to draw.

    ``Lab().boot({"layout": "pc", "ram": "48 GiB", "domains": 3})`` builds
    ``vmsim.layout.pc(48 GiB, domains=3).boot()``; :meth:`act` then runs
    operations such as ``{"op": "alloc_pages", "pool": "DIRECT", "order": 3}``.
    Each answer holds ``ok``, a ``message`` sentence, the ``counters`` rows,
    the SVG pictures asked for in ``views`` (``map``, ``queues``) and the
    settings used, or ``ok: False`` and an ``error`` sentence. After a refused
    input the machine is as it was before the call; a broken allocator (the
    ``bug`` setting, booted in debug mode) that is caught stays as its bug left it.
    """

    def __init__(self):
        self.machine = None
        self.settings: dict = {}
        self.allocations: list[tuple[str, int, int]] = []  # ("block", pa, order) or ("run", pa, npages)
        self.views: tuple[str, ...] = ("map", "queues")
        self.domain = 0

    # -- the answers ------------------------------------------------------------------
    def _answer(self, message: str) -> dict:
        m = self.machine
        out = {"ok": True, "message": message, "settings": self.settings,
               "counters": [list(row) for row in svg.counter_rows(m)], "ndomains": m.ndomains,
               "allocations": len(self.allocations)}
        if "map" in self.views:
            out["map"] = svg.memory_map(m)
        if "queues" in self.views:
            out["queues"] = svg.free_queues(m, min(self.domain, m.ndomains - 1), None)
        return out

    @staticmethod
    def _error(e: Exception) -> dict:
        if isinstance(e, VmsimError):
            return {"ok": False, "error": str(e)}
        return {"ok": False, "error": f"internal error, please report it: {type(e).__name__}: {e}"}

    def _guard(self, work) -> dict:
        try:
            return work()
        except Exception as e:  # the page shows one sentence, never a traceback
            return self._error(e)

    # -- building the machine -----------------------------------------------------------
    def boot(self, settings: dict, views=("map", "queues"), domain: int = 0) -> dict:
        """Build the machine *settings* describe (replacing the panel's machine only if that works)."""
        return self._guard(lambda: self._boot(settings, views, domain))

    def _boot(self, settings: dict, views, domain: int) -> dict:
        if not isinstance(settings, dict):
            raise InvalidInput("live", "settings must be an object")
        unknown = sorted(set(settings) - _SETTINGS)
        if unknown:
            raise InvalidInput("live", f"unknown settings {unknown}; known: {sorted(_SETTINGS)}")
        name = settings.get("layout", "pc")
        if name not in LAYOUTS:
            raise InvalidInput("live", f"unknown layout {show(name)}; layouts are {sorted(LAYOUTS)}")
        kw = {}
        for key in LAYOUTS[name]:
            if key in settings and settings[key] not in (None, ""):
                kw[key] = parse_size(key, settings[key]) if key in ("ram", "kernel") else settings[key]
        ram = kw.pop("ram", 1 << 30)
        layout = _layouts()[name](ram, **kw)
        if settings.get("arch") not in (None, "", layout.arch):
            layout = dataclasses.replace(layout, arch=settings["arch"])
        boot_kw = {"revision": settings.get("revision", "seed"), "lazy": settings.get("lazy", True)}
        if settings.get("blacklist"):
            boot_kw["blacklist"] = [parse_address("blacklist", pa) for pa in settings["blacklist"]]
        if settings.get("bug"):
            from .bugs import BUGS

            if settings["bug"] not in BUGS:
                raise InvalidInput("live", f"unknown broken allocator {show(settings['bug'])}; they are {sorted(BUGS)}")
            boot_kw.update(phys_class=BUGS[settings["bug"]], debug=True)
        machine = layout.boot(**boot_kw)
        self.machine, self.settings, self.allocations = machine, dict(settings), []
        self.views, self.domain = tuple(views), domain
        return self._answer(f"booted {svg.describe(machine)}: {machine.startup_page_inits:,} vm_page_init_page calls")

    # -- operations -------------------------------------------------------------------------
    def act(self, action: dict) -> dict:
        """Run one operation (see :data:`ACTIONS`) on the panel's machine."""
        return self._guard(lambda: self._act(action))

    def _act(self, action: dict) -> dict:
        if self.machine is None:
            raise InvalidInput("live", "boot a machine first")
        if not isinstance(action, dict) or action.get("op") not in ACTIONS:
            raise InvalidInput("live", f"unknown operation {show(action)}; operations are {sorted(ACTIONS)}")
        m = self.machine
        before = m.page_inits
        message = ACTIONS[action["op"]](self, m, action)
        inits = m.page_inits - before
        return self._answer(f"{message}; {inits:,} vm_page_init_page call{'s' if inits != 1 else ''}")

    def _alloc_pages(self, m, a) -> str:
        pool, order, domain = a.get("pool", "DEFAULT"), a.get("order", 0), a.get("domain", 0)
        pa = m.alloc_pages(domain, pool, order)
        if pa is None:
            return f"vm_phys_alloc_pages(domain {domain}, {pool}, order {order}) returned NULL"
        self.allocations.append(("block", pa, order))
        return f"vm_phys_alloc_pages(domain {domain}, {pool}, order {order}) returned {pa:#x}"

    def _alloc_npages(self, m, a) -> str:
        pool, npages, domain = a.get("pool", "DEFAULT"), a.get("npages", 1), a.get("domain", 0)
        pages = m.alloc_npages(domain, pool, npages)
        self.allocations.extend(("block", pa, 0) for pa in pages)
        return f"vm_phys_alloc_npages(domain {domain}, {pool}, {npages}) returned {len(pages)} pages"

    def _alloc_contig(self, m, a) -> str:
        npages = a.get("npages", 1)
        alignment = parse_size("alignment", a.get("alignment", m.arch.page_size))
        boundary = parse_size("boundary", a.get("boundary", 0))
        pa = m.alloc_contig(a.get("domain", 0), npages, alignment=alignment, boundary=boundary)
        if pa is None:
            return f"vm_phys_alloc_contig({npages} pages) returned NULL"
        self.allocations.append(("run", pa, npages))
        return f"vm_phys_alloc_contig({npages} pages) returned [{pa:#x}, {pa + npages * m.arch.page_size:#x})"

    def _free_last(self, m, a) -> str:
        if not self.allocations:
            raise InvalidInput("live", "nothing allocated in this panel to free")
        kind, pa, size = self.allocations[-1]
        if kind == "block":
            m.free_pages(pa, size)
        else:
            m.free_contig(pa, size)
        self.allocations.pop()
        return f"freed the last allocation, {pa:#x}"

    def _unfree_page(self, m, a) -> str:
        pa = parse_address("pa", a.get("pa"))
        found = m.unfree_page(pa)
        return f"vm_phys_unfree_page({pa:#x}) returned {'true' if found else 'false'}"

    def _lazy_step(self, m, a) -> str:
        n = m.lazy_step(a.get("blocks", 1))
        return f"vmlazyinit initialized {n} block{'s' if n != 1 else ''}"

    def _lazy_init(self, m, a) -> str:
        n = m.lazy_init()
        return f"vmlazyinit ran to the end: {n:,} blocks; vm_default_freepool is {m.default_pool}"

    def _scan_range(self, m, a) -> str:
        low = parse_address("low", a.get("low", 0))
        r = m.scan_range(a.get("domain", 0), a.get("npages", 1), low)
        if r is None:
            return "vm_phys_find_range found no segment"
        inverted = " (an inverted range: the unsigned room test wrapped)" if r.inverted else ""
        return f"vm_phys_find_range gave [{r.start:#x}, {r.end:#x}){inverted}; the scan read every structure"

    def _blacklist_add(self, m, a) -> str:
        pa = parse_address("pa", a.get("pa"))
        return f"vm_page_blacklist_add({pa:#x}) returned {'true' if m.blacklist_add(pa) else 'false'}"


#: What :meth:`Lab.act` can run, by the ``op`` of its action.
ACTIONS = {
    "alloc_pages": Lab._alloc_pages,
    "alloc_npages": Lab._alloc_npages,
    "alloc_contig": Lab._alloc_contig,
    "free_last": Lab._free_last,
    "unfree_page": Lab._unfree_page,
    "lazy_step": Lab._lazy_step,
    "lazy_init": Lab._lazy_init,
    "scan_range": Lab._scan_range,
    "blacklist_add": Lab._blacklist_add,
}


# -- the scratchpad ----------------------------------------------------------------------------

#: What a scratchpad starts with, besides the chapter's own code.
PRELUDE = ("import vmsim\nfrom vmsim import Machine, pc, arm64_vm, svg\nfrom vmsim.layout import firecracker\n"
           "KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40\nPAGE = 4096\n")


def scratch_namespace() -> dict:
    """A fresh namespace for a scratchpad, with :data:`PRELUDE` run in it."""
    namespace: dict = {"__name__": "__scratchpad__"}
    exec(compile(PRELUDE, "<prelude>", "exec"), namespace)
    return namespace


def run_code(source: str, namespace: dict, limit: int = 20_000) -> dict:
    """Run a reader's code in *namespace*: ``{stdout, stderr, value, svg, error}`` (text, or ``None``).

    The last statement, when it is an expression, gives ``value`` (its
    ``repr``; an SVG picture of :mod:`vmsim.svg` comes back as ``svg``
    instead).  A failure gives ``error``: the line of the reader's code that
    failed and the exception's message, never the whole traceback.  Outputs
    are cut at *limit* characters.
    """
    out, err = io.StringIO(), io.StringIO()
    result = {"stdout": "", "stderr": "", "value": None, "svg": None, "error": None}
    try:
        tree = ast.parse(source, "<scratchpad>")
    except SyntaxError as e:
        result["error"] = f"line {e.lineno}: SyntaxError: {e.msg}"
        return result
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            exec(compile(tree, "<scratchpad>", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<scratchpad>", "eval"), namespace)
                if isinstance(value, str) and value.startswith("<svg"):
                    result["svg"] = value
                elif value is not None:
                    result["value"] = repr(value)[:limit]
    except Exception as e:  # noqa: BLE001 - the reader's code may raise anything
        result["error"] = _last_frame(e)
    result["stdout"], result["stderr"] = out.getvalue()[:limit], err.getvalue()[:limit]
    return result


def _last_frame(e: BaseException) -> str:
    """``line N: code`` of the innermost frame of the reader's code, then ``Type: message``."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == "<scratchpad>"]
    where = f"line {frames[-1].lineno}: " if frames else ""
    message = str(e)
    return f"{where}{type(e).__name__}: {message}" if message else f"{where}{type(e).__name__}"


def check_answer(number: str, text: str) -> dict:
    """An exercise's answer box: ``{ok, message}`` for what the reader typed."""
    from .exercises import check_text

    try:
        ok, message = check_text(number, text)
        return {"ok": ok, "message": message}
    except VmsimError as e:
        return {"ok": False, "message": str(e)}


class Session:
    r"""Everything one page runs: its panels' :class:`Lab`\ s and its scratchpads' namespaces, by id.

    The page's worker hands each request to :meth:`handle_json` and posts the
    answer back; a request is ``{"kind": "boot", "panel": id, "settings": {...},
    "views": [...]}``, ``{"kind": "act", "panel": id, "action": {...}}``,
    ``{"kind": "run", "pad": id, "code": text}`` or ``{"kind": "check",
    "exercise": "4.1", "text": answer}``.
    """

    def __init__(self):
        self.labs: dict[str, Lab] = {}
        self.pads: dict[str, dict] = {}

    def handle(self, request: dict) -> dict:
        """The answer to one request; a malformed request is answered with an ``error``."""
        try:
            kind = request["kind"]
            if kind == "boot":
                lab = self.labs.setdefault(str(request["panel"]), Lab())
                return lab.boot(request["settings"], request.get("views", ("map", "queues")), request.get("domain", 0))
            if kind == "act":
                return self.labs.setdefault(str(request["panel"]), Lab()).act(request["action"])
            if kind == "run":
                pad = str(request["pad"])
                if pad not in self.pads or request.get("fresh"):
                    self.pads[pad] = scratch_namespace()
                return run_code(request["code"], self.pads[pad])
            if kind == "check":
                return check_answer(request["exercise"], request["text"])
            raise InvalidInput("live", f"unknown request {show(kind)}")
        except (KeyError, TypeError) as e:
            return {"ok": False, "error": f"live: malformed request ({type(e).__name__}: {e})"}
        except VmsimError as e:
            return {"ok": False, "error": str(e)}

    def handle_json(self, text: str) -> str:
        """:meth:`handle` for a JSON request, answered in JSON."""
        import json

        try:
            request = json.loads(text)
        except ValueError as e:
            return json.dumps({"ok": False, "error": f"live: the request is not JSON ({e})"})
        return json.dumps(self.handle(request) if isinstance(request, dict) else
                          {"ok": False, "error": "live: a request is a JSON object"})
