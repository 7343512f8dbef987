# Two commands for a fresh machine:  `make lab` opens the course, `make test` runs every test.
# Both create (or reuse) the virtual environment in .venv and install what they need into it.

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.nanonas-installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: lab test test-fast browser-deps lint clean site test-site

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test,ray]'
	touch $(STAMP)

# JupyterLab serves the whole course (lessons, exercises, solutions) and opens the first lesson; the address it
# prints, with its token, opens that lesson too, for machines where no browser can be started. JupyterLab refuses
# to run as root (containers, cloud notebooks, CI) unless told it may. More options for it:
#   make lab LAB_ARGS="--port 8899 --no-browser"
LAB_ARGS ?=
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

lab: $(STAMP)  ## set everything up and open the course in JupyterLab
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) --LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb $(LAB_ARGS)

# The widget tests drive JupyterLab in Debian's Chromium (a browser download is not possible everywhere).
# The grader sandboxes each submission with Debian's bubblewrap (tests/test_grader_redteam.py).
browser-deps:
	test -x /usr/bin/chromium || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }
	command -v bwrap >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q bubblewrap; }

LINTED := conftest.py nanonas_lib tests benchmarks notebooks solutions  # ruff reads .ipynb itself; exercises/ is generated

# One pytest worker per core (pytest-xdist); each file (a notebook and its claims, a module and its fixtures) runs
# whole on one worker, in order. One torch thread per process: multi-threaded torch processes sharing cores slow each
# other many times over (lesson 04's DARTS cell, 50 s alone, took 29 minutes beside another on a loaded machine). solutions/ is not collected: tests/test_exercises.py runs each solution whole.
TEST_WORKERS ?= -n auto --dist loadfile

test: $(STAMP) browser-deps  ## set everything up and run all tests: library, widgets in a browser, lessons and projects, solutions
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/nanonas exercises check
	OMP_NUM_THREADS=1 $(PY) -m pytest -q $(TEST_WORKERS) --durations=20 --nbval-lax --nbval-current-env tests notebooks

test-fast: $(STAMP)  ## the library's tests only, without the browser
	OMP_NUM_THREADS=1 $(PY) -m pytest -q $(TEST_WORKERS) -m "not browser" tests

# The course as a website in site/ (docs/site.md): lessons and projects with the outputs `make test` just computed
# (artifacts/executed/; a notebook without a fresh copy is executed here), exercises, rubrics, docs. SITE_REPO is the
# course's public GitHub repository, for the Binder and Colab buttons: set it to yours, e.g.
#   make site SITE_REPO=https://github.com/my-school/nanonas
SITE_REPO ?= https://github.com/YOUR-ORG/nanonas
SITE_BRANCH ?= main
SITE_PAGES_BRANCH ?= gh-pages

site: $(STAMP)  ## build the course's website into site/ (open site/index.html)
	OMP_NUM_THREADS=1 $(PY) -m course.site --out site --repo $(SITE_REPO) --branch $(SITE_BRANCH) \
		--pages-branch $(SITE_PAGES_BRANCH)

test-site: $(STAMP) browser-deps  ## check the built site in Chromium: console errors, figures, links, phone width, weight
	NANONAS_SITE=site $(PY) -m pytest -q tests/browser/test_site.py

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

clean:
	rm -rf $(VENV) .pytest_cache artifacts
