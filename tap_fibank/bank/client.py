"""The bank's JSON API: the connector's headers, one retry loop, re-login on expiry, exact JSON.

Contract: one client serves the whole run and all worker threads: one login, one cookie jar, one
token. Its façade (`profiles`, `accounts`, `statement`) is what the streams and the walk ask the
bank; each returns the decoded JSON or raises `ServerError` (the bank kept failing), or
`RequestRefused`/`BankProtocolError` (it answered what no retry mends); never a partial answer.
Every API call carries the header set the 2022 connector sent (fibank-api.md, section 4), the
only requests known to have been answered by the live bank, with one stable device id per user.
Amounts are decoded straight to Decimal (msgspec's float hook), never through float.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import urlsplit

import msgspec
import requests

from tap_fibank.bank.clock import SOFIA, bank_timestamp
from tap_fibank.bank.endpoints import (
    ACCOUNTS,
    API_PREFIX,
    EBANK_REFERER,
    LOGIN_SERVER,
    PROFILES,
    STATEMENT,
    STATEMENT_PAGE,
    WEB_APP,
    short,
)
from tap_fibank.bank.login import AccessToken, log_in
from tap_fibank.bank.retry import Retry, Tries, backoff, retry_after, retrying
from tap_fibank.errors import BankProtocolError, BankUnavailableError, FibankError
from tap_fibank.privacy import SECRETS

LOGGER = logging.getLogger("tap_fibank.client")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)
# Token renewals one call may need before a refusal is taken as the bank refusing fresh tokens.
MAX_RENEWALS_PER_CALL = 3
# How the bank may say a token expired: 401 is inferred; 403 and a redirect to the login page
# are what other Spring front ends do. Each gets one re-login, then counts as a refusal.
_EXPIRY_STATUSES = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN})
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0.4758.80 Safari/537.36"
)


class ServerError(BankUnavailableError):
    """A 5xx (or equivalent) that outlived every retry; callers decide if it is fatal.

    One account's statement failing skips that account; anywhere else it ends the run with one
    line and exit 4, or exit 5 when the bank kept answering something that is not JSON.
    """

    def __init__(self, endpoint: str, detail: str, *, unreadable: bool = False) -> None:
        super().__init__(f"the bank kept failing on {endpoint} ({detail}); try again later")
        self.endpoint = endpoint
        self.detail = detail
        if unreadable:
            self.exit_code = BankProtocolError.exit_code


class RequestRefused(BankProtocolError):
    """A 4xx that is not an expired token: retrying cannot help; callers decide if it is fatal."""

    def __init__(self, endpoint: str, status: int) -> None:
        super().__init__(f"the bank answered HTTP {status} to {endpoint}; the API may have changed")
        self.endpoint = endpoint
        self.detail = f"HTTP {status}"


class Cancelled(ServerError):
    """The run, or the account's walk, ended while this call waited for a retry."""

    def __init__(self, endpoint: str, what: str = "the run") -> None:
        super().__init__(endpoint, f"{what} ended while it was retried")


class StatementRange(Protocol):
    """The days a statement request covers, as the bank's `FromDate` and `ToDate` (a walk's `Window`)."""

    def from_param(self) -> str:
        """`FromDate`: the first day's midnight in Sofia, as the bank formats it."""
        ...

    def to_param(self) -> str:
        """`ToDate`: the last day's last second in Sofia, as the bank formats it."""
        ...


@dataclass(frozen=True)
class _Outcome:
    """What one attempt came to: a payload, an expired token, or a problem worth a retry."""

    payload: Any = None
    expired: bool = False
    retry: Retry | None = None
    status: int | None = None


def device_id(username: str) -> str:
    """One stable id per user, shaped like the connector's (ten hex digits), revealing nothing."""
    return hashlib.sha256(f"tap-fibank device {username}".encode()).hexdigest()[:10].upper()


def login_key(username: str) -> str:
    """The `login` column's default: stable per user, unlike the device id not sent to the bank.

    A different hash from `device_id`, so the column (which is not a secret) never gives away a
    header value.
    """
    return "login-" + hashlib.sha256(f"tap-fibank login {username}".encode()).hexdigest()[:12]


