"""Shared fixtures: a running sandbox bank per test, and a step-by-step login with requests."""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from fibank_sandbox import Sandbox
from tap_fibank.bank.clock import FROZEN_TODAY, SOFIA

# One "today" for the whole session, read before any test module computes a date from it: the
# sandboxes, the tap subprocesses (and meltano's) inherit it, so a session that crosses midnight
# in Sofia sees one day throughout. Set TAP_FIBANK_FROZEN_TODAY yourself to run on another day.
# Read here from the machine's clock, not through the code under test (mutation testing breaks it).
os.environ.setdefault(FROZEN_TODAY, dt.datetime.now(SOFIA).date().isoformat())

# Hypothesis: on a developer's machine ("dev") each run tries new examples, and the failing ones are
# kept in the repository (tests/.hypothesis/examples, anchored here rather than in the working
# directory) and replayed first on the next run until they pass. Under CI=true ("ci") every run tries
# the same examples, so a red CI is a change, not luck; Hypothesis forbids a database with
# derandomize=True (it would replay the developer's saved failures, breaking that), so a CI failure
# is reproduced from the printed @reproduce_failure blob or by running the test again anywhere with
# HYPOTHESIS_PROFILE=ci. HYPOTHESIS_PROFILE picks either explicitly. pytest-randomly's reseeding of
# `random` does not reach Hypothesis, which draws from a Random of its own.
HYPOTHESIS_EXAMPLES = Path(__file__).parent / ".hypothesis" / "examples"
settings.register_profile("dev", database=DirectoryBasedExampleDatabase(HYPOTHESIS_EXAMPLES))
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
_IN_CI = os.environ.get("CI", "").lower() in {"true", "1"}
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _IN_CI else "dev"))

API = "/EBank/api/v1/"
CALLS = {
    "getCustQuery": "sywsquery/sywsquery/getCustQuery",
    "getFilteredAccounts": "sywspicklist/sywspicklist/getFilteredAccounts",
    "GetCustBal": "sywsquery/sywsquery/GetCustBal",
    "getAccStmtList": "sywsquery/sywsquery/getAccStmtList",
}
AUTHORIZE = {"response_type": "token", "client_id": "E_BANK", "redirect_uri": "/EBank/", "scope": "E_BANK"}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A started ``Sandbox(seed=1)`` on a free port, with fresh faults and counters."""
    with Sandbox(seed=1) as bank:
        yield bank


@dataclass
class Login:
    """What a step-by-step login left behind (``token`` is None when it did not succeed)."""

    session: requests.Session
    base_url: str
    token: str | None = None
    csrf: str | None = None
    final: requests.Response | None = None
    fragment: dict[str, str] = field(default_factory=dict)

    def api(self, call: str, cust_id: str | int | None = None, **params: Any) -> requests.Response:
        """GET an API call (``getCustQuery``, ``GetCustBal``...) with this login's token."""
        return api_get(self.session, self.base_url, self.token, call, cust_id, **params)


def api_get(
    session: requests.Session,
    base_url: str,
    token: str | None,
    call: str,
    cust_id: str | int | None = None,
    **params: Any,
) -> requests.Response:
    """GET an API call with the headers the bank's web app sends."""
    headers = {
        "Accept": "application/json, text/plain, */*",
        "Accept-Language": "bg",
        "X-Requested-With": "XMLHttpRequest",
        "EBank-App-Version": "1",
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if cust_id is not None:
        headers["EBank-Cust-Id"] = str(cust_id)
    return session.get(base_url + API + CALLS.get(call, call), headers=headers, params=params, timeout=10)


def sandbox_login(
    base_url: str,
    username: str = "demo",
    password: str = "demo",
    *,
    ask_certs: bool = True,
    csrf: str | None = None,
    session: requests.Session | None = None,
) -> Login:
    """Walk the four login steps of fibank-api.md; ``csrf`` overrides the scraped token."""
    http = session or requests.Session()
    result = Login(http, base_url)
    http.get(f"{base_url}/oauth2-server/login", params={"client_id": "E_BANK"}, timeout=10)
    page = http.get(
        f"{base_url}/oauth2-server/oauth/authorize",
        params={**AUTHORIZE, "state": str(uuid.uuid4())},
        timeout=10,
    )
    found = re.search(r'<meta name="_csrf" content="([^"]+)"', page.text)
    result.csrf = csrf if csrf is not None else (found.group(1) if found else "")
    if ask_certs:
        http.get(
            f"{base_url}/oauth2-server/api/v1/sywscertificate/fnGetCertsForLogin",
            params={"client_id": "E_BANK", "userName": username},
            timeout=10,
        )
    final = http.post(
        f"{base_url}/oauth2-server/login",
        timeout=10,
        data={
            "username": username,
            "password": password,
            "system": "",
            "client_id": "E_BANK",
            "lang": "bg",
            "time": "2022-03-12T17:35:00+0200",
            "_csrf": result.csrf,
            "sig": "",
        },
    )
    result.final = final
    if len(final.history) >= 2 and "#" in final.history[1].headers.get("Location", ""):
        fragment = final.history[1].headers["Location"].split("#", 1)[1]
        result.fragment = dict(part.split("=", 1) for part in fragment.split("&"))
        result.token = result.fragment.get("access_token")
    return result


@pytest.fixture
def bank_login(sandbox: Sandbox) -> Login:
    """A successful demo login to the ``sandbox`` fixture."""
    result = sandbox_login(sandbox.base_url)
    assert result.token, "the demo login must succeed"
    return result
