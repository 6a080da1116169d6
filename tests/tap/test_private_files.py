"""What the project writes about a person's money is theirs alone, whatever the umask.

Files 0600, the folders made for them 0700, under the usual umask 022: the doctor's capture, the
report and the writer they share; a config file or .env holding a password that others can read
gets one warning naming the chmod. The pipeline's own files (the DuckDB warehouse, the JSON Lines
exports, Meltano's state and logs, the chart) are checked where the pipeline runs under umask 022,
in tests/pipeline/test_e2e.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.bank import RECENT
from support.env import clean_env
from support.project import open_to_others

from tap_fibank.privacy import open_private, write_private_text

TAP = [sys.executable, "-m", "tap_fibank"]
DOCTOR = [sys.executable, "-m", "tap_fibank.doctor"]
USUAL_UMASK = 0o022


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """This process under umask 022, as a login shell usually is."""
    before = os.umask(USUAL_UMASK)
    try:
        yield
    finally:
        os.umask(before)


def write_config(path: Path, settings: dict[str, Any], file_mode: int) -> Path:
    path.write_text(json.dumps(settings), encoding="utf-8")
    path.chmod(file_mode)
    return path


# --- the writer -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("usual_umask")
def test_a_private_file_is_0600_in_new_folders_of_0700_and_an_existing_folder_is_left_alone(
    tmp_path: Path,
) -> None:
    tmp_path.chmod(0o755)
    target = tmp_path / "new" / "deeper" / "report.html"
    write_private_text(target, "figures")
    assert mode(target) == 0o600
    assert mode(tmp_path / "new") == mode(tmp_path / "new" / "deeper") == 0o700
    assert mode(tmp_path) == 0o755, "a folder that existed is not the writer's to change"
    assert target.read_text(encoding="utf-8") == "figures"


@pytest.mark.usefixtures("usual_umask")
def test_rewriting_a_file_left_open_by_an_older_version_makes_it_private(tmp_path: Path) -> None:
    old = tmp_path / "chart.png"
    old.write_bytes(b"old picture")
    old.chmod(0o644)
    with open_private(old, "wb") as handle:
        handle.write(b"new")
    assert mode(old) == 0o600 and old.read_bytes() == b"new"


@pytest.mark.usefixtures("usual_umask")
def test_the_report_is_written_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fibank_report import cli

    # Everything but the writing: the page's content is checked in test_report_browser.py.
    monkeypatch.setattr(cli, "_source", lambda args: cli.Source(lambda sql: [], "analytics", "x", "duckdb"))
    monkeypatch.setattr(cli, "load_libraries", lambda vendor: {})
    monkeypatch.setattr(cli, "render", lambda *args: "<html>a year of transactions</html>")
    out = tmp_path / "output" / "report.html"
    assert cli.main(["--out", str(out), "--dbt-target", str(tmp_path / "none")]) == 0
    assert open_to_others(tmp_path / "output") == []


# --- the doctor's capture ----------------------------------------------------------------------------


def test_the_doctors_capture_is_private_under_umask_022(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.json", {"sandbox": True, "start_date": RECENT.isoformat()}, 0o644
    )
    capture = tmp_path / "captures" / "capture.json"
    result = subprocess.run(
        [*DOCTOR, "--config", str(config), "--capture", str(capture)],
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env("TAP_FIBANK_"),
        umask=USUAL_UMASK,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(capture.read_text(encoding="utf-8"))["format"] == "tap-fibank-capture"
    assert open_to_others(tmp_path / "captures") == []
    assert "warning" not in result.stderr, "a config without a password is no secret"


# --- a file holding a password that others can read ----------------------------------------------------


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "warning:" in line and "chmod" in line]


@pytest.mark.parametrize(
    ("settings", "file_mode", "warned"),
    [
        ({"username": "u", "password": "p4ssw0rd"}, 0o644, True),
        ({"username": "u", "password": "p4ssw0rd"}, 0o640, True),
        ({"username": "u", "password": "p4ssw0rd"}, 0o600, False),
        ({"username": "u", "password_command": ["pass", "show", "fibank"]}, 0o644, False),
    ],
    ids=["world-readable", "group-readable", "private", "command-only"],
)
def test_a_config_file_with_a_password_that_others_can_read_is_one_warning_naming_the_chmod(
    settings: dict[str, Any], file_mode: int, warned: bool, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.json", settings, file_mode)
    result = subprocess.run(
        [*TAP, "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env("TAP_FIBANK_"),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    expected = (
        f"tap-fibank: warning: {config} holds a password and other users of this machine can read or "
        f"change it (mode {file_mode:04o}): chmod 600 {config}"
    )
    assert warning_lines(result.stderr) == ([expected] if warned else [])
    assert "p4ssw0rd" not in result.stderr + result.stdout


def test_a_config_meltano_wrote_open_to_others_names_the_umask_not_a_chmod(tmp_path: Path) -> None:
    # meltano writes the tap's config anew for every run: a chmod would not last.
    config = write_config(tmp_path / "tap.config.json", {"username": "u", "password": "p4ssw0rd"}, 0o644)
    result = subprocess.run(
        [*TAP, "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env("TAP_FIBANK_", MELTANO_PROJECT_ROOT=str(tmp_path)),
        check=False,
    )
    assert warning_lines(result.stderr) == []
    (line,) = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert line.endswith("(mode 0644): run meltano under umask 077 (as make run does)")


def test_the_doctor_warns_the_same_way_before_anything_else(tmp_path: Path) -> None:
    settings = {"username": "u", "password": "p4ssw0rd", "base_url": "http://bank.example.com"}
    config = write_config(tmp_path / "config.json", settings, 0o644)
    result = subprocess.run(
        [*DOCTOR, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env("TAP_FIBANK_"),
        check=False,
    )
    assert result.returncode == 2  # plain http to a remote host, refused after the warning
    first, second = result.stderr.splitlines()
    assert first == (
        f"tap-fibank-doctor: warning: {config} holds a password and other users of this machine can read "
        f"or change it (mode 0644): chmod 600 {config}"
    )
    assert second.startswith("tap-fibank-doctor: error:")
    assert "p4ssw0rd" not in result.stderr + result.stdout
