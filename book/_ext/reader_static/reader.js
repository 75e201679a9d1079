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


  // Code cells wrap instead of hiding their line ends (reader.css): each source line
  // goes into a span.reader-line (inline-block, so copying and textContent keep the
  // same text and newlines) whose continuation rows hang 4 characters past the line's
  // own indentation (at most 40 % of the box). Pygments writes flat token spans; a
  // token holding a newline (a multi-line string) is split into one span per line.
  function wrapCode() {
    document.querySelectorAll("article div.highlight pre:not(.reader-wrap)")
      .forEach(function (pre) {
        if (pre.closest("div.cell_output")) return;  // printed tables keep alignment
        var lines = [[]];
        Array.from(pre.childNodes).forEach(function (node) {
          var parts = node.textContent.split("\n");
          parts.forEach(function (part, i) {
            if (i > 0) lines.push([]);
            if (!part) return;
            if (node.nodeType === Node.TEXT_NODE) {
              lines[lines.length - 1].push(document.createTextNode(part));
            } else {
              var piece = node.cloneNode(false);
              piece.textContent = part;
              lines[lines.length - 1].push(piece);
            }
          });
        });
        var trailing = lines.length > 1 && lines[lines.length - 1].length === 0;
        if (trailing) lines.pop();
        var frag = document.createDocumentFragment();
        lines.forEach(function (nodes, i) {
          var span = document.createElement("span");
          span.className = "reader-line";
          var text = nodes.map(function (n) { return n.textContent; }).join("");
          var indent = text.length - text.replace(/^ +/, "").length;
          var hang = "min(" + (indent + 4) + "ch, 40%)";
          // (at most 40 % of the box, for a deeply indented line on a phone)
          span.style.paddingLeft = hang;
          if (indent && indent < text.length) {
            // The leading spaces stay in the text (copying keeps the indentation) but
            // take no room (splitIndent): text-indent places the first row.
            span.style.textIndent = "calc(min(" + indent + "ch, 40%) - " + hang + ")";
            nodes = splitIndent(nodes, indent);
          } else {
            span.style.textIndent = "calc(-1 * " + hang + ")";
          }
          nodes.forEach(function (n) { span.appendChild(n); });
          frag.appendChild(span);
          if (i < lines.length - 1 || trailing) {
            frag.appendChild(document.createTextNode("\n"));
          }
        });
        pre.textContent = "";
        pre.appendChild(frag);
        pre.classList.add("reader-wrap");
      });
  }

  // The first `count` characters (spaces) of a line's nodes go into a
  // span.reader-indent, which reader.css shrinks to no width; it and the first
  // character after it go into a span.reader-lead that never breaks inside, so that
  // the browser cannot break after the spaces and leave the first row empty (a first
  // word too long for that row breaks inside instead).
  function splitIndent(nodes, count) {
    var indent = document.createElement("span");
    indent.className = "reader-indent";
    indent.textContent = " ".repeat(count);
    var rest = [];
    nodes.forEach(function (n) {
      var t = n.textContent;
      if (count >= t.length) { count -= t.length; return; }
      if (count > 0) { n.textContent = t.slice(count); count = 0; }
      rest.push(n);
    });
    var lead = document.createElement("span");
    lead.className = "reader-lead";
    lead.appendChild(indent);
    var first = rest[0];
    var piece = first.cloneNode(false);
    piece.textContent = first.textContent.charAt(0);
    lead.appendChild(piece);
    first.textContent = first.textContent.slice(1);
    if (!first.textContent) rest.shift();
    return [lead].concat(rest);
  }

  // Printed output whose lines are prose (no column alignment: no run of two spaces
  // inside a line) wraps like prose instead of scrolling its numbers out of sight on a
  // phone; aligned tables keep their columns and scroll in their box (reader.css
  // shades the edge that has more to show).
  function wrapProseOutput() {
    document.querySelectorAll("article div.cell_output div.output pre:not(.reader-prose)")
      .forEach(function (pre) {
        var lines = pre.textContent.replace(/\n$/, "").split("\n");
        var aligned = lines.some(function (l) { return /\S {2,}\S/.test(l); });
        if (!aligned) pre.classList.add("reader-prose");
      });
  }

  // Figures: on a phone a figure is shown at about half its size, so every figure
  // (not the animation players, which have their own controls) is a link to its own
  // image, which the browser opens full size (zoomable). The link's accessible name is
  // the image's alt text; a hint under the figure shows at narrow widths only.
  function linkFigures() {
    document.querySelectorAll("article div.cell_output img, article figure img")
      .forEach(function (img) {
        var src = img.getAttribute("src");
        if (!src || src.indexOf("data:") === 0 || img.closest("a, .animation")) return;
        var link = document.createElement("a");
        link.className = "reader-figure-link";
        link.href = src;
        img.parentNode.insertBefore(link, img);
        link.appendChild(img);
        var hint = document.createElement("span");
        hint.className = "reader-figure-hint";
        hint.setAttribute("aria-hidden", "true");  // the link itself says where it goes
        hint.textContent = "Tap the figure to open it full size";
        link.parentNode.insertBefore(hint, link.nextSibling);
      });
  }

  // Numeric cells of pandas tables align right (reader.css), like the numbers in
  // their column.
  var NUMBER = /^[-+\u2212]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?%?$|^(nan|NaN|inf|-inf)$/;
  function numericCells() {
    document.querySelectorAll("article table.dataframe td:not(.reader-num)")
      .forEach(function (td) {
        if (NUMBER.test(td.textContent.trim())) td.classList.add("reader-num");
      });
  }

  // Display equations fit the space beside their number: a formula wider than that is
  // scaled down (MathJax's CHTML output is sized in em), never below FLOOR of its
  // size; one that would need less scrolls in its own box (reader.css) and is broken
  // into lines in the chapter source instead. data-reader-scale records the scale.
  var FLOOR = 0.7;
  function fitEquations() {
    document.querySelectorAll("div.math").forEach(function (div) {
      var mjx = div.querySelector("mjx-container");
      var math = mjx && mjx.querySelector("mjx-math");
      if (!math) return;
      if (!mjx.dataset.readerSize) {
        mjx.dataset.readerSize = String(parseFloat(mjx.style.fontSize) || 100);
      }
      var size = parseFloat(mjx.dataset.readerSize);
      mjx.style.fontSize = size + "%";
      var eqno = div.querySelector(".eqno");
      var gap = eqno ? parseFloat(getComputedStyle(div).columnGap) || 0 : 0;
      var room = div.clientWidth - (eqno ? eqno.getBoundingClientRect().width + gap : 0)
                 - 2;  // sub-pixel rounding
      var need = math.getBoundingClientRect().width;
      var scale = need > room && need > 0 ? Math.max(FLOOR, room / need) : 1;
      if (scale < 1) {
        mjx.style.fontSize = (size * scale).toFixed(2) + "%";
        // em sizes round to whole pixels: shrink a little more if still too wide
        for (var i = 0; i < 5 && scale > FLOOR
             && math.getBoundingClientRect().width > room; i++) {
          scale = Math.max(FLOOR, scale - 0.01);
          mjx.style.fontSize = (size * scale).toFixed(2) + "%";
        }
      }
      div.dataset.readerScale = scale.toFixed(3);
    });
  }

  // The notebook's hide-input toggle (<summary aria-label="Toggle hidden content">
  // around "Show code cell source"): reader.py drops that aria-label in the HTML, so
  // the name is the visible text (axe: label-content-name-mismatch); this covers
  // pages built without it.
  function toggleNames() {
    document.querySelectorAll("details.hide > summary[aria-label]").forEach(function (s) {
      if (s.textContent.trim()) s.removeAttribute("aria-label");
    });
  }

  function fixAll() {
    wrapCode();
    wrapProseOutput();
    linkFigures();
    numericCells();
    fitEquations();
    toggleNames();
    tableHeaders();
    focusableScrollers();
    nameWidgetSliders();
    headerButtons();
    titleLandmark();
  }

  // MathJax (loaded async) typesets after this script runs: fit the equations and
  // name the scrollers once it has, whenever that is.
  function whenMathJaxDone(callback) {
    var tries = 0;
    (function poll() {
      var mj = window.MathJax;
      if (mj && mj.startup && mj.startup.promise) {
        mj.startup.promise.then(callback);
      } else if (tries++ < 200) {
        setTimeout(poll, 50);
      }
    })();
  }

  function start() {
    fixAll();
    var queued = false;
    new MutationObserver(function (records) {
      nameWidgetSliders();
      var math = records.some(function (r) {
        return Array.from(r.addedNodes).some(function (n) {
          return n.nodeName === "MJX-CONTAINER";
        });
      });
      if (math && !queued) {
        queued = true;
        requestAnimationFrame(function () { queued = false; fitEquations(); });
      }
    }).observe(document.body, {childList: true, subtree: true});
    var pending = null;
    window.addEventListener("resize", function () {
      fitEquations();
      focusableScrollers();
      clearTimeout(pending);  // once more after the theme re-lays out the sidebars
      pending = setTimeout(function () { fitEquations(); focusableScrollers(); }, 150);
    });
    whenMathJaxDone(fixAll);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
})();
