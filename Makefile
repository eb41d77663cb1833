# Concierge: `make run` serves the demo bank, `make test` runs the whole suite.
# Both create .venv and install into it on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CUSTOMERS ?= 300
SEED ?= 7
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Seeds once (later runs keep the bank), prints the URL and demo sign-ins for HOST:PORT, serves.
run: $(STAMP)
	CONCIERGE_HOST=$(HOST) CONCIERGE_PORT=$(PORT) \
		$(BIN)/concierge seed --customers $(CUSTOMERS) --seed $(SEED) --if-empty
	$(BIN)/concierge serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf var/*.db var/*.db-* .pytest_cache .mypy_cache .ruff_cache
