"""The account registry: which accounts and profiles this run listed, and which it reads.

Contract: filled by the customers and accounts streams as the bank lists profiles and accounts;
read by the walk for an account's listed currency, and by the tap at the end to name allow-list
entries that matched nothing. Streams run one at a time, so it needs no lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tap_fibank.privacy import mask_iban


def compact_iban(text: str) -> str:
    """An IBAN as the bank lists it: no spaces, upper case."""
    return text.replace(" ", "").upper()


@dataclass
class AccountRegistry:
    """The run's accounts: each read once, under the first profile that lists it."""

    #: IBAN -> the profile it is read under.
    claimed: dict[str, str] = field(default_factory=dict)
    #: IBAN -> the currency the account list gives it today (None if it gives none).
    currencies: dict[str, str | None] = field(default_factory=dict)
    seen_ibans: set[str] = field(default_factory=set)
    seen_customers: set[str] = field(default_factory=set)

    def claim_account(self, iban: str, customer_id: str) -> bool:
        """True the first time an IBAN is seen in this run, so it is read once."""
        return self.claimed.setdefault(iban, customer_id) == customer_id

    def unmatched(self, ibans: list[str], customer_ids: list[str]) -> list[str]:
        """Allow-list entries that matched nothing the bank listed: likely typos, never silent."""
        found = [f"ibans entry {mask_iban(i)}" for i in ibans if compact_iban(i) not in self.seen_ibans]
        found += [f"customer_ids entry {c}" for c in customer_ids if str(c) not in self.seen_customers]
        return found
