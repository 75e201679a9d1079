#!/usr/bin/env bash
# Vendor the JavaScript the website needs, so that no page loads anything from a CDN:
#   MathJax 3 (math), require.js + @jupyter-widgets/html-manager (static ipywidgets).
# Also axe-core for the browser test (tests/test_site.py injects it into each page
# with playwright; it is not part of the website): tests/_vendor/axe.min.js.
# Versions are pinned in .ci/package.json / .ci/package-lock.json (npm registry).
# The files land in book/_vendor/vendor/ (gitignored); _config.yml serves book/_vendor
# through Sphinx's html_static_path, so they end up under _build/html/_static/vendor/.
# Not named `_static` on purpose: Jupyter Book would add every .js/.css in a root
# `_static` folder to every page (see ../shared/TOOLCHAIN.md).
set -euo pipefail
cd "$(dirname "$0")/.."

NM=.ci/node_modules
DEST=book/_vendor/vendor

npm ci --prefix .ci --ignore-scripts --no-audit --no-fund --loglevel=error

rm -rf "$DEST"
mkdir -p "$DEST/mathjax/output/chtml/fonts" "$DEST/requirejs" "$DEST/html-manager"

# MathJax: the combined TeX/MathML -> CommonHTML component, its woff2 fonts, and the
# pieces it may load on demand (TeX extensions via autoload, the menu's a11y/SRE parts).
MJ=$NM/mathjax/es5
cp "$MJ/tex-mml-chtml.js" "$DEST/mathjax/"
cp -r "$MJ/output/chtml/fonts/woff-v2" "$DEST/mathjax/output/chtml/fonts/"
cp -r "$MJ/input" "$MJ/a11y" "$MJ/ui" "$MJ/sre" "$DEST/mathjax/"
cp "$NM/mathjax/LICENSE" "$DEST/mathjax/"

cp "$NM/requirejs/require.js" "$DEST/requirejs/"

# html-manager: the AMD bundle myst-nb loads, plus the Font Awesome fonts its CSS names.
HM=$NM/@jupyter-widgets/html-manager/dist
cp "$HM/embed-amd.js" "$HM"/*.woff2 "$HM"/*.woff "$HM"/*.ttf "$HM"/*.eot "$HM"/*.svg \
   "$DEST/html-manager/"

# axe-core: the accessibility audit of tests/test_site.py (not served by the site).
mkdir -p tests/_vendor
cp "$NM/axe-core/axe.min.js" "$NM/axe-core/LICENSE" tests/_vendor/

touch book/_vendor/.stamp
echo "vendor: $(du -sh "$DEST" | cut -f1) in $DEST"
