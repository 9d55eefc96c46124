# segcli developer tasks. Every target sets up .venv first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR := data/demo
DEMO_AS_OF := 2026-11-20

.PHONY: setup demo test coverage lint format bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	touch $(STAMP)

$(DEMO_DIR)/sales.parquet: | $(STAMP)
	mkdir -p $(DEMO_DIR)
	$(BIN)/segcli generate --customers 50000 --seed 42 --out $(DEMO_DIR)/sales.parquet --items $(DEMO_DIR)/items.parquet

demo: $(STAMP) $(DEMO_DIR)/sales.parquet
	$(BIN)/segcli segment --source $(DEMO_DIR)/sales.parquet --items $(DEMO_DIR)/items.parquet \
		--as-of $(DEMO_AS_OF) --days 90 --format table

test: $(STAMP)
	$(BIN)/python -m pytest

# The whole suite under coverage, including `segcli serve` subprocesses (patch = subprocess
# in pyproject.toml); slower than `make test`, so a separate target.
coverage: $(STAMP)
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report --skip-covered

lint: $(STAMP)
	$(BIN)/ruff format --check segcli tests bench
	$(BIN)/ruff check segcli tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format segcli tests bench
	$(BIN)/ruff check --fix segcli tests bench

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
