// Live panels, scratchpads and answer boxes: the page side (book/_ext/live_book.py puts their
// placeholders in the page). Nothing loads until the reader clicks; then one module worker
// (vmsim-live-worker.mjs) starts the vendored Pyodide runtime and the vmsim core the book was
// built with, and every panel of the page talks to it. The work is all vmsim's (vmsim.live):
// this script only builds the controls from each panel's data-config, sends JSON requests and
// shows the answers -- counters, SVG pictures and one-sentence errors.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script.src.replace(/[?#].*$/, "").replace(/[^/]*$/, "");
  var core = script.getAttribute("data-core") || "vmsim-core.zip";
  var worker = null;
  var ready = null;
  var nextId = 1;
  var pending = {};
  var timings = {}; // for the browser test and the benchmark: click, ready, first answer (ms)
  window.vmsimLiveTimings = timings;

  // ---------------------------------------------------------------- the worker
  function servePage() {
    var root = base.replace(/_static\/$/, "");
    var rel = window.location.href.replace(/[?#].*$/, "").slice(root.length) || "index.html";
    return "run python3 -m http.server -d _build/html --bind 127.0.0.1 8000 in the book's folder, then open " +
      "http://127.0.0.1:8000/" + rel;
  }

  function start() {
    if (ready) return ready;
    if (window.location.protocol === "file:") {
      var e = new Error("Browsers do not run the simulator in a page opened from a file. Serve the book " +
        "instead: " + servePage() + ". The frames above work either way.");
      e.name = "FileProtocolError";
      return Promise.reject(e);
    }
    timings.click = timings.click || performance.now();
    ready = new Promise(function (resolve, reject) {
      try {
        worker = new Worker(base + "vmsim-live-worker.mjs?core=" + encodeURIComponent(core), { type: "module" });
      } catch (err) {
        reject(new Error("This browser cannot start the simulator (" + err.message + ")."));
        return;
      }
      worker.onmessage = function (ev) {
        var m = ev.data;
        if (m.kind === "ready") {
          timings.ready = performance.now();
          timings.runtime_ms = m.runtime_ms;
          timings.vmsim_ms = m.vmsim_ms;
          resolve();
        } else if (m.kind === "load-error") {
          reject(new Error("The Python runtime did not load: " + m.message));
        } else if (pending[m.id]) {
          var p = pending[m.id];
          delete pending[m.id];
          var answer;
          try {
            answer = JSON.parse(m.answer);
          } catch (err) {
            answer = { ok: false, error: "the page's Python sent no answer" };
          }
          answer.ms = m.ms;
          p(answer);
        }
      };
      worker.onerror = function (ev) {
        ev.preventDefault();
        reject(new Error("The Python runtime did not load (" + (ev.message || "the worker failed") + ")."));
      };
    });
    ready.catch(function () {
      if (worker) worker.terminate();
      worker = null;
      ready = null;
    });
    return ready;
  }

  function call(request) {
    return start().then(function () {
      return new Promise(function (resolve) {
        var id = nextId++;
        pending[id] = resolve;
        worker.postMessage({ id: id, request: JSON.stringify(request) });
      });
    }).then(function (answer) {
      if (!timings.first) timings.first = performance.now();
      return answer;
    });
  }

  // ---------------------------------------------------------------- small DOM helpers
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function field(labelText, input) {
    return el("label", { class: "vmsim-field" }, [labelText + " ", input]);
  }
  function select(name, options, value) {
    var s = el("select", { name: name });
    options.forEach(function (o) {
      var opt = el("option", { value: o[0], text: o[1] });
      if (String(o[0]) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    return s;
  }
  function text(name, value, size) {
    return el("input", { type: "text", name: name, value: value == null ? "" : value, size: size || 8 });
  }
  function number(name, value, min, max) {
    return el("input", { type: "number", name: name, value: value, min: min, max: max, step: 1 });
  }
  function showError(box, message) {
    box.querySelector(".vmsim-live-error").textContent = message || "";
  }
  function status(box, message) {
    box.querySelector(".vmsim-live-status").textContent = message || "";
  }
  function fail(box, e) {
    status(box, "");
    showError(box, e.message || String(e));
  }

  // ---------------------------------------------------------------- panels
  var PROPOSALS = ["skip_covered_ranges", "init_segment_tail", "drain_waits_for_thread", "successor_inside_run",
                   "domain_end_exclusive"];
  var SETTINGS = {
    layout: function (v) { return field("layout", select("layout", [["pc", "pc: a BIOS PC"], ["arm64_vm", "arm64_vm: an arm64 VM"], ["firecracker", "firecracker: a microVM"]], v)); },
    ram: function (v) {
      var input = text("ram", v, 9);
      input.setAttribute("list", "vmsim-ram-sizes");
      return field("RAM", input);
    },
    holes: function (v) { return field("holes", number("holes", v == null ? 0 : v, 0, 64)); },
    domains: function (v) { return field("NUMA domains", number("domains", v == null ? 1 : v, 1, 8)); },
    kernel: function (v) {
      var input = text("kernel", v, 7);
      input.setAttribute("placeholder", "default");
      return field("kernel + modules", input);
    },
    revision: function (v) { return field("revision", select("revision", [["seed", "seed"], ["committed", "committed"], ["proposed", "proposed (this book's)"]], v)); },
    lazy: function (v) { return field("boot", select("lazy", [["true", "lazy"], ["false", "eager"]], v === false ? "false" : "true")); },
    arch: function (v) { return field("arch", select("arch", [["", "the layout's"], ["amd64", "amd64"], ["arm64", "arm64 (2023)"], ["arm64-2024", "arm64-2024"]], v || "")); },
    bug: function (v, config) {
      return field("allocator", select("bug", [["", "FreeBSD's"]].concat((config.bugs || []).map(function (b) { return [b, b]; })), v || ""));
    },
    proposals: function (v) {
      var box = el("span", { class: "vmsim-proposals" }, ["this book's changes: "]);
      PROPOSALS.forEach(function (p) {
        var c = el("input", { type: "checkbox", name: "proposal", value: p });
        if ((v || []).indexOf(p) >= 0) c.checked = true;
        box.appendChild(el("label", {}, [c, " " + p.replace(/_/g, " ")]));
      });
      return box;
    },
  };
  var ACTIONS = {
    alloc_pages: function () {
      return [select("pool", [["DEFAULT", "DEFAULT"], ["DIRECT", "DIRECT"]], "DEFAULT"), field("order", number("order", 0, 0, 12)),
              "vm_phys_alloc_pages", function (f) { return { op: "alloc_pages", pool: f.pool.value, order: Number(f.order.value), domain: Number((f.domain || {}).value || 0) }; }];
    },
    alloc_npages: function () {
      return [select("pool", [["DEFAULT", "DEFAULT"], ["DIRECT", "DIRECT"]], "DEFAULT"), field("pages", number("npages", 16, 1, 4096)),
              "vm_phys_alloc_npages", function (f) { return { op: "alloc_npages", pool: f.pool.value, npages: Number(f.npages.value) }; }];
    },
    alloc_contig: function () {
      return [field("pages", number("npages", 1024, 1, 1 << 24)), field("alignment", text("alignment", "4 KiB", 6)),
              "vm_phys_alloc_contig", function (f) { return { op: "alloc_contig", npages: Number(f.npages.value), alignment: f.alignment.value }; }];
    },
    free_last: function () { return ["free the last allocation", function () { return { op: "free_last" }; }]; },
    unfree_page: function () {
      return [field("pa", text("pa", "0x10000000", 11)), "vm_phys_unfree_page", function (f) { return { op: "unfree_page", pa: f.pa.value }; }];
    },
    lazy_step: function () {
      return [field("blocks", number("blocks", 1, 1, 100000)), "run vmlazyinit", function (f) { return { op: "lazy_step", blocks: Number(f.blocks.value) }; }];
    },
    lazy_init: function () { return ["drain (vmlazyinit to the end)", function () { return { op: "lazy_init" }; }]; },
    scan_range: function () {
      return [field("low", text("low", "0", 10)), "find_range + scan", function (f) { return { op: "scan_range", low: f.low.value }; }];
    },
    blacklist_add: function () {
      return [field("pa", text("pa", "0x20000000", 11)), "vm_page_blacklist_add", function (f) { return { op: "blacklist_add", pa: f.pa.value }; }];
    },
  };

  function readSettings(form, config) {
    var s = {};
    (config.controls || []).forEach(function (c) {
      if (c === "proposals") {
        var flags = {};
        form.querySelectorAll("input[name=proposal]").forEach(function (x) { flags[x.value] = x.checked; });
        s.revision = flags;
      } else if (form.elements[c]) {
        var v = form.elements[c].value;
        if (c === "holes" || c === "domains") v = Number(v);
        if (c === "lazy") v = v === "true";
        if (v !== "" || c === "ram") s[c] = v;
      }
    });
    Object.keys(config.settings || {}).forEach(function (k) {
      if (!(k in s) && (config.controls || []).indexOf(k) < 0 && !(k === "revision" && "revision" in s)) s[k] = config.settings[k];
    });
    return s;
  }

  function show(box, answer) {
    status(box, "");
    if (!answer.ok) {
      showError(box, answer.error);
      return;
    }
    showError(box, "");
    box.querySelector(".vmsim-live-message").textContent = answer.message + (answer.ms ? " (" + Math.round(answer.ms) + " ms in the page)" : "");
    var table = box.querySelector(".vmsim-live-counters");
    table.textContent = "";
    answer.counters.forEach(function (row) {
      table.appendChild(el("tr", {}, [el("td", { text: row[0] }), el("td", { text: row[1] })]));
    });
    ["map", "queues"].forEach(function (v) {
      var holder = box.querySelector(".vmsim-live-" + v);
      if (holder) holder.innerHTML = answer[v] || "";
    });
  }

  function buildPanel(box) {
    var config = JSON.parse(box.getAttribute("data-config"));
    var settings = config.settings || {};
    var form = el("form", { class: "vmsim-live-form" });
    var row = el("div", { class: "vmsim-live-settings" });
    (config.controls || []).forEach(function (c) {
      if (SETTINGS[c]) row.appendChild(SETTINGS[c](c === "proposals" ? settings.proposals : settings[c], config));
    });
    var bootButton = el("button", { type: "submit", text: "Boot" });
    row.appendChild(bootButton);
    form.appendChild(row);
    var actions = el("div", { class: "vmsim-live-actions" });
    (config.actions || []).forEach(function (name) {
      var parts = ACTIONS[name]();
      var make = parts.pop();
      var label = parts.pop();
      var group = el("span", { class: "vmsim-live-action" });
      parts.forEach(function (p) { group.appendChild(p); });
      var b = el("button", { type: "button", text: label, "data-op": name });
      b.addEventListener("click", function () {
        status(box, "running…");
        call({ kind: "act", panel: box.id, action: make(group.querySelectorAll ? collect(group) : {}) })
          .then(function (a) { show(box, a); }, function (e) { fail(box, e); });
      });
      group.appendChild(b);
      actions.appendChild(group);
    });
    var output = el("div", { class: "vmsim-live-output" }, [
      el("p", { class: "vmsim-live-message" }),
      el("table", { class: "vmsim-live-counters" }),
    ]);
    (config.views || ["map", "queues"]).forEach(function (v) { output.appendChild(el("div", { class: "vmsim-live-" + v })); });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      status(box, "booting…");
      call({ kind: "boot", panel: box.id, settings: readSettings(form, config), views: config.views || ["map", "queues"] })
        .then(function (a) { show(box, a); }, function (e) { fail(box, e); });
    });
    box.appendChild(form);
    box.appendChild(actions);
    box.appendChild(output);
    return form;
  }

  function collect(group) {
    var f = {};
    group.querySelectorAll("input, select").forEach(function (i) { f[i.name] = i; });
    return f;
  }

  function runLive(box) {
    var button = box.querySelector(".vmsim-run-live");
    button.disabled = true;
    status(box, "loading the Python runtime…");
    start().then(function () {
      button.remove();
      var form = buildPanel(box);
      form.requestSubmit();
    }, function (e) {
      button.disabled = false;
      fail(box, e);
    });
  }

  // ---------------------------------------------------------------- scratchpads and answer boxes
  function runPad(pad) {
    var code = pad.querySelector("textarea").value;
    var out = pad.querySelector(".vmsim-pad-output");
    status(pad, ready ? "running…" : "loading the Python runtime…");
    call({ kind: "run", pad: pad.getAttribute("data-pad"), code: code }).then(function (r) {
      status(pad, r.ms ? "ran in " + Math.round(r.ms) + " ms" : "");
      out.textContent = "";
      if (r.stdout) out.appendChild(el("pre", { class: "vmsim-pad-stdout", text: r.stdout }));
      if (r.stderr) out.appendChild(el("pre", { class: "vmsim-pad-stderr", text: r.stderr }));
      if (r.value != null) out.appendChild(el("pre", { class: "vmsim-pad-value", text: r.value }));
      if (r.svg) out.appendChild(el("div", { class: "vmsim-pad-svg" })).innerHTML = r.svg;
      if (r.error) out.appendChild(el("pre", { class: "vmsim-pad-error", role: "alert", text: r.error }));
    }, function (e) {
      status(pad, "");
      out.textContent = "";
      out.appendChild(el("pre", { class: "vmsim-pad-error", role: "alert", text: e.message }));
    });
  }

  function checkAnswer(form) {
    var result = form.querySelector(".vmsim-answer-result");
    result.textContent = ready ? "checking…" : "loading the Python runtime…";
    call({ kind: "check", exercise: form.getAttribute("data-exercise"), text: form.elements.answer.value })
      .then(function (r) {
        result.textContent = r.message || r.error;
        result.className = "vmsim-answer-result " + (r.ok ? "vmsim-right" : "vmsim-wrong");
      }, function (e) {
        result.textContent = e.message;
        result.className = "vmsim-answer-result vmsim-wrong";
      });
  }

  function init() {
    if (document.querySelector(".vmsim-live-panel") && !document.getElementById("vmsim-ram-sizes")) {
      var list = el("datalist", { id: "vmsim-ram-sizes" });
      ["64 MiB", "256 MiB", "1 GiB", "3 GiB", "4 GiB", "16 GiB", "48 GiB", "64 GiB", "256 GiB", "1 TiB", "4 TiB"]
        .forEach(function (s) { list.appendChild(el("option", { value: s })); });
      document.body.appendChild(list);
    }
    document.querySelectorAll(".vmsim-live-panel").forEach(function (box) {
      box.appendChild(el("p", { class: "vmsim-live-error", role: "alert" }));
      box.querySelector(".vmsim-run-live").addEventListener("click", function () { runLive(box); });
    });
    document.querySelectorAll(".vmsim-scratchpad").forEach(function (pad) {
      pad.querySelector(".vmsim-run-code").addEventListener("click", function () { runPad(pad); });
      pad.querySelector("textarea").addEventListener("keydown", function (e) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          runPad(pad);
        }
      });
    });
    document.querySelectorAll(".vmsim-answer").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        checkAnswer(form);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
