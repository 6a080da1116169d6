"""The 2022 connector's requests, replayed byte for byte: the sandbox answers them as the bank did.

These are the only requests known to have succeeded against the live bank (fibank-api.md,
section 4), so the sandbox must accept each of them, including the decades-long statement range
and the `FromDate` that reached the bank encoded twice.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import requests

from fibank_sandbox import Sandbox

CONNECTOR_HEADERS = {
    "Accept-Language": "bg",
    "Accept": "application/json, text/plain, */*",
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "EBank-App-Version": "1",
    "EBank-Device-Id": "AABBCCDDEE",
    "EBank-Referer": "%2Fizvlechenia%2Facc-stmt-offline",
    "X-Requested-With": "XMLHttpRequest",
    "sec-ch-ua-platform": "Linux",
    "sec-ch-ua-mobile": "?0",
    "Pragma": "no-cache",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/98.0.4758.80 Safari/537.36",
    "Sec-Fetch-Site": "same-origin",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
}


def connector_login(bank: Sandbox) -> tuple[requests.Session, str]:
    """The connector's login: a plain session, statuses of steps 1-3 unchecked, history[1]."""
    session = requests.Session()
    base = bank.base_url
    session.get(f"{base}/oauth2-server/login?client_id=E_BANK", timeout=10)
    authorize = session.get(
        f"{base}/oauth2-server/oauth/authorize?response_type=token&client_id=E_BANK"
        f"&redirect_uri=/EBank/&scope=E_BANK&state={uuid.uuid4()}",
        timeout=10,
    )
    match = re.search(r'<meta name="_csrf" content="([^"]+)"', authorize.text)
    assert match is not None
    session.get(
        f"{base}/oauth2-server/api/v1/sywscertificate/fnGetCertsForLogin?client_id=E_BANK&userName=demo",
        timeout=10,
    )
    response = session.post(
        f"{base}/oauth2-server/login",
        data={
            "username": bank.username,
            "password": bank.password,
            "system": "",
            "client_id": "E_BANK",
            "lang": "bg",
            "time": dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S") + "+0200",
            "_csrf": match.group(1),
            "sig": "",
        },
        timeout=10,
    )
    fragment = urlsplit(response.history[1].headers["Location"]).fragment
    return session, parse_qs(fragment)["access_token"][0]


def connector_get(
    session: requests.Session, bank: Sandbox, token: str, path: str, **kw: object
) -> requests.Response:
    headers = {
        **CONNECTOR_HEADERS,
        "Authorization": f"Bearer {token}",
        "EBank-Client-Time": dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S") + "+0200",
        "Referer": f"{bank.base_url}/EBank/izvlechenia/acc-stmt-offline",
    }
    headers.update(kw.pop("extra_headers", {}))  # type: ignore[arg-type]
    return session.get(f"{bank.base_url}/EBank/api/v1/{path}", headers=headers, timeout=30, **kw)  # type: ignore[arg-type]


def test_the_connectors_exact_requests_get_the_whole_history(sandbox: Sandbox) -> None:
    sandbox.faults.require_browser_headers = True  # the strictest front end still lets it through
    session, token = connector_login(sandbox)
    profiles = connector_get(session, sandbox, token, "sywsquery/sywsquery/getCustQuery")
    assert profiles.status_code == 200
    customer_id = str(profiles.json()["customer"][0]["ibCustomerId"])
    accounts = connector_get(
        session,
        sandbox,
        token,
        "sywspicklist/sywspicklist/getFilteredAccounts",
        extra_headers={"EBank-Cust-Id": customer_id},
    )
    assert accounts.status_code == 200
    iban = accounts.json()[0]["ibanAcNo"]
    statement = connector_get(
        session,
        sandbox,
        token,
        "sywsquery/sywsquery/GetCustBal",
        extra_headers={"EBank-Cust-Id": customer_id},
        params={
            "FromDate": "1993-02-27T00:00:00%2B0200",  # requests encodes it again: %252B on the wire
            # The connector sent its machine's now(); the end of the bank's today is that, at any hour.
            "ToDate": f"{sandbox.today.isoformat()}T23:59:59+0200",
            "Iban": iban,
            "StmtType": "T",
            "isAccountFromPSD2": "false",
        },
    )
    assert "%252B0200" in str(statement.request.url)
    assert statement.status_code == 200
    rows = [r for acc in statement.json(parse_float=Decimal)["acc"] for r in acc["stmt"]]
    entries = {r["acEntrySrNo"] for r in rows if r["trnType"] not in ("OP", "CL", "DT", "CT")}
    assert entries == {e.entry_id for e in sandbox.truth()[iban]}
    counters = sandbox.counters()
    assert counters["long_ranges"] == 1 and counters["refusals"] == 0
    assert counters["device_ids"] == ["AABBCCDDEE"]
