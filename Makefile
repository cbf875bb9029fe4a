# The two commands: `make book` and `make test`. Both create or reuse .venv from python3.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?= default
DATA_ROOT ?=
PIP_VERSION := 26.3

.PHONY: install test test-fast book figures constraints lint clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make test: unit tests, every notebook in the smoke profile, a strict book build from those outputs and a
## headless-Chromium check of every page (screenshots in test-artifacts/; Chromium installed with apt-get if missing)
test: $(STAMP)
	$(PY) -m pytest

## make test-fast: the sub-minute loop
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

## make book [PROFILE=default|smoke|paper] [DATA_ROOT=/path/to/datasets]
book: $(STAMP)
	$(PY) -m xaikit book --profile $(PROFILE) $(if $(DATA_ROOT),--data-root "$(DATA_ROOT)")

## make figures [PROFILE=default|smoke|paper] [DATA_ROOT=...]: every figure and table again from the model cache,
## into results/<study>/<profile>/base; fails (never trains) when a model is not cached
figures: $(STAMP)
	$(PY) -m xaikit figures --profile $(PROFILE) $(if $(DATA_ROOT),--data-root "$(DATA_ROOT)")

## make constraints: re-resolve every transitive pin from pyproject.toml into constraints.txt and environment.yml
constraints:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip==$(PIP_VERSION)
	.venv-lock/bin/python -m pip install --quiet -e ".[dev]"
	.venv-lock/bin/python -m pip freeze --all --exclude-editable \
	  | grep -E '^[A-Za-z0-9_.-]+==' | grep -vE '^(pip|xaikit)==' | LC_ALL=C sort -f > constraints.txt
	$(PYTHON) tools/sync_environment.py
	rm -rf .venv-lock

lint: $(STAMP)
	$(PY) -m ruff check xaikit tests benchmarks tools

clean:
	rm -rf _build book/_generated results test-artifacts
