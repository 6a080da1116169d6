"""The Dagster code location, materialized in process for several logins of one sandbox bank.

Real Dagster (`.tools/dagster`), real `meltano run` per login with its own state id in a shared
PostgreSQL system database, real target-postgres, and the marts built once per tick by the sensor
(dagster-dbt: models, then the dbt tests as asset checks), checked against the sandbox's ground
truth and its counters. The first tick is `make orchestrate-demo`'s own flow.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import (
    DAGSTER_PYTHON,
    MELTANO,
    REPO,
    Warehouse,
    clean_env,
    require,
    run,
    start_date,
    write_logins,
)

from fibank_sandbox import Sandbox

LOADED = ("demo2", "demo3", "demo4")  # logins named after their sandbox users
FAILING_LOGIN = "demo"  # lists the account whose statement the bank always fails
WRONG_PASSWORD = "not-the-password"
FAULTY = ("mistyped", "offline", "skipping")
PROBE = Path(__file__).with_name("sensor_probe.py")


def demo_script() -> ModuleType:
    """scripts/orchestrate_demo.py, the flow of `make orchestrate-demo`."""
    spec = importlib.util.spec_from_file_location(
        "orchestrate_demo", REPO / "scripts" / "orchestrate_demo.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Orchestration:
    """The environment of the Dagster runs and what each tick reported, by login and for the marts."""

    bank: Sandbox
    warehouse: Warehouse
    env: dict[str, str]
    ticks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    counters: dict[str, dict[str, Any]] = field(default_factory=dict)
    built_after_demo: tuple[int, ...] = ()  # raw entries, fct_transactions rows, its customers

    def command(self, *logins: str, raw_only: bool = False) -> list[str]:
        command = [str(DAGSTER_PYTHON), "-m", "fibank_orchestrate.local", "--json", *logins]
        return command + ["--raw-only"] * raw_only

    def tick(self, name: str, *logins: str) -> dict[str, dict[str, Any]]:
        self.bank.reset_counters()
        proc = run(self.command(*logins), self.env, REPO / "orchestrate")
        self.counters[name] = self.bank.counters()
        self.record(
            name, proc.returncode, lines_of(proc.stdout, proc.stderr, len(logins) + 1, proc.returncode)
        )
        return self.ticks[name]

    def record(self, name: str, code: int, lines: list[dict[str, Any]]) -> None:
        self.codes[name] = code
        self.ticks[name] = {line.get("login", "marts"): line for line in lines}


@pytest.fixture(scope="module")
def unreachable() -> Iterator[str]:
    """A base URL nothing answers: a port bound here and never listened on, for the module's life.

    (A port picked and closed again, or a fixed one such as 9, may be taken by another process.)
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


@pytest.fixture(scope="module")
def orchestration(
    bank: Sandbox, warehouse: Warehouse, unreachable: str, tmp_path_factory: pytest.TempPathFactory
) -> Orchestration:
    require(DAGSTER_PYTHON, "Dagster")
    require(MELTANO, "meltano")
    root = tmp_path_factory.mktemp("dagster")
    demo = demo_script()
    schemas = demo.Schemas(warehouse.state, warehouse.raw, warehouse.analytics)
    bank.reset_counters()
    code, lines = demo.run_demo(bank, warehouse.params, root, schemas, date.fromisoformat(start_date(bank)))
    # What the marts hold after the demo's tick, before a later test loads a login's raw rows only.
    built = warehouse.rows(
        f"select (select count(*) from {warehouse.raw}.transactions), count(*), count(distinct customer_id) "
        f"from {warehouse.analytics}.fct_transactions"
    )[0]
    env = clean_env(**warehouse.env(), **faulty_logins(root, unreachable), DAGSTER_HOME=str(root))
    env.update(
        TAP_FIBANK_BASE_URL=bank.base_url,
        TAP_FIBANK_START_DATE=start_date(bank),
        TAP_FIBANK_MAX_RETRIES="1",
        FIBANK_UNREACHABLE_RETRIES="2",
        FIBANK_UNREACHABLE_WAIT_SECONDS="1",
    )
    shutil.copy2(REPO / "orchestrate" / "dagster.yaml", root / "dagster.yaml")  # the shipped instance
    orchestration = Orchestration(bank, warehouse, env)
    orchestration.counters["demo"] = bank.counters()
    orchestration.record("demo", code, lines)
    orchestration.built_after_demo = tuple(built)
    orchestration.tick("faults", *LOADED, *FAULTY)
    return orchestration


