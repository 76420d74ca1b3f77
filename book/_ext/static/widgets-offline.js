// Keeps the ipywidgets manager (html-manager/embed-amd.js, loaded right after this
// script, after require.js) on this site: nothing it loads may come from a CDN.
//
// - Its fonts (Font Awesome, beside embed-amd.js): each AMD module in the bundle finds
//   its assets next to its own module URL, which require.js derives from the module's
//   id, so the ids are mapped to URLs in html-manager/. (These modules are all defined
//   by embed-amd.js itself, so nothing is fetched from those URLs.)
// - Widget modules that it does not bundle (third-party widgets): looked up under
//   _static/widget-modules/NAME@VERSION/dist/index.js instead of on a CDN.
//
// All URLs are absolute, computed from this script's own address, so they hold for
// pages at any depth.
(function () {
  "use strict";
  var here = document.currentScript.src.replace(/[?#].*$/, "");
  var staticRoot = here.slice(0, here.lastIndexOf("/") + 1);
  var assets = staticRoot + "html-manager/";
  var bundled = ["base", "base7", "controls", "controls7", "html-manager", "html-manager/dist/libembed-amd"];
  var paths = {};
  bundled.forEach(function (name) {
    paths["@jupyter-widgets/" + name] = assets + name.replace(/\//g, "-");
  });
  window.requirejs.config({ paths: paths });
  window.__jupyter_widgets_assets_path__ = assets;
  document.currentScript.setAttribute("data-jupyter-widgets-cdn", staticRoot + "widget-modules/");
})();
