"""The bank's JSON API: headers, retries, re-login on expiry, and exact JSON decoding.

One client serves the whole run and all worker threads: one login, one cookie jar, one token.
Amounts are decoded straight to Decimal (msgspec's float hook), never through float.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec
import requests

from tap_fibank.errors import BankProtocolError, BankUnavailableError, FibankError
from tap_fibank.login import AccessToken, log_in
from tap_fibank.redact import SECRETS
from tap_fibank.windows import SOFIA

API_PREFIX = "/EBank/api/v1/"
LOGGER = logging.getLogger("tap_fibank.client")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_MAX_RETRY_AFTER = 120.0
_UNAUTHORIZED = 401
_TOO_MANY = 429
_SERVER_ERROR = 500
_CLIENT_ERROR = 400


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


class BankClient:
    """Authenticated, retrying access to `/EBank/api/v1/`."""

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
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=max(pool_size, 2))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = "tap-fibank (Singer tap; +https://pypi.org/project/tap-fibank)"
        self._device_id = str(uuid.uuid4())
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self._generation = 0
        self._login_failure: FibankError | None = None
        self._closed = threading.Event()
        SECRETS.add(password)

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

    def _relogin_after_401(self, generation: int) -> None:
        """Log in again once per expired token, however many threads saw the 401."""
        with self._lock:
            if self._generation != generation:
                return  # another thread already renewed this token
            LOGGER.info("The access token expired; logging in again.")
            self._login_locked()

    def ensure_logged_in(self) -> None:
        """Log in now, so a refused password fails the run before any stream starts."""
        self._current_token()

    # -- requests --------------------------------------------------------------------------

    def get_json(
        self,
        endpoint: str,
        params: Mapping[str, str] | None = None,
        customer_id: str | None = None,
    ) -> Any:
        """GET an API endpoint and decode its JSON, retrying what a retry can fix.

        Retried: connection failures, timeouts, 5xx, 429 (after `Retry-After`), and bodies that
        are not valid JSON (a cut connection looks like that). A 401 logs in again, once per
        expiry. Errors name the endpoint and status, never the body: it may hold account data.
        """
        url = self.base_url + API_PREFIX + endpoint
        name = endpoint.rsplit("/", 1)[-1]
        relogged = False
        failures = 0
        while True:
            token, generation = self._current_token()
            headers = self._headers(token, customer_id)
            problem: str
            retry_after: float | None = None
            unreadable = False
            try:
                response = self._session.get(url, params=params, headers=headers, timeout=self._timeout)
            except requests.Timeout:
                problem = "no answer within request_timeout"
            except requests.RequestException as exc:
                problem = f"connection failed ({type(exc).__name__})"
            else:
                status = response.status_code
                if status == _UNAUTHORIZED:
                    if relogged:
                        msg = (
                            f"the bank refused a fresh access token on {name} (HTTP 401); "
                            "the API's authentication may have changed"
                        )
                        raise BankProtocolError(msg)
                    self._relogin_after_401(generation)
                    relogged = True
                    continue
                if status == _TOO_MANY:
                    problem = "HTTP 429 (too many requests)"
                    retry_after = _retry_after(response)
                elif status >= _SERVER_ERROR:
                    problem = f"HTTP {status}"
                elif status >= _CLIENT_ERROR:
                    msg = f"the bank answered HTTP {status} to {name}; the API may have changed"
                    raise BankProtocolError(msg)
                else:
                    try:
                        return _DECODER.decode(response.content)
                    except msgspec.DecodeError:
                        problem = "an answer that is not valid JSON"
                        unreadable = True
            failures += 1
            if self._closed.is_set():
                raise ServerError(name, "the run ended while it was retried")
            if failures > self._max_retries:
                raise ServerError(name, f"{problem}, {failures} attempts", unreadable=unreadable)
            wait = retry_after if retry_after is not None else self._backoff(failures)
            LOGGER.warning(
                "%s: %s; retry %d of %d in %.1f s", name, problem, failures, self._max_retries, wait
            )
            if self._closed.wait(wait):
                raise ServerError(name, "the run ended while it was retried")

    def _headers(self, token: str, customer_id: str | None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/plain, */*",
            "Accept-Language": "bg",
            "EBank-App-Version": "1",
            "EBank-Client-Time": dt.datetime.now(SOFIA).strftime("%Y-%m-%dT%H:%M:%S%z"),
            "EBank-Device-Id": self._device_id,
            "X-Requested-With": "XMLHttpRequest",
        }
        if customer_id is not None:
            headers["EBank-Cust-Id"] = customer_id
        return headers

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with jitter, capped so a bounded retry never stalls for long."""
        base = min(self._backoff_base * 2 ** (failures - 1), 30.0)
        return float(base * (0.75 + random.random() / 2))  # noqa: S311 - jitter, not crypto


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER)
    return 1.0
