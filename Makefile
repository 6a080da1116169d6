# Everything installs inside the repo:
#   .venv/           the tap, its tests, the demo report (duckdb 1.2.2, matplotlib)
#   .tools/meltano/  meltano 4.4.1 (its own venv: its pins differ from the tap's)
#   .meltano/        the plugins meltano installs (tap-fibank -e ., loaders, dbt), state, logs
#   output/          the DuckDB warehouse, JSON Lines exports, the demo chart
#
#   make demo    fresh clone -> sandbox bank -> output/fibank.duckdb -> dbt build -> table + chart
#   make test    the whole test suite, end-to-end pipeline tests included
#   make run     your own account -> PostgreSQL -> dbt build (needs .env, see .env.example)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TOOLS  := .tools
MELTANO_VENV := $(TOOLS)/meltano
MELTANO      := $(MELTANO_VENV)/bin/meltano
MELTANO_VERSION := 4.4.1

# uv (used by meltano to build plugin venvs) compiles bytecode at install time, so tools do not
# recompile on every start where PYTHONDONTWRITEBYTECODE=1 is set.
export UV_COMPILE_BYTECODE := 1
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false

PIP_HINT := could not install from PyPI: check the network connection (and HTTPS_PROXY / PIP_INDEX_URL if you need them)

.PHONY: install meltano-install pipeline-install demo demo-report run run-duckdb test test-fast lint bench mutate clean help check-python

help:
	@echo "make demo     sandbox bank -> DuckDB -> dbt -> table and output/monthly_debit_credit.png"
	@echo "make test     the whole test suite (end-to-end included; PostgreSQL on 127.0.0.1:5432 optional outside CI)"
	@echo "make run      your own account -> PostgreSQL -> dbt (needs .env, see .env.example)"
	@echo "make run-duckdb  your own account -> output/fibank.duckdb -> dbt"
	@echo "make lint     ruff and mypy"
	@echo "make bench    throughput, latency, incremental and memory figures (about 3 minutes)"
	@echo "make mutate   mutation testing of the core logic against its fast tests (see README, Development)"
	@echo "make clean    remove the venvs, .meltano/ and output/"

check-python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.10 or newer, or run make PYTHON=/path/to/python3.x"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.x")'
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "Python's venv module is missing: install it (Debian/Ubuntu: apt-get install python3-venv)"; exit 1; }

$(BIN)/.installed: pyproject.toml
	@$(MAKE) --no-print-directory check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip || { echo "$(PIP_HINT)"; exit 1; }
	$(BIN)/python -m pip install --quiet -e '.[dev]' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

install: $(BIN)/.installed

# meltano in its own venv under the repo; uv comes with it.
$(MELTANO):
	@$(MAKE) --no-print-directory check-python
	$(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install --quiet uv || { echo "$(PIP_HINT)"; exit 1; }
	$(MELTANO_VENV)/bin/uv pip install --quiet --python $(MELTANO_VENV)/bin/python meltano==$(MELTANO_VERSION) || { echo "$(PIP_HINT)"; exit 1; }
	@$(MELTANO) --version

meltano-install: $(MELTANO)

# The plugins of meltano.yml (tap-fibank -e ., target-duckdb, target-postgres, target-jsonl,
# dbt-duckdb, dbt-postgres) into .meltano/. meltano skips a plugin whose pip_url did not change, so
# the tap (pip_url -e .) is reinstalled explicitly when its dependencies in pyproject.toml change.
.meltano/.installed: $(MELTANO) meltano.yml pyproject.toml
	$(MELTANO) install --clean --plugin-type extractor tap-fibank || { echo "meltano install failed: see the messages above ($(PIP_HINT))"; exit 1; }
	$(MELTANO) install || { echo "meltano install failed: see the messages above ($(PIP_HINT))"; exit 1; }
	@touch $@

pipeline-install: .meltano/.installed

$(BIN)/.report-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet 'matplotlib>=3.8' 'duckdb==1.2.2' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

# Sandbox bank (no credentials, nothing leaves the machine) -> DuckDB -> dbt build -> report.
demo: pipeline-install $(BIN)/.report-installed
	@mkdir -p output
	$(MELTANO) --environment demo run fibank-duckdb
	$(BIN)/python scripts/demo_report.py --duckdb output/fibank.duckdb --chart output/monthly_debit_credit.png

demo-report: $(BIN)/.report-installed
	$(BIN)/python scripts/demo_report.py --duckdb output/fibank.duckdb --chart output/monthly_debit_credit.png

# Your own account (credentials and the PostgreSQL connection in .env).
run: pipeline-install
	@mkdir -p output
	@test -f .env || { echo ".env is missing: cp .env.example .env and fill in TAP_FIBANK_USERNAME, TAP_FIBANK_PASSWORD and TARGET_POSTGRES_*"; exit 1; }
	$(MELTANO) --environment prod run fibank-postgres

run-duckdb: pipeline-install
	@mkdir -p output
	@test -f .env || { echo ".env is missing: cp .env.example .env and fill in TAP_FIBANK_USERNAME and TAP_FIBANK_PASSWORD"; exit 1; }
	$(MELTANO) --environment prod run fibank-duckdb

# The whole suite. The end-to-end tests (tests/test_pipeline*.py) run real meltano and dbt from
# .tools/ and .meltano/; they need PostgreSQL on 127.0.0.1:5432 for the PostgreSQL half (skipped
# with a reason when unreachable, a failure under CI=true).
test: install pipeline-install $(BIN)/.report-installed
	@mkdir -p output
	$(BIN)/python -m pytest

# Everything except the end-to-end pipeline tests.
test-fast: install
	$(BIN)/python -m pytest -m 'not e2e'

# Throughput, latency, incremental and memory figures against the sandbox (about 3 minutes;
# the 1M-entry sandbox needs about 1 GB). They print figures; they are not tests.
bench: install
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/incremental.py
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/first_sync.py

# Mutation testing (mutmut, [tool.mutmut] in pyproject.toml) of windows, bookmarks, parsing,
# directions, statement checks and login, against the fast tests that cover them; two workers.
# Not part of `make test` (it takes minutes). Verdicts are cached in mutants/: `rm -rf mutants`
# for a run from scratch. Ends with `mutation score: K/N killed`; fails under 90%.
mutate: install
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python scripts/mutation_score.py mutants/mutmut-cicd-stats.json

LINT_PATHS := $(wildcard tap_fibank tests benchmarks scripts)

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(TOOLS) .meltano output transform/target transform/logs mutants
