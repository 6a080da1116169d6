"""Reading statement windows from the bank: now, or ahead of the walk that will need them.

Contract: `read_window` is the one way a statement window is read; `read_ahead` starts reads for
the accounts in `run.ahead` (ahead.py), which their walks take. A walk cannot fetch in bulk until
it knows two things: that the account answers at all (its newest window) and, for a longer walk,
whether its history starts at the first window (a single try at the oldest). Those first reads of
the next accounts are started while the current account is walked; and once they have answered,
the next account's first bulk windows too, while the current account's last calls finish. The
answers wait in `run.ahead` and change nothing else: the windows a sequential walk asks, with the
same tries, so output and bookmarks are a sequential walk's. One call more for a broken account:
its oldest window's single try goes out beside its newest, before the newest has failed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tap_fibank.bank.retry import Tries
from tap_fibank.errors import BankProtocolError
from tap_fibank.privacy import mask_iban
from tap_fibank.proof.statement import Statement, parse_statement
from tap_fibank.walk.ahead import Ahead
from tap_fibank.walk.plan import account_plan
from tap_fibank.walk.policy import WINDOW_RETRIES
from tap_fibank.walk.run import Run
from tap_fibank.walk.windows import Window


def read_window(
    run: Run,
    customer_id: str,
    iban: str,
    window: Window,
    cancel: threading.Event | None = None,
    tries: Tries = Tries.FULL,
    refuse: Callable[[Any], str | None] | None = None,
) -> Statement:
    """One statement window of one account, asked as the 2022 connector asked, parsed and judged.

    A value the proof refuses ends the run (exit 5); its line names the masked account and the
    window, so the user knows where the bank's answer changed.
    """
    payload = run.client.statement(iban, window, customer_id, cancel=cancel, tries=tries, refuse=refuse)
    try:
        return parse_statement(payload, window, iban, customer_id, run.accounts.currencies.get(iban))
    except BankProtocolError as exc:
        raise BankProtocolError(f"account {mask_iban(iban)}, window {window}: {exc}") from exc


def read_ahead(run: Run, spare: int = 0) -> None:
    """Start the first reads of the accounts to be walked next, a bounded number of them.

    `spare` more accounts are started when the current walk has asked for its last window, so
    its last round of calls shares the pool with the next accounts' reads; then the next
    account's first bulk windows are started too, if its first reads have answered.
    """
    queue = run.ahead
    if queue.state_for is None:
        return
    while queue.upcoming and len(queue.started) < run.settings.prefetch // 2 + spare:
        customer_id, iban = queue.upcoming.popleft()
        plan = account_plan(run.settings, queue.state_for({"customer_id": customer_id, "iban": iban}))
        if not plan:
            continue
        ahead = Ahead(customer_id, iban, plan)
        _start(run, ahead, plan[-1], tries=Tries.FULL)
        if len(plan) > 1:
            _start(run, ahead, plan[0], tries=WINDOW_RETRIES.probe_tries)
        queue.started[iban] = ahead
    if spare:
        _start_bulk(run)


def _start(run: Run, ahead: Ahead, window: Window, tries: Tries) -> None:
    ahead.reads[window] = run.executor.submit(
        read_window, run, ahead.customer_id, ahead.iban, window, tries=tries
    )


def _start_bulk(run: Run) -> None:
    """The next account's first windows after its oldest, once its newest and oldest answered.

    Only then: those windows are read with every retry, which a broken account or windows
    before its history would waste.
    """
    ahead = next(iter(run.ahead.started.values()), None)
    if ahead is None or len(ahead.plan) < 3:
        return
    if not (ahead.answered(ahead.plan[0]) and ahead.answered(ahead.plan[-1])):
        return
    for window in ahead.plan[1 : 1 + run.settings.prefetch]:
        if window not in ahead.reads:
            _start(run, ahead, window, tries=Tries.FULL)
