"""The tap's streams, parent to child: customers -> accounts -> transactions and statements."""

from tap_fibank.streams.accounts import AccountsStream
from tap_fibank.streams.customers import CustomersStream
from tap_fibank.streams.statements import StatementsStream
from tap_fibank.streams.transactions import TransactionsStream

__all__ = ["AccountsStream", "CustomersStream", "StatementsStream", "TransactionsStream"]
