# tinyml — developer entry points. `make setup` once, then `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup test test-fast bench clean

setup:
	bash scripts/setup.sh

# The whole suite: unit, host C, slow (training) and emulator tests.
test:
	$(PY) -m pytest -ra -q

# Everything but the slow training runs and the emulator.
test-fast:
	$(PY) -m pytest -ra -q -m "not slow and not emu"

bench:
	$(PY) benchmarks/pipeline_time.py
	$(PY) benchmarks/aot_models.py

clean:
	rm -rf runs .pytest_cache .pio build
