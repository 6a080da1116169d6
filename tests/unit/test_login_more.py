"""The login against the sandbox: each refusal is its own error, and the password goes once."""

from __future__ import annotations

import socket

import pytest
import requests

from fibank_sandbox import Sandbox
from tap_fibank.bank.login import log_in
from tap_fibank.errors import (
    BankUnavailableError,
    LoginPageChangedError,
    SecondFactorRequiredError,
    UserLockedError,
    WrongCredentialsError,
)


def attempt(bank: Sandbox, password: str | None = None):
    with requests.Session() as session:
        return log_in(session, bank.base_url, bank.username, password or bank.password, timeout=10)


def test_the_demo_login_yields_a_bearer_token(sandbox):
    token = attempt(sandbox)
    assert token.value
    response = requests.get(
        f"{sandbox.base_url}/EBank/api/v1/sywsquery/sywsquery/getCustQuery",
        headers={"Authorization": f"Bearer {token.value}"},
        timeout=10,
    )
    assert response.status_code == 200


def test_a_wrong_password_is_reported_and_posted_once(sandbox):
    with pytest.raises(WrongCredentialsError, match="tried once"):
        attempt(sandbox, "wrong")
    assert sandbox.counters()["calls"]["login_post"] == 1


def test_a_locked_user_is_told_apart_from_a_wrong_password(sandbox):
    for _ in range(5):
        with pytest.raises(WrongCredentialsError):
            attempt(sandbox, "wrong")
    with pytest.raises(UserLockedError, match="locked"):
        attempt(sandbox)


def test_a_second_factor_is_reported_not_answered(sandbox):
    sandbox.faults.second_factor = True
    with pytest.raises(SecondFactorRequiredError, match="second factor"):
        attempt(sandbox)


def test_a_login_page_without_csrf_names_the_missing_element(sandbox):
    sandbox.faults.no_csrf = True
    with pytest.raises(LoginPageChangedError, match='meta name="_csrf"'):
        attempt(sandbox)
    assert sandbox.counters()["calls"].get("login_post", 0) == 0


def test_an_unreachable_bank_is_its_own_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with requests.Session() as session, pytest.raises(BankUnavailableError, match="cannot be reached"):
        log_in(session, f"http://127.0.0.1:{port}", "demo", "demo", timeout=2)
