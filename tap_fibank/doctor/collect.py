"""Which answers the doctor reads: few, harmless, and the same for every bank.

Per account: the newest window, one window a year back, and one window before its history
(30 days before its opening date when the account list tells it, else the first window the tap
itself would ask from `start_date`); for an account listed in EUR, once the euro came, the window
across 2026-01-01 too. Once per run: a 31-day range (a read the web page would refuse) and a call
with a token the bank never issued (how an expired token is signalled). Statement reads run four
at a time, so ten accounts take seconds, not minutes. `followup.py` asks what these leave open.

Contract: `collect` reads only through the probe, only GETs after the login, and returns every
answer as an `Exchange` in `Observations`; it judges nothing (checks.py does).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tap_fibank.bank.endpoints import ACCOUNTS, PROFILES, STATEMENT
from tap_fibank.doctor.probe import Exchange, LoginSeen, Probe
from tap_fibank.proof.changeover import EURO_DAY
from tap_fibank.walk.windows import Window

INVALID_TOKEN = "doctor-token-the-bank-never-issued"  # noqa: S105 - deliberately not a token
OPEN_DATE_KEYS = ("openDate", "openingDate", "dateOpen", "acOpenDate", "openDt")
_WORKERS = 4
# 30 days around the changeover: 15 of lev, 15 of euro for a converted account.
CHANGEOVER = Window(EURO_DAY - dt.timedelta(days=15), EURO_DAY + dt.timedelta(days=14))


@dataclass
class Account:
    """An account to probe: its IBAN, profile, currency and opening day if the bank said it."""

    iban: str
    customer_id: str
    currency: str | None
    opened: dt.date | None


@dataclass
class Served:
    """The first day an account's history answers from, found by asking around it."""

    iban: str
    first_day: dt.date
    answer: Exchange  # the answer to a window starting that day
    exact: bool = True  # False: the day before it was not seen to fail


@dataclass
class Observations:
    """Everything the doctor saw, in the order it asked."""

    login: LoginSeen
    today: dt.date
    start_date: dt.date
    exchanges: list[Exchange] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    served: Served | None = None

    def of(self, purpose: str) -> list[Exchange]:
        """The answers read for one purpose (`profiles`, `newest`, `before_history`...)."""
        return [e for e in self.exchanges if e.purpose == purpose]


def collect(probe: Probe, today: dt.date, start_date: dt.date) -> Observations:
    """Read the profiles, the accounts and each account's sample windows."""
    seen = Observations(probe.login, today, start_date)
    seen.exchanges.append(probe.get("invalid_token", PROFILES, token=INVALID_TOKEN, tries=1))
    profiles = probe.get("profiles", PROFILES)
    seen.exchanges.append(profiles)
    for customer_id in customer_ids(profiles.body):
        listed = probe.get("accounts", ACCOUNTS, customer_id=customer_id)
        seen.exchanges.append(listed)
        seen.accounts.extend(accounts_of(listed.body, customer_id))
    requests = [
        (account, purpose, window) for account in seen.accounts for purpose, window in plan(account, seen)
    ]
    if seen.accounts:
        first = seen.accounts[0]
        requests.append((first, "range_31", Window(today - dt.timedelta(days=30), today)))
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="doctor") as pool:
        answers = list(pool.map(lambda job: statement(probe, *job), requests))
    seen.exchanges.extend(answers)
    return seen


def plan(account: Account, seen: Observations) -> list[tuple[str, Window]]:
    """The three windows read for an account, and the changeover's for one listed in EUR."""
    today = seen.today
    newest = Window(today - dt.timedelta(days=29), today)
    year_ago = today - dt.timedelta(days=365)
    back = Window(year_ago - dt.timedelta(days=29), year_ago)
    before = Window(seen.start_date, seen.start_date + dt.timedelta(days=29))
    if account.opened is not None and account.opened - dt.timedelta(days=30) > seen.start_date:
        before = Window(account.opened - dt.timedelta(days=30), account.opened - dt.timedelta(days=1))
    windows = [("newest", newest), ("year_back", back), ("before_history", before)]
    # Which currency its entries before 2026 are in shows only across the changeover itself.
    lev_possible = account.opened is None or account.opened < EURO_DAY
    if account.currency == "EUR" and lev_possible and today >= EURO_DAY:
        windows.append(("changeover", Window(CHANGEOVER.start, min(CHANGEOVER.end, today))))
    return windows


def statement(probe: Probe, account: Account, purpose: str, window: Window, tries: int = 0) -> Exchange:
    """One statement read; `tries` 0 takes the purpose's own (1 before the history, else 3)."""
    params = {
        "FromDate": window.from_param(),
        "ToDate": window.to_param(),
        "Iban": account.iban,
        "StmtType": "T",
        "isAccountFromPSD2": "false",
    }
    # A window before the account's history is asked once: its failure is the answer.
    tries = tries or (1 if purpose == "before_history" else 3)
    return probe.get(
        purpose,
        STATEMENT,
        params,
        customer_id=account.customer_id,
        iban=account.iban,
        window=(window.start.isoformat(), window.end.isoformat()),
        tries=tries,
    )


def customer_ids(body: Any) -> list[str]:
    """The profile ids the tap would read (`customer[].ibCustomerId`)."""
    profiles = body.get("customer") if isinstance(body, dict) else None
    if not isinstance(profiles, list):
        return []
    return [
        str(p["ibCustomerId"])
        for p in profiles
        if isinstance(p, dict) and p.get("ibCustomerId") not in (None, "")
    ]


def accounts_of(body: Any, customer_id: str) -> list[Account]:
    """The accounts of a profile's list, with an opening day where the bank sends one."""
    if not isinstance(body, list):
        return []
    found = []
    for item in body:
        if not isinstance(item, dict) or not item.get("ibanAcNo"):
            continue
        iban = str(item["ibanAcNo"]).replace(" ", "").upper()
        currency = item.get("ccy")
        found.append(Account(iban, customer_id, str(currency) if currency else None, _opened(item)))
    return found


def _opened(item: dict[str, Any]) -> dt.date | None:
    for key in OPEN_DATE_KEYS:
        value = item.get(key)
        if isinstance(value, str) and len(value) >= 10:
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None
