"""Keep the built website self-contained: no page loads anything from the internet.

A local Sphinx extension (loaded from _config.yml, so it runs inside every build):

* removes the Font Awesome stylesheet link from a CDN that matplotlib's
  ``Animation.to_jshtml()`` output carries (the theme's own bundled Font Awesome
  draws the player's icons);
* gives images that myst-nb's ``mystnb: image: alt:`` cell metadata cannot reach an
  alt text: the frame of a ``to_jshtml()`` animation and images inside ipywidgets
  outputs (rendered in the browser) take the cell's ``mystnb: image: alt:`` when it
  has one, else a generic description;
* on pages with ipywidgets outputs, points require.js at the vendored html-manager
  (so its fonts load) and provides ``MathJax.Hub.Queue`` (the MathJax 2 call
  @jupyter-widgets/html-manager makes) on top of MathJax 3;
* warns (an error under ``-W``) about any script, stylesheet, image, frame or media
  that a page would still load from another host.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# matplotlib's animation HTML starts with
#   <link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/...">
_FONT_AWESOME_CDN = re.compile(
    r"""<link\b[^>]*?\bhref\s*=\s*["']?(?:https?:)?//[^"'\s>]*font-?awesome[^>]*>\s*""",
    re.IGNORECASE | re.DOTALL,
)

# matplotlib's frame image: <img id="_anim_img<hex>"> (no alt attribute)
_ANIM_IMG = re.compile(r"""<img\b(?P<attrs>[^>]*?\bid\s*=\s*["']_anim_img[^>]*)>""",
                       re.IGNORECASE | re.DOTALL)
_HAS_ALT = re.compile(r"""\balt\s*=""", re.IGNORECASE)
ANIMATION_ALT = "Animation frame (step through the frames with the player buttons below)"
WIDGET_VIEW = '<script type="application/vnd.jupyter.widget-view+json">'
WIDGET_IMAGE_ALT = ("Output of the interactive widget as it was when the page was built "
                    "(run the notebook to interact)")

# html-manager renders a widget view into a div.widget-subarea inserted just before
# the view's <script>; images in widget outputs come without alt text. Give them the
# cell's alt text (data-image-alt, set at build time) or the generic one.
WIDGET_ALT_JS = """\
(function () {
  var fallback = %s;
  var sel = 'script[type="application/vnd.jupyter.widget-view+json"]';
  function label() {
    document.querySelectorAll(sel).forEach(function (view) {
      var area = view.previousElementSibling;
      if (!area || !area.classList.contains("widget-subarea")) { return; }
      var alt = view.getAttribute("data-image-alt") || fallback;
      area.querySelectorAll("img").forEach(function (img) {
        if (!(img.getAttribute("alt") || "").trim()) { img.setAttribute("alt", alt); }
      });
    });
  }
  function watch() {
    document.querySelectorAll(sel).forEach(function (view) {
      new MutationObserver(label).observe(view.parentElement,
                                          {childList: true, subtree: true});
    });
    label();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else { watch(); }
})();
"""

# Things a browser fetches by itself when it renders the page. Plain <a href> links
# are not fetched and are fine.
_EXTERNAL_RESOURCE = re.compile(
    r"""<(?P<tag>script|link|img|iframe|source|video|audio|embed|object|track)\b[^>]*?"""
    r"""\b(?:src|href|data|poster|srcset)\s*=\s*["']?(?P<url>(?:https?:)?//[^"'\s>]+)"""
    r"""|url\(\s*["']?(?P<cssurl>(?:https?:)?//[^"')\s]+)""",
    re.IGNORECASE | re.DOTALL,
)

# html-manager (ipywidgets 8 embedding) calls MathJax.Hub.Queue(["Typeset", Hub, el]),
# the MathJax 2 API. This runs after Sphinx's `window.MathJax = {...}` configuration
# and before the (deferred) MathJax 3 script: it adds Hub once MathJax has started.
MATHJAX_HUB_SHIM = """\
(function () {
  function typesetLater(args) {
    var mj = window.MathJax;
    var ready = (mj.startup && mj.startup.promise) || Promise.resolve();
    return ready.then(function () {
      var jobs = [];
      Array.prototype.forEach.call(args, function (job) {
        if (Array.isArray(job) && job[0] === "Typeset" && mj.typesetPromise) {
          jobs.push(mj.typesetPromise(job[2] ? [job[2]] : undefined));
        } else if (typeof job === "function") {
          jobs.push(job());
        }
      });
      return Promise.all(jobs);
    });
  }
  function addHub(mj) {
    if (mj && !mj.Hub) {
      mj.Hub = {Queue: function () { return typesetLater(arguments); }};
    }
  }
  var mj = window.MathJax;
  if (!mj) { return; }              /* no math on this page: html-manager skips MathJax */
  if (mj.version) { addHub(mj); return; }   /* MathJax 3 already running */
  mj.startup = mj.startup || {};
  var userReady = mj.startup.ready;
  mj.startup.ready = function () {
    addHub(window.MathJax);
    if (userReady) { userReady(); } else { window.MathJax.startup.defaultReady(); }
  };
})();
"""


