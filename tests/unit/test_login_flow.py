"""The login's flow against the in-process sandbox, each rule observable on the wire.

The four steps go out as the 2022 connector sent them (queries and form compared with
fibank-api.md, sections 1 and 4), every secret the login meets is registered before anything can
log it, and the GETs before the password are retried a bounded number of times with the waits
the retry loop promises, or end as an unreachable bank. How a login is refused, and that the
password POST is never sent twice, is test_login_refusals.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from support.login_wire import (
    AUTHORIZE,
    CERTS,
    LOGGER,
    LOGIN_PAGE,
    Wire,
    calls,
    messages,
    redacted,
    sign_in,
    unreachable,
)

from fibank_sandbox import Sandbox
from tap_fibank.bank.clock import SOFIA
from tap_fibank.bank.login import AccessToken, log_in
from tap_fibank.errors import BankUnavailableError, LoginPageChangedError

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
    assert waits == []  # a healthy login never waits


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
    assert str(unavailable.value) == unreachable(
        sandbox.base_url, "HTTP 5xx or 429", "login certificate check"
    )
    assert unavailable.value.exit_code == 4
    assert calls(sandbox, "certs") == 3
    assert calls(sandbox, "login_post") == 0
    assert wire.posts() == []
    assert len(wire.gets(CERTS)) == 3
    if kind == "429":
        assert waits == [2.0, 2.0]
    else:
        assert_backoff(waits)  # and no wait after the last try


def test_a_certificate_question_failing_twice_is_asked_a_third_time_and_the_login_goes_on(
    sandbox: Sandbox, session: requests.Session, wire: Wire, waits: list[float]
) -> None:
    sandbox.fail_next("5xx", count=2, endpoint="certs")
    assert sign_in(sandbox, session).value
    assert calls(sandbox, "certs") == 3
    assert calls(sandbox, "login_post") == 1
    assert [hop.status for hop in wire.gets(CERTS)] == [500, 502, 200]
    assert_backoff(waits)


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
    assert_backoff(waits)  # the other steps did not wait


def test_a_login_page_failing_every_time_is_passed_over_after_three_tries(
    sandbox: Sandbox, session: requests.Session, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    """The connector never looked at the login page's status; the authorize page sets the cookie too."""
    sandbox.fail_next("5xx", count=5, endpoint="login_page")
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    assert sign_in(sandbox, session).value
    assert calls(sandbox, "login_page") == 3
    assert_backoff(waits)
    assert messages(caplog)[0] == "The login page answered HTTP 503; the login goes on."


