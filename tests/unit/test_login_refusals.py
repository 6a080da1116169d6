"""How a login ends without a token: each refusal its own error, the password posted once.

A wrong password, a locked user, a second factor, a login page that changed, a token for another
request: each is told apart, named with its fix and no secret. The password POST goes out once
whatever the bank answers (Fibank locks a user after five failures): a gateway error, a dropped
connection or a late answer to it is reported, never retried. The GETs before it are
test_login_flow.py.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from support.login_wire import (
    AUTHORIZE,
    CERTS,
    LOGIN_PAGE,
    Wire,
    calls,
    redacted,
    sign_in,
)

from fibank_sandbox import Sandbox
from tap_fibank.errors import (
    BankUnavailableError,
    LoginPageChangedError,
    SecondFactorRequiredError,
    UserLockedError,
    WrongCredentialsError,
)

WRONG = (
    "the bank refused the username or password; fix them in the settings "
    "(the tap tried once: Fibank locks a user after five failed attempts)"
)
LOCKED = (
    "the bank says this e-banking user is locked; unlock it with Fibank (branch or phone) before the next run"
)
SECOND_FACTOR = (
    "the bank asks for a second factor (SMS code or confirmation) at this login; "
    "the tap cannot answer it: turn it off for this user or use a user without it"
)
NO_CSRF = (
    'the bank\'s login page changed: it has no <meta name="_csrf"> element, '
    "so the tap cannot log in; a new tap version is needed"
)


def test_a_refused_login_registers_the_username_and_password_and_names_neither(
    sandbox: Sandbox, session: requests.Session, wire: Wire
) -> None:
    username, password = f"user-{uuid.uuid4()}", f"pass-{uuid.uuid4()}"
    with pytest.raises(WrongCredentialsError) as refused:
        sign_in(sandbox, session, username=username, password=password)
    assert str(refused.value) == WRONG
    assert redacted(username)
    assert redacted(password)
    assert len(wire.posts()) == 1


# Refusals: each its own error, the password posted once ---------------------------------------


FAILURE_PAGES = ["spring", "in_place", "plain_error"]


@pytest.mark.parametrize("failure_page", FAILURE_PAGES)
def test_a_wrong_password_is_posted_once_and_named_with_its_fix(
    sandbox: Sandbox, session: requests.Session, wire: Wire, waits: list[float], failure_page: str
) -> None:
    """Whether the bank redirects to `?error`, marks the message `login-error`, or both."""
    sandbox.faults.failure_page = failure_page
    password = f"wrong-{uuid.uuid4()}"
    with pytest.raises(WrongCredentialsError) as refused:
        sign_in(sandbox, session, password=password)
    assert str(refused.value) == WRONG
    assert password not in str(refused.value)
    assert calls(sandbox, "login_post") == 1
    assert sandbox.counters()["failed_logins"] == 1
    assert len(wire.posts()) == 1
    assert waits == []


@pytest.mark.parametrize("failure_page", FAILURE_PAGES)
def test_a_locked_user_is_reported_as_locked_even_with_the_right_password(
    sandbox: Sandbox, failure_page: str
) -> None:
    sandbox.faults.failure_page = failure_page
    for _ in range(5):
        with requests.Session() as http, pytest.raises(WrongCredentialsError):
            sign_in(sandbox, http, password="not-the-password")
    with requests.Session() as http, pytest.raises(UserLockedError) as locked:
        sign_in(sandbox, http)
    assert str(locked.value) == LOCKED
    assert calls(sandbox, "login_post") == 6


@pytest.mark.parametrize("code_input", ["name", "id_only"])
def test_a_second_factor_is_reported_and_never_answered(
    sandbox: Sandbox, session: requests.Session, wire: Wire, code_input: str
) -> None:
    """The SMS-code field is found by its name, or by its id where it has no name."""
    sandbox.faults.second_factor = True
    sandbox.faults.second_factor_input = code_input
    with pytest.raises(SecondFactorRequiredError) as asked:
        sign_in(sandbox, session)
    assert str(asked.value) == SECOND_FACTOR
    assert [(hop.method, hop.path) for hop in wire.hops[3:]] == [
        ("POST", LOGIN_PAGE),
        ("GET", "/oauth2-server/login/otp"),
    ]
    assert sandbox.counters()["logins"] == 0


def test_a_login_page_without_csrf_stops_before_the_certificate_question_and_the_password(
    sandbox: Sandbox, session: requests.Session
) -> None:
    sandbox.faults.no_csrf = True
    with pytest.raises(LoginPageChangedError) as changed:
        sign_in(sandbox, session)
    assert str(changed.value) == NO_CSRF
    assert calls(sandbox, "certs") == 0
    assert calls(sandbox, "login_post") == 0


def test_a_failure_page_with_neither_mark_is_a_changed_flow_not_a_second_factor(
    sandbox: Sandbox, session: requests.Session
) -> None:
    """Neither `?error` nor `login-error`: the login form again is not taken for an SMS-code page."""
    sandbox.faults.failure_page = "unmarked"
    with pytest.raises(LoginPageChangedError) as changed:
        sign_in(sandbox, session, password=f"wrong-{uuid.uuid4()}")
    assert str(changed.value) == (
        "after the password the bank answered HTTP 200 at /oauth2-server/login with neither an "
        "access token nor a known error page; the login flow may have changed"
    )
    assert calls(sandbox, "login_post") == 1


def test_a_password_refused_outright_is_a_changed_flow_naming_status_and_path(
    sandbox: Sandbox, session: requests.Session, wire: Wire
) -> None:
    """The session is lost between the certificate question and the POST: the bank answers 403."""
    wire.after[CERTS] = session.cookies.clear
    with pytest.raises(LoginPageChangedError) as changed:
        sign_in(sandbox, session)
    assert str(changed.value) == (
        "after the password the bank answered HTTP 403 at /oauth2-server/login with neither an "
        "access token nor a known error page; the login flow may have changed"
    )
    assert calls(sandbox, "login_post") == 1


def test_a_token_for_another_login_request_is_refused_as_a_state_mismatch(
    sandbox: Sandbox, session: requests.Session, wire: Wire
) -> None:
    """Another authorize request in the same session (another tab) replaces the saved one."""

    def another_tab() -> None:
        query = {
            "response_type": "token",
            "client_id": "E_BANK",
            "redirect_uri": "/EBank/",
            "scope": "E_BANK",
        }
        session.get(sandbox.base_url + AUTHORIZE, params={**query, "state": "another"}, timeout=5)

    wire.after[CERTS] = another_tab
    with pytest.raises(LoginPageChangedError) as changed:
        sign_in(sandbox, session)
    assert str(changed.value) == "the bank returned a token for another login request (state mismatch)"
    assert calls(sandbox, "login_post") == 1
    assert sandbox.counters()["logins"] == 1
    (fragment,) = [
        parse_qs(urlsplit(h.location).fragment) for h in wire.hops if "access_token=" in h.location
    ]
    assert fragment["state"] == ["another"]
    assert redacted(fragment["access_token"][0])  # registered before the state was compared


# The password POST: never retried ---------------------------------------------------------------


@pytest.mark.parametrize(("kind", "status"), [("5xx", 500), ("429", 429)])
def test_a_gateway_answer_to_the_password_is_unavailability_not_a_second_post(
    sandbox: Sandbox, session: requests.Session, wire: Wire, waits: list[float], kind: str, status: int
) -> None:
    sandbox.fail_next(kind, count=1, endpoint="login_post")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == (
        f"the bank answered HTTP {status} to the login; the password was sent once "
        "and is not retried; try again later"
    )
    assert calls(sandbox, "login_post") == 1
    assert len(wire.posts()) == 1
    assert waits == []


def test_a_dropped_password_post_is_not_sent_again(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("drop", count=1, endpoint="login_post")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == (
        "the bank did not answer the login (ConnectionError); the password was sent once "
        "and is not retried; check the network and run again"
    )
    assert calls(sandbox, "login_post") == 1
    assert waits == []


def test_a_password_post_answered_too_late_is_not_sent_again(
    sandbox: Sandbox, session: requests.Session, wire: Wire
) -> None:
    """The bank slows down just after the certificate question: only the POST is late."""

    def slow_down() -> None:
        sandbox.faults.latency = 1.6

    wire.after[CERTS] = slow_down
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session, timeout=1.0)  # healthy steps answer in milliseconds
    assert str(unavailable.value) == (
        "the bank did not answer the login (ReadTimeout); the password was sent once "
        "and is not retried; check the network and run again"
    )
    assert calls(sandbox, "login_post") == 1
