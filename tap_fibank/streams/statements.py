"""One record per fetched window (per currency part) per account: the bank's own totals.

When transactions are synced too, the windows they fetched are reused, so no statement is asked
for twice. Alone, the stream walks the account itself with its own bookmark.

Contract: takes an account's window summaries from the run's window cache if the transactions
stream kept them, else walks the account itself; in both cases it settles its own bookmark.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from singer_sdk import typing as th
from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_fibank.streams.accounts import AccountsStream
from tap_fibank.streams.base import FibankStream, login_property
from tap_fibank.walk.account import AccountWalker, summarize
from tap_fibank.walk.bookmarks import Points, settle_bookmark
from tap_fibank.walk.window_cache import WindowSummary

_MONEY = th.NumberType

STATEMENT_SCHEMA = th.PropertiesList(
    th.Property("iban", th.StringType, required=True, description="The account's IBAN."),
    th.Property("customer_id", th.StringType, required=True, description="The profile."),
    th.Property("date_from", th.DateType, required=True, description="First day (Sofia)."),
    th.Property("date_to", th.DateType, required=True, description="Last day (Sofia)."),
    th.Property("currency", th.StringType, description="The currency the bank reported."),
    th.Property("opening_balance", _MONEY, description="OP: balance before the first day."),
    th.Property("closing_balance", _MONEY, description="CL: balance after the last day."),
    th.Property("debit_turnover", _MONEY, description="DT: the bank's total of debits."),
    th.Property("credit_turnover", _MONEY, description="CT: the bank's total of credits."),
    th.Property("entry_count", th.IntegerType, description="Entries in the window."),
    th.Property("entries_debit_total", _MONEY, description="The entries' own debit total."),
    th.Property("entries_credit_total", _MONEY, description="The entries' own credit total."),
    th.Property(
        "run_started_at",
        th.DateTimeType,
        required=True,
        description="When the run that read this window started (UTC): one value per run, so "
        "the rows of one run group together. Windows of later runs overlap earlier ones (the "
        "lookback); the latest run's is the bank's current word on a day.",
    ),
    th.Property(
        "is_balanced",
        th.BooleanType,
        description="Opening + credits - debits = closing, entries match both turnovers "
        "and the balance chain holds.",
    ),
    th.Property(
        "verification",
        th.StringType(allowed_values=["balanced", "unbalanced", "unverifiable"]),
        description="balanced (proven complete); unbalanced (the bank's own numbers prove an "
        "entry missing: read again next run); unverifiable (no usable summary rows to prove it).",
    ),
    login_property(),
).to_dict()


class StatementsStream(FibankStream):
    """The summary of every window the tap read."""

    name = "statements"
    primary_keys = ("iban", "date_from", "date_to")
    replication_key = "date_to"
    is_sorted = True
    parent_stream_type = AccountsStream
    schema = STATEMENT_SCHEMA

    @property
    @override
    def check_sorted(self) -> bool:
        return False  # lookback windows end before the stored bookmark, by design

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        assert context is not None
        customer_id, iban = str(context["customer_id"]), str(context["iban"])
        state = self.get_context_state(context)
        windows: Iterable[WindowSummary] | None = self.run.window_cache.take(iban)
        if windows is None:
            walker = AccountWalker(self.run, customer_id, iban, state)
            windows = (summarize(step, iban, customer_id) for step in walker.steps())
        started_at = self.run.started_at
        points = Points(state)
        for summary in windows:
            for record in summary.records:
                yield {**record, "run_started_at": started_at}
            points.add(summary.point)
            settle_bookmark(
                state, summary.window, verified=summary.verified, hold=summary.hold, points=points
            )
