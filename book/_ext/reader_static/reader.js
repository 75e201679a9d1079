/* What a reader sees: accessibility fixes for markup the theme and notebook outputs
   bring (added to every page by book/_ext/reader.py; axe-core checks them in
   tests/test_site.py). */
(function () {
  "use strict";

  // Boxes that scroll sideways (a wide table, a formula on a phone) must be reachable
  // with the keyboard (axe: scrollable-region-focusable).
  function focusableScrollers() {
    var sel = "div.math mjx-container, div.cell_output div.output, " +
              ".pst-scrollable-table-container, div.highlight pre";
    document.querySelectorAll(sel).forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
      }
    });
  }

  // ipywidgets sliders (noUiSlider handles, role="slider") get the widget's label as
  // their accessible name (axe: aria-input-field-name).
  function nameWidgetSliders() {
    document.querySelectorAll('[role="slider"]:not([aria-label])').forEach(function (h) {
      var box = h.closest(".widget-slider, .jupyter-widgets");
      var label = box && box.querySelector("label, .widget-label");
      var text = label && label.textContent.trim();
      h.setAttribute("aria-label", text || "slider");
    });
  }

  // The theme's icon buttons (colour mode, search, sidebars) are named by aria-label;
  // the Font Awesome glyphs inside them are text to a screen reader, which then does
  // not match that name (axe: label-content-name-mismatch). The glyphs are decoration.
  function headerButtons() {
    document.querySelectorAll("button[aria-label] i, a.btn[aria-label] i, " +
                              "button[aria-label] .fa-solid, button[aria-label] .fa")
      .forEach(function (icon) { icon.setAttribute("aria-hidden", "true"); });
  }

  // The sidebar's book title (a link home) sits outside every landmark (axe: region).
  function titleLandmark() {
    var logo = document.querySelector(".sidebar-primary-items__start > " +
                                      ".sidebar-primary-item:first-child");
    if (logo && !logo.closest("nav, header, main, aside, [role]")) {
      logo.setAttribute("role", "navigation");
      logo.setAttribute("aria-label", "Book title");
    }
  }

  // pandas writes an empty header cell above the row labels (axe: empty-table-header).
  function tableHeaders() {
    document.querySelectorAll("article table th").forEach(function (th) {
      if (!th.textContent.trim()) {
        th.innerHTML = '<span class="visually-hidden">row label</span>';
      }
    });
  }

  function fixAll() {
    tableHeaders();
    focusableScrollers();
    nameWidgetSliders();
    headerButtons();
    titleLandmark();
  }

  function start() {
    fixAll();
    new MutationObserver(function () { nameWidgetSliders(); })
      .observe(document.body, {childList: true, subtree: true});
    window.addEventListener("resize", focusableScrollers);
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(fixAll);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
})();