def test_an_authorize_page_failing_every_time_is_an_unreachable_bank_after_three_tries(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("5xx", count=5, endpoint="authorize")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == unreachable(sandbox.base_url, "HTTP 5xx or 429", "authorize page")
    assert calls(sandbox, "authorize") == 3
    assert calls(sandbox, "certs") == calls(sandbox, "login_post") == 0
    assert_backoff(waits)  # and no wait after the last try


def test_a_500_on_the_authorize_page_is_retried(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("5xx", count=1, endpoint="authorize")  # the sandbox's first 5xx is a 500
    assert sign_in(sandbox, session).value
    assert calls(sandbox, "authorize") == 3  # two tries, then the redirect back after the password
    assert sandbox.counters()["faults"]["5xx"] == 1
    assert len(waits) == 1
    assert 0.375 <= waits[0] <= 0.625


def test_a_429_on_the_authorize_page_waits_as_long_as_retry_after_says(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.faults.retry_after = 7
    sandbox.fail_next("429", count=1, endpoint="authorize")
    assert sign_in(sandbox, session).value
    assert calls(sandbox, "authorize") == 3  # two tries, then the redirect back after the password
    assert waits == [7.0]


def test_a_429_whose_retry_after_is_an_http_date_waits_until_that_moment(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.faults.retry_after = 7
    sandbox.faults.retry_after_date = True
    sandbox.fail_next("429", count=1, endpoint="authorize")
    assert sign_in(sandbox, session).value
    # The date has whole seconds and the request took some time: less than 7 s is left, but more
    # than 5 s on any machine, and neither the 1 s of an unreadable header nor the backoff.
    assert len(waits) == 1
    assert 5.0 <= waits[0] <= 7.0


def test_an_authorize_page_rate_limited_every_time_is_unreachable_after_two_waits(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.faults.retry_after = 3
    sandbox.fail_next("429", count=3, endpoint="authorize")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == unreachable(sandbox.base_url, "HTTP 5xx or 429", "authorize page")
    assert waits == [3.0, 3.0]


def test_an_authorize_page_whose_connection_drops_names_the_network_error(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("drop", count=3, endpoint="authorize")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == unreachable(sandbox.base_url, "ConnectionError", "authorize page")
    assert calls(sandbox, "authorize") == 3
    assert_backoff(waits)


def test_the_last_cause_is_named_when_a_drop_is_followed_by_gateway_errors(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.fail_next("drop", count=1, endpoint="authorize")
    sandbox.fail_next("5xx", count=2, endpoint="authorize")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session)
    assert str(unavailable.value) == unreachable(sandbox.base_url, "HTTP 5xx or 429", "authorize page")


def test_an_unanswered_certificate_question_names_the_host_not_the_username(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    username = f"user-{uuid.uuid4()}"
    sandbox.fail_next("drop", count=3, endpoint="certs")
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session, username=username)
    assert str(unavailable.value) == unreachable(
        sandbox.base_url, "ConnectionError", "login certificate check"
    )
    assert username not in str(unavailable.value)
    assert calls(sandbox, "certs") == 3
    assert calls(sandbox, "login_post") == 0


def test_a_login_page_that_answers_too_late_is_tried_three_times_then_named(
    sandbox: Sandbox, session: requests.Session, waits: list[float]
) -> None:
    sandbox.faults.latency = 0.4
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session, timeout=0.1)
    assert str(unavailable.value) == unreachable(sandbox.base_url, "ReadTimeout", "login page")
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
    assert waits == []


@pytest.mark.parametrize(
    ("slow_after", "what"), [(LOGIN_PAGE, "authorize page"), (AUTHORIZE, "login certificate check")]
)
def test_each_login_page_is_given_the_timeout(
    sandbox: Sandbox, session: requests.Session, wire: Wire, waits: list[float], slow_after: str, what: str
) -> None:
    """The bank slows down after one step: the next one is the one that times out, three times."""

    def slow_down() -> None:
        sandbox.faults.latency = 1.6

    wire.after[slow_after] = slow_down
    with pytest.raises(BankUnavailableError) as unavailable:
        sign_in(sandbox, session, timeout=1.0)  # healthy steps answer in milliseconds
    assert str(unavailable.value) == unreachable(sandbox.base_url, "ReadTimeout", what)
    assert calls(sandbox, "login_post") == 0


def test_a_bank_with_nothing_listening_is_unreachable_after_three_tries(waits: list[float]) -> None:
    """The port stays bound (never listening) for the whole test, so nothing else can take it."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{taken.getsockname()[1]}"
        with requests.Session() as http, pytest.raises(BankUnavailableError) as unavailable:
            log_in(http, base_url, "demo", "demo", timeout=5.0)
    assert str(unavailable.value) == unreachable(base_url, "ConnectionError", "login page")
    assert_backoff(waits)  # three tries of the login page, then no wait


def test_a_meta_value_is_read_from_the_meta_element_only_and_a_bare_one_is_none() -> None:
    """A form field of the same name is not the meta element; a meta without content has no value."""
    from tap_fibank.bank.login import _meta_content

    page = '<form><input name="_csrf" value="from-the-form"></form><meta name="_csrf" content=" t0k3n ">'
    assert _meta_content(page, "_csrf") == "t0k3n"
    assert _meta_content('<meta name="_csrf">', "_csrf") is None
    assert _meta_content('<meta name="_csrf" content="  ">', "_csrf") is None
    assert _meta_content("<p>no meta</p>", "_csrf") is None


def test_a_redirect_with_a_blank_token_is_passed_over_for_a_later_one_that_carries_it() -> None:
    """`#access_token=&…` is no token; the chain is read on to the hop that has one, and its state checked."""
    from tap_fibank.bank.login import _token_from_redirects

    def hop(location: str) -> requests.Response:
        response = requests.Response()
        response.status_code = 302
        response.headers["Location"] = location
        return response

    final = requests.Response()
    final.status_code = 200
    final._content = b"<html></html>"  # what requests keeps as the body once read
    final.history = [
        hop("/EBank/#state=s1"),
        hop("/EBank/#access_token=&state=s1"),
        hop("/EBank/#access_token=blank-hop-token-7f3a&state=s1&expires_in=300"),
    ]
    assert _token_from_redirects(final, "s1") == AccessToken("blank-hop-token-7f3a")
    with pytest.raises(LoginPageChangedError, match="state mismatch"):
        _token_from_redirects(final, "another")
    final.history = final.history[:2]
    assert _token_from_redirects(final, "s1") is None
