"""Walking one account's history: which windows to ask for, and which of them can be trusted.

Shared by the transactions and statements streams. The walk starts at the account's bookmark
minus the lookback (or at `start_date`), ends today in Sofia, fetches ahead in a bounded pool,
and proves every window against the bank's own totals before it is handed on. A window that
does not add up is fetched once more; if it still does not, it is handed on *unverified*: its
rows are emitted, but the bookmark must not pass it, so the next run reads it again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_fibank.client import ServerError
from tap_fibank.errors import StatementMismatchError
from tap_fibank.fetcher import fetch_in_order
from tap_fibank.redact import mask_iban
from tap_fibank.statement import Part, Statement, chain_problems, parse_statement
from tap_fibank.windows import Window, resume_start, sofia_today, windows

if TYPE_CHECKING:
    from tap_fibank.tap import TapFibank

LOGGER = logging.getLogger("tap_fibank.walk")
STATEMENT_ENDPOINT = "sywsquery/sywsquery/GetCustBal"
BOOKMARK = "walked_through"


@dataclass(frozen=True)
class Step:
    """A fetched window and whether the bookmark may move through it."""

    statement: Statement
    verified: bool


def walked_through(state: dict[str, Any]) -> dt.date | None:
    """The last day this account is known to be fully read: where the next run resumes.

    A state without the tap's own bookmark (set by hand, or by another tool) falls back to the
    SDK's `replication_key_value`.
    """
    return _state_date(state, BOOKMARK) or _state_date(state, "replication_key_value")


def _state_date(state: dict[str, Any], key: str) -> dt.date | None:
    value = state.get(key)
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def walk_range(tap: TapFibank, state: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """First and last day to read for an account with this bookmark state."""
    config = tap.config
    start = resume_start(
        walked_through=walked_through(state),
        start_date=dt.date.fromisoformat(config["start_date"]),
        lookback_days=int(config["lookback_days"]),
    )
    today = sofia_today()
    end = min(dt.date.fromisoformat(config["end_date"]), today) if config.get("end_date") else today
    return start, end


def walk_account(tap: TapFibank, customer_id: str, iban: str, state: dict[str, Any]) -> Iterator[Step]:
    """Yield the account's windows in order, each checked; stop quietly if the bank fails it."""
    start, end = walk_range(tap, state)
    if start > end:
        return
    masked = mask_iban(iban)
    currency = tap.account_currency.get(iban)
    strict = bool(tap.config.get("strict_statements"))

    def fetch(window: Window) -> Statement:
        params = {
            "FromDate": window.from_param(),
            "ToDate": window.to_param(),
            "Iban": iban,
            "StmtType": "T",
            "isAccountFromPSD2": "false",
        }

        def read() -> Statement:
            payload = tap.client.get_json(STATEMENT_ENDPOINT, params, customer_id)
            return parse_statement(payload, window, iban, customer_id, currency)

        statement = read()
        if not statement.is_balanced and all(p.has_summary for p in statement.parts):
            LOGGER.info("Statement of %s for %s does not add up; fetching it once more.", masked, window)
            statement = read()
        return statement

    previous: Part | None = None
    trusted = True
    plan = windows(start, end, int(tap.config["window_days"]))
    steps = fetch_in_order(tap.executor, plan, fetch, tap.prefetch_depth)
    try:
        for window, future in steps:
            tap.check_stop()
            try:
                statement = future.result()
            except ServerError as exc:
                tap.skip(
                    f"account {masked} from {window.start} ({exc.endpoint}: {exc.detail}); "
                    "its bookmark stays where it was and the next run tries again"
                )
                return
            problems = list(statement.problems)
            if previous is not None:
                problems.extend(chain_problems(previous, statement.parts[0]))
            unverifiable = not all(p.has_summary for p in statement.parts)
            if unverifiable:
                tap.warn_once(
                    f"unverifiable:{iban}",
                    f"The statements of account {masked} carry no summary rows (OP/CL/DT/CT); "
                    "its windows cannot be proven complete.",
                )
            elif problems:
                detail = "; ".join(problems[:3])
                if strict:
                    msg = (
                        f"the statement of account {masked} for {window} does not add up "
                        f"({detail}); strict_statements is on"
                    )
                    raise StatementMismatchError(msg)
                LOGGER.warning(
                    "The statement of account %s for %s does not add up (%s): its entries are "
                    "emitted, but the bookmark stays before %s so the next run reads it again.",
                    masked,
                    window,
                    detail,
                    window.start,
                )
                tap.unbalanced_windows.append((masked, str(window)))
                trusted = False
            previous = statement.parts[-1]
            yield Step(statement, verified=trusted and (unverifiable or not problems))
    finally:
        steps.close()  # type: ignore[attr-defined]


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


def settle_bookmark(state: dict[str, Any], window: Window, *, verified: bool) -> None:
    """After a window: move the bookmark through a proven window, or back before a doubtful one."""
    if verified:
        advance_bookmark(state, window.end)
    else:
        hold_bookmark(state, window.start - dt.timedelta(days=1))


def advance_bookmark(state: dict[str, Any], day: dt.date) -> None:
    """Move the bookmark forward to `day`, never back."""
    current = _state_date(state, BOOKMARK)
    if current is None or day > current:
        state[BOOKMARK] = day.isoformat()


def hold_bookmark(state: dict[str, Any], day: dt.date) -> None:
    """Move the bookmark back to `day` at the latest, so the next run reads what follows."""
    current = _state_date(state, BOOKMARK)
    if current is None or day < current:
        state[BOOKMARK] = day.isoformat()