def faulty_logins(root: Path, unreachable: str) -> dict[str, str]:
    """The loaded logins again (same names: same state ids), and three that fail in three ways."""
    logins: dict[str, dict[str, Any]] = {
        name: {"username_env": f"{name.upper()}_USER", "password_env": f"{name.upper()}_PASSWORD"}
        for name in [*LOADED, *FAULTY]
    }
    logins["skipping"]["settings"] = {"fail_on_skipped_accounts": True, "max_retries": 0}
    logins["offline"]["settings"] = {"base_url": unreachable}  # nothing listens there
    secrets = {f"{name.upper()}_{what}": name for name in LOADED for what in ("USER", "PASSWORD")}
    secrets.update({"MISTYPED_USER": "demo4", "MISTYPED_PASSWORD": WRONG_PASSWORD})
    secrets.update({"SKIPPING_USER": "demo", "SKIPPING_PASSWORD": "demo"})
    secrets.update({"OFFLINE_USER": "demo2", "OFFLINE_PASSWORD": "demo2"})
    return {"FIBANK_LOGINS_FILE": str(write_logins(root / "faulty-logins.yml", logins)), **secrets}


def failing_account(bank: Sandbox) -> str:
    """The failing account as the tap and the checks print it: masked, last four characters."""
    iban = next(a.iban for a in bank.accounts if "statement_500" in a.tags)
    return "****" + iban.replace(" ", "")[-4:]


def test_the_demo_names_the_failing_account_on_its_login_s_line_and_builds_everyone_s_marts(
    orchestration: Orchestration,
) -> None:
    demo, account = orchestration.ticks["demo"], failing_account(orchestration.bank)
    assert orchestration.codes["demo"] == demo_script().LOCAL_CHECKS_FAIL  # the demo exits 0 on it
    assert demo[FAILING_LOGIN]["ok"] and demo[FAILING_LOGIN]["tap_exit_code"] == 0
    assert account in demo[FAILING_LOGIN]["text"] and "FAILS for " + account in demo[FAILING_LOGIN]["text"]
    for name in LOADED:
        assert demo[name]["ok"] and demo[name]["text"].endswith("its checks pass"), demo[name]["text"]
        assert account not in demo[name]["text"]
    assert demo["marts"]["ok"] and demo["marts"]["failed_logins"] == []
    assert demo["marts"]["checks_passed"] > 0


def test_each_login_s_entries_are_in_the_warehouse_exactly_as_the_bank_booked_them(
    orchestration: Orchestration,
) -> None:
    bank, wh = orchestration.bank, orchestration.warehouse
    first = date.fromisoformat(start_date(bank))
    for name in LOADED:
        expected = {
            (e.iban, e.entry_id, e.amount, e.balance_after, e.currency)
            for entries in bank.login_truth(name).values()
            for e in entries
            if e.booking_date >= first
        }
        got = wh.rows(
            f"select iban, entry_id, amount, balance_after, currency from {wh.raw}.transactions "
            "where iban = any(%s)",
            sorted(bank.login_truth(name)),
        )
        assert {(r[0], r[1], Decimal(r[2]), Decimal(r[3]), r[4]) for r in got} == expected
        assert len(got) == len(expected)
        assert orchestration.ticks["demo"][name]["entries"] == len(expected)


def test_the_marts_build_once_after_every_login_s_load_over_all_of_them(orchestration: Orchestration) -> None:
    marts = orchestration.ticks["demo"]["marts"]
    assert marts["materialized"] == marts["assets"] >= 15  # every dbt asset once, in one run
    raw, built, customers = orchestration.built_after_demo
    assert raw > 0 and built == raw
    assert customers == 2 * (len(LOADED) + 1)  # two profiles per login, the failing one's too


def test_a_second_tick_is_incremental_for_each_login(orchestration: Orchestration) -> None:
    bank, counters = orchestration.bank, orchestration.counters["faults"]
    for name in LOADED:
        assert orchestration.ticks["faults"][name]["ok"]
        calls = {iban: counters["statement_calls"].get(iban, 0) for iban in bank.login_truth(name)}
        assert calls and max(calls.values()) <= 2, (name, calls)
        assert orchestration.ticks["faults"][name]["state_id"] == f"prod:tap-fibank-to-target-postgres:{name}"


def test_failed_logins_do_not_stop_the_others_marts_and_the_build_names_them(
    orchestration: Orchestration,
) -> None:
    marts = orchestration.ticks["faults"]["marts"]
    assert marts["ok"] and marts["failed_logins"] == sorted(FAULTY)
    assert "despite the failed login(s) mistyped, offline, skipping" in marts["text"]
    assert orchestration.codes["faults"] == 1


def test_a_wrong_password_fails_only_its_partition_after_one_post_and_no_retry(
    orchestration: Orchestration,
) -> None:
    failed, counters = orchestration.ticks["faults"]["mistyped"], orchestration.counters["faults"]
    assert not failed["ok"] and failed["tap_exit_code"] == 3 and "retries" not in failed
    assert "authentication refused" in failed["error"]
    assert failed["summary"].startswith("tap-fibank: error:")
    assert counters["calls"]["login_post"] == len(LOADED) + 2  # one each; none for the offline one
    assert counters["failed_logins"] == 1
    assert WRONG_PASSWORD not in json.dumps(orchestration.ticks["faults"])


def test_skipped_accounts_fail_the_partition_with_the_tap_s_summary_line(
    orchestration: Orchestration,
) -> None:
    failed = orchestration.ticks["faults"]["skipping"]
    assert not failed["ok"] and failed["tap_exit_code"] == 6 and "retries" not in failed
    assert "skipped" in failed["summary"] and failing_account(orchestration.bank) in failed["summary"]
    assert failed["summary"] in failed["error"]