class BankClient:
    """Authenticated, retrying access to the bank's JSON API (`endpoints.API_PREFIX`)."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        timeout: float,
        max_retries: int,
        pool_size: int = 4,
        backoff_base: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        self._timeout = timeout
        self.max_retries = max_retries
        self._backoff_base = backoff_base
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=max(pool_size, 2))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._device_id = device_id(username)
        #: What the records' `login` column holds unless the `login` setting names it.
        self.default_login = login_key(username)
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self._generation = 0
        self._login_failure: FibankError | None = None
        self._closed = threading.Event()
        SECRETS.add(password)
        SECRETS.add(self._device_id)

    def close(self) -> None:
        """Release the connections; calls still retrying in other threads give up at once."""
        self._closed.set()
        self._session.close()

    # -- authentication ------------------------------------------------------------------

    def _current_token(self) -> tuple[str, int]:
        with self._lock:
            if self._token is None:
                self._login_locked()
            assert self._token is not None
            return self._token.value, self._generation

    def _login_locked(self) -> None:
        if self._login_failure is not None:
            # One password POST per run, however many threads saw their token expire.
            raise self._login_failure
        try:
            token = log_in(self._session, self.base_url, self._username, self._password, self._timeout)
        except FibankError as exc:
            self._login_failure = exc
            raise
        self._token = token
        self._generation += 1

    def _relogin(self, generation: int) -> None:
        """Log in again once per expired token, however many threads saw it expire."""
        with self._lock:
            if self._generation != generation:
                return  # another thread already renewed this token
            LOGGER.info("The access token expired; logging in again.")
            self._login_locked()

    def ensure_logged_in(self) -> None:
        """Log in now, so a refused password fails the run before any stream starts."""
        self._current_token()

    # -- the façade: what the streams and the walk ask the bank ---------------------------------

    def profiles(self) -> Any:
        """The customer profiles this login may act for (`getCustQuery`), with every retry."""
        return self.get_json(PROFILES)

    def accounts(self, customer_id: str) -> Any:
        """The accounts of one profile (`getFilteredAccounts`), with every retry."""
        return self.get_json(ACCOUNTS, customer_id=customer_id)

    def statement(
        self,
        iban: str,
        window: StatementRange,
        customer_id: str,
        *,
        cancel: threading.Event | None = None,
        tries: Tries = Tries.FULL,
        refuse: Callable[[Any], str | None] | None = None,
    ) -> Any:
        """One account's statement for one window (`GetCustBal`), asked as the 2022 connector asked."""
        params = {
            "FromDate": window.from_param(),
            "ToDate": window.to_param(),
            "Iban": iban,
            "StmtType": "T",
            "isAccountFromPSD2": "false",
        }
        return self.get_json(STATEMENT, params, customer_id, cancel=cancel, tries=tries, refuse=refuse)

    # -- requests --------------------------------------------------------------------------

    def get_json(
        self,
        endpoint: str,
        params: Mapping[str, str] | None = None,
        customer_id: str | None = None,
        *,
        cancel: threading.Event | None = None,
        tries: Tries = Tries.FULL,
        refuse: Callable[[Any], str | None] | None = None,
    ) -> Any:
        """GET an API endpoint and decode its JSON, retrying what a retry can fix.

        Retried (`tries`, default 1 + `max_retries`): connection failures, timeouts, 5xx, 429 (after
        `Retry-After`), and bodies that are not valid JSON (a cut connection looks like that). An
        expired token (401, 403, or the login page) logs in again, once per expiry however many
        threads saw it, without counting as a try (more than `MAX_RENEWALS_PER_CALL` in a call:
        fresh tokens are refused). `cancel` ends the waiting early; `refuse` names an answer that
        is a failed read, retried like a 5xx. Errors name the endpoint and status, never the body.
        """
        name = short(endpoint)
        total = tries.total(self.max_retries)
        expiries = itertools.count(1)  # the call's token renewals, across its tries

        def attempt(_last: bool) -> Any:
            outcome = self._attempt_signed_in(endpoint, params, customer_id, expiries)
            if outcome.retry is None and refuse is not None:
                problem = refuse(outcome.payload)
                if problem is not None:
                    return Retry(problem)
            return outcome.retry if outcome.retry is not None else outcome.payload

        def sleep(failure: Retry, failures: int, wait: float) -> None:
            self._pause(name, failure, failures, total - 1, wait, cancel)

        def give_up(failure: Retry, failures: int) -> Exception:
            return ServerError(name, f"{failure.problem}, {failures} attempts", unreadable=failure.unreadable)

        schedule = functools.partial(backoff, base=self._backoff_base)
        return retrying(attempt, total, schedule=schedule, sleep=sleep, give_up=give_up)

    def _attempt_signed_in(
        self,
        endpoint: str,
        params: Mapping[str, str] | None,
        customer_id: str | None,
        expiries: Iterator[int],
    ) -> _Outcome:
        """One try: a request, and another after each renewal of an expired token (not a new try)."""
        while True:
            token, generation = self._current_token()
            outcome = self._attempt(endpoint, params, customer_id, token)
            if not outcome.expired:
                return outcome
            if next(expiries) > MAX_RENEWALS_PER_CALL:
                raise self._refused_after_relogin(short(endpoint), outcome)
            self._relogin(generation)

    def _pause(
        self,
        name: str,
        failure: Retry,
        failures: int,
        limit: int,
        wait: float,
        cancel: threading.Event | None,
    ) -> None:
        """Wait before the next attempt, unless the run or the walk ends first."""
        LOGGER.warning("%s: %s; retry %d of %d in %.1f s", name, failure.problem, failures, limit, wait)
        if cancel is None:
            if self._closed.wait(wait):
                raise Cancelled(name)
            return
        step = min(wait, 0.05)
        waited = 0.0
        while waited < wait and not self._closed.is_set():
            if cancel.wait(step):
                raise Cancelled(name, "the account's walk")
            waited += step
        if self._closed.is_set():
            raise Cancelled(name)

    def _refused_after_relogin(self, name: str, outcome: _Outcome) -> FibankError:
        if outcome.status == HTTPStatus.UNAUTHORIZED:
            msg = (
                f"the bank refused a fresh access token on {name} (HTTP 401); "
                "the API's authentication may have changed"
            )
            return BankProtocolError(msg)
        if outcome.status is not None:
            return RequestRefused(name, outcome.status)
        msg = (
            f"the bank answered {name} with its login page even after a fresh login; "
            "the API's authentication may have changed"
        )
        return BankProtocolError(msg)

    def _attempt(
        self, endpoint: str, params: Mapping[str, str] | None, customer_id: str | None, token: str
    ) -> _Outcome:
        """One request, judged."""
        if self._closed.is_set():
            raise Cancelled(short(endpoint))
        url = self.base_url + API_PREFIX + endpoint
        headers = self._headers(token, customer_id)
        try:
            response = self._session.get(
                url, params=params, headers=headers, timeout=self._timeout, allow_redirects=False
            )
        except requests.Timeout:
            return _Outcome(retry=Retry("no answer within request_timeout"))
        except requests.RequestException as exc:
            return _Outcome(retry=Retry(f"connection failed ({type(exc).__name__})"))
        return _judge(response, short(endpoint))

    def _headers(self, token: str, customer_id: str | None) -> dict[str, str]:
        return api_headers(self.base_url, token, self._device_id, customer_id)


