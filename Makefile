# Everything installs inside the repo:
#   .venv/           the tap, its tests, the demo report (duckdb 1.2.2, matplotlib)
#   .tools/meltano/  meltano 4.4.1 (its own venv: its pins differ from the tap's)
#   .meltano/        the plugins meltano installs (tap-fibank -e ., loaders, dbt), state, logs
#   output/          the DuckDB warehouse, JSON Lines exports, the demo chart
#
#   make demo    fresh clone -> sandbox bank -> output/fibank.duckdb -> dbt build -> table + chart
#   make test    the whole test suite, end-to-end pipeline tests included
#   make run     your own account -> PostgreSQL -> dbt build (needs .env, see .env.example)
#   make orchestrate-demo  three sandbox logins through the Dagster job into PostgreSQL
#   make test-orchestrate  Dagster and Airflow end to end (.tools/dagster, .tools/airflow)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TOOLS  := .tools
MELTANO_VENV := $(TOOLS)/meltano
MELTANO      := $(MELTANO_VENV)/bin/meltano
MELTANO_VERSION := 4.4.1
UV           := $(MELTANO_VENV)/bin/uv
# The orchestrators, each in its own venv with the orchestrate/ package (pins in orchestrate/pyproject.toml).
DAGSTER_VENV := $(TOOLS)/dagster
AIRFLOW_VENV := $(TOOLS)/airflow

# uv (used by meltano to build plugin venvs) compiles bytecode at install time, so tools do not
# recompile on every start where PYTHONDONTWRITEBYTECODE=1 is set.
export UV_COMPILE_BYTECODE := 1
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false

PIP_HINT := could not install from PyPI: check the network connection (and HTTPS_PROXY / PIP_INDEX_URL if you need them)

.PHONY: install meltano-install pipeline-install demo demo-report run run-duckdb test test-fast lint bench clean help check-python \
	orchestrate-install orchestrate-demo test-orchestrate

help:
	@echo "make demo     sandbox bank -> DuckDB -> dbt -> table and output/monthly_debit_credit.png"
	@echo "make test     the whole test suite (end-to-end included; PostgreSQL on 127.0.0.1:5432 optional outside CI)"
	@echo "make run      your own account -> PostgreSQL -> dbt (needs .env, see .env.example)"
	@echo "make run-duckdb  your own account -> output/fibank.duckdb -> dbt"
	@echo "make orchestrate-demo  three sandbox logins through the Dagster job into PostgreSQL (PG* variables)"
	@echo "make test-orchestrate  Dagster and Airflow end to end against the sandbox and PostgreSQL (about 6 minutes)"
	@echo "make lint     ruff and mypy"
	@echo "make bench    throughput, latency, incremental and memory figures (about 3 minutes)"
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

# Meltano's system database in PostgreSQL (MELTANO_DATABASE_URI=postgresql+psycopg://...) needs psycopg.
$(MELTANO_VENV)/.postgres: $(MELTANO)
	$(UV) pip install --quiet --python $(MELTANO_VENV)/bin/python 'meltano[postgres]==$(MELTANO_VERSION)' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

meltano-install: $(MELTANO) $(MELTANO_VENV)/.postgres

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

# Dagster (with dagster-dbt and dbt-postgres) and Airflow, each in its own venv with orchestrate/.
$(DAGSTER_VENV)/.installed: orchestrate/pyproject.toml $(MELTANO)
	rm -rf $(DAGSTER_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(DAGSTER_VENV)
	$(UV) pip install --quiet --python $(DAGSTER_VENV)/bin/python -e 'orchestrate[dagster,dev]' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

$(AIRFLOW_VENV)/.installed: orchestrate/pyproject.toml $(MELTANO)
	rm -rf $(AIRFLOW_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(AIRFLOW_VENV)
	$(UV) pip install --quiet --python $(AIRFLOW_VENV)/bin/python -e 'orchestrate[airflow]' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

orchestrate-install: pipeline-install $(MELTANO_VENV)/.postgres $(DAGSTER_VENV)/.installed $(AIRFLOW_VENV)/.installed

# Three sandbox logins -> the Dagster job in process (no daemon) -> PostgreSQL (PG* variables,
# default 127.0.0.1:5432 user postgres database postgres) -> dbt; a line per login.
orchestrate-demo: install orchestrate-install
	$(BIN)/python scripts/orchestrate_demo.py

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

# The orchestrators end to end (Dagster in process, `airflow dags test`, state shared by two
# workers in PostgreSQL): slow, so not part of `make test`; .ci/run runs it after it.
test-orchestrate: install orchestrate-install
	cd orchestrate && ../$(DAGSTER_VENV)/bin/mypy fibank_orchestrate
	$(BIN)/python -m pytest orchestrate/tests

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

LINT_PATHS := $(wildcard tap_fibank tests benchmarks scripts orchestrate)

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(TOOLS) .meltano output transform/target transform/logs
