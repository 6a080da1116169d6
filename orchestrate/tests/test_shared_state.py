"""State that workers share: Meltano's system database in PostgreSQL, a state id per login.

Two workers are two copies of the Meltano project (as on two machines) with the same
`MELTANO_DATABASE_URI`; each runs `pipeline.run_login`, as the Dagster assets and Airflow tasks do.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import MELTANO, REPO, Warehouse, clean_env, require, start_date
from fibank_orchestrate.locks import LoginBusy, login_lock
from fibank_orchestrate.logins import Login
from fibank_orchestrate.pipeline import run_login, state_id

from fibank_sandbox import Sandbox

HOUSEHOLD = Login("household", "HOUSEHOLD_USER", "HOUSEHOLD_PASSWORD")
OFFICE = Login("office", "OFFICE_USER", "OFFICE_PASSWORD")


def worker(root: Path) -> Path:
    """A checkout of the Meltano project on another machine (its plugins are the installed ones)."""
    root.mkdir(parents=True)
    shutil.copy2(REPO / "meltano.yml", root / "meltano.yml")
    shutil.copytree(REPO / "transform", root / "transform", ignore=shutil.ignore_patterns("target", "logs"))
    return root


@pytest.fixture
def sys_dir(tmp_path: Path) -> Path:
    """Meltano's system directory for this test: the installed plugins, run files of its own."""
    root = tmp_path / "meltano-sys"
    root.mkdir()
    for plugins in ("extractors", "loaders", "utilities"):
        (root / plugins).symlink_to(REPO / ".meltano" / plugins, target_is_directory=True)
    return root


@pytest.fixture
def env(bank: Sandbox, warehouse: Warehouse, sys_dir: Path) -> dict[str, str]:
    require(MELTANO, "meltano")
    return clean_env(
        **warehouse.env(),
        MELTANO_SYS_DIR_ROOT=str(sys_dir),
        FIBANK_MELTANO=str(MELTANO),
        TAP_FIBANK_BASE_URL=bank.base_url,
        TAP_FIBANK_START_DATE=start_date(bank),
        TAP_FIBANK_MAX_RETRIES="1",
        HOUSEHOLD_USER="demo2",
        HOUSEHOLD_PASSWORD="demo2",
        OFFICE_USER="demo3",
        OFFICE_PASSWORD="demo3",
    )


def statement_calls(bank: Sandbox, username: str) -> dict[str, int]:
    calls = bank.counters()["statement_calls"]
    return {iban: calls.get(iban, 0) for iban in bank.login_truth(username)}


def bookmarked_ibans(warehouse: Warehouse, state_id: str) -> set[str]:
    sql = f"select completed_state from {warehouse.state}.state where state_id = %s"
    state = json.loads(warehouse.rows(sql, state_id)[0][0])
    partitions = state["singer_state"]["bookmarks"]["transactions"]["partitions"]
    return {p["context"]["iban"] for p in partitions}


def forget_state(warehouse: Warehouse, *logins: Login) -> None:
    """Start the logins from no bookmark, whatever ran before in this module's system database."""
    found = warehouse.rows(
        "select count(*) from information_schema.tables where table_schema = %s and table_name = 'state'",
        warehouse.state,
    )
    if found[0][0]:
        ids = [state_id(login, "prod") for login in logins]
        warehouse.execute(
            f"delete from {warehouse.state}.state where state_id in ({', '.join(map(repr, ids))})"
        )


def test_a_second_worker_resumes_the_login_s_bookmarks_and_logins_never_share_them(
    bank: Sandbox, warehouse: Warehouse, env: dict[str, str], tmp_path: Path
) -> None:
    forget_state(warehouse, HOUSEHOLD, OFFICE)  # both read from their empty state, in any order
    first, second = worker(tmp_path / "worker-1"), worker(tmp_path / "worker-2")

    bank.reset_counters()
    outcome = run_login(HOUSEHOLD, env, project_dir=first)
    assert outcome.ok, outcome.log_tail
    full = statement_calls(bank, "demo2")
    assert min(full.values()) >= 3  # about two months in 30-day windows

    bank.reset_counters()
    outcome = run_login(HOUSEHOLD, env, project_dir=second)
    assert outcome.ok, outcome.log_tail
    assert max(statement_calls(bank, "demo2").values()) <= 2  # resumed from the first worker's run

    bank.reset_counters()
    outcome = run_login(OFFICE, env, project_dir=second)
    assert outcome.ok, outcome.log_tail
    assert min(statement_calls(bank, "demo3").values()) >= 3  # its own, empty state: a full read

    ids = {row[0] for row in warehouse.rows(f"select state_id from {warehouse.state}.state")}
    household, office = (f"prod:tap-fibank-to-target-postgres:{x}" for x in ("household", "office"))
    assert {household, office} <= ids
    assert bookmarked_ibans(warehouse, household) == set(bank.login_truth("demo2"))
    assert bookmarked_ibans(warehouse, office) == set(bank.login_truth("demo3"))


def test_a_login_running_on_one_worker_is_refused_on_another_before_the_bank_is_asked(
    bank: Sandbox, warehouse: Warehouse, env: dict[str, str], tmp_path: Path
) -> None:
    other = worker(tmp_path / "worker")
    bank.reset_counters()
    with login_lock("office", warehouse.database_uri, other), pytest.raises(LoginBusy, match="in progress"):
        run_login(OFFICE, env, project_dir=other)
    assert bank.counters()["calls"]["login_page"] == 0
    with login_lock("household", warehouse.database_uri, other):  # another login is not held up
        assert run_login(OFFICE, env, project_dir=other).ok


def test_two_logins_at_once_on_one_worker_both_load(
    bank: Sandbox, warehouse: Warehouse, env: dict[str, str], sys_dir: Path, tmp_path: Path
) -> None:
    # meltano writes the tap's catalog under its run directory: each login has its own.
    shared = worker(tmp_path / "worker")
    logins = sys_dir / "logins"
    assert not logins.exists(), "the sys dir is this test's own: nothing is there before it runs"
    # The system database's tables, made once before the first runs (docs/scheduling.md): two
    # first runs at once would both migrate it, whatever test ran before this one.
    subprocess.run(
        [str(MELTANO), "upgrade", "database"], cwd=shared, env=env, check=True, capture_output=True
    )
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(
            pool.map(lambda login: run_login(login, env, project_dir=shared), [HOUSEHOLD, OFFICE])
        )
    assert [outcome.ok for outcome in outcomes] == [True, True], [o.log_tail[-10:] for o in outcomes]
    runs = [logins / name / "run" / "tap-fibank" for name in ("household", "office")]
    assert sorted(p.name for p in logins.iterdir()) == ["household", "office"]
    for run_dir in runs:
        assert run_dir.is_dir() and any(run_dir.iterdir()), f"{run_dir}: meltano wrote nothing there"
    assert not runs[0].resolve().samefile(runs[1].resolve()), "the two logins share one run directory"
