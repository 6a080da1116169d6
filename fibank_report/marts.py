"""The report's only view of the warehouse: a few queries over the dbt marts, as typed rows.

Every column name the report depends on is in this module, so a change to a mart is one edit here.
The SQL is the common ground of DuckDB and PostgreSQL; amounts come back as `Decimal` (both
warehouses hold the marts' money as decimal(18, 2)) and leave as whole cents, so the page sums
integers, never floats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Rows = list[tuple[Any, ...]]
#: Runs one SELECT and returns its rows: the only thing the queries need from a warehouse.
Query = Callable[[str], Rows]


def cents(value: Any) -> int | None:
    """A money value as whole cents; refuses a value that is not a whole number of cents."""
    if value is None:
        return None
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        msg = f"{amount} is not a whole number of cents"
        raise ValueError(msg)
    return int(scaled)


def as_date(value: Any) -> dt.date:
    """A warehouse DATE (or a timestamp at midnight) as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Account:
    """One row of `dim_accounts`."""

    iban: str
    customer_id: str
    owner: str
    currency: str
    first_booking: dt.date | None
    last_booking: dt.date | None
    entries: int
    latest_balance: int | None


@dataclass(frozen=True)
class Month:
    """Debit, credit and net of one month in EUR, for all accounts (iban None) or one."""

    iban: str | None
    month: dt.date
    debit: int
    credit: int
    net: int
    entries: int
    not_in_eur: int


@dataclass(frozen=True)
class Charges:
    """The bank's fees and commissions of one month, in EUR."""

    month: dt.date
    fees: int
    commissions: int
    total: int


@dataclass(frozen=True)
class Spending:
    """What went out in one month to one counterparty in one category, in EUR."""

    month: dt.date
    category: str
    counterparty: str
    amount: int
    entries: int


@dataclass(frozen=True)
class Balance:
    """An account's end-of-day balance, in its currency that day and in EUR."""

    iban: str
    day: dt.date
    currency: str
    balance: int
    balance_eur: int | None


@dataclass(frozen=True)
class Proof:
    """What the statement windows prove about one account's history."""

    iban: str
    proven: int
    unverifiable: int
    failing: int
    covered_from: dt.date | None
    covered_to: dt.date | None


@dataclass(frozen=True)
class Entry:
    """One booked entry for the transactions table."""

    day: dt.date
    iban: str
    direction: str
    amount: int
    currency: str
    amount_eur: int | None
    category: str
    counterparty: str
    description: str