def api_headers(base_url: str, token: str, device: str, customer_id: str | None) -> dict[str, str]:
    """The connector's header set, in its order; only the time and the ids vary."""
    headers = {
        "Accept-Language": "bg",
        "Accept": "application/json, text/plain, */*",
        "Authorization": f"Bearer {token}",
        "Cache-Control": "no-cache",
        "Connection": "keep-alive",
        "EBank-App-Version": "1",
        "EBank-Client-Time": bank_timestamp(dt.datetime.now(SOFIA)),
        "EBank-Device-Id": device,
        "EBank-Referer": EBANK_REFERER,
        "X-Requested-With": "XMLHttpRequest",
        "sec-ch-ua-platform": "Linux",
        "sec-ch-ua-mobile": "?0",
        "Pragma": "no-cache",
        "User-Agent": BROWSER,
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Dest": "empty",
        "Referer": base_url + WEB_APP + STATEMENT_PAGE,
    }
    if customer_id is not None:
        headers["EBank-Cust-Id"] = customer_id
    return headers


def _judge(response: requests.Response, name: str) -> _Outcome:
    """Sort an answer into a payload, an expired token, a problem to retry, or a refusal."""
    status = response.status_code
    if status in _EXPIRY_STATUSES:
        return _Outcome(expired=True, status=status)
    if HTTPStatus.MULTIPLE_CHOICES <= status < HTTPStatus.BAD_REQUEST:
        location = urlsplit(response.headers.get("Location", "")).path
        if location.startswith(LOGIN_SERVER):
            return _Outcome(expired=True)
        raise RequestRefused(name, status)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        wait = retry_after(response.headers.get("Retry-After"))
        return _Outcome(retry=Retry("HTTP 429 (too many requests)", retry_after=wait))
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return _Outcome(retry=Retry(f"HTTP {status}"))
    if status >= HTTPStatus.BAD_REQUEST:
        raise RequestRefused(name, status)
    if "html" in response.headers.get("Content-Type", "") and b"_csrf" in response.content:
        return _Outcome(expired=True)
    try:
        return _Outcome(payload=_DECODER.decode(response.content))
    except msgspec.DecodeError:
        return _Outcome(retry=Retry("an answer that is not valid JSON", unreadable=True))
