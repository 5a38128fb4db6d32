# Two commands on a fresh machine: `make demo` (all tracks end to end on the synthetic corpus, writing
# an HTML report) and `make test` (the test suite). Both create .venv and install what they need when
# missing; `make test` also installs Debian's chromium and chromium-driver (apt-get, as root) when absent.
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

# The HTML report is checked in headless Chromium: Debian's chromium and chromium-driver (as root).
BROWSER := /usr/bin/chromium /usr/bin/chromedriver

$(BROWSER):
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver

# --dist loadgroup: the demo and report tests (xdist_group "demo") share one tiny demo run on one worker.
test: $(INSTALLED) $(BROWSER)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=15

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.frechet
	$(BIN)/python -m benchmarks.multitask
	$(BIN)/python -m benchmarks.fewshot
	$(BIN)/python -m benchmarks.fewshot_ridge
	$(BIN)/python -m benchmarks.generate
	$(BIN)/python -m benchmarks.classifier_features
	$(BIN)/python -m benchmarks.logmel
	$(BIN)/python -m benchmarks.inversion
	$(BIN)/python -m benchmarks.sharding

clean:
	rm -rf $(VENV) runs .pytest_cache
