"""The references page in the book's citation style: author-year labels.

The chapters cite with ``bibtex_reference_style: author_year`` ("Nadaraya, 1964"), but
pybtex's default formatting styles label the bibliography list alphabetically
("[Nad64]", or garbled keys for corporate authors). This local Sphinx extension
registers a pybtex formatting style ``authoryear`` (``bibtex_default_style`` in
_config.yml) whose labels read like the citations in the text:

* one author: "Nadaraya, 1964"; two: "Mack and Silverman, 1982";
  three or more: "Vaswani et al., 2017";
* the same label twice gets "a", "b", ... after the year ("Fisher, 1936a");
* entries sorted by author, year, title.

Names are decoded from LaTeX (``H{\\"a}rdle`` reads "Härdle").
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _plain(latex: str) -> str:
    return Text.from_latex(latex).render_as("text").strip()


def author_year_label(entry: Any) -> str:
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
    if not names:
        names = [_plain(entry.fields.get("organization", entry.key))]
    if len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    year = _plain(entry.fields.get("year", "n.d."))
    return f"{who}, {year}"


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year_label(e) for e in entries]
        count, seen = Counter(labels), Counter()
        for label in labels:
            if count[label] > 1:
                seen[label] += 1
                label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            yield label


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


def setup(app: Any) -> dict[str, Any]:
    register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
