"""Walking one account's history: which windows to ask for, and which of them can be trusted.

Shared by the transactions and statements streams. The walk starts at the account's bookmark
minus the lookback (or at `start_date`) and ends today in Sofia. Before anything else it reads
the newest window: if even that fails, the account is broken and skipped, at the cost of one
call and its retries (and one single try of its oldest window, if that was read ahead). Windows
before an account existed may fail too (a bank answering "no data found" with a 500): then the
first window that answers is found by bisection, and the failing ones before it are walked as
empty once the first answer opens at zero. The rest is fetched
ahead in a bounded pool and handed on in order, each window judged: balanced, unverifiable (its
summary rows cannot prove it; its bookmark still moves), or unbalanced (the bank's own numbers
prove an entry missing: read once more, then its rows are emitted but the bookmark stays before
it, so the next run reads it again).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tap_fibank.client import RequestRefused, ServerError
from tap_fibank.errors import StatementMismatchError
from tap_fibank.fetcher import fetch_in_order
from tap_fibank.reading import account_plan, read_ahead, read_window, take_ahead
from tap_fibank.redact import mask_iban
from tap_fibank.run import Run
from tap_fibank.statement import Part, Statement, chain_problems
from tap_fibank.windows import Window

LOGGER = logging.getLogger("tap_fibank.walk")
# A window that fails after every retry is a gap; this many in a row end the account's walk.
MAX_GAPS_IN_A_ROW = 2
_FAILED = (ServerError, RequestRefused)


@dataclass(frozen=True)
class Step:
    """A fetched window and whether the bookmark may move through it."""

    statement: Statement
    verified: bool


@dataclass(frozen=True)
class WindowSummary:
    """What the statements stream needs of a window: its records, span and trust; no entries."""

    records: list[dict[str, Any]]
    window: Window
    verified: bool


def summarize(step: Step, iban: str, customer_id: str) -> WindowSummary:
    """Reduce a step to its statement records, dropping the entries."""
    records = [part.summary(iban, customer_id) for part in step.statement.parts]
    return WindowSummary(records, step.statement.window, step.verified)


class AccountWalker:
    """One account's walk in one run: fetch, judge, decide."""

    def __init__(self, run: Run, customer_id: str, iban: str, state: dict[str, Any]) -> None:
        self._run = run
        self._settings = run.settings
        self._ledger = run.ledger
        self.customer_id = customer_id
        self.iban = iban
        self.masked = mask_iban(iban)
        self._state = state
        self._cancel = threading.Event()  # ends this account's calls still waiting for a retry
        self._cache: dict[Window, Statement] = {}
        self._ahead: dict[Window, Future[Statement]] = {}
        self._trusted = True
        self._previous: Part | None = None
        self._gaps_in_a_row = 0

    def steps(self) -> Iterator[Step]:
        """The account's windows in order, each judged; nothing if the account is broken."""
        plan = account_plan(self._settings, self._state)
        read_ahead(self._run)  # this account's first reads too, if not yet started
        self._ahead = take_ahead(self._run, self.iban)
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

    def _read(self, window: Window, retries: int | None = None) -> Statement:
        """A window's statement: the answer read ahead for it if any (same tries), else a new read."""
        ahead = self._ahead.pop(window, None)
        if ahead is not None:
            return ahead.result()
        return read_window(self._run, self.customer_id, self.iban, window, self._cancel, retries)

    def _start(self, window: Window) -> Future[Statement]:
        """A window's answer to come: already read (a probe, or read ahead), or read now in the pool."""
        cached = self._cache.pop(window, None)
        if cached is not None:
            done: Future[Statement] = Future()
            done.set_result(cached)
            return done
        ahead = self._ahead.pop(window, None)
        if ahead is not None:
            return ahead
        return self._run.executor.submit(self._read, window)

    def _checked(self, window: Window, statement: Statement) -> Statement:
        """A window that does not add up is read once more (the bank may have been mid-booking)."""
        if statement.verdict != "unbalanced":
            return statement
        LOGGER.info("Statement of %s for %s does not add up; fetching it once more.", self.masked, window)
        return self._read(window)

    def _newest_answers(self, start: dt.date, newest: Window) -> bool:
        """Read the newest window first: if it fails, the account is broken; skip it."""
        try:
            self._cache[newest] = self._read(newest)
        except _FAILED as exc:
            self._ledger.skip(
                f"account {self.masked} from {start} ({exc.endpoint}: {exc.detail}, even for its newest "
                f"days {newest}); its bookmark stays where it was and the next run tries again"
            )
            return False
        return True

    def _answers(self, window: Window, retries: int | None = None) -> bool:
        try:
            self._cache[window] = self._read(window, retries)
        except _FAILED:
            return False
        return True

    # -- where the history starts --------------------------------------------------------------

    def _history_start(self, plan: list[Window]) -> int:
        """The first window to walk: 0, unless the windows before the account existed fail.

        Probes are single attempts (a retry cannot help a window that never existed); the
        boundary found is then confirmed with every retry, since a passing failure could have
        misled the bisection. Unconfirmed, the walk reads everything, failures counted as gaps.
        """
        if self._answers(plan[0], retries=0):
            return 0
        failing, answering = 0, len(plan) - 1  # the newest answered already
        while answering - failing > 1:
            middle = (failing + answering) // 2
            if self._answers(plan[middle], retries=0):
                answering = middle
            else:
                failing = middle
        if self._answers(plan[failing]):
            return 0
        return answering

    def _before_history(self, plan: list[Window], begin: int) -> Step:
        """The failing windows before the first that answers: empty if it opens at zero."""
        span = Window(plan[0].start, plan[begin - 1].end)
        first = plan[begin].start
        opening = _opening_balance(self._cache[plan[begin]])
        if opening == 0:
            self._ledger.warn_once(
                f"{self.iban}:before-history",
                f"Account {self.masked}: the bank fails every statement window before {first} and the "
                f"first one that answers opens at 0, so its history starts there; {span} is walked as empty.",
            )
            return Step(Statement(span, []), verified=True)
        self._ledger.skip(
            f"account {self.masked} before {first} (the bank fails those windows, and the first one that "
            f"answers opens at {opening}, so earlier entries exist); its bookmark stays before them"
        )
        self._trusted = False
        return Step(Statement(span, []), verified=False)

    # -- the walk ------------------------------------------------------------------------------

    def _walk(self, plan: list[Window]) -> Iterator[Step]:
        steps = fetch_in_order(
            plan, self._start, self._settings.prefetch, drained=lambda: read_ahead(self._run, spare=1)
        )
        try:
            for window, future in steps:
                self._run.check_stop()
                try:
                    statement = self._checked(window, future.result())
                except _FAILED as exc:
                    gap = self._gap(window, exc)
                    if gap is None:
                        return
                    yield gap
                    continue
                self._gaps_in_a_row = 0
                yield self._judge(statement)
        finally:
            steps.close()  # type: ignore[attr-defined]

    def _gap(self, window: Window, exc: ServerError | RequestRefused) -> Step | None:
        """A window that failed after every retry: its bookmark is held; too many end the walk.

        Its entries are unknown, so the next window cannot be chained to the one before it.
        """
        self._trusted = False
        self._previous = None
        self._gaps_in_a_row += 1
        if self._gaps_in_a_row >= MAX_GAPS_IN_A_ROW:
            self._ledger.skip(
                f"account {self.masked} from {window.start} ({exc.endpoint}: {exc.detail}, "
                f"{self._gaps_in_a_row} windows in a row); the next run reads it again from before them"
            )
            return None
        self._ledger.skip(
            f"account {self.masked} for {window} ({exc.endpoint}: {exc.detail}); its entries were not read, "
            "and its bookmark stays before it so the next run reads it again"
        )
        return Step(Statement(window, []), verified=False)

    def _judge(self, statement: Statement) -> Step:
        """Warn about what differed, prove or doubt the window, and say if the bookmark may pass."""
        for note in statement.notes:
            self._ledger.warn_once(f"{self.iban}:{note}", f"Account {self.masked}: {note}.")
        problems = statement.problems
        if self._previous is not None and statement.parts:
            problems = problems + chain_problems(self._previous, statement.parts[0])
        if problems:
            self._unbalanced(statement.window, problems)
        else:
            for part in statement.parts:
                if part.summary_note is not None:
                    self._ledger.unverifiable.setdefault(self.masked, part.summary_note)
        self._remember(statement)
        return Step(statement, verified=self._trusted)

    def _unbalanced(self, window: Window, problems: list[str]) -> None:
        detail = "; ".join(problems[:3])
        if self._settings.strict:
            msg = (
                f"the statement of account {self.masked} for {window} does not add up ({detail}); "
                "strict_statements is on"
            )
            raise StatementMismatchError(msg)
        LOGGER.warning(
            "The statement of account %s for %s does not add up (%s): its entries are emitted, but the "
            "bookmark stays before %s so the next run reads it again.",
            self.masked,
            window,
            detail,
            window.start,
        )
        self._ledger.unbalanced.append((self.masked, str(window)))
        self._trusted = False

    def _remember(self, statement: Statement) -> None:
        """Keep the last proven part to chain the next window to; an unproven one breaks the chain."""
        for part in statement.parts:
            if part.trusted:
                self._previous = part
            elif part.entries or part.summary_rows:
                self._previous = None


def _opening_balance(statement: Statement) -> Decimal | None:
    """What the account held before a window: its first entry's arithmetic, else the OP row."""
    if not statement.parts:
        return None
    part = statement.parts[0]
    first = part.entries[0] if part.entries else None
    if first is not None and first.balance_after is not None:
        return first.balance_after - (first.amount if first.direction == "credit" else -first.amount)
    return part.opening
