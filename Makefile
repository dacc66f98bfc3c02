# diaban: `make demo` sets everything up and serves the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DIABAN := $(BIN)/diaban
DEMO_DIR := .diaban/demo
DEMO_SEED ?= 1
DEMO_YEARS ?= 3
DEMO_INCIDENTS ?= 30000
VENDOR := maps/static/vendor/.installed
TEST_NPM := tests/browser/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-deep test-fast lint typecheck format system-deps test-system-deps venv db demo-data bench wheel bundle clean

system-deps:
	./scripts/system-deps.sh

test-system-deps:
	./scripts/system-deps.sh test

# Leaflet and Leaflet.VectorGrid from the npm registry (locked), copied where the app serves them: no CDN.
$(VENDOR): package.json package-lock.json
	npm ci --no-audit --no-fund
	mkdir -p maps/static/vendor/leaflet maps/static/vendor/vectorgrid
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images \
		maps/static/vendor/leaflet/
	cp node_modules/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js maps/static/vendor/vectorgrid/
	touch $@

# Test-only browser tooling (axe-core for tests/browser/test_accessibility.py), locked in its own package under
# tests/browser/node_modules: never copied into maps/static, so neither served nor packed in the wheel.
$(TEST_NPM): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: system-deps $(VENV)/.installed $(VENDOR)

db: venv
	$(DIABAN) db start

demo-data: db
	$(DIABAN) boundaries import
	$(DIABAN) demo-data generate --seed $(DEMO_SEED) --years $(DEMO_YEARS) --incidents $(DEMO_INCIDENTS) --out $(DEMO_DIR)
	$(DIABAN) incidents import $(DEMO_DIR)/incidents.csv --rejects $(DEMO_DIR)/rejects.csv
	$(DIABAN) indicators import $(DEMO_DIR)/indicators.csv
	$(DIABAN) users demo
	$(DIABAN) demo-data lifecycle
	$(DIABAN) demo-data classification

demo: demo-data
	$(DIABAN) serve --host $(HOST) --port $(PORT)

# Two pytest workers, each file whole on one worker (its module fixtures, e.g. the browser's city, built once):
# 565 s instead of 889 s for the suite on 2 cores (load 0.3-4 against 2.5-3). TEST_WORKERS=0 runs in one process.
# Files are handed out in collection order, the longest first (tests/conftest.py HEAVY_FIRST), not xdist's order.
TEST_WORKERS ?= 2
test: test-system-deps venv $(TEST_NPM)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The same suite with the fuzzers and property-based tests trying several times as many cases (tests/conftest.py
# DEEP): for a run before a release, not bound by `make test`'s time budget.
test-deep:
	DIABAN_TEST_DEEP=1 $(MAKE) test

# The pure tests (no database, no browser): seconds, for the edit-test loop.
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m "not db and not browser and not slow"

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# A wheel that runs without the checkout (tests/ops/test_wheel.py installs one and serves the pages): the packages
# with their data (criteria, targets, migrations, styles, scripts and the vendored Leaflet built above).
# build/ is removed first: setuptools copies modules there and would pack a stale one from an older layout.
wheel: $(VENV)/.installed $(VENDOR)
	rm -rf build dist
	$(BIN)/pip wheel --no-deps --wheel-dir dist .

# The offline bundle (README, *Installing on a closed network*): dist/diaban-<version>-offline-<python>-<machine>.tar.gz
# with that wheel, its runtime dependencies as wheels at the venv's versions, install.sh, the Debian packages to run
# and SHA256SUMS (scripts/bundle.sh). Built where PyPI is reachable, on the target's Debian release and machine, for
# the target's Python: TARGET_PYTHON, the venv's by default (on Debian 12 its python3, 3.11.2).
TARGET_PYTHON ?= $(BIN)/python
bundle: wheel
	./scripts/bundle.sh $(BIN)/python dist/diaban-*.whl dist $(TARGET_PYTHON)

bench: venv
	./scripts/system-deps.sh bench
	$(BIN)/pip install -q -e '.[test,bench]'
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	-$(DIABAN) db stop
	rm -rf $(VENV) .diaban
