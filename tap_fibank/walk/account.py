"""Walking one account's history: which windows to ask for, and which of them can be trusted.

Shared by the transactions and statements streams. The walk starts at the account's bookmark
minus the lookback (or at `start_date`, never before the day the bank's history starts) and ends
today in Sofia. Before anything else it reads the newest window: if even that fails, the account
is broken and skipped, at the cost of one call and its retries (and one single try of its oldest
window, if that was read ahead). Windows before an account existed may fail too (a bank
answering "no data found" with a 500): then the first window that answers is found by
bisection; the failing ones before it are walked as empty once the first answer opens at zero,
and where it opens at another balance that day is where the bank's history starts (kept in the
state, asked again at most every `history_reprobe_days`). The rest is fetched ahead in a bounded
pool and handed on in order, each window judged by the bank's two proofs: its summary rows, and
the balance after every entry, followed across windows and runs (chain.py). Where two balances
do not follow, the bookmark stays before the earlier entry's day, however many windows lie
between; an answer with no rows at all between two balances that differ is a failed read, asked
again like a 5xx. Entries before 2026 whose currency the bank does not name get the one the
changeover proves, never a guess.

Contract: `AccountWalker(run, customer_id, iban, state).steps()` yields the account's windows in
order as `Step`s, changes only the partition state it is given (the keys of bookmarks.py) and the
run report, and reads the bank only through read_ahead.py. The streams settle the bookmark from
each step; the walk never does.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Generator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tap_fibank.bank.client import RequestRefused, ServerError
from tap_fibank.bank.clock import sofia_today
from tap_fibank.bank.retry import Tries
from tap_fibank.errors import BankProtocolError, StatementMismatchError
from tap_fibank.privacy import mask_iban
from tap_fibank.proof.changeover import Before
from tap_fibank.proof.statement import Statement, bare_answer, label_undecided
from tap_fibank.walk.bookmarks import (
    CURRENCY_BEFORE,
    SERVED_FROM,
    SERVED_PROBED,
    hold_bookmark,
    reprobe_due,
    served_from,
)
from tap_fibank.walk.chain import BalanceChain, Break, stored_point
from tap_fibank.walk.currency import decide_before
from tap_fibank.walk.in_order import fetch_in_order
from tap_fibank.walk.plan import account_plan
from tap_fibank.walk.policy import WINDOW_RETRIES
from tap_fibank.walk.read_ahead import read_ahead, read_window
from tap_fibank.walk.run import Run
from tap_fibank.walk.window_cache import WindowSummary
from tap_fibank.walk.windows import ONE_DAY, Window

LOGGER = logging.getLogger("tap_fibank.walk")
_FAILED = (ServerError, RequestRefused)


@dataclass(frozen=True)
class Step:
    """A fetched window and how the bookmark settles after it.

    `verified`: whether the bookmark may move through the window; `hold`: the earlier day of a
    broken balance chain, which the bookmark must stay before; `point`: the last balance read,
    for the next run's chain (the state's `chain`).
    """

    statement: Statement
    verified: bool
    hold: dt.date | None = None
    point: dict[str, Any] | None = None


def summarize(step: Step, iban: str, customer_id: str) -> WindowSummary:
    """Reduce a step to its statement records, dropping the entries."""
    records = [part.summary(iban, customer_id) for part in step.statement.parts]
    return WindowSummary(records, step.statement.window, step.verified, step.hold, step.point)


class _Undecided(Exception):
    """A window holds entries whose currency the bank's numbers cannot decide: stop before it."""


