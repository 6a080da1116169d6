"""`password_command`: the password read from a password manager's command, over the real CLI.

The command is a small script that prints the sandbox's password (one with characters that
form-encoding changes, so neither its raw nor its encoded form turns up by chance). A command
that fails, is missing, hangs or prints nothing stops the run with one line naming it, exit 2,
before anything is sent to the bank; its output is never shown.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from support.bank import BUSY, RECENT, SecretBank, assert_one_error_line
from support.env import clean_env
from support.tapruns import TapRun, run_tap

from tap_fibank.config.password import TIMEOUT_VARIABLE, command_argv
from tap_fibank.errors import ConfigError

DEBUG = {"TAP_FIBANK_LOGLEVEL": "DEBUG"}
DOCTOR = [sys.executable, "-m", "tap_fibank.doctor"]
# Something a failing command prints: the run must not repeat it.
ITS_OUTPUT = "gpg: decryption failed: No secret key"
PASSWORD = SecretBank.password


def script(folder: Path, body: str, name: str = "get password.py") -> list[str]:
    """A Python script as a command (in a folder and file whose names hold spaces).

    Every run appends a line to `runs.txt` next to it, so a test can count the runs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    runs = folder / "runs.txt"
    path.write_text(f"import sys, time\nopen({str(runs)!r}, 'a').write('run\\n')\n{body}\n", encoding="utf-8")
    return [sys.executable, str(path)]


def printing(folder: Path, password: str) -> list[str]:
    """A command that prints the password, then a second line (as `pass show` entries often do)."""
    return script(folder, f"print({password!r})\nprint('login: demo')")


def runs(command: list[str]) -> int:
    """How many times the script of `command` ran."""
    counter = Path(command[1]).parent / "runs.txt"
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def config(bank: SecretBank, **settings: Any) -> dict[str, Any]:
    """The sandbox's login without its password: it comes from the command."""
    return {
        "base_url": bank.base_url,
        "username": bank.username,
        "start_date": RECENT.isoformat(),
        "ibans": [BUSY],
        "max_retries": 1,
        **settings,
    }


def assert_password_nowhere(run: TapRun, password: str) -> None:
    for form in (password, quote_plus(password), quote(password, safe="")):
        assert form not in run.stdout and form not in run.stderr
        assert form not in json.dumps(run.state)


# --- unit: what the setting may look like ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "argv"),
    [
        (["pass", "show", "fibank"], ["pass", "show", "fibank"]),
        ("secret-tool lookup service fibank", ["secret-tool", "lookup", "service", "fibank"]),
        ('["op", "read", "op://Private/Fibank/password"]', ["op", "read", "op://Private/Fibank/password"]),
        ("'/opt/my tools/get-password' fibank", ["/opt/my tools/get-password", "fibank"]),
        ("echo $HOME; rm -rf x", ["echo", "$HOME;", "rm", "-rf", "x"]),  # words, never a shell
    ],
    ids=["list", "words", "json-text", "quoted-words", "no-shell"],
)
def test_a_command_is_a_list_a_json_list_or_words_split_as_a_shell_would(value: Any, argv: list[str]) -> None:
    assert command_argv(value) == argv


@pytest.mark.parametrize("value", ["", "   ", [], [""], "'unclosed", '["pass", 3]', "[not json"])
def test_a_command_that_cannot_be_run_as_given_is_refused(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"password_command must be a command like \[\"pass\""):
        command_argv(value)


# --- the real CLI ----------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["list", "words", "json-text"])
def test_the_password_is_the_first_line_the_command_prints_and_never_appears_at_debug(
    form: str, tmp_path: Path
) -> None:
    with SecretBank(seed=1) as bank:
        command = printing(tmp_path / "my tools", bank.password)
        value: Any = {"list": command, "words": shlex.join(command), "json-text": json.dumps(command)}[form]
        run = run_tap(tmp_path, config(bank, password_command=value), env=DEBUG)
        posts = bank.counters()["calls"]["login_post"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert "| DEBUG" in run.stderr
    assert posts == 1 and runs(command) == 1
    assert run.records["transactions"]
    assert_password_nowhere(run, bank.password)
    assert "Parsing array" not in run.stderr


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (
            f"print({ITS_OUTPUT!r}, file=sys.stderr)\nprint({PASSWORD!r})\nsys.exit(3)",
            "failed with exit code 3",
        ),
        ("time.sleep(60)", "did not finish within 1 seconds"),
        (f"print()\nprint({PASSWORD!r})", "printed nothing on its first line"),
        ("pass", "printed nothing on its first line"),
    ],
    ids=["fails", "times-out", "empty-first-line", "prints-nothing"],
)
def test_a_command_that_fails_hangs_or_prints_nothing_is_one_line_exit_2_before_the_bank(
    body: str, named: str, tmp_path: Path
) -> None:
    command = script(tmp_path / "tools", body)
    with SecretBank(seed=1) as bank:
        run = run_tap(tmp_path, config(bank, password_command=command), env={**DEBUG, TIMEOUT_VARIABLE: "1"})
        calls = bank.counters()["calls"]
    line = assert_one_error_line(run, 2, f"password_command `{shlex.join(command)}`", named)
    assert sum(calls.values()) == 0
    assert runs(command) == 1
    assert ITS_OUTPUT not in run.stderr
    assert_password_nowhere(run, PASSWORD)
    assert line.startswith("tap-fibank: error:")


def test_a_command_that_is_not_installed_is_named_with_the_fix(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        run = run_tap(tmp_path, config(bank, password_command="no-such-password-manager show fibank"))
        calls = bank.counters()["calls"]
    assert_one_error_line(
        run, 2, "`no-such-password-manager show fibank`", "no-such-password-manager was not found"
    )
    assert sum(calls.values()) == 0


def test_password_and_password_command_together_are_refused_without_running_it(tmp_path: Path) -> None:
    command = printing(tmp_path / "tools", "whatever")
    with SecretBank(seed=1) as bank:
        run = run_tap(tmp_path, config(bank, password=bank.password, password_command=command))
        calls = bank.counters()["calls"]
    assert_one_error_line(run, 2, "password and password_command are both set: keep one")
    assert sum(calls.values()) == 0 and runs(command) == 0


def test_the_sandbox_needs_no_password_and_runs_no_command(tmp_path: Path) -> None:
    command = printing(tmp_path / "tools", "whatever")
    settings = {
        "sandbox": True,
        "password_command": command,
        "start_date": RECENT.isoformat(),
        "ibans": [BUSY],
    }
    run = run_tap(tmp_path, settings)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records["transactions"] and runs(command) == 0


def test_the_doctor_takes_the_command_from_the_environment_as_words(tmp_path: Path) -> None:
    with SecretBank(seed=1) as bank:
        command = printing(tmp_path / "my tools", bank.password)
        env = clean_env("TAP_FIBANK_")
        env |= {
            "TAP_FIBANK_BASE_URL": bank.base_url,
            "TAP_FIBANK_USERNAME": bank.username,
            "TAP_FIBANK_PASSWORD_COMMAND": shlex.join(command),
            "TAP_FIBANK_START_DATE": RECENT.isoformat(),
            "TAP_FIBANK_LOGLEVEL": "DEBUG",
        }
        result = subprocess.run(
            [*DOCTOR, "--config", "ENV"], capture_output=True, text=True, timeout=300, env=env, check=False
        )
        posts = bank.counters()["calls"]["login_post"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert posts == 1 and runs(command) == 1
    assert "Parsing array" not in result.stderr
    for form in (bank.password, quote_plus(bank.password)):
        assert form not in result.stdout + result.stderr