class Marts:
    """The queries, bound to one warehouse and the schema dbt built the marts in."""

    def __init__(self, query: Query, schema: str) -> None:
        if not schema.replace("_", "").isalnum():
            msg = f"{schema!r} is not a schema name"
            raise ValueError(msg)
        self._query = query
        self.schema = schema

    def _rows(self, sql: str, **values: str) -> Rows:
        """Run `sql` with {s} the marts' schema (checked to be a plain name) and our own `values`."""
        return self._query(sql.format(s=self.schema, **values))

    def accounts(self) -> list[Account]:
        """Every account, the ones without entries too."""
        rows = self._rows(
            "select iban, customer_id, customer_name, currency, first_booking_date, last_booking_date, "
            "entry_count, coalesce(latest_entry_balance, latest_window_balance)"
            " from {s}.dim_accounts order by customer_id, iban"
        )
        return [
            Account(
                str(r[0]),
                str(r[1]),
                str(r[2] or ""),
                str(r[3]),
                None if r[4] is None else as_date(r[4]),
                None if r[5] is None else as_date(r[5]),
                int(r[6]),
                cents(r[7]),
            )
            for r in rows
        ]

    def months(self) -> list[Month]:
        """All accounts per month, in EUR (`mart_monthly_debit_credit_eur`)."""
        rows = self._rows(
            "select booking_month, debit_eur, credit_eur, net_eur, debit_count + credit_count, "
            "entries_not_in_eur from {s}.mart_monthly_debit_credit_eur where profile = 'all'"
            " order by booking_month"
        )
        return [_month(None, r) for r in rows]

    def months_by_account(self) -> list[Month]:
        """Each account per month, in EUR (entries with no EUR amount are counted, not summed)."""
        rows = self._rows(
            "select iban, booking_month,"
            " sum(case when direction = 'debit' then amount_eur else 0 end),"
            " sum(case when direction = 'credit' then amount_eur else 0 end),"
            " sum(coalesce(signed_amount_eur, 0)),"
            " sum(case when amount_eur is null then 0 else 1 end),"
            " sum(case when amount_eur is null then 1 else 0 end)"
            " from {s}.fct_transactions group by iban, booking_month order by iban, booking_month"
        )
        return [_month(str(r[0]), r[1:]) for r in rows]

    def charges(self) -> list[Charges]:
        """Fees and commissions per month in EUR; the total is `mart_fees_monthly`'s."""
        rows = self._rows(
            "select booking_month,"
            " sum(case when category = 'fee' then -signed_amount_eur else 0 end),"
            " sum(case when category = 'commission' then -signed_amount_eur else 0 end),"
            " sum(-signed_amount_eur)"
            " from {s}.fct_transactions where is_bank_charge and signed_amount_eur is not null"
            " group by booking_month order by booking_month"
        )
        return [Charges(as_date(r[0]), _c(r[1]), _c(r[2]), _c(r[3])) for r in rows]

    def spending(self) -> list[Spending]:
        """Debits in EUR by month, category and counterparty, own-account transfers left out."""
        rows = self._rows(
            "select booking_month, category, counterparty, sum(amount_eur), count(*)"
            " from {s}.fct_transactions"
            " where direction = 'debit' and amount_eur is not null and not is_own_account_transfer"
            " group by booking_month, category, counterparty order by booking_month"
        )
        return [Spending(as_date(r[0]), str(r[1]), str(r[2]), _c(r[3]), int(r[4])) for r in rows]

    def balances(self) -> list[Balance]:
        """Every account's end-of-day balance, every day (`mart_daily_balances`)."""
        rows = self._rows(
            "select iban, balance_date, currency, end_of_day_balance, end_of_day_balance_eur"
            " from {s}.mart_daily_balances order by iban, balance_date"
        )
        return [Balance(str(r[0]), as_date(r[1]), str(r[2]), _c(r[3]), cents(r[4])) for r in rows]

    def proofs(self) -> list[Proof]:
        """Per account, the windows still the bank's latest word: proven, unverifiable, failing."""
        rows = self._rows(
            "select iban,"
            " sum(case when has_summary and is_balanced then 1 else 0 end),"
            " sum(case when has_summary then 0 else 1 end),"
            " sum(case when has_summary and not is_balanced then 1 else 0 end),"
            " min(date_from), max(effective_to)"
            " from (select *, opening_balance is not null and closing_balance is not null as has_summary"
            " from {s}.fct_statement_windows where effective_to is not null) as w"
            " group by iban order by iban"
        )
        return [Proof(str(r[0]), int(r[1]), int(r[2]), int(r[3]), _d(r[4]), _d(r[5])) for r in rows]

    def entries_since(self, first_day: dt.date) -> list[Entry]:
        """Every entry booked on or after `first_day`, newest first."""
        rows = self._rows(
            "select booking_date, iban, direction, amount, currency, amount_eur, category, counterparty,"
            " coalesce(description, '') from {s}.fct_transactions"
            " where booking_date >= date '{since}' order by booked_at_utc desc, entry_id desc",
            since=first_day.isoformat(),
        )
        return [
            Entry(as_date(r[0]), str(r[1]), str(r[2]), _c(r[3]), str(r[4]), cents(r[5]), *map(str, r[6:9]))
            for r in rows
        ]


def _c(value: Any) -> int:
    amount = cents(value)
    return 0 if amount is None else amount


def _d(value: Any) -> dt.date | None:
    return None if value is None else as_date(value)


def _month(iban: str | None, r: Sequence[Any]) -> Month:
    return Month(iban, as_date(r[0]), _c(r[1]), _c(r[2]), _c(r[3]), int(r[4]), int(r[5]))
