"""What the login tests share: the wire recorder, the recorded waits, and the expected messages.

The session's response hook records every answer (redirects included) with the request that
drew it. The login's waits are recorded instead of slept (its reference to the `time` module is
replaced), so the retries cost no time and the waits themselves can be checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

import tap_fibank.bank.login as login_module
from fibank_sandbox import Sandbox
from tap_fibank.bank.login import AccessToken, log_in
from tap_fibank.privacy import SECRETS

# The paths as fibank-api.md (section 1) spells them, not as the tap does.
LOGIN_PAGE = "/oauth2-server/login"
AUTHORIZE = "/oauth2-server/oauth/authorize"
CERTS = "/oauth2-server/api/v1/sywscertificate/fnGetCertsForLogin"
LOGGER = "tap_fibank.login"


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


def recording(session: requests.Session) -> Wire:
    """A recorder hooked to `session`."""
    recorder = Wire()
    session.hooks["response"].append(recorder.seen)
    return recorder


class _Clock:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def recorded_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds the login would have slept, in order: the login's `time` is replaced."""
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


def unreachable(base_url: str, reason: str, what: str) -> str:
    host = urlsplit(base_url).netloc
    return f"the bank at {host} cannot be reached ({reason} on the {what}); check the network or base_url"


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]
