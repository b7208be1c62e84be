# tinyml — entry points. `make demo` (setup + tinyml deploy), `make test` (the CI suite).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-fast bench clean

setup:
	bash scripts/setup.sh

# Set up, then data to a measured (emulated) device in one command.
demo: setup
	$(VENV)/bin/tinyml deploy

# The whole suite: unit, host C, slow (training) and emulator tests.
test:
	$(PY) -m pytest -ra -q

# Everything but the slow training runs and the emulator.
test-fast:
	$(PY) -m pytest -ra -q -m "not slow and not emu"

bench:
	$(PY) benchmarks/deploy_time.py
	$(PY) benchmarks/pipeline_time.py
	$(PY) benchmarks/aot_models.py

clean:
	rm -rf runs .pytest_cache .pio build
