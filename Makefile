# Two commands for a fresh machine: `make run` and `make test`. Both build .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
DATA ?= ./data
HOST ?= 127.0.0.1
PORT ?= 2583

.PHONY: run test lint typecheck contracts pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/quire serve --host $(HOST) --port $(PORT) --data $(DATA)

lint: $(STAMP)
	$(BIN)/ruff check domain application adapters entrypoints tests bench
	$(BIN)/ruff format --check domain application adapters entrypoints tests bench

typecheck: $(STAMP)
	$(BIN)/mypy domain application adapters entrypoints bench

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck contracts pytest

bench: $(STAMP)
	$(BIN)/python -m bench.codec
	$(BIN)/python -m bench.mst
	$(BIN)/python -m bench.commit
	$(BIN)/python -m bench.export
	$(BIN)/python -m bench.store
	$(BIN)/python -m bench.plc

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
