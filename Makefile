# riskmap: `make run` serves the dashboard, `make test` runs every check. Both set up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
STORE ?= data/incidents.gpkg
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench bench-app bench-browser bench-browser-sizes bench-import bench-load \
	sample clean

setup: $(STAMP) $(STORE)

# Reinstall only when pyproject.toml changed since the last install. pycanon (an independent
# k-anonymity checker, for the tests) pins old numpy and pandas exactly; its checks need only
# what is installed already, so it is installed without its pins.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench,postgis]'
	$(BIN)/python -m pip install --quiet --no-deps 'pycanon>=1.3.6'
	touch $(STAMP)

# The sample store is built from the committed sample CSV when it is absent, published (the
# synthetic sample needs no review), by an identity allowed to publish for this one command.
SAMPLE_PUBLISHER := sample@riskmap.invalid
$(STORE): | $(STAMP)
	RISKMAP_PUBLISHERS=$(SAMPLE_PUBLISHER) $(BIN)/riskmap import \
		riskmap/data/sample_incidents.csv --store $(STORE) --publish --as $(SAMPLE_PUBLISHER)

run: setup
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup lint
	$(BIN)/python -m pytest

# Every figure as JSON lines: the Python side (load, filter, map, release, naive map), then the
# whole app and the browser at 1k / 100k / 1M incidents. Long (an hour on a 2-core machine).
bench: setup
	$(BIN)/python benchmarks/run.py
	$(MAKE) bench-app bench-browser-sizes bench-import

# Whole app runs (AppTest): first visit with the release built, then loaded from beside the
# store; reruns after a filter change; the release's build, cache write and load.
bench-app: setup
	$(BIN)/python benchmarks/run.py --sizes 100000 1000000 --runs 5 --load-runs 1 \
		--no-baseline --app

# Page open -> map drawn and filter -> map updated, in Debian's chromium (median of 5).
bench-browser: setup
	$(BIN)/python benchmarks/browser.py --store $(STORE)

# The same at 1k / 100k / 1M synthetic incidents, the naive folium page and the machine's floor
# (the least page with a map) beside riskmap.
bench-browser-sizes: setup
	$(BIN)/python benchmarks/browser.py --sizes 1000 100000 1000000 --naive --floor --runs 5

# Import of 1 and 10k rows into stores of 10k / 100k / 1M and of 100k rows into 100k, GeoPackage
# and a throwaway PostGIS (CPU time per run beside the wall clock; --stages for a breakdown).
bench-import: setup
	$(BIN)/python benchmarks/import_bench.py

# A burst of visitors (1, 10, 50 at once) on a running server, the sample and the 100k store:
# server CPU seconds per visitor, RSS, p50/p95 open -> map and filter -> map, errors.
bench-load: setup
	$(BIN)/python benchmarks/load.py --store $(STORE) --sizes 100000 --visitors 1 10 50

sample: $(STAMP)
	$(BIN)/riskmap sample -o riskmap/data/sample_incidents.csv

clean:
	rm -rf $(VENV) $(STORE) $(STORE).release.parquet $(STORE).release.json .pytest_cache \
		.mypy_cache .ruff_cache
