"""What a reader sees: layout, print and accessibility fixes of the book's own.

A local Sphinx extension (loaded from _config.yml). It adds ``reader.css`` and
``reader.js`` (in ``reader_static/`` next to this file) to every HTML page:

* display equations, code, tables and outputs stay inside the text column: a formula
  wider than the column is scaled down to a legible floor (reader.js), 88 characters
  of code fit a laptop's column and longer lines wrap with a marked continuation (on a
  phone, never leaving an empty row after a deep indentation), wide tables and
  printed outputs scroll inside their own box with a shadow at the edge that has more
  to show (printed prose wraps instead), pandas tables have padded cells and
  right-aligned numbers, the animation player's controls fit a phone's column, every
  figure links to its own image (opened full size on a phone, where it is shown at
  about half its size), and printed code wraps instead of losing its line ends;
* accessibility fixes for markup the theme and the notebook outputs bring (axe-core
  rules, checked by tests/test_site.py): in the page's HTML at build time where the
  markup is ours to change (the bibliography list's entries, the range slider of
  matplotlib's animation player, the hide-input toggle), else in reader.js (markup
  built in the browser).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

# sphinxcontrib-bibtex writes <div role="list"> whose children carry the deprecated
# role "doc-biblioentry", which a list may not contain (axe: aria-required-children).
_BIBLIOENTRY = re.compile(r'\brole="doc-biblioentry"')
# matplotlib's to_jshtml() player: <input id="_anim_slider..." type="range"
# class="anim-slider" ...> has no label (axe: label).
_ANIM_SLIDER = re.compile(r"<input\b(?P<attrs>[^>]*\bclass=\"anim-slider\"[^>]*)>")
SLIDER_LABEL = "Animation frame"
# myst-nb's hide-input toggle: <summary aria-label="Toggle hidden content"> around the
# visible "Show code cell source": a name that differs from the visible text (axe:
# label-content-name-mismatch). Without the aria-label the name is that text.
_TOGGLE_SUMMARY = re.compile(r'<summary aria-label="Toggle hidden content">')

STATIC = Path(__file__).resolve().parent / "reader_static"


def _add_static_path(app: Sphinx, config: Any) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def _fix_body(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    body = context.get("body")
    if not isinstance(body, str) or not body:
        return
    body = _BIBLIOENTRY.sub('role="listitem"', body)
    body = _TOGGLE_SUMMARY.sub("<summary>", body)
    body = _ANIM_SLIDER.sub(
        lambda m: (
            m.group(0)
            if "aria-label" in m.group("attrs")
            else f'<input aria-label="{SLIDER_LABEL}"{m.group("attrs")}>'
        ),
        body,
    )
    context["body"] = body


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _add_static_path)
    app.connect("html-page-context", _fix_body)
    app.add_css_file("reader.css")
    app.add_js_file("reader.js", loading_method="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
