# Two commands on a fresh machine: `make demo` (all tracks end to end on the synthetic corpus, writing
# a report) and `make test` (the test suite). Both create .venv and install what they need when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_DIR ?= runs/demo
PYTEST_WORKERS ?= 2

.PHONY: demo test bench clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/exvo-jax demo --out $(DEMO_DIR)

test: $(INSTALLED)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=15

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.frechet
	$(BIN)/python -m benchmarks.multitask
	$(BIN)/python -m benchmarks.fewshot
	$(BIN)/python -m benchmarks.generate
	$(BIN)/python -m benchmarks.logmel
	$(BIN)/python -m benchmarks.inversion
	$(BIN)/python -m benchmarks.sharding

clean:
	rm -rf $(VENV) runs .pytest_cache
