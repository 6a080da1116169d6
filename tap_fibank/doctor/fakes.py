"""Fake values that keep what the doctor observed: formats, order, and the statement arithmetic.

A fake amount has the real one's type (number or text), decimal places and sign, and is never
equal to any real number of the capture. A statement element's fakes are built, not scaled:
fresh entry amounts, then every balance and total worked out from them with the real window's
relations, so a window that added up still does and one that did not fails the same way (DT/CT
that held counts still hold the counts; a broken `acBal` link is broken at the same entry).
Scaling would keep ratios, and one known amount would then give all the others away.

Contract: the facts the checks judge (statements.py) are the same for the fakes as for the real
values; a window whose worked-out fakes hit a real number is rebuilt (up to `_ATTEMPTS` times).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tap_fibank.doctor.collect import Observations
from tap_fibank.doctor.statements import direction, kind_of, number, ordered, signed, summary_value, totals

AMOUNT_FIELDS = frozenset(
    {"amount", "acBal", "curBal", "avlBal", "blockedAmt", "openBal", "closeBal", "dtTurnover", "ktTurnover"}
)
_ID_DIGITS = 4
_LARGE = 2000
_ATTEMPTS = 5  # a window is rebuilt while a worked-out balance happens to equal a real number


@dataclass(frozen=True)
class Keep:
    """A value already faked: the generic redaction passes it through."""

    value: Any


def _walk(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    else:
        yield value


def _key(value: Decimal) -> str:
    return str(abs(value).normalize())


class Faker:
    """Fakes for one capture: consistent (same real, same fake) and never equal to a real value."""

    def __init__(self, seen: Observations) -> None:
        self._rng = random.SystemRandom()
        self._real: set[str] = set()
        ids: set[int] = set()
        for exchange in seen.exchanges:
            for value in _walk(exchange.body):
                if isinstance(value, bool):
                    continue
                if isinstance(value, int):
                    ids.add(abs(value))
                read = number(value) if isinstance(value, (int, Decimal, str)) else None
                if read is not None and read != 0:
                    self._real.add(_key(read))
        for account in seen.accounts:
            for text in (account.customer_id, account.iban):
                self._real.add(text)
        self._ids = self._rank_ids(sorted(i for i in ids if i >= 10 ** (_ID_DIGITS - 1)))
        self._ibans: dict[str, str] = {}
        self._digits: dict[str, str] = {}

    def _rank_ids(self, real: list[int]) -> dict[int, int]:
        """Ids keep their order and equality, nothing else."""
        taken = set(real)
        for base in (900_000_001, 800_000_001, 700_000_001, 600_000_001):
            fakes = {value: base + 7 * rank for rank, value in enumerate(real)}
            if not taken & set(fakes.values()):
                return fakes
        return {value: 10**12 + 7 * rank for rank, value in enumerate(real)}

    def identifier(self, value: int) -> int:
        """Small integers (counts, statuses) are kept; ids get their order-keeping fake."""
        if abs(value) < 10 ** (_ID_DIGITS - 1):
            return value
        return self._ids.get(abs(value), 10**12 + abs(value) % 997)

    def is_real(self, value: Decimal) -> bool:
        """Whether a number equals (up to trailing zeros and sign) a real one of the capture."""
        return value != 0 and _key(value) in self._real

    def fresh(self, like: Decimal) -> Decimal:
        """A new amount with `like`'s decimal places, sign and power of ten; zero stays zero.

        The power of ten is kept so fakes look like a household's or a firm's money; it cannot
        give an amount away, and the amount itself is never kept.
        """
        if like == 0:
            return like
        exponent = like.as_tuple().exponent
        places = max(0, -exponent) if isinstance(exponent, int) else 2
        top = abs(like).adjusted() + places  # digits of the largest unit, in units of the last place
        low, high = 10 ** max(top, 0), 10 ** max(top + 1, 1)
        for attempt in range(10_000):
            if attempt and attempt % 1000 == 0:
                high *= 10  # a crowded power of ten: widen it rather than loop
            value = Decimal(self._rng.randrange(low, high)).scaleb(-places)
            value = -value if like < 0 else value
            if not self.is_real(value):
                return value
        msg = "no fake amount is free"
        raise RuntimeError(msg)

    def amount(self, value: Decimal) -> Decimal:
        """A number outside any statement arithmetic (an account balance, a new field)."""
        return self.fresh(value)

    def amount_text(self, text: str) -> str:
        """A number written as text: faked with the same separator, places and sign."""
        comma = "," in text
        value = Decimal(text.replace(",", "."))
        fake = str(self.fresh(value))
        return fake.replace(".", ",") if comma else fake

    def digits(self, text: str) -> str:
        """A run of digits (an id as text): a fake of the same length, the same for the same.

        Fewer than four digits are a code or a count, kept like small integers.
        """
        if len(text) < _ID_DIGITS:
            return text
        if text not in self._digits:
            fake = text
            for _ in range(1000):
                fake = "9" + "".join(str(self._rng.randrange(10)) for _ in range(len(text) - 1))
                if fake not in self._real and fake != text and fake not in self._digits.values():
                    break
            self._digits[text] = fake
        return self._digits[text]

    def iban(self, real: str) -> str:
        """A valid fake IBAN of the same country and length, the same for the same IBAN."""
        real = real.replace(" ", "").upper()
        if real not in self._ibans:
            country, bban_length = real[:2], len(real) - 4
            prefix = real[4:8] if real[4:8].isalpha() else ""
            number = str(len(self._ibans) + 1).rjust(bban_length - len(prefix), "0")
            bban = prefix + "99" + number[2:]
            self._ibans[real] = make_iban(country, bban)
        return self._ibans[real]


def make_iban(country: str, bban: str) -> str:
    """An IBAN with correct check digits (ISO 13616, mod 97)."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def fake_statement(body: Any, faker: Faker) -> Any:
    """A `GetCustBal` answer with its amounts and balances replaced, arithmetic kept."""
    if not isinstance(body, dict) or not isinstance(body.get("acc"), list):
        return body
    return {**body, "acc": [_element(e, faker) if isinstance(e, dict) else e for e in body["acc"]]}


