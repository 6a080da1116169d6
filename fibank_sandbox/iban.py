"""IBAN arithmetic for the sandbox's accounts and counterparties.

The tap and its tests validate IBANs, so every IBAN the sandbox serves (its own accounts and the
counterparties in statement rows) must carry correct ISO 13616 mod-97 check digits; a sandbox that
served malformed IBANs would hide validation bugs instead of exposing them.
"""

from __future__ import annotations

import random

FIBANK_BANK_CODE = "FINV"
FIBANK_BRANCH = "9150"

# Other Bulgarian banks' BIC prefixes and a branch code each, for counterparty accounts.
# BNBG 9661 is the Bulgarian National Bank, where the revenue agency (НАП) keeps its accounts.
OTHER_BANKS: tuple[tuple[str, str], ...] = (
    ("UNCR", "7000"),
    ("STSA", "9300"),
    ("UBBS", "8002"),
    ("RZBB", "9155"),
    ("BPBI", "7940"),
    ("CECB", "9790"),
    ("BUIN", "9561"),
    ("IABG", "7491"),
)
NRA_BANK: tuple[str, str] = ("BNBG", "9661")


def _numeric(text: str) -> int:
    """Map letters to 10..35 as ISO 13616 prescribes, so the string can be reduced mod 97."""
    return int("".join(str(int(ch, 36)) for ch in text))


def check_digits(country: str, bban: str) -> str:
    """Two check digits that make ``country + kk + bban`` pass the mod-97 test."""
    remainder = _numeric(bban + country + "00") % 97
    return f"{98 - remainder:02d}"


def make_iban(country: str, bban: str) -> str:
    """Assemble an IBAN with correct check digits from a country code and a BBAN."""
    return f"{country}{check_digits(country, bban)}{bban}"


def is_valid(iban: str) -> bool:
    """Whether an IBAN passes the mod-97 test (the check banks apply before accepting one)."""
    compact = iban.replace(" ", "").upper()
    if len(compact) < 15 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    if not compact.isalnum():
        return False
    return _numeric(compact[4:] + compact[:4]) % 97 == 1


def fibank_iban(account_type: str, number: int) -> str:
    """A Fibank IBAN shaped like the real ones (``BGkk FINV 9150 tt nnnnnnnn``).

    ``account_type`` is the two-digit account-type part of the Bulgarian BBAN (``10`` for
    current accounts); ``number`` fills the last eight digits.
    """
    return make_iban("BG", f"{FIBANK_BANK_CODE}{FIBANK_BRANCH}{account_type}{number:08d}")


def random_bg_iban(rng: random.Random, bank: tuple[str, str] | None = None) -> str:
    """A valid IBAN at another Bulgarian bank, for the counterparty of a transfer."""
    code, branch = bank if bank is not None else rng.choice(OTHER_BANKS)
    return make_iban("BG", f"{code}{branch}10{rng.randrange(10**8):08d}")
