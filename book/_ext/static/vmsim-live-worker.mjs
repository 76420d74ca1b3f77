// The worker that runs vmsim on Pyodide for the page (book/_ext/live_book.py, vmsim-live.js).
//
// It loads the vendored Pyodide runtime (./pyodide/, beside this file) and the vmsim core the
// book was built with (the zip named in this module's ?core= parameter), then answers the
// page's requests with vmsim.live.Session.handle_json: messages in {id, request} (a JSON
// text), out {id, answer} (a JSON text), plus {kind: "ready", runtime_ms, vmsim_ms} or
// {kind: "load-error", message} once. Requests queue while one runs, so they run in order.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const here = new URL(import.meta.url);
const INDEX_URL = new URL("./pyodide/", here).href;
const CORE_URL = new URL(here.searchParams.get("core") || "vmsim-core.zip", here).href;

// loadPyodide() never settles when the wasm is missing or not served as application/wasm (it
// only warns in the console), so ask the server first and fail at once with a sentence.
async function checkWasm(url) {
  const r = await fetch(url, { method: "HEAD" });
  await r.arrayBuffer(); // finish the (empty) response, or Chromium reports it aborted
  if (!r.ok) throw new Error(`the Python runtime is missing from this copy of the book (${url}: HTTP ${r.status})`);
  const type = r.headers.get("content-type") || "";
  if (!type.startsWith("application/wasm")) {
    throw new Error(`the server sends ${url} as "${type}", not application/wasm; serve the book with python -m http.server`);
  }
}

const ready = (async () => {
  const t0 = performance.now();
  await checkWasm(INDEX_URL + "pyodide.asm.wasm");
  const [pyodide, core] = await Promise.all([
    loadPyodide({ indexURL: INDEX_URL }),
    fetch(CORE_URL).then((r) => {
      if (!r.ok) throw new Error(`${CORE_URL}: HTTP ${r.status}`);
      return r.arrayBuffer();
    }),
  ]);
  const t1 = performance.now();
  pyodide.unpackArchive(core, "zip", { extractDir: "/home/pyodide/vmsimlib" });
  pyodide.runPython(
    "import sys\nsys.path.insert(0, '/home/pyodide/vmsimlib')\nimport vmsim.live\n_session = vmsim.live.Session()\n"
  );
  const handle = pyodide.globals.get("_session").handle_json;
  postMessage({ kind: "ready", runtime_ms: t1 - t0, vmsim_ms: performance.now() - t1 });
  return handle;
})();
ready.catch((e) => postMessage({ kind: "load-error", message: String((e && e.message) || e) }));

onmessage = async ({ data: { id, request } }) => {
  let handle;
  try {
    handle = await ready;
  } catch (e) {
    postMessage({ id, answer: JSON.stringify({ ok: false, error: String((e && e.message) || e) }) });
    return;
  }
  const t = performance.now();
  let answer;
  try {
    answer = handle(request);
  } catch (e) {
    answer = JSON.stringify({ ok: false, error: "internal error in the page's Python: " + String(e).split("\n").pop() });
  }
  postMessage({ id, answer, ms: performance.now() - t });
};
