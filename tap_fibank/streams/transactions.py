"""Every booked entry of every account, walked in windows, incremental per account.

The bookmark of an account is `walked_through`: the last Sofia day whose entries have all been
emitted from a window that proved complete. It moves day by day as rows go out, so a run cut
off mid-window resumes where it stopped; it also moves through empty windows, so the empty years
before an account was opened are walked once, not every run. The SDK's `replication_key_value`
(the booking date of the last row emitted) is kept alongside for orchestrators that show it.

Contract: walks each account (walk/account.py), emits its entries in order, settles the bookmark
after each window, and keeps each window's summary in the run's window cache when statements are
wanted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from singer_sdk import typing as th
from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_fibank.privacy import mask_iban
from tap_fibank.streams.accounts import AccountsStream
from tap_fibank.streams.base import FibankStream, extra_property, login_property
from tap_fibank.walk.account import AccountWalker, Step, summarize
from tap_fibank.walk.bookmarks import Points, advance_bookmark, settle_bookmark
from tap_fibank.walk.windows import ONE_DAY

_MONEY = th.NumberType
_TEXT = th.StringType


def _prop(name: str, kind: Any, description: str, *, required: bool = False) -> th.Property[Any]:
    return th.Property(name, kind, required=required, description=description)


TRANSACTION_SCHEMA = th.PropertiesList(
    _prop("iban", _TEXT, "The account's IBAN.", required=True),
    _prop("customer_id", _TEXT, "The profile the account was read under.", required=True),
    _prop("entry_id", th.IntegerType, "The bank's entry serial number (acEntrySrNo).", required=True),
    _prop("booking_date", th.DateType, "Sofia local date of the booking (from dateTime).", required=True),
    _prop("booked_at", th.DateTimeType, "Booking time with its Sofia offset (dateTime).", required=True),
    _prop("value_date", th.DateType, "Value date (valueDt), Sofia local."),
    _prop(
        "direction",
        th.StringType(allowed_values=["debit", "credit"]),
        "debit or credit (dtkt).",
        required=True,
    ),
    _prop("amount", _MONEY, "The amount as sent, unsigned (amount).", required=True),
    _prop("signed_amount", _MONEY, "The amount, credits positive and debits negative.", required=True),
    _prop("balance_after", _MONEY, "The account balance after this entry (acBal)."),
    _prop("currency", _TEXT, "The currency the bank reported for the entry's statement."),
    _prop("reference", _TEXT, "The bank's reference (reference)."),
    _prop("counterparty_name", _TEXT, "The counterparty's name (contragent)."),
    _prop("counterparty_account", _TEXT, "The counterparty's account (trnAccount)."),
    _prop("ordering_or_beneficiary_party", _TEXT, "Ordering party or beneficiary (benOrderParty)."),
    _prop("description", _TEXT, "The transaction's name (trname)."),
    _prop("transaction_type", _TEXT, "Transaction type code (trnType)."),
    _prop("transaction_code", _TEXT, "Transaction code (trnCode)."),
    _prop("is_ebank_operation", th.BooleanType, "Made in the e-bank (isEbankOper)."),
    _prop("is_payment", th.BooleanType, "A payment (isPayment)."),
    _prop("load_as_new", th.BooleanType, "The bank's loadAsNew flag."),
    _prop("remittance_1", _TEXT, "Remittance information, line 1 (remI)."),
    _prop("remittance_2", _TEXT, "Remittance information, line 2 (remIi)."),
    _prop("remittance_3", _TEXT, "Remittance information, line 3 (remIii)."),
    _prop("remittance_information", _TEXT, "The three remittance lines joined."),
    extra_property("entry"),
    login_property(),
).to_dict()


class TransactionsStream(FibankStream):
    """The entries of `GetCustBal`, summary rows excluded, ascending by booking time and id."""

    name = "transactions"
    primary_keys = ("iban", "entry_id")
    replication_key = "booking_date"
    is_sorted = True
    parent_stream_type = AccountsStream
    schema = TRANSACTION_SCHEMA

    @property
    @override
    def check_sorted(self) -> bool:
        # Each run re-reads the lookback days, below the stored replication_key_value; the order
        # within a run is guaranteed by sorting each window (and watched in get_records).
        return False

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        assert context is not None
        customer_id, iban = str(context["customer_id"]), str(context["iban"])
        state = self.partition_state(context)
        run = self.run
        kept = run.window_cache.keep(iban)
        points = Points(state)
        try:
            for step in AccountWalker(run, customer_id, iban, state).steps():
                if kept is not None:
                    kept.append(summarize(step, iban, customer_id))
                self.extracted_at = step.statement.extracted_at
                yield from self._emit(step, iban, state)
                points.add(step.point)
                settle_bookmark(
                    state, step.statement.window, verified=step.verified, hold=step.hold, points=points
                )
                self.flush_records()  # this window's rows reach the target before the next wait
        finally:
            self.extracted_at = None
            self.flush_records()

    def _emit(self, step: Step, iban: str, state: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A window's rows, moving the bookmark to the day before each new day of a proven window."""
        window = step.statement.window
        last_day: dt.date | None = None
        for entry in step.statement.entries:
            day = entry.booking_date
            if day == last_day:  # most rows: another entry of the same day
                yield entry.record
                continue
            if last_day is not None and day < last_day:
                self.run.report.warn_once(
                    f"order:{iban}",
                    f"Account {mask_iban(iban)}: the bank put an entry of {day} in the window "
                    f"{window}, after entries of {last_day}; it is emitted out of order.",
                )
            elif step.verified and day > window.start:
                # Every entry of the days before `day` in this proven window is out.
                advance_bookmark(state, min(day - ONE_DAY, window.end))
            last_day = day if last_day is None else max(last_day, day)
            yield entry.record
