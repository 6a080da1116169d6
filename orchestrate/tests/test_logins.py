"""The file of logins: names and environment variables only; secrets come from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO
from fibank_orchestrate.logins import Login, LoginsError, load_logins


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "logins.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_loads_and_its_secrets_come_from_the_environment() -> None:
    logins = load_logins(REPO / "orchestrate" / "logins.example.yml")
    assert [login.name for login in logins] == ["household", "office"]
    env = logins[1].tap_env({"FIBANK_OFFICE_USERNAME": "anna", "FIBANK_OFFICE_PASSWORD": "s3cret"})
    assert env == {
        "TAP_FIBANK_USERNAME": "anna",
        "TAP_FIBANK_PASSWORD": "s3cret",
        "TAP_FIBANK_PASSWORD_COMMAND": "",  # a worker-wide one must not mix in
        "TAP_FIBANK_START_DATE": "2020-01-01",
        "TAP_FIBANK_LOGIN": "office",  # the warehouse's login key, never a secret
    }


def test_a_login_may_name_the_command_that_prints_its_password_instead_of_a_variable(
    tmp_path: Path,
) -> None:
    text = (
        "logins:\n  - name: household\n    username_env: U\n"
        "    settings: {password_command: [pass, show, fibank/household]}\n"
    )
    (login,) = load_logins(write(tmp_path, text))
    env = login.tap_env({"U": "anna", "TAP_FIBANK_PASSWORD": "worker-wide"})
    assert env == {
        "TAP_FIBANK_USERNAME": "anna",
        "TAP_FIBANK_PASSWORD": "",
        "TAP_FIBANK_PASSWORD_COMMAND": '["pass", "show", "fibank/household"]',
        "TAP_FIBANK_LOGIN": "household",
    }


def test_a_login_named_as_its_username_leaves_the_login_key_to_the_tap(tmp_path: Path) -> None:
    # The tap refuses a `login` that is the username (it is written in every record); its own
    # default, an id derived from the username, keeps the logins apart instead.
    text = "logins:\n  - {name: anna, username_env: U, password_env: P}\n"
    (login,) = load_logins(write(tmp_path, text))
    env = login.tap_env({"U": " Anna ", "P": "s3cret"})
    assert "TAP_FIBANK_LOGIN" not in env
    assert env["TAP_FIBANK_USERNAME"] == " Anna "


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "logins:\n  - {name: a, username_env: U, password_env: P, password: s3cr3t-x}\n",
            "has password in the file",
        ),
        (
            "logins:\n  - {name: a, username_env: U, password_env: P, settings: {password: s3cr3t-x}}\n",
            "has password",
        ),
        ("logins:\n  - {name: A b, username_env: U, password_env: P}\n", "must be 1-63 of a-z"),
        ("logins:\n  - {name: a, username_env: U}\n", r"needs password_env.*or settings: \{password_command"),
        (
            "logins:\n  - {name: a, username_env: U, password_env: P,\n"
            "     settings: {password_command: [pass]}}\n",
            "has password_env and a password_command: keep one",
        ),
        (
            "logins:\n  - {name: a, username_env: U, password_env: P}\n"
            "  - {name: a, username_env: V, password_env: W}\n",
            "unique",
        ),
        ("logins: []\n", "non-empty list"),
        ("logins: [\n", "not valid YAML"),
        ("logins:\n  - {name: a, password: s3cr3t-x\n", "not valid YAML at line 3, column 1"),
    ],
)
def test_a_bad_file_is_refused_in_one_line_naming_the_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LoginsError, match=message) as error:
        load_logins(write(tmp_path, text))
    assert "\n" not in str(error.value)
    assert "s3cr3t-x" not in str(error.value)


def test_a_missing_file_says_where_to_start(tmp_path: Path) -> None:
    with pytest.raises(LoginsError, match=r"copy orchestrate/logins\.example\.yml"):
        load_logins(tmp_path / "nope.yml")


def test_a_login_whose_variables_are_unset_names_them_and_not_their_values() -> None:
    login = Login("a", "A_USER", "A_PASSWORD")
    with pytest.raises(LoginsError, match="A_PASSWORD") as error:
        login.tap_env({"A_USER": "anna"})
    assert "anna" not in str(error.value)
