"""Walking one account's history: which windows to ask for, and which of them can be trusted.

Shared by the transactions and statements streams. The walk starts at the account's bookmark
minus the lookback (or at `start_date`) and ends today in Sofia. Before anything else it reads
the newest window: if even that fails, the account is broken and skipped, at the cost of one
call and its retries. Windows before an account existed may fail too (a bank answering "no data
found" with a 500): then the first window that answers is found by bisection, and the failing
ones before it are walked as empty once the first answer opens at zero. The rest is fetched
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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tap_fibank.bookmarks import walked_through
from tap_fibank.client import RequestRefused, ServerError
from tap_fibank.errors import StatementMismatchError
from tap_fibank.fetcher import fetch_in_order
from tap_fibank.redact import mask_iban
from tap_fibank.run import Run, WalkSettings
from tap_fibank.statement import Part, Statement, chain_problems, parse_statement
from tap_fibank.windows import Window, resume_start, sofia_today, windows

LOGGER = logging.getLogger("tap_fibank.walk")
STATEMENT_ENDPOINT = "sywsquery/sywsquery/GetCustBal"
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


def walk_range(settings: WalkSettings, state: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """First and last day to read for an account with this bookmark state."""
    start = resume_start(
        walked_through=walked_through(state),
        start_date=settings.start_date,
        lookback_days=settings.lookback_days,
    )
    today = sofia_today()
    return start, min(settings.end_date, today) if settings.end_date else today


def read_window(
    run: Run,
    customer_id: str,
    iban: str,
    window: Window,
    cancel: threading.Event | None = None,
    retries: int | None = None,
) -> Statement:
    """One statement window of one account, asked as the 2022 connector asked, parsed and judged."""
    params = {
        "FromDate": window.from_param(),
        "ToDate": window.to_param(),
        "Iban": iban,
        "StmtType": "T",
        "isAccountFromPSD2": "false",
    }
    payload = run.client.get_json(STATEMENT_ENDPOINT, params, customer_id, cancel=cancel, retries=retries)
    return parse_statement(payload, window, iban, customer_id, run.currencies.get(iban))


def read_ahead(run: Run) -> None:
    """Start reading the newest window of the next accounts, so a walk never waits idle between them.

    A daily run is one window per account: with the next accounts' windows already in flight,
    it takes about the time of the slowest calls, not the sum of all of them. The answers wait
    in `run.ahead` and change nothing else: output and bookmarks are those of a sequential walk.
    """
    if run.state_for is None:
        return
    while run.upcoming and len(run.ahead) < run.settings.prefetch // 2:
        customer_id, iban = run.upcoming.popleft()
        state = run.state_for({"customer_id": customer_id, "iban": iban})
        start, end = walk_range(run.settings, state)
        plan = list(windows(start, end, run.settings.window_days))
        if plan:
            future = run.executor.submit(read_window, run, customer_id, iban, plan[-1])
            run.ahead[iban] = (plan[-1], future)


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
        self._trusted = True
        self._previous: Part | None = None
        self._gaps_in_a_row = 0

    def steps(self) -> Iterator[Step]:
        """The account's windows in order, each judged; nothing if the account is broken."""
        start, end = walk_range(self._settings, self._state)
        plan = list(windows(start, end, self._settings.window_days))
        read_ahead(self._run)
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

    # -- fetching ------------------------------------------------------------------------------

    def _read(self, window: Window, retries: int | None = None) -> Statement:
        return read_window(self._run, self.customer_id, self.iban, window, self._cancel, retries)

    def _fetch(self, window: Window) -> Statement:
        """A window's statement (from the probes' cache if read already), read twice if unbalanced."""
        statement = self._cache.pop(window, None) or self._read(window)
        if statement.verdict == "unbalanced":
            LOGGER.info("Statement of %s for %s does not add up; fetching it once more.", self.masked, window)
            statement = self._read(window)
        return statement

    def _newest_answers(self, start: dt.date, newest: Window) -> bool:
        """Read the newest window first: if it fails, the account is broken; skip it."""
        ahead = self._run.ahead.pop(self.iban, None)
        try:
            if ahead is not None and ahead[0] == newest:
                self._cache[newest] = ahead[1].result()
            else:
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
        steps = fetch_in_order(self._run.executor, plan, self._fetch, self._settings.prefetch)
        try:
            for window, future in steps:
                self._run.check_stop()
                try:
                    statement = future.result()
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
        """A window that failed after every retry: its bookmark is held; too many end the walk."""
        self._trusted = False
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
