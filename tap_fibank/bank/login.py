"""The web bank's login: an OAuth2 implicit grant wrapped around a server session.

Contract: `log_in` returns an access token or raises one `FibankError` naming the problem and its
fix (wrong password, locked user, second factor, changed site, unreachable bank), never a secret;
every secret it meets is registered for redaction first.

Four steps share one cookie jar: the login page (session cookie), the authorize page (CSRF token
in a meta tag), the certificate question the web app asks, and the form POST whose second
redirect carries the access token in its URL fragment. The POST is sent exactly once per login:
the bank locks a user after five failed passwords, so a refusal is reported, never retried.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from bs4 import BeautifulSoup

from tap_fibank.bank.clock import SOFIA, bank_timestamp
from tap_fibank.bank.endpoints import AUTHORIZE, CERTIFICATES, LOGIN_PAGE, WEB_APP
from tap_fibank.bank.retry import Retry, backoff, retry_after, retrying
from tap_fibank.errors import (
    BankUnavailableError,
    LoginPageChangedError,
    SecondFactorRequiredError,
    UserLockedError,
    WrongCredentialsError,
)
from tap_fibank.privacy import SECRETS

CLIENT_ID = "E_BANK"
LOGGER = logging.getLogger("tap_fibank.login")

_LOCKED_WORDS = ("блокиран", "заключен", "locked", "blocked")
_SECOND_FACTOR_INPUTS = ("otp", "sms", "code", "tan", "pin", "confirm")
_LOGIN_GET_ATTEMPTS = 3
_LOGIN_BACKOFF = 0.5


@dataclass(frozen=True)
class AccessToken:
    """A bearer token; its lifetime is not tracked, since only a 401 says it expired."""

    value: str


def log_in(
    session: requests.Session,
    base_url: str,
    username: str,
    password: str,
    timeout: float,
) -> AccessToken:
    """Walk the four login steps once and return the access token."""
    SECRETS.add(password)
    SECRETS.add(username)
    state = str(uuid.uuid4())
    authorize = _open_authorize(session, base_url, state, timeout)
    resumed = _token_from_redirects(authorize, state)
    if resumed is not None:
        # The server session is still signed in (a re-login after a token expired): the
        # authorize request is answered with a new token and no password is sent.
        LOGGER.info("The bank issued a new access token for the signed-in session.")
        return resumed
    csrf = _csrf(authorize, session)
    certificates = base_url + CERTIFICATES
    query = {"client_id": CLIENT_ID, "userName": username}
    _get(session, certificates, query, timeout, "login certificate check", need=False)
    form = _login_form(username, password, csrf)
    response = _post_password(session, _login_page(base_url), form, timeout)
    return _token_after_password(response, state)


def _login_page(base_url: str) -> str:
    """One spelling of the login page: the session starts there and the password goes there."""
    return base_url + LOGIN_PAGE


def _open_authorize(
    session: requests.Session, base_url: str, state: str, timeout: float
) -> requests.Response:
    """The two GETs before any secret is sent: the session cookie, then the authorize page.

    Kept apart from the password step because both may be retried and the POST may not.
    """
    login_page = _login_page(base_url)
    query = {"client_id": CLIENT_ID}
    _get(session, login_page, query, timeout, "login page", need=False, gateway_passes=True)
    return _get(
        session,
        base_url + AUTHORIZE,
        _authorize_query(state),
        timeout,
        "authorize page",
    )


def _token_after_password(response: requests.Response, state: str) -> AccessToken:
    """The password POST's outcome: a token, or the reason there is none, raised.

    A gateway error or rate limit is reported as the bank being unavailable, never answered
    with a second POST: the bank locks a user after five failed passwords.
    """
    token = _token_from_redirects(response, state)
    if token is not None:
        LOGGER.info("Logged in to the web bank.")
        return token
    if _transient(response.status_code):
        msg = (
            f"the bank answered HTTP {response.status_code} to the login; the password was sent once "
            "and is not retried; try again later"
        )
        raise BankUnavailableError(msg)
    raise _refusal(response)


def _authorize_query(state: str) -> dict[str, str]:
    return {
        "response_type": "token",
        "client_id": CLIENT_ID,
        "redirect_uri": WEB_APP,
        "scope": CLIENT_ID,
        "state": state,
    }


def _csrf(authorize: requests.Response, session: requests.Session) -> str:
    """The login page's CSRF token, registered as a secret; its absence means the site changed."""
    csrf = _meta_content(authorize.text, "_csrf")
    if csrf is None:
        msg = (
            'the bank\'s login page changed: it has no <meta name="_csrf"> element, '
            "so the tap cannot log in; a new tap version is needed"
        )
        raise LoginPageChangedError(msg)
    SECRETS.add(csrf)
    _remember_cookies(session)
    return csrf


def _login_form(username: str, password: str, csrf: str) -> dict[str, str]:
    return {
        "username": username,
        "password": password,
        "system": "",
        "client_id": CLIENT_ID,
        "lang": "bg",
        "time": bank_timestamp(dt.datetime.now(SOFIA)),
        "_csrf": csrf,
        "sig": "",
    }


def _post_password(
    session: requests.Session, url: str, form: dict[str, str], timeout: float
) -> requests.Response:
    """The one password POST of a login: never retried, whatever happens to it."""
    try:
        response = session.post(url, data=form, timeout=timeout, allow_redirects=True)
    except requests.RequestException as exc:
        msg = (
            f"the bank did not answer the login ({type(exc).__name__}); the password was sent once "
            "and is not retried; check the network and run again"
        )
        raise BankUnavailableError(msg) from None
    _remember_cookies(session)
    return response