def test_an_unreachable_bank_is_retried_with_backoff_then_reported(orchestration: Orchestration) -> None:
    failed = orchestration.ticks["faults"]["offline"]
    assert not failed["ok"] and failed["tap_exit_code"] == 4
    assert failed["retries"] == 2  # FIBANK_UNREACHABLE_RETRIES
    assert "unreachable" in failed["error"]


GATE = """import pathlib, sys, time
folder = pathlib.Path(sys.argv[1])
(folder / "started").touch()
while not (folder / "release").exists():
    time.sleep(0.05)
print(sys.argv[2])
"""


def test_two_materializations_of_one_login_at_once_the_bank_sees_one_login(
    orchestration: Orchestration, tmp_path: Path
) -> None:
    """The first run is held inside the tap (its password command waits on a file) until the
    second has been refused: they overlap however slowly either one starts."""
    bank = orchestration.bank
    gate = tmp_path / "gate.py"
    gate.write_text(GATE, encoding="utf-8")
    logins = {"demo3": {"username_env": "DEMO3_USER", "settings": {"password_command": [
        sys.executable, str(gate), str(tmp_path), "demo3"]}}}  # fmt: skip
    env = {**orchestration.env, "FIBANK_LOGINS_FILE": str(write_logins(tmp_path / "gated.yml", logins))}
    env["TAP_FIBANK_PASSWORD_COMMAND_TIMEOUT"] = "900"

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            orchestration.command("demo3", raw_only=True), env=env, cwd=REPO / "orchestrate",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    bank.reset_counters()
    first = start()
    try:
        deadline = time.monotonic() + 600
        while not (tmp_path / "started").exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never reached the tap's password"
            time.sleep(0.1)
        second = start()
        refused_out, refused_err = second.communicate(timeout=600)
    finally:
        (tmp_path / "release").touch()
    held_out, held_err = first.communicate(timeout=600)
    counters = bank.counters()
    held = lines_of(held_out, held_err, 1, first.returncode)[0]
    refused = lines_of(refused_out, refused_err, 1, second.returncode)[0]
    assert held["ok"], held
    assert not refused["ok"] and "another run of this login is in progress" in refused["error"]
    assert counters["calls"]["login_post"] == 1 and counters["calls"]["login_page"] == 1


def lines_of(stdout: str, stderr: str, count: int, returncode: int) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert len(lines) == count, f"exit {returncode}:\n{stdout[-3000:]}\n{stderr[-5000:]}"
    return lines


def test_every_login_has_its_own_state_in_the_shared_system_database(orchestration: Orchestration) -> None:
    wh = orchestration.warehouse
    ids = {row[0] for row in wh.rows(f"select state_id from {wh.state}.state")}
    assert {f"prod:tap-fibank-to-target-postgres:{name}" for name in [*LOADED, FAILING_LOGIN]} <= ids


def test_the_code_location_loads_its_schedule_sensor_partitions_and_run_limits(tmp_path: Path) -> None:
    require(DAGSTER_PYTHON, "Dagster")
    logins = write_logins(tmp_path / "logins.yml", {"a": {"username_env": "A_U", "password_env": "A_P"}})
    shutil.copy2(REPO / "orchestrate" / "dagster.yaml", tmp_path / "dagster.yaml")
    proc = run(
        [str(DAGSTER_PYTHON), str(PROBE)],
        clean_env(FIBANK_LOGINS_FILE=str(logins), DAGSTER_HOME=str(tmp_path)),
        REPO / "orchestrate",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    assert probe["schedule"] == ["0 3,18 * * *", "Europe/Sofia", ["a"]]
    per_login = {"key": "fibank/login", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    assert probe["limits"] == [4, [per_login], 1]
    assert probe["jobs"] == {"fibank_login": ["a"], "fibank_marts": None}
    assert probe["blocking_checks"] == [] and probe["checks"] >= 10


def test_the_sensor_asks_for_one_build_once_every_run_of_a_tick_has_ended(tmp_path: Path) -> None:
    require(DAGSTER_PYTHON, "Dagster")
    logins = write_logins(
        tmp_path / "logins.yml",
        {name: {"username_env": "U", "password_env": "P"} for name in ("a", "b", "c")},
    )
    proc = run(
        [str(DAGSTER_PYTHON), str(PROBE), "--sensor"],
        clean_env(FIBANK_LOGINS_FILE=str(logins), DAGSTER_HOME=str(tmp_path)),
        REPO / "orchestrate",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = json.loads(proc.stdout.strip().splitlines()[-1])
    assert steps["one_still_running"] == []
    assert steps["all_ended"] == [{"run_key": "t1", "failed_logins": "c"}]
    assert steps["half_created"] == [{"run_key": "t1", "failed_logins": "c"}]  # t2 waits for its 2nd
    assert steps["by_hand"][-1]["run_key"].startswith("run:")