# html-manager's bundle names its AMD modules "@jupyter-widgets/..." and finds its
# Font Awesome fonts next to the module's require.js URL, which by default is relative
# to the page (book/@jupyter-widgets/html-manager/dist/*.woff2: not found). Point
# require.js at the vendored folder; %s is that folder relative to the page.
REQUIRE_CONFIG = """\
require.config({paths: {"@jupyter-widgets/html-manager/dist":
  new URL(%s, document.baseURI).href.replace(/\\/$/, "")}});
"""


def _asset_url(asset: Any) -> str:
    return str(getattr(asset, "filename", asset) or "")


def _is_external(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def _cell_image_alt(cell: nodes.Element) -> str | None:
    meta = cell.get("cell_metadata") or {}
    image = (meta.get("mystnb") or {}).get("image") or {}
    alt = image.get("alt") if isinstance(image, dict) else None
    return str(alt).strip() if alt else None


def _label_cell_outputs(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Carry a code cell's ``mystnb: image: alt:`` to its raw HTML outputs."""
    for cell in list(doctree.findall(nodes.container)):
        if cell.get("nb_element") != "cell_code":
            continue
        alt = _cell_image_alt(cell)
        if not alt:
            continue
        esc = html.escape(alt, quote=True)
        for raw in list(cell.findall(nodes.raw)):
            if "html" not in raw.get("format", "").split():
                continue
            text = raw.astext()
            new = _ANIM_IMG.sub(
                lambda m: m.group(0) if _HAS_ALT.search(m.group("attrs"))
                else f'<img alt="{esc}"{m.group("attrs")}>', text)
            new = new.replace(WIDGET_VIEW, WIDGET_VIEW[:-1] + f' data-image-alt="{esc}">')
            if new != text:
                raw.replace_self(nodes.raw("", new, format=raw["format"]))


def _process_page(app: Sphinx, pagename: str, templatename: str,
                  context: dict[str, Any], doctree: Any) -> None:
    if app.builder is None or app.builder.format != "html":
        return

    body = context.get("body")
    if isinstance(body, str) and body:
        body = _FONT_AWESOME_CDN.sub("", body)
        body = _ANIM_IMG.sub(
            lambda m: m.group(0) if _HAS_ALT.search(m.group("attrs"))
            else f'<img alt="{ANIMATION_ALT}"{m.group("attrs")}>',
            body,
        )
        context["body"] = body
        for m in _EXTERNAL_RESOURCE.finditer(body):
            what = m.group("tag") or "css url()"
            url = m.group("url") or m.group("cssurl")
            logger.warning("page %s loads %s from another host: %s (the site must work "
                           "offline: vendor it or drop it)", pagename, what, url,
                           location=pagename, type="offline_site", subtype="external")

    scripts = [_asset_url(s) for s in context.get("script_files", [])]
    styles = [_asset_url(s) for s in context.get("css_files", [])]
    for url in scripts + styles:
        if _is_external(url):
            logger.warning("page %s loads %s from another host (the site must work "
                           "offline: vendor it)", pagename, url,
                           location=pagename, type="offline_site", subtype="external")

    embed = [url for url in scripts if url.endswith("embed-amd.js")]
    if embed and not _is_external(embed[0]):
        # Builder.add_js_file during html-page-context adds to this page only (it
        # appends to the list this context holds; Sphinx resets it for the next page).
        script_files = context["script_files"]
        where = scripts.index(embed[0])
        folder = context["pathto"](embed[0].rsplit("/", 1)[0], 1)  # "_static/..."
        app.builder.add_js_file("", body=REQUIRE_CONFIG % json.dumps(folder))
        script_files.insert(where, script_files.pop())  # run before embed-amd.js
        app.builder.add_js_file("", body=MATHJAX_HUB_SHIM)
        app.builder.add_js_file("", body=WIDGET_ALT_JS % json.dumps(WIDGET_IMAGE_ALT))


def setup(app: Sphinx) -> dict[str, Any]:
    # After sphinx.ext.mathjax (priority 500) and myst-nb have added their scripts.
    app.connect("doctree-resolved", _label_cell_outputs)
    app.connect("html-page-context", _process_page, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