def _get(
    session: requests.Session,
    url: str,
    params: dict[str, str],
    timeout: float,
    what: str,
    *,
    need: bool = True,
    gateway_passes: bool = False,
) -> requests.Response:
    """A login GET: safe to retry on a network blip, since no password is in it.

    The connector never looked at the status of the login page or the certificate question
    (`need=False`): a 204 or 404 lets the flow go on, as it did for the connector. A gateway
    error on every try passes only where it is `gateway_passes` (the login page, whose cookie
    the authorize page sets too): after the certificate question it would send the password
    into a session the bank may not know, and a lost password may count toward the lockout.
    """

    def attempt(last: bool) -> requests.Response | Retry:
        try:
            response = session.get(url, params=params, timeout=timeout)
        except requests.RequestException as exc:
            return Retry(type(exc).__name__)
        status = response.status_code
        if _transient(status) and not (gateway_passes and last):
            return Retry("HTTP 5xx or 429", retry_after=_asked_wait(response))
        _judge_status(response, what, need=need)
        _remember_cookies(session)
        return response

    return retrying(
        attempt,
        _LOGIN_GET_ATTEMPTS,
        schedule=lambda failures: backoff(failures, _LOGIN_BACKOFF),
        sleep=lambda _failure, _failures, wait: time.sleep(wait),
        give_up=lambda failure, _failures: _unreachable(url, what, failure.problem),
    )


def _asked_wait(response: requests.Response) -> float | None:
    """How long a rate limit asks to wait (`Retry-After`); None for a gateway error: the backoff's."""
    if response.status_code != HTTPStatus.TOO_MANY_REQUESTS:
        return None
    return retry_after(response.headers.get("Retry-After"))


def _judge_status(response: requests.Response, what: str, *, need: bool) -> None:
    """Let a non-200 page pass where the flow never needed it, and stop where it does.

    A page the login depends on answering otherwise means the bank's flow moved, which no
    retry mends: it is reported as a changed site, not as an unreachable bank.
    """
    if response.status_code == HTTPStatus.OK:
        return
    if not need:
        LOGGER.debug("The %s answered HTTP %d; the login goes on.", what, response.status_code)
        return
    msg = f"the bank answered HTTP {response.status_code} to the {what}; the login flow may have changed"
    raise LoginPageChangedError(msg)


def _unreachable(url: str, what: str, reason: str) -> BankUnavailableError:
    """The error after the last GET attempt, naming the host and the last cause, not the query.

    Only the host is named: the query of the certificate question carries the username.
    """
    host = urlsplit(url).netloc
    msg = f"the bank at {host} cannot be reached ({reason} on the {what}); check the network or base_url"
    return BankUnavailableError(msg)


def _transient(status: int) -> bool:
    """A gateway error or a rate limit: the bank's front answered, not the login server."""
    return status >= HTTPStatus.INTERNAL_SERVER_ERROR or status == HTTPStatus.TOO_MANY_REQUESTS


def _meta_content(html: str, name: str) -> str | None:
    soup = BeautifulSoup(html, "html.parser")
    tag = soup.find("meta", attrs={"name": name})
    if tag is None:
        return None
    content = tag.get("content")
    return content.strip() or None if isinstance(content, str) else None


def _remember_cookies(session: requests.Session) -> None:
    for cookie in session.cookies:
        SECRETS.add(cookie.value)


def _token_from_redirects(response: requests.Response, state: str) -> AccessToken | None:
    """Find `#access_token=` in the Location headers of the redirect chain."""
    for hop in response.history:
        location = hop.headers.get("Location", "")
        fragment = urlsplit(location).fragment
        if "access_token=" not in fragment:
            continue
        values = parse_qs(fragment)
        token = values.get("access_token", [""])[0]
        if not token:
            continue
        SECRETS.add(token)
        returned_state = values.get("state", [state])[0]
        if returned_state != state:
            msg = "the bank returned a token for another login request (state mismatch)"
            raise LoginPageChangedError(msg)
        expires_in = values.get("expires_in", [""])[0]
        LOGGER.debug("The access token is announced to live %s s.", expires_in or "an unknown number of")
        public = _meta_content(response.text, "EBank_publicToken")
        SECRETS.add(public)
        if public is None:
            LOGGER.debug("The web bank page carries no EBank_publicToken; it is not needed.")
        return AccessToken(token)
    return None


def _refusal(response: requests.Response) -> Exception:
    """Tell a refused password, a locked user, a second factor and a changed site apart."""
    soup = BeautifulSoup(response.text, "html.parser")
    text = " ".join(soup.get_text(" ").split()).lower()
    query = urlsplit(response.url).query
    if "error" in parse_qs(query, keep_blank_values=True) or soup.find(id="login-error"):
        if any(word in text for word in _LOCKED_WORDS):
            return UserLockedError(
                "the bank says this e-banking user is locked; unlock it with Fibank "
                "(branch or phone) before the next run"
            )
        return WrongCredentialsError(
            "the bank refused the username or password; fix them in the settings "
            "(the tap tried once: Fibank locks a user after five failed attempts)"
        )
    for field in soup.find_all("input"):
        name = str(field.get("name") or field.get("id") or "").lower()
        if any(word in name for word in _SECOND_FACTOR_INPUTS):
            return SecondFactorRequiredError(
                "the bank asks for a second factor (SMS code or confirmation) at this login; "
                "the tap cannot answer it: turn it off for this user or use a user without it"
            )
    path = urlsplit(urljoin(response.url, "")).path
    return LoginPageChangedError(
        f"after the password the bank answered HTTP {response.status_code} at {path} with "
        "neither an access token nor a known error page; the login flow may have changed"
    )
