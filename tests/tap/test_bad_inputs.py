"""Bad input at the edges, over the real CLI: every file the tap is handed that it cannot use, and
settings that leave nothing to read, end with exit 2, one line naming the file (or setting), what is
wrong and the fix, no traceback, and not one request to the bank."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.env import clean_env
from support.project import make_project, plugins_installed
from support.tapruns import TAP, sandbox_config

from fibank_sandbox import Sandbox
from tap_fibank.bank.clock import sofia_today

__all__ = ["plugins_installed"]  # a fixture, used by name

TODAY = sofia_today()
RECENT = (TODAY - dt.timedelta(days=3)).isoformat()
BUSY = "BG47FINV91501017006644"
PASSWORD = "pa55-w0rd-that-must-not-show"
GOOD_STATE = {
    "bookmarks": {
        "transactions": {
            "partitions": [
                {"context": {"customer_id": "5896443", "iban": BUSY}, "walked_through": RECENT},
            ]
        }
    }
}


def run_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TAP, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=clean_env("TAP_FIBANK_", **(env or {})),
        check=False,
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one `tap-fibank: error:` line of a run that exited 2, and no traceback."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("tap-fibank: error:")]
    assert len(lines) == 1, result.stderr[-3000:]
    assert not result.stdout
    return lines[0]


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


@pytest.fixture
def bank() -> Any:
    with Sandbox(seed=1) as sandbox:
        yield sandbox


def good_config(bank: Sandbox, **overrides: Any) -> dict[str, Any]:
    return sandbox_config(bank, RECENT, ibans=[BUSY], max_retries=0) | overrides


def assert_nothing_sent(bank: Sandbox) -> None:
    assert sum(bank.counters()["calls"].values()) == 0


def test_a_config_file_that_does_not_exist_is_named(tmp_path: Path) -> None:
    line = error_line(run_cli(tmp_path, "--config", "missing.json"))
    assert "--config file missing.json does not exist" in line
    assert str(tmp_path) in line  # where a relative path was looked for


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (
            '{"username": "demo", "password": "' + PASSWORD + '",}',
            "is not JSON: Illegal trailing comma before end of object",
        ),
        ("", "is not JSON (the file is empty)"),
        (b'{"password": "\xff"}', "is not UTF-8 text"),
        ('["demo"]', "must hold a JSON object of settings"),
    ],
    ids=["trailing-comma", "empty", "not-utf8", "a-list"],
)
def test_a_config_file_that_is_not_a_json_object_is_named_without_its_values(
    tmp_path: Path, content: Any, named: str
) -> None:
    config = write(tmp_path, "config.json", content)
    line = error_line(run_cli(tmp_path, "--config", config))
    assert f"--config file {config} {named}" in line or f"--config file {config}: {named}" in line
    assert "line 1, column" in line or "JSON object" in line or "UTF-8" in line
    assert PASSWORD not in line


def test_a_directory_given_as_the_config_is_named(tmp_path: Path) -> None:
    line = error_line(run_cli(tmp_path, f"--config={tmp_path}"))
    assert f"--config file {tmp_path} is a directory" in line


@pytest.mark.parametrize(
    ("state", "named"),
    [
        ({"bookmarks": 5}, "at bookmarks: expected an object {...}, found a number"),
        ([], "expected an object {...}, found a list"),
        (
            {"bookmarks": {"transactions": {"partitions": [{"walked_through": RECENT}]}}},
            "at bookmarks.transactions.partitions[0]: 'context' is missing",
        ),
        (
            {
                "bookmarks": {
                    "transactions": {"partitions": [{"context": {}, "walked_through": "2025-02-30"}]}
                }
            },
            "at bookmarks.transactions.partitions[0].walked_through: expected a date like 2024-01-31",
        ),
        ("", "is not JSON (the file is empty)"),
        ('{"bookmarks": {', "is not JSON"),
    ],
    ids=["bookmarks-a-number", "a-list", "partition-without-context", "impossible-bookmark", "empty", "cut"],
)
def test_a_state_the_tap_cannot_read_stops_the_run_before_the_bank_is_asked(
    tmp_path: Path, bank: Sandbox, state: Any, named: str
) -> None:
    config = write(tmp_path, "config.json", good_config(bank))
    path = write(tmp_path, "state.json", state)
    line = error_line(run_cli(tmp_path, "--config", config, "--state", path))
    assert f"--state file {path}" in line and named in line
    assert "meltano state clear" in line
    assert_nothing_sent(bank)


def test_a_state_file_that_does_not_exist_is_named(tmp_path: Path, bank: Sandbox) -> None:
    config = write(tmp_path, "config.json", good_config(bank))
    line = error_line(run_cli(tmp_path, "--config", config, "--state", "gone.json"))
    assert "--state file gone.json does not exist" in line
    assert_nothing_sent(bank)


@pytest.mark.parametrize(
    ("catalog", "named"),
    [
        (
            {"streams": [{"stream": "transactions", "schema": {}}]},
            "at streams[0]: 'tap_stream_id' is missing",
        ),
        ({"streams": {"transactions": {}}}, "at streams: expected a list [...], found an object"),
        ({}, "'streams' is missing"),
        (
            {"streams": [{"tap_stream_id": "transactions", "metadata": [{"breadcrumb": [], "metadata": 5}]}]},
            "at streams[0].metadata[0].metadata: expected an object",
        ),
        ("{", "is not JSON"),
        (
            {
                "streams": [
                    {"tap_stream_id": "statements", "schema": {"properties": {"iban": {}, "date_from": {}}}}
                ]
            },
            "the schema of stream 'statements' has no 'date_to', a key the stream needs",
        ),
        (
            {"streams": [{"tap_stream_id": "transactions", "schema": {"properties": {"iban": {}}}}]},
            "the schema of stream 'transactions' has no 'entry_id', a key the stream needs",
        ),
    ],
    ids=[
        "no-tap-stream-id",
        "streams-an-object",
        "no-streams",
        "metadata-a-number",
        "cut",
        "no-replication-key",
        "no-primary-key",
    ],
)
def test_a_catalog_of_the_wrong_shape_is_named_before_the_bank_is_asked(
    tmp_path: Path, bank: Sandbox, catalog: Any, named: str
) -> None:
    config = write(tmp_path, "config.json", good_config(bank))
    path = write(tmp_path, "catalog.json", catalog)
    line = error_line(run_cli(tmp_path, "--config", config, "--catalog", path))
    assert f"--catalog file {path}" in line and named in line
    assert "--discover" in line
    assert_nothing_sent(bank)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"end_date": (TODAY - dt.timedelta(days=10)).isoformat()}, "is before start_date"),
        ({"start_date": (TODAY + dt.timedelta(days=1)).isoformat()}, "is in the future (today in Sofia is"),
        ({"ibans": BUSY}, 'ibans must be a list of texts like ["BG47FINV..."], not one text'),
        ({"customer_ids": "5896443"}, 'customer_ids must be a list of texts like ["'),
    ],
    ids=["end-before-start", "start-in-the-future", "ibans-a-text", "customer-ids-a-text"],
)
def test_settings_that_leave_nothing_to_read_are_configuration_errors(
    tmp_path: Path, bank: Sandbox, settings: dict[str, Any], named: str
) -> None:
    config = write(tmp_path, "config.json", good_config(bank, **settings))
    line = error_line(run_cli(tmp_path, "--config", config))
    assert named in line
    assert BUSY not in line  # an IBAN is masked, never shown in full
    assert_nothing_sent(bank)


def test_a_login_name_that_is_the_username_is_refused_without_echoing_it(
    tmp_path: Path, bank: Sandbox
) -> None:
    config = write(tmp_path, "config.json", good_config(bank, login=f" {bank.username.upper()} "))
    line = error_line(run_cli(tmp_path, "--config", config))
    assert "login must not be your username" in line
    assert bank.username not in line.lower()
    assert_nothing_sent(bank)


def test_a_whole_number_setting_in_the_environment_that_is_not_one_is_named(
    tmp_path: Path, bank: Sandbox
) -> None:
    env = {
        "TAP_FIBANK_BASE_URL": bank.base_url,
        "TAP_FIBANK_USERNAME": bank.username,
        "TAP_FIBANK_PASSWORD": PASSWORD,
        "TAP_FIBANK_START_DATE": RECENT,
        "TAP_FIBANK_WINDOW_DAYS": "thirty",
    }
    line = error_line(run_cli(tmp_path, "--config", "ENV", env=env))
    assert "TAP_FIBANK_WINDOW_DAYS must be a whole number" in line
    assert "thirty" not in line and PASSWORD not in line
    assert_nothing_sent(bank)


def test_an_option_without_its_file_is_named(tmp_path: Path, bank: Sandbox) -> None:
    config = write(tmp_path, "config.json", good_config(bank))
    assert "--state needs a file name" in error_line(run_cli(tmp_path, "--config", config, "--state"))
    assert "--config needs a file name" in error_line(run_cli(tmp_path, "--config="))


def test_good_files_still_run_and_the_state_is_used(tmp_path: Path, bank: Sandbox) -> None:
    start = (TODAY - dt.timedelta(days=20)).isoformat()
    config = write(tmp_path, "config.json", good_config(bank, start_date=start, lookback_days=0))
    state = write(tmp_path, "state.json", GOOD_STATE)
    result = run_cli(tmp_path, "--config", config, "--state", state)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tap-fibank: error:" not in result.stderr
    # The walk resumed the day after the bookmark, not at start_date.
    resumed = (TODAY - dt.timedelta(days=2)).isoformat()
    assert bank.counters()["statement_ranges"] == [[BUSY, resumed, TODAY.isoformat()]]


@pytest.mark.e2e
def test_a_bad_state_kept_by_meltano_stops_the_run_with_the_taps_line(
    tmp_path: Path, plugins_installed: None
) -> None:
    """meltano writes the state file itself from its store; a state it holds that the tap cannot read
    stops `meltano run` with the tap's one line, instead of a silent full re-read."""
    with Sandbox(seed=1) as sandbox:
        project = make_project(tmp_path / "project", sandbox)
        state_id = "prod:tap-fibank-to-target-jsonl"
        project.meltano("state", "set", "--force", state_id, '{"singer_state": {"bookmarks": 5}}')
        run = project.meltano("run", "tap-fibank", "target-jsonl", check=False)
        assert run.returncode != 0
        log = run.stdout + run.stderr
        # meltano logs the tap's stderr and quotes it again in its own error: one message, twice.
        messages = {
            line.split("tap-fibank: error:", 1)[1]
            for line in log.splitlines()
            if "tap-fibank: error:" in line
        }
        assert len(messages) == 1, log[-3000:]
        (message,) = messages
        assert "--state file" in message and "at bookmarks: expected an object" in message
        assert "Traceback" not in log
        assert_nothing_sent(sandbox)
