# salesplan: the two commands a new user runs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
DEMO_OUT ?= demo-output

.PHONY: demo test lint bench clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[plots]"
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(STAMP_RUN)

venv: $(STAMP_DEV)

## demo: set up .venv and run the main job on the shipped example scenario
demo: $(STAMP_RUN)
	$(BIN)/salesplan demo --out $(DEMO_OUT)

## test: set up .venv with the dev extra, lint, and run the whole test suite
test: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP_DEV)
	$(BIN)/ruff check .

## bench: the performance benchmarks (not part of the test run)
bench: $(STAMP_DEV)
	$(BIN)/python -m salesplan.benchmarks

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache
