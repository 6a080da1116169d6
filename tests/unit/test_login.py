"""The login's rules against the in-process sandbox, each one observable on the wire.

The password POST goes out once whatever the bank answers (Fibank locks a user after five
failures), the GETs before it are retried a bounded number of times with the waits the retry
policy promises, each refusal is its own error whose message names the problem and the fix and
no secret, and every secret the login meets is registered before anything can log it.

The session's response hook records every answer (redirects included) with the request that
drew it: the queries and the form are compared with fibank-api.md (sections 1 and 4). The login's
waits are recorded instead of slept (its reference to the `time` module is replaced), so the
retries cost no time and the waits themselves can be checked.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests

import tap_fibank.bank.login as login_module
from fibank_sandbox import Sandbox
from tap_fibank.bank.login import AccessToken, log_in
from tap_fibank.errors import (
    BankUnavailableError,
    LoginPageChangedError,
    SecondFactorRequiredError,
    UserLockedError,
    WrongCredentialsError,
)
from tap_fibank.privacy import SECRETS
from tap_fibank.walk.windows import SOFIA

LOGIN_PAGE = "/oauth2-server/login"
AUTHORIZE = "/oauth2-server/oauth/authorize"
CERTS = "/oauth2-server/api/v1/sywscertificate/fnGetCertsForLogin"
LOGGER = "tap_fibank.login"

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


@dataclass
class Hop:
    """One answer the login's session received, with what the request asked."""

    method: str
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    status: int
    location: str
    set_cookie: str


@dataclass
class Wire:
    """Every answer of one session, in order; `after` runs a step of the test once a path answered."""

    hops: list[Hop] = field(default_factory=list)
    after: dict[str, Callable[[], None]] = field(default_factory=dict)

    def seen(self, response: requests.Response, *_args: object, **_kwargs: object) -> requests.Response:
        request = response.request
        url = urlsplit(request.url or "")
        body = request.body if isinstance(request.body, str) else ""
        self.hops.append(
            Hop(
                request.method or "",
                url.path,
                parse_qsl(url.query, keep_blank_values=True),
                parse_qsl(body, keep_blank_values=True),
                response.status_code,
                response.headers.get("Location", ""),
                response.headers.get("Set-Cookie", ""),
            )
        )
        step = self.after.pop(url.path, None)
        if step is not None:
            step()
        return response

    def posts(self) -> list[Hop]:
        return [hop for hop in self.hops if hop.method == "POST"]

    def gets(self, path: str) -> list[Hop]:
        return [hop for hop in self.hops if hop.method == "GET" and hop.path == path]


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@pytest.fixture
def wire(session: requests.Session) -> Wire:
    recorder = Wire()
    session.hooks["response"].append(recorder.seen)
    return recorder


class _Clock:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds the login would have slept, in order (time.sleep(0) included)."""
    clock = _Clock()
    monkeypatch.setattr(login_module, "time", clock)
    return clock.waits


def sign_in(
    bank: Sandbox,
    session: requests.Session,
    *,
    username: str | None = None,
    password: str | None = None,
    timeout: float = 5.0,
) -> AccessToken:
    return log_in(session, bank.base_url, username or bank.username, password or bank.password, timeout)


def calls(bank: Sandbox, endpoint: str) -> int:
    return int(bank.counters()["calls"].get(endpoint, 0))


def redacted(value: str) -> bool:
    return SECRETS.redact(value) == "[redacted]"


def unreachable(bank: Sandbox, reason: str, what: str) -> str:
    host = urlsplit(bank.base_url).netloc
    return f"the bank at {host} cannot be reached ({reason} on the {what}); check the network or base_url"


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]


# The steps as the connector sent them -------------------------------------------------------------


def test_the_login_pages_are_asked_with_the_connectors_queries(
    sandbox: Sandbox, session: requests.Session, wire: Wire, waits: list[float]
) -> None:
    sign_in(sandbox, session)
    assert [(hop.method, hop.path) for hop in wire.hops[:4]] == [
        ("GET", LOGIN_PAGE),
        ("GET", AUTHORIZE),
        ("GET", CERTS),
        ("POST", LOGIN_PAGE),
    ]
    assert wire.hops[0].query == [("client_id", "E_BANK")]
    authorize = wire.hops[1].query
    assert authorize[:4] == [
        ("response_type", "token"),
        ("client_id", "E_BANK"),
        ("redirect_uri", "/EBank/"),
        ("scope", "E_BANK"),
    ]
    assert [name for name, _ in authorize[4:]] == ["state"]
    assert uuid.UUID(authorize[4][1]).version == 4
    assert wire.hops[2].query == [("client_id", "E_BANK"), ("userName", "demo")]
    assert waits == [0.0, 0.0, 0.0]


def test_each_login_sends_a_state_of_its_own(sandbox: Sandbox, wire: Wire) -> None:
    for _ in range(2):
        with requests.Session() as http:
            http.hooks["response"].append(wire.seen)
            sign_in(sandbox, http)
    states = [dict(hop.query)["state"] for hop in wire.gets(AUTHORIZE) if hop.query]
    assert len(states) == 4  # two logins, each: the authorize page, then the redirect back to it
    assert states[0] == states[1] != states[2] == states[3]


def test_the_password_form_has_the_connectors_fields_in_its_order(
    sandbox: Sandbox, session: requests.Session, wire: Wire
) -> None:
    before = dt.datetime.now(SOFIA).replace(microsecond=0)
    sign_in(sandbox, session)
    after = dt.datetime.now(SOFIA)
    (post,) = wire.posts()
    form = dict(post.form)
    assert [name for name, _ in post.form] == [
        "username",
        "password",
        "system",
        "client_id",
        "lang",
        "time",
        "_csrf",
        "sig",
    ]
    assert {k: form[k] for k in ("username", "password", "system", "client_id", "lang", "sig")} == {
        "username": "demo",
        "password": "demo",
        "system": "",
        "client_id": "E_BANK",
        "lang": "bg",
        "sig": "",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", form["time"])
    sent = dt.datetime.strptime(form["time"], "%Y-%m-%dT%H:%M:%S%z")
    assert before <= sent <= after
    assert sent.utcoffset() == after.utcoffset()  # Sofia's offset, whatever the machine's zone
    assert form["_csrf"]


def test_the_token_is_the_one_in_the_fragment_of_the_second_redirect(
    sandbox: Sandbox, session: requests.Session, wire: Wire
) -> None:
    token = sign_in(sandbox, session)
    post_at = wire.hops.index(wire.posts()[0])
    first, second = wire.hops[post_at : post_at + 2]
    assert first.status == second.status == 302
    fragment = parse_qs(urlsplit(second.location).fragment)
    assert token == AccessToken(fragment["access_token"][0])
    assert fragment["state"] == [dict(wire.hops[1].query)["state"]]
    answer = session.get(
        f"{sandbox.base_url}/EBank/api/v1/sywsquery/sywsquery/getCustQuery",
        headers={"Authorization": f"Bearer {token.value}"},
        timeout=10,
    )
    assert answer.status_code == 200


def test_a_login_logs_the_tokens_announced_lifetime_and_its_success(
    sandbox: Sandbox, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    sign_in(sandbox, session)
    assert messages(caplog) == [
        "The access token is announced to live 600 s.",
        "Logged in to the web bank.",
    ]


def test_a_token_redirect_without_state_or_lifetime_is_accepted_and_logged_as_such(
    sandbox: Sandbox, session: requests.Session, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    """`state` and `expires_in` are inferred, not known: a bank that leaves them out still logs in."""
    sandbox.faults.bare_token_redirect = True
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    token = sign_in(sandbox, session)
    post_at = wire.hops.index(wire.posts()[0])
    fragment = parse_qs(urlsplit(wire.hops[post_at + 1].location).fragment)
    assert set(fragment) == {"access_token", "token_type"}
    assert token == AccessToken(fragment["access_token"][0])
    assert messages(caplog) == [
        "The access token is announced to live an unknown number of s.",
        "The web bank page carries no EBank_publicToken; it is not needed.",
        "Logged in to the web bank.",
    ]


# Secrets ---------------------------------------------------------------------------------------


def test_every_secret_the_bank_handed_out_is_registered_for_redaction(
    sandbox: Sandbox, session: requests.Session, wire: Wire
) -> None:
    token = sign_in(sandbox, session)
    issued = sandbox.issued_secrets()
    assert token.value in issued
    assert len(issued) == 4  # the first session id, its CSRF value, the rotated session id, the token
    assert all(redacted(value) for value in issued)
    cookies = [hop.set_cookie.split(";")[0].split("=", 1)[1] for hop in wire.hops if hop.set_cookie]
    assert len(cookies) == 2 and all(redacted(value) for value in cookies)
    assert all(redacted(cookie.value) for cookie in session.cookies)
    assert redacted(dict(wire.posts()[0].form)["_csrf"])


def test_the_web_banks_public_token_is_registered_for_redaction(sandbox: Sandbox) -> None:
    pages: list[str] = []
    with requests.Session() as http:
        http.hooks["response"].append(lambda response, *a, **k: pages.append(response.text))
        sign_in(sandbox, http)
    found = re.search(r'name="EBank_publicToken" content="([^"]+)"', pages[-1])
    assert found is not None
    assert redacted(found.group(1))


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
    assert waits == [0.0, 0.0, 0.0]


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


def test_a_signed_in_session_gets_a_new_token_without_the_password(
    sandbox: Sandbox, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    first = sign_in(sandbox, session)
    caplog.set_level(logging.INFO, logger=LOGGER)
    second = sign_in(sandbox, session)
    assert second != first
    assert redacted(second.value)
    assert calls(sandbox, "login_post") == 1
    assert calls(sandbox, "certs") == 1
    assert sandbox.counters()["logins"] == 2
    assert messages(caplog) == ["The bank issued a new access token for the signed-in session."]


# The certificate question: its answer is not needed, but an answer is ---------------------------


@pytest.mark.parametrize("status", [204, 404])
def test_any_answer_to_the_certificate_question_lets_the_login_go_on(
    sandbox: Sandbox, session: requests.Session, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    sandbox.faults.cert_status = status
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    assert sign_in(sandbox, session).value
    assert f"The login certificate check answered HTTP {status}; the login goes on." in messages(caplog)
    assert calls(sandbox, "certs") == 1


@pytest.mark.parametrize("kind", ["5xx", "429"])
def test_a_certificate_question_failing_every_time_ends_the_login_before_the_password(
    sandbox: Sandbox, session: requests.Session, wire: Wire, waits: list[float], kind: str
) -> None:
    """A password sent into a session the bank may have lost could count toward the lockout."""
    sandbox.faults.retry_after = 2
    sandbox.fail_next(kind, count=3, endpoint="certs")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == unreachable(sandbox, "HTTP 5xx or 429", "login certificate check")
    assert unavailable.value.exit_code == 4
    assert calls(sandbox, "certs") == 3
    assert calls(sandbox, "login_post") == 0
    assert wire.posts() == []
    assert len(wire.gets(CERTS)) == 3
    assert waits[:3] == [0.0, 0.0, 0.0]
    if kind == "429":
        assert waits[3:] == [2.0, 2.0]
    else:
        assert_backoff(waits[3:])  # and no wait after the last try


def test_a_certificate_question_failing_twice_is_asked_a_third_time_and_the_login_goes_on(
    sandbox: Sandbox, session: requests.Session, wire: Wire, waits: list[float]
) -> None:
    sandbox.fail_next("5xx", count=2, endpoint="certs")
    assert sign_in(sandbox, session).value
    assert calls(sandbox, "certs") == 3
    assert calls(sandbox, "login_post") == 1
    assert [hop.status for hop in wire.gets(CERTS)] == [500, 502, 200]
    assert_backoff(waits[3:5])


# Transient answers to the GETs: retried, bounded, with the promised waits ----------------------


def assert_backoff(waits: list[float]) -> None:
    """The waits between three tries: the policy's 0.5 s, then 1 s, each with ±25 % jitter."""
    assert len(waits) == 2
    assert 0.375 <= waits[0] <= 0.625
    assert 0.75 <= waits[1] <= 1.25


