# Set-up, demo and tests. Every target creates .venv when missing and installs what it needs:
# fischer_sc with its test and doc extras, every first-party plugin under plugins/, and torch
# as the CPU build. Nothing needs to be installed by hand.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.fischer_sc-installed
TORCH ?= torch==2.13.0

export MPLBACKEND := agg
export PYTHONHASHSEED := 0

.PHONY: setup demo test pytest pytest-no-tutorials lint docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install when the package or a plugin changes its metadata.
$(STAMP): $(PY) pyproject.toml $(addsuffix pyproject.toml,$(PLUGINS))
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[test,doc,dev]" $(addprefix -e ,$(PLUGINS))
	touch $@

setup: $(STAMP)

demo: $(STAMP)
	$(PY) -m fischer_sc.demo --out results

# In `make test` the docs build executes every tutorial and fails on an error in any cell, so
# pytest does not run them a second time; `make pytest` runs everything.
test: lint pytest-no-tutorials docs

# ruff; the package's layers (import-linter, contracts in pyproject.toml); undeclared or unused
# dependencies of the package and of every plugin (deptry). Each fails the build when broken.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/deptry src
	for p in $(PLUGINS); do (cd $$p && $(abspath $(VENV))/bin/deptry src) || exit 1; done

pytest: $(STAMP)
	$(PY) -m pytest

pytest-no-tutorials: $(STAMP)
	$(PY) -m pytest --deselect tests/test_tutorials.py::test_tutorial_runs

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) results docs/_build docs/generated docs/jupyter_execute
