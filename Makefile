# The two commands in the README: `make site` (set up, build the website) and
# `make test` (set up, run every test). Everything else is a step they share.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: site pdf test unit lint env vendor browser tex clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

env: $(STAMP)

# MathJax and the widget JavaScript, served from the book itself (no CDN):
# npm ci from the committed .ci/package-lock.json, files copied to book/_vendor/.
VENDOR_STAMP := book/_vendor/.stamp
$(VENDOR_STAMP): .ci/package.json .ci/package-lock.json .ci/vendor.sh
	.ci/vendor.sh

vendor: env $(VENDOR_STAMP)

# Clean build of the website, every chapter executed, warnings are errors. The
# chapters' kernels first run book/_ext/figure_audit.py (an IPython startup file, found
# through IPYTHONDIR, set here only): it records the texts of every figure they draw in
# _build/figure_audit/, which tests/test_site.py judges (size as displayed, overlaps).
AUDIT_IPYTHONDIR := $(CURDIR)/_build/ipython
site: vendor
	rm -rf _build
	mkdir -p $(AUDIT_IPYTHONDIR)/profile_default/startup
	cp book/_ext/figure_audit.py $(AUDIT_IPYTHONDIR)/profile_default/startup/00-figure-audit.py
	IPYTHONDIR=$(AUDIT_IPYTHONDIR) FIGURE_AUDIT_DIR=$(CURDIR)/_build/figure_audit \
	  $(BIN)/jupyter-book build . -W -n --keep-going

# Debian's chromium for the browser test (see ../shared/TOOLCHAIN.md; never `playwright install`).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# Debian's TeX for the PDF (Jupyter Book's LaTeX builder runs xelatex through latexmk;
# Sphinx's xelatex setup uses the FreeFont fonts).
tex:
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null || { \
	  apt-get update -qq && apt-get install -y -qq texlive-xetex latexmk \
	    texlive-latex-extra texlive-fonts-recommended fonts-freefont-otf >/dev/null; }

# The whole book as one PDF, built from the execution cache `make site` left in _build
# (nothing runs twice), warnings are errors; copied into the website, whose landing
# page links to it.
PDF := attention-pooling.pdf
pdf: vendor tex
	$(BIN)/jupyter-book build . --builder pdflatex -W -n --keep-going
	mkdir -p _build/html
	cp _build/latex/$(PDF) _build/html/$(PDF)

# Unit tests, exercise/solution sync, nbval over solutions/, the browser test
# over a fresh, clean build of the site and its PDF, and the exercises run in JupyterLab
# and Notebook 7 (tests/test_jupyterlab.py: a server on 127.0.0.1, driven by chromium).
test: lint site pdf browser
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-current-env --nbval --nbval-cell-timeout=300 tests solutions
	$(BIN)/python -m pytest -p no:cacheprovider -q --doctest-modules nwlib

# The unit tests alone, in about a minute: no site build, no browser, no nbval, and
# no test marked slow (such as the `pip install .` into an empty venv); then the
# Examples sections of nwlib's docstrings, run as doctests.
unit: env
	$(BIN)/python -m pytest -p no:cacheprovider -q -m "not slow and not browser" \
		--ignore=tests/test_site.py tests
	$(BIN)/python -m pytest -p no:cacheprovider -q --doctest-modules nwlib

# ruff (configured in pyproject.toml) over the package, the tests and the benchmarks:
# the linter, then the formatter in check mode (it changes nothing, it fails on a diff).
lint: env
	$(BIN)/ruff check nwlib tests benchmarks
	$(BIN)/ruff format --check nwlib tests benchmarks

clean:
	rm -rf _build