def test_a_login_page_failing_twice_is_tried_a_third_time_after_growing_waits(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("5xx", count=2, endpoint="login_page")
    assert sign_in(sandbox, session).value
    assert calls(sandbox, "login_page") == 3
    assert waits[0] == 0.0
    assert_backoff(waits[1:3])
    assert waits[3:] == [0.0, 0.0]


def test_a_login_page_failing_every_time_is_passed_over_after_three_tries(
    sandbox: Sandbox, session: requests.Session, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    """The connector never looked at the login page's status; the authorize page sets the cookie too."""
    sandbox.fail_next("5xx", count=5, endpoint="login_page")
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    assert sign_in(sandbox, session).value
    assert calls(sandbox, "login_page") == 3
    assert_backoff(waits[1:3])
    assert messages(caplog)[0] == "The login page answered HTTP 503; the login goes on."


def test_an_authorize_page_failing_every_time_is_an_unreachable_bank_after_three_tries(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("5xx", count=5, endpoint="authorize")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == unreachable(sandbox, "HTTP 5xx or 429", "authorize page")
    assert calls(sandbox, "authorize") == 3
    assert calls(sandbox, "certs") == calls(sandbox, "login_post") == 0
    assert waits[:2] == [0.0, 0.0]
    assert_backoff(waits[2:])  # and no wait after the last try


def test_a_500_on_the_authorize_page_is_retried(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("5xx", count=1, endpoint="authorize")  # the sandbox's first 5xx is a 500
    assert sign_in(sandbox, session).value
    assert calls(sandbox, "authorize") == 3  # two tries, then the redirect back after the password
    assert sandbox.counters()["faults"]["5xx"] == 1


def test_a_429_on_the_authorize_page_waits_as_long_as_retry_after_says(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.faults.retry_after = 7
    sandbox.fail_next("429", count=1, endpoint="authorize")
    assert sign_in(sandbox, session).value
    assert calls(sandbox, "authorize") == 3  # two tries, then the redirect back after the password
    assert waits == [0.0, 0.0, 7.0, 0.0]


def test_a_429_whose_retry_after_is_an_http_date_waits_until_that_moment(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.faults.retry_after = 7
    sandbox.faults.retry_after_date = True
    sandbox.fail_next("429", count=1, endpoint="authorize")
    assert sign_in(sandbox, session).value
    assert waits[:2] == [0.0, 0.0]
    assert 6.0 <= waits[2] <= 7.0  # the date has whole seconds
    assert waits[3:] == [0.0]


def test_an_authorize_page_rate_limited_every_time_is_unreachable_after_two_waits(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.faults.retry_after = 3
    sandbox.fail_next("429", count=3, endpoint="authorize")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == unreachable(sandbox, "HTTP 5xx or 429", "authorize page")
    assert waits == [0.0, 0.0, 3.0, 3.0]


def test_an_authorize_page_whose_connection_drops_names_the_network_error(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("drop", count=3, endpoint="authorize")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == unreachable(sandbox, "ConnectionError", "authorize page")
    assert calls(sandbox, "authorize") == 3
    assert_backoff(waits[2:])


def test_the_last_cause_is_named_when_a_drop_is_followed_by_gateway_errors(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("drop", count=1, endpoint="authorize")
    sandbox.fail_next("5xx", count=2, endpoint="authorize")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == unreachable(sandbox, "HTTP 5xx or 429", "authorize page")


def test_an_unanswered_certificate_question_names_the_host_not_the_username(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    username = f"user-{uuid.uuid4()}"
    sandbox.fail_next("drop", count=3, endpoint="certs")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session, username=username)
    assert str(unavailable.value) == unreachable(sandbox, "ConnectionError", "login certificate check")
    assert username not in str(unavailable.value)
    assert calls(sandbox, "certs") == 3
    assert calls(sandbox, "login_post") == 0


def test_a_login_page_that_answers_too_late_is_tried_three_times_then_named(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.faults.latency = 0.4
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session, timeout=0.1)
    assert str(unavailable.value) == unreachable(sandbox, "ReadTimeout", "login page")
    assert calls(sandbox, "login_page") == 3
    assert calls(sandbox, "authorize") == 0


def test_an_authorize_page_that_is_not_there_is_a_changed_flow(
    sandbox: Sandbox, session: requests.Session, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    with pytest.raises(LoginPageChangedError) as changed:
        log_in(session, sandbox.base_url + "/moved", "demo", "demo", 5.0)
    assert str(changed.value) == (
        "the bank answered HTTP 404 to the authorize page; the login flow may have changed"
    )
    assert messages(caplog) == ["The login page answered HTTP 404; the login goes on."]
    assert waits == [0.0, 0.0]


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
    assert waits == [0.0, 0.0, 0.0]


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
    assert waits == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("slow_after", "what"), [(LOGIN_PAGE, "authorize page"), (AUTHORIZE, "login certificate check")]
)
def test_each_login_page_is_given_the_timeout(
    sandbox: Sandbox, session: requests.Session, wire: Wire, waits: list[float], slow_after: str, what: str
) -> None:
    """The bank slows down after one step: the next one is the one that times out, three times."""

    def slow_down() -> None:
        sandbox.faults.latency = 0.5

    wire.after[slow_after] = slow_down
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session, timeout=0.2)
    assert str(unavailable.value) == unreachable(sandbox, "ReadTimeout", what)
    assert calls(sandbox, "login_post") == 0


def test_a_password_post_answered_too_late_is_not_sent_again(
    sandbox: Sandbox, session: requests.Session, wire: Wire
) -> None:
    """The bank slows down just after the certificate question: only the POST is late."""

    def slow_down() -> None:
        sandbox.faults.latency = 0.5

    wire.after[CERTS] = slow_down
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session, timeout=0.2)
    assert str(unavailable.value) == (
        "the bank did not answer the login (ReadTimeout); the password was sent once "
        "and is not retried; check the network and run again"
    )
    assert calls(sandbox, "login_post") == 1
