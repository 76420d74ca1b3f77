// The book's reader conveniences (book/_ext/reader_book.py adds this to every page).
//
// - Over file:// the browser refuses to fetch the book's pages, so search shows titles without
//   excerpts and the search page says how to serve the book to get them.
// - Download links (the .ipynb / .md source of a page) carry a download attribute, so the
//   browser saves the file instead of showing raw JSON.
// - Figures open full size when tapped or clicked (on a phone their labels are too small to read
//   in the column); tapping again, or Escape, closes the view.
(function () {
  "use strict";
  var offline = window.location.protocol === "file:";
  // documentation_options.js declares it with const: a global binding, not a window property.
  if (offline && typeof DOCUMENTATION_OPTIONS !== "undefined") {
    DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;  // eslint-disable-line no-undef
  }

  function noteSearchOffline() {
    var results = document.getElementById("search-results");
    if (!offline || !results || document.getElementById("vmsim-search-offline")) return;
    var note = document.createElement("p");
    note.id = "vmsim-search-offline";
    note.className = "vmsim-search-offline";
    note.textContent = "Opened from a file, search can list page titles only. To see excerpts (and to " +
      "run the simulator in the page), serve the book: python -m http.server -d _build/html, " +
      "then open http://127.0.0.1:8000/.";
    results.parentNode.insertBefore(note, results);
  }

  function markDownloads() {
    document.querySelectorAll(".dropdown-download-buttons a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (/\.(ipynb|md)$/.test(href)) a.setAttribute("download", href.split("/").pop());
    });
  }

  function zoomable(img) {
    return img.closest(".cell_output, figure, .vmsim-frame") !== null && !img.closest(".vmsim-zoom");
  }

  function openZoom(img) {
    var overlay = document.createElement("div");
    overlay.className = "vmsim-zoom";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Figure, full size (tap or press Escape to close)");
    var big = document.createElement("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    overlay.appendChild(big);
    function close() {
      overlay.remove();
      document.removeEventListener("keydown", onKey);
      img.focus();
    }
    function onKey(e) { if (e.key === "Escape") close(); }
    overlay.addEventListener("click", close);
    document.addEventListener("keydown", onKey);
    document.body.appendChild(overlay);
    overlay.tabIndex = -1;
    overlay.focus();
  }

  document.addEventListener("click", function (e) {
    var img = e.target.closest && e.target.closest("img");
    if (img && zoomable(img)) {
      e.preventDefault();
      openZoom(img);
    }
  });
  document.addEventListener("keydown", function (e) {
    var img = document.activeElement;
    if ((e.key === "Enter" || e.key === " ") && img && img.tagName === "IMG" && zoomable(img)) {
      e.preventDefault();
      openZoom(img);
    }
  });

  function ready() {
    markDownloads();
    noteSearchOffline();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
