"""Raw reads of the bank: one login, then GETs whose status, headers and body are all kept.

The tap's client retries, re-logs in and decodes; the doctor must see the answer as sent, so it
has its own small reader. It logs in with the tap's `log_in` (one password POST, never
retried) and records every hop of the login with a response hook: names and statuses, never
values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import requests

from tap_fibank.bank.client import api_headers, device_id
from tap_fibank.bank.endpoints import API_PREFIX, CERTIFICATES, short
from tap_fibank.bank.login import log_in
from tap_fibank.bank.retry import Retry, retrying
from tap_fibank.errors import BankUnavailableError
from tap_fibank.privacy import SECRETS

_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_TRIES = 3


@dataclass
class Hop:
    """One response of the login flow: where it came from and where it pointed, no values."""

    method: str
    path: str
    status: int
    location_path: str | None
    fragment_keys: list[str]


@dataclass
class LoginSeen:
    """What the login showed: the hops, which one carried the token, cookie names, lifetime."""

    hops: list[Hop] = field(default_factory=list)
    token_hop: int | None = None
    post_redirects: int = 0
    cookie_names: list[str] = field(default_factory=list)
    expires_in: str | None = None
    certificate_status: int | None = None
    seconds: float = 0.0


@dataclass
class Exchange:
    """One API answer as the bank sent it, with why it was asked."""

    purpose: str
    endpoint: str
    params: dict[str, str]
    customer_id: str | None
    iban: str | None
    window: tuple[str, str] | None
    status: int
    content_type: str
    header_names: list[str]
    location_path: str | None
    body_kind: str
    body: Any


class Probe:
    """A signed-in session that reads answers without interpreting them."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.login = LoginSeen()
        self._token = ""
        self.device = ""
        self._recording = True
        self.session.hooks["response"].append(self._record)

    def close(self) -> None:
        """Release the connections."""
        self.session.close()

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if not self._recording:
            return
        location = response.headers.get("Location")
        parts = urlsplit(location) if location else None
        fragment = parse_qs(parts.fragment) if parts and parts.fragment else {}
        fragment_keys = sorted(fragment)
        if "expires_in" in fragment:
            # A lifetime in seconds, not a secret: the token itself is never kept.
            self.login.expires_in = fragment["expires_in"][0]
        path = urlsplit(response.request.url or "").path
        self.login.hops.append(
            Hop(
                str(response.request.method),
                path,
                response.status_code,
                parts.path if parts else None,
                fragment_keys,
            )
        )
        if path.endswith(CERTIFICATES):
            self.login.certificate_status = response.status_code

    def log_in(self, username: str, password: str) -> None:
        """The tap's login, once; afterwards note which hop carried the token."""
        started = time.monotonic()
        token = log_in(self.session, self.base_url, username, password, self.timeout)
        self.device = device_id(username)
        SECRETS.add(self.device)
        self.login.seconds = time.monotonic() - started
        self._recording = False
        self._token = token.value
        self.login.cookie_names = sorted({cookie.name for cookie in self.session.cookies})
        post_hops = _after_last_post(self.login.hops)
        self.login.post_redirects = sum(
            1 for hop in post_hops if HTTPStatus.MULTIPLE_CHOICES <= hop.status < HTTPStatus.BAD_REQUEST
        )
        for index, hop in enumerate(post_hops):
            if "access_token" in hop.fragment_keys:
                self.login.token_hop = index

    def get(
        self,
        purpose: str,
        endpoint: str,
        params: dict[str, str] | None = None,
        *,
        customer_id: str | None = None,
        iban: str | None = None,
        window: tuple[str, str] | None = None,
        token: str | None = None,
        tries: int = _TRIES,
    ) -> Exchange:
        """GET an endpoint without following redirects; 5xx and cut connections are tried again."""
        # The tap's own header set (the connector's), with the same stable device id.
        bearer = token if token is not None else self._token
        headers = api_headers(self.base_url, bearer or "", self.device, customer_id)
        url = self.base_url + API_PREFIX + endpoint

        def attempt(last: bool) -> Exchange | Retry:
            try:
                response = self.session.get(
                    url, params=params, headers=headers, timeout=self.timeout, allow_redirects=False
                )
            except requests.RequestException as exc:
                return Retry(type(exc).__name__)
            if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR and not last:
                return Retry(f"HTTP {response.status_code}")
            return _exchange(purpose, endpoint, params or {}, customer_id, iban, window, response)

        return retrying(
            attempt,
            tries,
            schedule=lambda failures: 0.5 * failures,  # 0.5 s, then 1 s: the doctor's own, no jitter
            sleep=lambda _failure, _failures, wait: time.sleep(wait),
            give_up=lambda failure, failures: _unanswered(endpoint, failure, failures),
        )


def _unanswered(endpoint: str, failure: Retry, failures: int) -> BankUnavailableError:
    msg = (
        f"the bank did not answer {short(endpoint)} ({failure.problem}, {failures} attempts); "
        "check the network and try again"
    )
    return BankUnavailableError(msg)


def _after_last_post(hops: list[Hop]) -> list[Hop]:
    """The hops of the last password POST (or of the authorize page that resumed a session)."""
    posts = [i for i, hop in enumerate(hops) if hop.method == "POST"]
    return hops[posts[-1] :] if posts else hops


def _exchange(
    purpose: str,
    endpoint: str,
    params: dict[str, str],
    customer_id: str | None,
    iban: str | None,
    window: tuple[str, str] | None,
    response: requests.Response,
) -> Exchange:
    content_type = response.headers.get("Content-Type", "")
    body: Any = None
    kind = "empty"
    if response.content:
        try:
            body = _DECODER.decode(response.content)
            kind = "json"
        except msgspec.DecodeError:
            kind = "html" if "<html" in response.text[:500].lower() else "text"
    location = response.headers.get("Location")
    return Exchange(
        purpose=purpose,
        endpoint=short(endpoint),
        params=dict(params),
        customer_id=customer_id,
        iban=iban,
        window=window,
        status=response.status_code,
        content_type=content_type.split(";")[0].strip(),
        header_names=sorted({name.title() for name in response.headers}),
        location_path=urlsplit(location).path if location else None,
        body_kind=kind,
        body=body,
    )
