"""Chapters as JupyterLab shows them: MyST drawn by jupyterlab-myst, nothing run.

Starts ``jupyter lab`` (this venv's, with the pinned jupyterlab-myst) on a free port of
127.0.0.1, in a temporary root holding copies of a few chapters, with its own Jupyter
config, data and runtime folders (no user setting, trust database or signing key leaks
in). Opens each chapter in the session's headless Chromium (``conftest.py``) with every
request that leaves 127.0.0.1 blocked, and checks what a reader sees in the markdown cells:

* no raw MyST: no ``{glue``, ``{eval}``, ``{term}``, ``{doc}``, ``{ref}``, ``{numref}``
  role, no ``:::{dropdown}`` fence, no ``(label)=`` target line;
* every inline value is there: each ``{eval}`` role shows the value stored in the cell's
  ``user_expressions`` metadata (by ``tools/run_chapter.py``), never the name;
* every ``:::{dropdown}`` solution is collapsed, its body hidden until its summary is
  clicked, and shown after;

and that ``jupyter labextension list`` calls the pinned jupyterlab-myst compatible.

No cell is run: JupyterLab starts a kernel on opening, but what is checked comes from the
stored outputs and metadata only, and the notebooks stay untrusted (plain-text values need
no trust). Needs no built book. Marker ``browser`` (not in the default ``pytest`` run)::

    .venv/bin/python -m pytest -m browser tests/browser/test_jupyterlab.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser_support import LAPTOP, ROOT, open_page

pytestmark = pytest.mark.browser

#: The first chapter, and the one with the most inline values.
CHAPTERS = ["00_how_to_use.ipynb", "04_lazy_boot.ipynb"]
TOKEN = "jupyterlab-test-token"
SERVER_TIMEOUT = 120  # s for `jupyter lab` to answer /api/status (a loaded 2-core CI box)
RENDER_TIMEOUT = 90_000  # ms for JupyterLab to open a notebook and jupyterlab-myst to draw it
ACTION_TIMEOUT = 15_000  # ms for one click or visibility change
# jupyterlab-myst's rendering of a markdown cell. Never read the whole cell: its CodeMirror
# editor (display: none while the cell is rendered) still holds the raw source.
RENDERED = ".jp-MarkdownCell .jp-InputArea > .myst"
RAW_MYST = re.compile(r"\{(?:glue|eval|term|doc|ref|numref)[:}]|:::\{|`{3}\{|^\([\w-]+\)=\s*$", re.M)
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
# User settings of the temporary JupyterLab: every cell in the DOM (no windowing), no news
# or update prompt over the notebook.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def markdown_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "markdown"]


def source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def shown_as(text_plain: str) -> str:
    """What jupyterlab-myst shows for a text/plain value: a string's repr loses its quotes."""
    return re.sub(r"""^(["'])(.*)\1$""", r"\2", text_plain, flags=re.S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """One `jupyter lab` process serving *root*, with its Jupyter folders under *base*."""

    def __init__(self, base: Path):
        self.base, self.root, self.log_path = base, base / "root", base / "server.log"
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(base / "config"),
            JUPYTER_DATA_DIR=str(base / "data"),
            JUPYTER_RUNTIME_DIR=str(base / "runtime"),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        self.env.pop("JUPYTER_PATH", None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self, tail: int = 8000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return "(no server log)"

    def api(self, path: str, method: str = "GET", timeout: float = 5.0):
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def start(self) -> None:
        for rel, value in SETTINGS.items():
            path = self.base / "config" / "lab" / "user-settings" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        for _attempt in range(3):  # the port can be taken between free_port() and the bind
            self.port = free_port()
            cmd = [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={self.root}",
                # no news, no update check, no PyPI listing: nothing reaches for the network
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",
            ]
            if os.geteuid() == 0:  # CI runs as root, which jupyter server refuses without this
                cmd.append("--allow-root")
            with open(self.log_path, "a") as log:
                self.proc = subprocess.Popen(
                    cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.base, start_new_session=True
                )
            deadline = time.monotonic() + SERVER_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    self.api("/api/status", timeout=2)
                    return
                except (urllib.error.URLError, OSError, ValueError):
                    time.sleep(0.25)
            if self.proc.poll() is None:  # running but not answering: no retry
                self.stop()
                break
            if "Address already in use" not in self.log():
                break
        raise RuntimeError(f"jupyter lab did not come up within {SERVER_TIMEOUT} s:\n{self.log()}")

    def stop(self) -> None:
        """Ask the server to shut down (its kernels too), then end its process group if it has not."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.api("/api/shutdown", method="POST")
            self.proc.wait(20)
        except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)  # the group this test started: the server and its kernels
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = JupyterLab(tmp_path_factory.mktemp("jupyterlab"))
    server.root.mkdir()
    for name in CHAPTERS:
        shutil.copy(ROOT / "book" / name, server.root / name)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=CHAPTERS)
def chapter(request, lab, browser):
    """(notebook JSON, page) for one chapter open in JupyterLab, every markdown cell drawn."""
    nb = json.loads((lab.root / request.param).read_text())
    # a workspace of its own per chapter, so that no other chapter is restored beside it
    url = f"{lab.url}/lab/workspaces/{Path(request.param).stem}/tree/{request.param}?reset&token={TOKEN}"
    page, problems = open_page(browser, url, LAPTOP, wait=False)
    page.set_default_timeout(ACTION_TIMEOUT)
    try:
        page.wait_for_function(
            """n => { const cells = [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell')];
                      return cells.length >= n && cells.every(c => c.classList.contains('jp-mod-rendered')
                                                              && c.querySelector('.jp-InputArea > .myst')); }""",
            arg=len(markdown_cells(nb)),
            timeout=RENDER_TIMEOUT,
            polling=500,
        )
        page.wait_for_timeout(1000)  # inline values are drawn by React effects: one more tick
        yield nb, page
    except Exception:
        print(f"--- jupyter lab log (tail):\n{lab.log()}")
        raise
    finally:
        page.context.close()
    blocked = [p for p in problems if p.startswith("blocked request")]
    assert not blocked, blocked


def rendered_texts(page, prop: str = "innerText") -> list[str | None]:
    """Each markdown cell's rendering, in notebook order: innerText is what shows (closed
    dropdowns' bodies left out), textContent all of it."""
    return page.eval_on_selector_all(
        ".jp-Notebook .jp-MarkdownCell",
        "(cells, prop) => cells.map(c => { const r = c.querySelector('.jp-InputArea > .myst');"
        " return r ? r[prop] : null; })",
        prop,
    )


def test_jupyterlab_myst_is_installed_and_compatible(lab):
    # A prebuilt extension JupyterLab marks incompatible (a shared package's version out of
    # range) may still load, or may not: the pin in requirements.txt must say "OK".
    listing = subprocess.run(
        [sys.executable, "-m", "jupyterlab.labextensions", "list"],
        env=lab.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    assert re.search(r"^\s*jupyterlab-myst v\S+ enabled\s+OK\b", text, re.M), text


def test_no_raw_myst_and_every_value_shown(chapter):
    nb, page = chapter
    cells = markdown_cells(nb)
    visible = rendered_texts(page)
    assert len(visible) == len(cells) and None not in visible
    raw = [
        (i, m.group(0), t[max(0, m.start() - 40) : m.end() + 40])
        for i, t in enumerate(visible)
        for m in RAW_MYST.finditer(t)
    ]
    assert not raw, f"raw MyST shown in rendered markdown: {raw}"

    problems = []
    everything = rendered_texts(page, "textContent")  # values inside closed solutions count too
    n_values = 0
    for i, cell in enumerate(cells):
        stored = {e["expression"]: e["result"] for e in cell.get("metadata", {}).get("user_expressions", [])}
        for expr in EVAL_ROLE.findall(source(cell)):
            n_values += 1
            plain = stored.get(expr, {}).get("data", {}).get("text/plain")
            if plain is None:
                problems.append(f"markdown cell {i}: no stored value for {expr!r} (run tools/run_chapter.py)")
            elif shown_as(plain) not in everything[i]:
                problems.append(f"markdown cell {i}: value {shown_as(plain)!r} of {expr!r} not shown")
            if re.search(rf"(?<![\w.]){re.escape(expr)}(?!\w)", everything[i]):
                problems.append(f"markdown cell {i}: name {expr!r} shown instead of its value")
    assert n_values > 0, "the chapter shows no inline value: pick one that does"
    assert not problems, "\n".join(problems)


def test_solutions_hidden_until_clicked(chapter):
    nb, page = chapter
    n_dropdowns = sum(source(c).count(":::{dropdown}") for c in markdown_cells(nb))
    details = page.locator(f"{RENDERED} details.myst-dropdown")
    assert details.count() == n_dropdowns > 0, "every :::{dropdown} must render as a <details>"
    for k in range(n_dropdowns):
        d = details.nth(k)
        summary, body = d.locator(":scope > summary"), d.locator(":scope > .myst-dropdown-body")
        d.scroll_into_view_if_needed()
        assert not d.evaluate("e => e.open"), f"dropdown {k} is open on load"
        assert summary.is_visible(), f"dropdown {k}: summary not visible"
        assert body.count() == 1 and not body.is_visible(), f"solution {k} visible before a click"
        summary.click()
        body.wait_for(state="visible", timeout=ACTION_TIMEOUT)
        text = body.inner_text()
        assert text.strip(), f"solution {k} is empty"
        assert not RAW_MYST.search(text), f"raw MyST in solution {k}: {text[:200]!r}"
