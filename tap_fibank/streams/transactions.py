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
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from singer_sdk import typing as th
from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_fibank.privacy import mask_iban
from tap_fibank.proof.columns import COLUMNS, Column
from tap_fibank.streams.accounts import AccountsStream
from tap_fibank.streams.base import FibankStream, login_property
from tap_fibank.walk.account import AccountWalker, Step, summarize
from tap_fibank.walk.bookmarks import Points, advance_bookmark, settle_bookmark
from tap_fibank.walk.windows import ONE_DAY

_TYPES: dict[str, Any] = {
    "string": th.StringType,
    "integer": th.IntegerType,
    "number": th.NumberType,
    "boolean": th.BooleanType,
}
_FORMATS: dict[str | None, Any] = {"date": th.DateType, "date-time": th.DateTimeType}


def _prop(column: Column) -> th.Property[Any]:
    """A column of the table as a schema property."""
    if column.type == "object":
        kind: Any = th.ObjectType(additional_properties=True)
    elif column.enum is not None:
        kind = th.StringType(allowed_values=list(column.enum))
    else:
        kind = _FORMATS.get(column.format) or _TYPES[column.type]
    return th.Property(column.name, kind, required=not column.nullable, description=column.description)


def transaction_schema(columns: Sequence[Column]) -> dict[str, Any]:
    """The stream's JSON schema: a property per column of the table, then the login."""
    return th.PropertiesList(*map(_prop, columns), login_property()).to_dict()


TRANSACTION_SCHEMA = transaction_schema(COLUMNS)


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
