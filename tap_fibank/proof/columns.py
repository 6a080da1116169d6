"""The `transactions` columns: one table, from which every other list of them is derived.

Contract: `COLUMNS` is the only place a column of a transaction record is declared: its name and
position (the record's and the schema's order), its JSON-schema type, whether it may be null, the
bank's entry field(s) it comes from and, for a column copied from one field, how that field is
read. Derived here or by their users: the record type and `RECORD_KEYS` (tap_fibank.proof.
statement), the fields the proof maps (`mapped_fields`; the rest goes to `extra`), the stream's
JSON schema (tap_fibank.streams.transactions), the doctor's known entry fields and the floor
benchmark's field list. A column the bank sends as is takes one row with a `read`; a column the
proof computes takes a row and its code in `statement._parse_entry`.

This module imports nothing of the tap, so the floor benchmark and the emulator's tests can use it.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

#: How a copied column reads its field: `text` (trimmed, empty is null, shared between rows),
#: `clean` (trimmed, empty is null), `flag` (Y/N and the like as a boolean). None: computed.
Read = Literal["text", "clean", "flag"]


@dataclass(frozen=True)
class Column:
    """One column of a `transactions` record."""

    name: str
    #: The JSON-schema type: string, integer, number, boolean or object.
    type: str
    description: str
    #: The bank's entry fields the column is read from (none: the tap's own, or the element's).
    source: tuple[str, ...] = ()
    nullable: bool = True
    #: The JSON-schema format (`date`, `date-time`), if any.
    format: str | None = None
    #: The only values the column takes, if it is an enumeration.
    enum: tuple[str, ...] | None = None
    #: How the single `source` field is copied; None where the proof computes the value.
    read: Read | None = None


def _copy(name: str, source: str, read: Read, description: str, kind: str = "string") -> Column:
    """A nullable column copied from one field of the bank's entry."""
    return Column(name, kind, description, (source,), read=read)


COLUMNS: tuple[Column, ...] = (
    Column("iban", "string", "The account's IBAN.", nullable=False),
    Column("customer_id", "string", "The profile the account was read under.", nullable=False),
    Column(
        "entry_id",
        "integer",
        "The bank's entry serial number (acEntrySrNo).",
        ("acEntrySrNo",),
        nullable=False,
    ),
    Column(
        "booking_date",
        "string",
        "Sofia local date of the booking (from dateTime).",
        ("dateTime",),
        nullable=False,
        format="date",
    ),
    Column(
        "booked_at",
        "string",
        "Booking time with its Sofia offset (dateTime).",
        ("dateTime",),
        nullable=False,
        format="date-time",
    ),
    Column("value_date", "string", "Value date (valueDt), Sofia local.", ("valueDt",), format="date"),
    Column(
        "direction",
        "string",
        "debit or credit (dtkt).",
        ("dtkt", "amount"),
        nullable=False,
        enum=("debit", "credit"),
    ),
    Column("amount", "number", "The amount as sent, unsigned (amount).", ("amount",), nullable=False),
    Column(
        "signed_amount",
        "number",
        "The amount, credits positive and debits negative.",
        ("amount", "dtkt"),
        nullable=False,
    ),
    Column("balance_after", "number", "The account balance after this entry (acBal).", ("acBal",)),
    Column("currency", "string", "The currency the bank reported for the entry's statement."),
    _copy("reference", "reference", "clean", "The bank's reference (reference)."),
    _copy("counterparty_name", "contragent", "text", "The counterparty's name (contragent)."),
    _copy("counterparty_account", "trnAccount", "text", "The counterparty's account (trnAccount)."),
    _copy(
        "ordering_or_beneficiary_party",
        "benOrderParty",
        "text",
        "Ordering party or beneficiary (benOrderParty).",
    ),
    _copy("description", "trname", "text", "The transaction's name (trname)."),
    _copy("transaction_type", "trnType", "text", "Transaction type code (trnType)."),
    _copy("transaction_code", "trnCode", "text", "Transaction code (trnCode)."),
    _copy("is_ebank_operation", "isEbankOper", "flag", "Made in the e-bank (isEbankOper).", "boolean"),
    _copy("is_payment", "isPayment", "flag", "A payment (isPayment).", "boolean"),
    _copy("load_as_new", "loadAsNew", "flag", "The bank's loadAsNew flag.", "boolean"),
    _copy("remittance_1", "remI", "text", "Remittance information, line 1 (remI)."),
    _copy("remittance_2", "remIi", "text", "Remittance information, line 2 (remIi)."),
    _copy("remittance_3", "remIii", "clean", "Remittance information, line 3 (remIii)."),
    Column(
        "remittance_information",
        "string",
        "The three remittance lines joined.",
        ("remI", "remIi", "remIii"),
    ),
    Column("extra", "object", "Every other field the bank sends for the entry, as sent."),
)


if TYPE_CHECKING:

    class Record(tuple[Any, ...]):
        """What the type checker knows of a record type: a named tuple whose fields are the table's."""

        _fields: ClassVar[tuple[str, ...]]

        def __getattr__(self, name: str) -> Any: ...
        def _asdict(self) -> dict[str, Any]: ...
        def _replace(self, **values: Any) -> Record: ...

else:
    Record = tuple


def record_type(name: str, columns: Sequence[Column]) -> type[Record]:
    """A named tuple with a field per column, in the table's order.

    A plain named tuple: built positionally with `tuple.__new__`, it costs no more than a tuple.
    """
    return cast("type[Record]", collections.namedtuple(name, [column.name for column in columns]))


def mapped_fields(columns: Sequence[Column]) -> frozenset[str]:
    """The bank's entry fields some column is read from: every other field goes to `extra`."""
    return frozenset(field for column in columns for field in column.source)


def known_fields(columns: Sequence[Column]) -> tuple[str, ...]:
    """The bank's entry fields the columns read, each once, in the table's order."""
    return tuple(dict.fromkeys(field for column in columns for field in column.source))


def copied(columns: Sequence[Column]) -> tuple[Column, ...]:
    """The columns copied from one field as the bank sent it (one `read` each), in order."""
    return tuple(column for column in columns if column.read is not None)