class AccountWalker:
    """One account's walk in one run: fetch, judge, decide."""

    def __init__(self, run: Run, customer_id: str, iban: str, state: dict[str, Any]) -> None:
        self._run = run
        self._settings = run.settings
        self._report = run.report
        self.customer_id = customer_id
        self.iban = iban
        self.masked = mask_iban(iban)
        self._state = state
        self._cancel = threading.Event()  # ends this account's calls still waiting for a retry
        self._cache: dict[Window, Statement] = {}
        self._started: dict[Window, Future[Statement]] = {}
        self._ahead: dict[Window, Future[Statement]] = {}
        self._trusted = True
        self._chain = BalanceChain(stored_point(state))
        self._held: list[Statement] = []  # answers with no rows, judged by the next balance
        self._after_gap = False
        self._gaps_in_a_row = 0
        self._plan: list[Window] = []
        self._refusal: ServerError | RequestRefused | None = None  # the last probe's failure
        kept = state.get(CURRENCY_BEFORE)
        self._before: Before | None = kept if kept in ("BGN", "EUR") else None

    def steps(self) -> Iterator[Step]:
        """The account's windows in order, each judged; nothing if the account is broken."""
        plan = account_plan(self._settings, self._state)
        read_ahead(self._run)  # this account's first reads too, if not yet started
        self._ahead = self._run.ahead.take(self.iban)
        if plan and self._reprobe(plan):
            plan = account_plan(self._settings, self._state)
        self._plan = plan
        if not plan:
            return
        try:
            if not self._newest_answers(plan[0].start, plan[-1]):
                return
            begin = self._history_start(plan) if len(plan) > 1 else 0
            if begin:
                yield self._before_history(plan, begin)
            yield from self._walk(plan[begin:])
        finally:
            self._cancel.set()
            for read in self._ahead.values():
                read.cancel()

    # -- fetching ------------------------------------------------------------------------------

    def _read(self, window: Window, tries: Tries = Tries.FULL) -> Statement:
        """A window's statement: the answer read ahead for it if any (same tries), else a new read."""
        ahead = self._ahead.pop(window, None)
        if ahead is not None:
            return ahead.result()
        return read_window(self._run, self.customer_id, self.iban, window, self._cancel, tries)

    def _start(self, window: Window) -> Future[Statement]:
        """A window's answer to come: already read (a probe, or read ahead), or read now in the pool."""
        cached = self._cache.pop(window, None)
        if cached is not None:
            done: Future[Statement] = Future()
            done.set_result(cached)
            future = done
        else:
            ahead = self._ahead.pop(window, None)
            future = ahead if ahead is not None else self._run.executor.submit(self._read, window)
        self._started[window] = future  # until the walk takes it: a probe may need it first
        return future

    def _probe(self, window: Window) -> Statement | None:
        """A window read out of order (kept for the walk if it is part of it), None if it fails."""
        if window in self._cache:
            return self._cache[window]
        started = self._started.get(window)
        try:
            statement = started.result() if started is not None else self._read(window)
        except _FAILED:
            return None
        if started is not None:
            return statement
        if window in self._plan:
            self._cache[window] = statement
        return statement

    def _checked(self, window: Window, statement: Statement) -> Statement:
        """A window that does not add up is read again (the bank may have been mid-booking)."""
        for _ in range(WINDOW_RETRIES.rereads_unbalanced):
            if statement.verdict != "unbalanced":
                break
            LOGGER.info("Statement of %s for %s does not add up; fetching it once more.", self.masked, window)
            statement = self._read(window)
        return statement

    def _newest_answers(self, start: dt.date, newest: Window) -> bool:
        """Read the newest window first: if it fails, the account is broken; skip it."""
        try:
            self._cache[newest] = self._read(newest)
        except _FAILED as exc:
            self._report.skip(
                f"account {self.masked} from {start} ({exc.endpoint}: {exc.detail}, even for its newest "
                f"days {newest}); its bookmark stays where it was and the next run tries again"
            )
            return False
        return True

    def _answers(self, window: Window, tries: Tries = Tries.FULL) -> bool:
        try:
            self._cache[window] = self._read(window, tries)
        except _FAILED as exc:
            self._refusal = exc
            return False
        return True

    # -- where the history starts --------------------------------------------------------------

    def _history_start(self, plan: list[Window]) -> int:
        """The first window to walk: 0, unless the windows before the account existed fail.

        Probes are single attempts (a retry cannot help a window that never existed); the
        boundary found is then confirmed with every retry, since a passing failure could have
        misled the bisection. Unconfirmed, the walk reads everything, failures counted as gaps.
        """
        if self._answers(plan[0], tries=WINDOW_RETRIES.probe_tries):
            return 0
        failing, answering = 0, len(plan) - 1  # the newest answered already
        while answering - failing > 1:
            middle = (failing + answering) // 2
            if self._answers(plan[middle], tries=WINDOW_RETRIES.probe_tries):
                answering = middle
            else:
                failing = middle
        if self._answers(plan[failing]):
            return 0
        return answering

    def _before_history(self, plan: list[Window], begin: int) -> Step:
        """The failing windows before the first that answers: empty if it opens at zero.

        At another balance the account is older than what the bank serves: that day is where its
        history starts here, kept in the state so no later run walks before it again. Not where
        the failures were answers that could not be read: that is a broken bank, not a limit.
        """
        span = Window(plan[0].start, plan[begin - 1].end)
        first = plan[begin].start
        opening = _opening_balance(self._cache[plan[begin]])
        if opening == 0:
            self._report.warn_once(
                f"{self.iban}:before-history",
                f"Account {self.masked}: the bank fails every statement window before {first} and the "
                f"first one that answers opens at 0, so its history starts there; {span} is walked as empty.",
            )
            return Step(Statement(span, []), verified=True)
        if opening is None or self._refusal is None or _unreadable(self._refusal):
            shown = "shows no balance" if opening is None else f"opens at {opening}, so earlier entries exist"
            self._report.skip(
                f"account {self.masked} before {first} (the bank fails those windows, and the first one "
                f"that answers {shown}); its bookmark stays before them"
            )
            self._trusted = False
            return Step(Statement(span, []), verified=False)
        self._state[SERVED_FROM] = first.isoformat()
        self._state[SERVED_PROBED] = sofia_today().isoformat()
        self._report.served[self.masked] = f"from {first} (opening balance {opening} carried)"
        return Step(Statement(span, []), verified=True)

    def _reprobe(self, plan: list[Window]) -> bool:
        """Ask once more for the days before the served history; True if the bank now serves them.

        A single try, at most every `history_reprobe_days`: the bank may extend what it serves.
        If it does, the history start is forgotten and the account is walked from `start_date`.
        """
        first = served_from(self._state)
        today = sofia_today()
        if first is None or first <= self._settings.start_date:
            return False
        if not reprobe_due(self._state, today, self._settings.reprobe_days):
            return False
        before = Window(
            max(self._settings.start_date, first - dt.timedelta(days=self._settings.window_days)),
            first - ONE_DAY,
        )
        self._state[SERVED_PROBED] = today.isoformat()
        try:
            answer = self._read(before, tries=WINDOW_RETRIES.probe_tries)
        except _FAILED:
            return False
        if answer.bare:
            return False
        del self._state[SERVED_FROM]
        hold_bookmark(self._state, self._settings.start_date - ONE_DAY)
        LOGGER.warning(
            "Account %s: the bank now serves days before %s; its history is read again from %s.",
            self.masked,
            first,
            self._settings.start_date,
        )
        return True

    # -- the walk ------------------------------------------------------------------------------

    def _walk(self, plan: list[Window]) -> Iterator[Step]:
        steps = fetch_in_order(
            plan, self._start, self._settings.prefetch, drained=lambda: read_ahead(self._run, spare=1)
        )
        try:
            for window, future in steps:
                self._started.pop(window, None)
                self._run.check_stop()
                try:
                    statement = self._checked(window, future.result())
                except _FAILED as exc:
                    if not (yield from self._failed(window, exc)):
                        return
                    continue
                self._gaps_in_a_row = 0
                if statement.bare and self._chain.point is not None:
                    self._held.append(statement)  # judged by the balance that follows it
                    continue
                if not (yield from self._release(statement)):
                    return
            for bare in self._held:  # nothing after them to disprove them
                yield self._judge(bare)
        except _Undecided:
            point = self._chain.point
            hold = min(window.start, point.day) if point is not None else window.start
            yield Step(Statement(window, []), verified=False, hold=hold)
        finally:
            steps.close()  # type: ignore[attr-defined]

    def _failed(self, window: Window, exc: ServerError | RequestRefused) -> Generator[Step, None, bool]:
        """A window that failed after every retry, after any held answers, which it leaves unproven."""
        for bare in self._held:  # held only after a balance: there is a point
            assert self._chain.point is not None
            yield Step(bare, verified=False, hold=self._chain.point.day)
        self._held = []
        gap = self._gap(window, exc)
        if gap is None:
            return False
        yield gap
        return True

    def _release(self, statement: Statement) -> Generator[Step, None, bool]:
        """The held answers with no rows, then this window.

        If this window's first balance follows the last one, they were truly empty. If not, they
        were failed reads: each is asked again, refusing an answer with no rows like a 5xx.
        """
        held, self._held = self._held, []
        if held and self._chain.check(self._labelled(statement)) is not None:
            for bare in held:
                step = self._read_again(bare.window)
                if step is None:
                    return False
                yield step
        else:
            for bare in held:
                yield self._judge(bare)
        yield self._judge(statement)
        return True

    def _read_again(self, window: Window) -> Step | None:
        try:
            statement = read_window(
                self._run, self.customer_id, self.iban, window, self._cancel, refuse=bare_answer
            )
        except _FAILED as exc:
            return self._gap(window, exc)
        self._gaps_in_a_row = 0
        return self._judge(statement)

    def _gap(self, window: Window, exc: ServerError | RequestRefused) -> Step | None:
        """A window that failed after every retry: its bookmark is held; too many end the walk.

        Its entries are unknown: the balance after it will not follow the one before it, which
        holds the bookmark before the last entry read, without counting as a window that does
        not add up.
        """
        self._trusted = False
        self._after_gap = True
        self._gaps_in_a_row += 1
        if self._gaps_in_a_row >= WINDOW_RETRIES.gaps_in_a_row:
            self._report.skip(
                f"account {self.masked} from {window.start} ({exc.endpoint}: {exc.detail}, "
                f"{self._gaps_in_a_row} windows in a row); the next run reads it again from before them"
            )
            return None
        self._report.skip(
            f"account {self.masked} for {window} ({exc.endpoint}: {exc.detail}); its entries were not read, "
            "and its bookmark stays before it so the next run reads it again"
        )
        return Step(Statement(window, []), verified=False)

    def _judge(self, statement: Statement) -> Step:
        """Warn about what differed, prove or doubt the window, and say where the bookmark may go."""
        statement = self._labelled(statement)
        for note in statement.notes:
            self._report.warn_once(f"{self.iban}:{note}", f"Account {self.masked}: {note}.")
        problems = statement.problems
        broken = self._chain.check(statement)
        if broken is not None and not self._after_gap:
            problems = [*problems, broken.detail]
        if problems:
            self._unbalanced(statement.window, problems, broken)
        else:
            for part in statement.parts:
                if part.summary_note is not None:
                    self._report.unverifiable.setdefault(self.masked, part.summary_note)
        if broken is not None:
            self._trusted = False
        self._after_gap = False
        self._chain.advance(statement)
        point = self._chain.point
        return Step(
            statement,
            verified=self._trusted,
            hold=broken.since if broken is not None else None,
            point=point.as_state() if point is not None else None,
        )

    def _unbalanced(self, window: Window, problems: list[str], broken: Break | None) -> None:
        detail = "; ".join(problems[:3])
        if self._settings.strict:
            msg = (
                f"the statement of account {self.masked} for {window} does not add up ({detail}); "
                "strict_statements is on"
            )
            raise StatementMismatchError(msg)
        since = broken.since if broken is not None else window.start
        LOGGER.warning(
            "The statement of account %s for %s does not add up (%s): its entries are emitted, but the "
            "bookmark stays before %s so the next run reads it again.",
            self.masked,
            window,
            detail,
            since,
        )
        self._report.unbalanced.append((self.masked, str(Window(since, window.end))))
        self._trusted = False

    # -- the currency before 2026 ------------------------------------------------------------

    def _labelled(self, statement: Statement) -> Statement:
        """The window with the currency the changeover proved on entries the bank left unnamed."""
        if statement.undecided and self._before is None:
            self._before = self._decide()
            if self._before is None:
                raise _Undecided
            self._state[CURRENCY_BEFORE] = self._before
        if self._before is not None:
            label_undecided(statement, self._before)
        return statement

    def _decide(self) -> Before | None:
        """Read the balances on either side of 2026-01-01 (windows kept for the walk) and decide."""
        decided, detail = decide_before(self._probe, self._plan, self._settings.window_days, sofia_today())
        if decided is None:
            self._report.undecidable(self.masked, detail)
        return decided


def _unreadable(exc: ServerError | RequestRefused) -> bool:
    return isinstance(exc, ServerError) and exc.exit_code == BankProtocolError.exit_code


def _opening_balance(statement: Statement) -> Decimal | None:
    """What the account held before a window: its first entry's arithmetic, else the OP row."""
    if not statement.parts:
        return None
    part = statement.parts[0]
    first = part.entries[0] if part.entries else None
    if first is not None and first.balance_after is not None:
        return first.balance_after - (first.amount if first.direction == "credit" else -first.amount)
    return part.opening
