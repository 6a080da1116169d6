"""The tap's streams, parent to child: customers -> accounts -> transactions and statements.

Contract: the four streams, and `walking_stream_first`, which the tap applies to every stream's
children at start. Every stream gets the run's shared objects from the tap through one callable
(streams/base.py), built on first use.
"""

from singer_sdk import Stream

from tap_fibank.streams.accounts import AccountsStream
from tap_fibank.streams.customers import CustomersStream
from tap_fibank.streams.statements import StatementsStream
from tap_fibank.streams.transactions import TransactionsStream

__all__ = [
    "AccountsStream",
    "CustomersStream",
    "StatementsStream",
    "TransactionsStream",
    "walking_stream_first",
]


def walking_stream_first(children: list[Stream]) -> None:
    """Order an account's child streams so that `transactions` is synced before `statements`.

    The SDK syncs children in the order they were discovered. Transactions walks the account
    and keeps each window's totals in the run; statements then emits those instead of asking the
    bank again. Sorted here, that holds whatever order the streams are discovered or selected in
    (alone, statements walks the account itself).
    """
    children.sort(key=lambda stream: stream.name != TransactionsStream.name)
