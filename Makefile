# Carnet: `make serve` runs the server, `make test` runs the tests; both set up .venv from nothing.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080
DATA_DIR ?= ./var
WORKERS ?= 0
# pytest processes (pytest-xdist): one per core of the 2-core CI machine; TEST_WORKERS=0 runs in this process
TEST_WORKERS ?= 2

.PHONY: serve test lint bench clean browser

$(PY):
	@PYTHON=$$(bash .ci/find-python) && echo "using $$PYTHON" && $$PYTHON -m venv $(VENV)

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/carnet serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) --workers $(WORKERS)

# the second leg: the HTTP suites again on the MongoDB adapter, over mongoeco in process (tests/search
# and tests/storage run both adapters themselves; MONGO_LEG= skips this leg)
MONGO_LEG ?= tests/rest tests/bundles tests/documents tests/leaks tests/operations tests/dmp tests/auth tests/integrity \
	tests/export \
	tests/consent/test_consent_state.py tests/test_loader.py

# lint, import order, format, then strict typing (settings: pyproject.toml for ruff, setup.cfg for mypy)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: $(STAMP) browser lint
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)
	$(if $(strip $(MONGO_LEG)),MONGODB_URI=mongoeco:// $(PY) -m pytest -n $(TEST_WORKERS) $(MONGO_LEG))

# the portal's browser tests (tests/portal) drive Debian's chromium: installed here when missing
# and running as root (CI); elsewhere they skip, saying so, unless CARNET_REQUIRE_BROWSER=1
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests"; \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium) \
	      || echo "chromium could not be installed: the browser tests will skip" >&2; \
	  else \
	    echo "chromium is missing (install it as root: apt-get install chromium): the browser tests will skip" >&2; \
	  fi; }

bench: $(STAMP)
	$(PY) bench/crud.py

clean:
	rm -rf $(VENV) var
