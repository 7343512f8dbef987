# Two commands for a fresh machine:  `make lab` opens the course, `make test` runs every test.
# Both create (or reuse) the virtual environment in .venv and install what they need into it.

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.nanonas-installed

.PHONY: lab test test-fast lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lab: $(STAMP)  ## set everything up and open the course in JupyterLab
	$(VENV)/bin/jupyter lab notebooks/00_welcome.ipynb

test: $(STAMP)  ## set everything up and run all tests: library, notebooks (nbval)
	$(VENV)/bin/ruff check nanonas_lib tests benchmarks
	$(PY) -m pytest -q --nbval-lax --nbval-current-env tests notebooks

test-fast: $(STAMP)  ## the library's tests only
	$(PY) -m pytest -q tests

lint: $(STAMP)
	$(VENV)/bin/ruff check nanonas_lib tests benchmarks
	$(VENV)/bin/ruff format --check nanonas_lib/nanonas/core.py

clean:
	rm -rf $(VENV) .pytest_cache artifacts
