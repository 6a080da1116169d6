"""Second reads, decided by the first: a bare answer asked again, and where history is served from.

A bare answer asked once cannot tell a lost read from a bank that always answers so; one more
read can. A window a year back that fails while the newest answers may be a bank that serves
only recent history: halving the days between them finds the first day it serves, in about ten
reads, for the first such account only (the others are counted, not probed).

Contract: `follow_up` adds its answers to the observations (never removes one), reads the bank
only through the probe, and judges nothing (history.py does).
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

from tap_fibank.doctor.collect import Account, Observations, Served, statement
from tap_fibank.doctor.history import HISTORY, in_history, is_bare, own_elements
from tap_fibank.doctor.probe import Exchange, Probe
from tap_fibank.walk.windows import Window

_MAX_HALVINGS = 16


def follow_up(probe: Probe, seen: Observations) -> None:
    """Ask what the first reads leave open, adding the answers to `seen`."""
    accounts = {a.iban: a for a in seen.accounts}
    bare = [
        a
        for p in HISTORY
        for a in seen.of(p)
        if a.status == HTTPStatus.OK and in_history(seen, a) and is_bare(a)
    ]
    for answer in bare:
        account = accounts.get(answer.iban or "")
        if account is not None and answer.window is not None:
            window = Window(*(dt.date.fromisoformat(day) for day in answer.window))
            seen.exchanges.append(statement(probe, account, "bare_again", window))
    for account in seen.accounts:
        bounds = _bounds(probe, seen, account)
        if bounds is not None:
            seen.served = bounds if isinstance(bounds, Served) else _halve(probe, seen, account, *bounds)
            return


def _answer(seen: Observations, account: Account, purpose: str) -> Exchange | None:
    return next((a for a in seen.of(purpose) if a.iban == account.iban), None)


def _answers(answer: Exchange | None) -> bool:
    return answer is not None and answer.status == HTTPStatus.OK and own_elements(answer) is not None


def _start(answer: Exchange) -> dt.date:
    assert answer.window is not None
    return dt.date.fromisoformat(answer.window[0])


def _bounds(probe: Probe, seen: Observations, account: Account) -> tuple[dt.date, Exchange] | Served | None:
    """A failing day and a later answer to look between; or the answer itself; None: nothing fails."""
    newest, back = _answer(seen, account, "newest"), _answer(seen, account, "year_back")
    before = _answer(seen, account, "before_history")
    if newest is None or not _answers(newest):
        return None  # an account whose statements fail throughout says nothing about history
    if back is not None and back.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return _start(back), newest
    if (
        back is None
        or not _answers(back)
        or before is None
        or before.status < HTTPStatus.INTERNAL_SERVER_ERROR
    ):
        return None
    if account.opened is None:
        return _start(before), back
    # Most banks fail only before the opening day: one read of that day settles it.
    first = _one_day(probe, seen, account, account.opened)
    if _answers(first):
        return Served(account.iban, account.opened, first)
    return account.opened, back


def _halve(probe: Probe, seen: Observations, account: Account, failing: dt.date, answer: Exchange) -> Served:
    """The first day that answers between a failing day and an answer's window."""
    served = _start(answer)
    for _ in range(_MAX_HALVINGS):
        if (served - failing).days <= 1:
            break
        middle = failing + dt.timedelta(days=(served - failing).days // 2)
        got = _one_day(probe, seen, account, middle)
        if _answers(got):
            served, answer = middle, got
        elif got.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            failing = middle
        else:
            return Served(account.iban, served, answer, exact=False)  # neither: halving learns nothing
    return Served(account.iban, served, answer, exact=(served - failing).days <= 1)


def _one_day(probe: Probe, seen: Observations, account: Account, day: dt.date) -> Exchange:
    got = statement(probe, account, "served_probe", Window(day, day), tries=2)
    seen.exchanges.append(got)
    return got
