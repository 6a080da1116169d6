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
    "needed_fields",
    "walking_stream_first",
]


def needed_fields() -> dict[str, tuple[str, ...]]:
    """Each stream's fields it cannot run without: its key, then its replication key.

    A catalog whose schema drops one of them would fail in the middle of a run (the SDK checks the
    replication key only when the stream starts), so the command line is refused before that.
    """
    streams = (CustomersStream, AccountsStream, TransactionsStream, StatementsStream)
    return {
        stream.name: (*stream.primary_keys, *([stream.replication_key] if stream.replication_key else []))
        for stream in streams
    }


def walking_stream_first(children: list[Stream]) -> None:
    """Order an account's child streams so that `transactions` is synced before `statements`.

    The SDK syncs children in the order they were discovered. Transactions walks the account
    and keeps each window's totals in the run; statements then emits those instead of asking the
    bank again. Sorted here, that holds whatever order the streams are discovered or selected in
    (alone, statements walks the account itself).
    """
    children.sort(key=lambda stream: stream.name != TransactionsStream.name)