def _element(element: dict[str, Any], faker: Faker) -> dict[str, Any]:
    rows = element.get("stmt")
    if not isinstance(rows, list):
        return element
    order = ordered([r for r in rows if isinstance(r, dict) and kind_of(r) is None])
    # A bank that sends its whole history in every window: one build, or the capture takes minutes.
    for _ in range(_ATTEMPTS if len(rows) <= _LARGE else 1):
        fakes = _Window(rows, order, faker)
        if fakes.clean:
            break
    return {**element, "stmt": fakes.rows}


def _like(original: Any, value: Decimal) -> Keep:
    """`value` written the way `original` was: number, integer or text (with its separator)."""
    if isinstance(original, str):
        text = str(value)
        return Keep(text.replace(".", ",") if "," in original else text)
    if isinstance(original, int) and not isinstance(original, bool):
        return Keep(int(value))
    return Keep(value)


class _Window:
    """One element's fakes: entries first, then balances and totals from them."""

    def __init__(self, rows: list[Any], order: list[dict[str, Any]], faker: Faker) -> None:
        self.faker = faker
        self.made: list[Decimal] = []
        self.fake: dict[int, dict[str, Any]] = {}
        entries = [r for r in rows if isinstance(r, dict) and kind_of(r) is None]
        summaries = {kind_of(r): r for r in rows if kind_of(r) is not None}
        op = summaries.get("OP")
        opening = summary_value(op, "OP")
        self.changes = _changes(order, opening)
        self.real_sums = totals(entries, lambda r: self.changes.get(id(r)))
        self.opening = (opening, faker.fresh(opening) if opening is not None else None)
        self.deltas: dict[int, Decimal | None] = {}
        self.last = self._entries(order)
        self.fake_sums = totals(entries, lambda r: self.deltas.get(id(r)))
        self.summary_fakes: dict[str, Decimal | None] = {}
        for kind in ("OP", "DT", "CT", "CL"):
            if kind in summaries:
                self._summary(kind, summaries[kind], summaries)
        self.rows = [self.fake.get(id(r), r) if isinstance(r, dict) else r for r in rows]
        self.clean = not any(faker.is_real(value) for value in self.made)

    def _new(self, original: Any, value: Decimal) -> Keep:
        self.made.append(value)
        return _like(original, value)

    def _entries(self, entries: list[dict[str, Any]]) -> tuple[Decimal | None, Decimal | None]:
        real_run, fake_run = self.opening
        for row in entries:
            copy = dict(row)
            amount, change = number(row.get("amount")), self.changes.get(id(row))
            fake_amount = self.faker.fresh(amount) if amount is not None else None
            fake_change = None
            if fake_amount is not None and change is not None:
                fake_change = abs(fake_amount) if change >= 0 else -abs(fake_amount)
            self.deltas[id(row)] = fake_change
            if fake_amount is not None:
                copy["amount"] = self._new(row.get("amount"), fake_amount)
            balance = number(row.get("acBal"))
            real_run = real_run + change if real_run is not None and change is not None else None
            fake_run = fake_run + fake_change if fake_run is not None and fake_change is not None else None
            if balance is not None:
                if balance == real_run and fake_run is not None:
                    fake_balance = fake_run
                else:
                    fake_balance = self.faker.fresh(balance)
                    real_run, fake_run = balance, fake_balance
                copy["acBal"] = self._new(row.get("acBal"), fake_balance)
            self.fake[id(row)] = copy
        return real_run, fake_run

    def _summary(self, kind: str, row: dict[str, Any], summaries: dict[Any, dict[str, Any]]) -> None:
        copy = dict(row)
        for name in ("acBal", "amount"):
            value = number(row.get(name))
            if value is None:
                continue
            copy[name] = self._number(kind, value, row.get(name), summaries)
        self.fake[id(row)] = copy

    def _number(self, kind: str, value: Decimal, original: Any, summaries: dict[Any, Any]) -> Keep:
        real_debit, real_credit, debits, credits = self.real_sums
        fake_debit, fake_credit, _, _ = self.fake_sums
        pairs: list[tuple[Decimal | None, Decimal | None]] = [self.opening]
        if kind == "DT":
            pairs = [(real_debit, fake_debit), (Decimal(debits), Decimal(debits))]
        elif kind == "CT":
            pairs = [(real_credit, fake_credit), (Decimal(credits), Decimal(credits))]
        elif kind == "CL":
            pairs = [self._closing(summaries), self.last, self.opening]
        for real, fake in pairs:
            if real is not None and fake is not None and value == real:
                if kind in ("DT", "CT"):
                    self.summary_fakes[kind] = fake
                return Keep(_like(original, fake).value) if fake == real else self._new(original, fake)
        fake = self.faker.fresh(value)
        if kind in ("DT", "CT"):
            self.summary_fakes[kind] = fake
        return self._new(original, fake)

    def _closing(self, summaries: dict[Any, Any]) -> tuple[Decimal | None, Decimal | None]:

        real = [summary_value(summaries.get(k), k) for k in ("OP", "CT", "DT")]
        fake = [self.opening[1], self.summary_fakes.get("CT"), self.summary_fakes.get("DT")]
        if any(v is None for v in real) or any(v is None for v in fake):
            return None, None
        return real[0] + real[1] - real[2], fake[0] + fake[1] - fake[2]  # type: ignore[operator]


def _changes(entries: list[dict[str, Any]], opening: Decimal | None) -> dict[int, Decimal | None]:
    """Each entry's change to the balance: by `dtkt`, else by the change in `acBal`.

    So where the bank's spelling is unknown, the fakes keep the bank's directions, not a guess.
    """
    found: dict[int, Decimal | None] = {}
    previous = opening
    for row in entries:
        change, balance = signed(row), number(row.get("acBal"))
        guessed = change is not None and change > 0 and direction(row) is None
        if guessed and change is not None and balance is not None and previous is not None:
            change = -change if balance - previous == -change else change
        found[id(row)] = change
        previous = balance if balance is not None else None
    return found
