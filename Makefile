# Carnet: `make serve` runs the server, `make test` runs the tests; both set up .venv from nothing.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080
DATA_DIR ?= ./var
WORKERS ?= 1

.PHONY: serve test bench clean

$(PY):
	@PYTHON=$$(bash .ci/find-python) && echo "using $$PYTHON" && $$PYTHON -m venv $(VENV)

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/carnet serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) --workers $(WORKERS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/crud.py

clean:
	rm -rf $(VENV) var
