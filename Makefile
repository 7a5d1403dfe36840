# Two commands for a fresh machine: `make run` and `make test`. Both build .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
# The mypyc build of domain/ (ADR 0018): rebuilt when a domain source changes; a build that
# no longer matches its sources is never loaded (domain/native_build.py).
NATIVE := $(VENV)/quire-native/manifest.json
DOMAIN_SOURCES := $(shell find domain -name '*.py')
DATA ?= ./data
HOST ?= 127.0.0.1
PORT ?= 2583

.PHONY: run test lint typecheck contracts pytest pure-pytest native bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

$(NATIVE): $(STAMP) $(DOMAIN_SOURCES) tools/build_native.py
	$(BIN)/python tools/build_native.py

native: $(NATIVE)

run: $(STAMP) $(NATIVE)
	$(BIN)/quire serve --host $(HOST) --port $(PORT) --data $(DATA)

lint: $(STAMP)
	$(BIN)/ruff check domain application adapters entrypoints tests bench tools
	$(BIN)/ruff format --check domain application adapters entrypoints tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy domain application adapters entrypoints bench tools

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP) $(NATIVE)
	$(BIN)/pytest

# The domain's own tests again, from source: the compiled and the pure modules both pass them.
pure-pytest: $(STAMP)
	QUIRE_PURE=1 $(BIN)/pytest tests/unit

test: lint typecheck contracts pytest pure-pytest

bench: $(STAMP) $(NATIVE)
	$(BIN)/python -m bench.codec
	$(BIN)/python -m bench.mst
	$(BIN)/python -m bench.commit
	$(BIN)/python -m bench.export
	$(BIN)/python -m bench.store
	$(BIN)/python -m bench.plc

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
