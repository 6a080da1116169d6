"""Deterministic bank data: who the customers are, which accounts they hold, every booked entry.

Each (seed, account, day) gets its own random generator, so an account's history does not depend
on ``today`` (a sandbox started tomorrow serves the same past) and one seed always yields the same
bytes. Entry ids are handed out day by day across all accounts in booking order, which keeps them
stable too. Generation is cached per (seed, today, scale) because tests start many sandboxes.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from .iban import NRA_BANK, fibank_iban, random_bg_iban
from .model import EURO_DAY, SOFIA, AccountInfo, CustomerProfile, Entry, bgn_to_eur

FIRST_ENTRY_ID = 100_000_001
LARGE_DATA_SET = 200_000  # entries; see _generate_cached
# Login k > 1 of a multi-login sandbox: profile ids and account numbers shifted by (k - 1) steps,
# entry ids from its own range.
USER_ID_STEP = 1_000
USER_ENTRY_ID_STEP = 10_000_000
# The many-small-accounts knob: account k's index and number are shifted by k steps.
MANY_ACCOUNTS_INDEX = 100
MANY_ACCOUNTS_STEP = 10_000
PERSON_ID = "5896443"
BUSINESS_ID = "7310528"
QUIET_GAP = (date(2023, 3, 1), date(2023, 8, 31))
# Where the sandbox books entries on the edges of the clock: right after the spring gap, and in
# both passes of the repeated autumn hour (fold 0 is +0300, fold 1 is +0200).
DST_SPECIALS: tuple[tuple[datetime, str, int], ...] = (
    (datetime(2025, 3, 30, 4, 10, 0, tzinfo=SOFIA), "OMV BULGARIA", 6150),
    (datetime(2025, 10, 26, 3, 15, 0, tzinfo=SOFIA), "EMAG.BG", 2999),
    (datetime(2025, 10, 26, 3, 40, 0, fold=1, tzinfo=SOFIA), "EMAG.BG", 1450),
)

# Amounts are drawn in euro and expressed in the account's currency, so a BGN account's card
# payments look like BGN prices (about twice the number) and not like euro prices in leva.
FX_FROM_EUR = {"EUR": 1.0, "BGN": 1.95583, "USD": 1.09}

CUSTOMERS: tuple[CustomerProfile, ...] = (
    CustomerProfile(PERSON_ID, "person", "Иван Петров Георгиев", "Ivan Petrov Georgiev", "85******21"),
    CustomerProfile(BUSINESS_ID, "business", "Георгиев Софтуер ЕООД", "Georgiev Software EOOD", "204587312"),
)

MERCHANTS: tuple[tuple[str, str, float, float], ...] = (
    ("ЛИДЛ БЪЛГАРИЯ", "СОФИЯ", 8, 95),
    ("КАУФЛАНД БЪЛГАРИЯ", "СОФИЯ", 10, 120),
    ("БИЛЛА БЪЛГАРИЯ", "СОФИЯ", 4, 60),
    ("ФАНТАСТИКО", "СОФИЯ", 3, 45),
    ("OMV BULGARIA", "СОФИЯ", 30, 90),
    ("SHELL BULGARIA", "ПЛОВДИВ", 30, 90),
    ("EMAG.BG", "СОФИЯ", 10, 250),
    ("ТЕХНОПОЛИС", "СОФИЯ", 15, 300),
    ("DM БЪЛГАРИЯ", "СОФИЯ", 5, 50),
    ("АПТЕКИ СОФАРМА", "СОФИЯ", 4, 70),
    ("GLOVO BG", "СОФИЯ", 8, 40),
    ("ДЖЕЙ ЕНД БИ КАФЕ", "ВАРНА", 2, 12),
    ("BOLT.EU", "TALLINN", 3, 25),
    ("HAPPY BAR AND GRILL", "БУРГАС", 15, 80),
)
# Shared texts, so a million entries do not each carry their own copy of the same words.
MERCHANT_TEXT = {name: f"{name} {city}" for name, city, _, _ in MERCHANTS}
ATM_PLACES = tuple(
    f"АТМ {place}" for place in ("ФИБАНК СОФИЯ ЦЕНТЪР", "ФИБАНК МЛАДОСТ", "ФИБАНК ПЛОВДИВ", "EURONET VARNA")
)
PEOPLE = (
    "Мария Иванова Петрова",
    "Георги Димитров Стоянов",
    "Елена Николова Тодорова",
    "Петър Василев Костов",
    "Десислава Ангелова Маринова",
    "Николай Христов Илиев",
)
UTILITIES = (
    ("ЕЛЕКТРОХОЛД ПРОДАЖБИ ЕАД", "Сметка за ел. енергия", 30, 120),
    ("СОФИЙСКА ВОДА АД", "Сметка за вода", 10, 40),
    ("ТОПЛОФИКАЦИЯ СОФИЯ ЕАД", "Сметка за парно", 20, 160),
    ("А1 БЪЛГАРИЯ ЕАД", "Мобилни услуги", 15, 45),
    ("ВИВАКОМ БЪЛГАРИЯ ЕАД", "Интернет и телевизия", 15, 35),
)
CLIENTS = (
    "Интелиджънт Системс ООД",
    "Балкан Логистик ЕАД",
    "Дигитал Медия ООД",
    "Родопа Трейд ЕООД",
    "Техноимпекс АД",
    "Сиймлес Солюшънс ООД",
)
SUPPLIERS = (
    ("Офис Експрес ЕООД", "Канцеларски материали", 40, 400),
    ("Клауд Хостинг ООД", "Хостинг и сървъри", 60, 900),
    ("Счетоводна кантора Балчев ЕООД", "Счетоводно обслужване", 150, 350),
    ("Бизнес Парк София ЕАД", "Наем офис", 600, 1500),
    ("Лизинг Плюс ЕАД", "Лизингова вноска", 300, 700),
)
EMPLOYEES = ("Стефан Колев Тонев", "Ралица Петкова Денева", "Борис Ивов Маринов")
FOREIGN_PAYERS = ("PAYONEER INC", "UPWORK GLOBAL INC", "DEEL INC", "STRIPE PAYMENTS EUROPE LTD")

# An operation before it is booked: the generator decides what happens during a day, the
# booking step orders the day, applies the balance and hands out ids.
# (seconds after local midnight, is_credit, cents, trname, trn_type, trn_code, contragent,
#  ben_order_party, trn_account, is_ebank_oper, is_payment, rem_i, rem_ii, rem_iii,
#  value_days_back, reference_prefix)
Op = tuple[
    int,
    bool,
    int,
    str,
    str,
    str,
    "str | None",
    "str | None",
    str,
    str,
    str,
    "str | None",
    "str | None",
    "str | None",
    int,
    str,
]


@dataclass
class Directory:
    """Counterparty IBANs, fixed per seed so the same employer pays the salary every month."""

    employer: str
    landlord: str
    people: dict[str, str]
    utilities: dict[str, str]
    clients: dict[str, str]
    suppliers: dict[str, str]
    employees: dict[str, str]
    nra: str

    @classmethod
    def build(cls, seed: int) -> Directory:
        """Draw every counterparty's account once, from the seed."""
        rng = random.Random(seed * 7919 + 17)  # noqa: S311 - reproducible, not secret
        return cls(
            employer=random_bg_iban(rng),
            landlord=random_bg_iban(rng),
            people={name: random_bg_iban(rng) for name in PEOPLE},
            utilities={u[0]: random_bg_iban(rng) for u in UTILITIES},
            clients={name: random_bg_iban(rng) for name in CLIENTS},
            suppliers={s[0]: random_bg_iban(rng) for s in SUPPLIERS},
            employees={name: random_bg_iban(rng) for name in EMPLOYEES},
            nra=random_bg_iban(rng, NRA_BANK),
        )


@dataclass
class Day:
    """What a profile needs to know about the day it is filling."""

    day: date
    length: int  # seconds in this local day: 82800, 86400 or 90000
    currency: str
    scale: float
    directory: Directory
    card: str  # the remittance line naming the card, "Карта 5169 **** **** 4821"
    is_open_day: bool
    tag: str = field(default="")

    @property
    def workday(self) -> bool:
        """Transfers are only booked Monday to Friday."""
        return self.day.weekday() < 5

    @property
    def last_of_month(self) -> bool:
        """Month-end bookings (interest) happen on this day."""
        return (self.day + timedelta(days=1)).day == 1


T = TypeVar("T")


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """``rng.choice`` without its overhead: generation draws hundreds of thousands of these."""
    return options[int(rng.random() * len(options))]


def between(rng: random.Random, low: int, high: int) -> int:
    """``rng.randrange(low, high)`` at a fraction of the cost (bias is irrelevant here)."""
    return low + int(rng.random() * (high - low))


def poisson(rng: random.Random, lam: float) -> int:
    """How many times a random daily activity happens; normal approximation for large scales."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def cents(rng: random.Random, low: float, high: float, currency: str) -> int:
    """A log-uniform euro amount in [low, high) expressed in cents of ``currency``."""
    value = low * (high / low) ** rng.random() * FX_FROM_EUR[currency]
    return max(1, int(value * 100))


def round_cents(eur: float, currency: str) -> int:
    """A fixed euro price (a fee) in cents of the account's currency."""
    return max(1, round(eur * FX_FROM_EUR[currency] * 100))


def daytime(rng: random.Random, d: Day) -> int:
    """Seconds after local midnight for an ordinary operation: mostly shop and office hours."""
    return min(d.length - 120, between(rng, 7 * 3600, 21 * 3600) + between(rng, 0, 3600))


def office_time(rng: random.Random) -> int:
    """Seconds after local midnight for a transfer processed in banking hours."""
    return between(rng, 9 * 3600, 17 * 3600)


def split_remittance(text: str) -> tuple[str | None, str | None, str | None]:
    """Spread remittance text over the three 35-character lines the payment system allows."""
    parts = [text[i : i + 35] for i in range(0, min(len(text), 105), 35)]
    parts += [""] * (3 - len(parts))
    return (parts[0] or None, parts[1] or None, parts[2] or None)


def card_payment(rng: random.Random, d: Day) -> Op:
    """A card payment at a Bulgarian merchant, settled with a value date up to two days back."""
    name, _city, low, high = pick(rng, MERCHANTS)
    value = cents(rng, low, high, d.currency)
    secs = daytime(rng, d)
    back = 0 if d.is_open_day else pick(rng, (0, 0, 1, 1, 2))
    return (
        secs,
        False,
        value,
        "Плащане с карта ПОС",
        "POS",
        "2104",
        name,
        None,
        "",
        "N",
        "N",
        MERCHANT_TEXT[name],
        d.card,
        f"Авт. код {between(rng, 0, 10**6):06d}",
        back,
        "CP",
    )


def atm(rng: random.Random, d: Day) -> Op:
    """A cash withdrawal, in round amounts of the account's own currency."""
    value = pick(rng, (20, 40, 50, 100, 100, 200, 300)) * 100
    if d.currency == "EUR":
        value //= 2
    place = pick(rng, ATM_PLACES)
    return (
        daytime(rng, d),
        False,
        value,
        "Теглене на АТМ",
        "ATM",
        "2101",
        None,
        None,
        "",
        "N",
        "N",
        place,
        d.card,
        None,
        0,
        "AT",
    )


def commission(rng: random.Random, d: Day, secs: int, business: bool) -> Op:
    """The bank's commission for an outgoing transfer, booked a second after the transfer."""
    fee = round_cents(pick(rng, (0.5, 0.8, 1.2)) if not business else pick(rng, (1.5, 2.0)), d.currency)
    return (
        secs + 1,
        False,
        fee,
        "Комисионна за превод",
        "COM",
        "8101",
        None,
        None,
        "",
        "N",
        "N",
        "Комисионна за нареден превод",
        None,
        None,
        0,
        "FE",
    )


def transfer_out(
    rng: random.Random,
    d: Day,
    name: str,
    iban: str,
    text: str,
    low: float,
    high: float,
    secs: int | None = None,
    business: bool = False,
    trn_type: str = "TRO",
) -> list[Op]:
    """An outgoing transfer ordered in the e-bank, plus the commission it costs."""
    when = secs if secs is not None else office_time(rng)
    r1, r2, r3 = split_remittance(text)
    return [
        (
            when,
            False,
            cents(rng, low, high, d.currency),
            "Нареден кредитен превод",
            trn_type,
            "1102" if trn_type == "TRO" else "1105",
            name,
            name,
            iban,
            "Y",
            "Y",
            r1,
            r2,
            r3,
            0,
            "FT",
        ),
        commission(rng, d, when, business),
    ]


def transfer_in(
    rng: random.Random,
    d: Day,
    name: str,
    iban: str,
    text: str,
    low: float,
    high: float,
    secs: int | None = None,
    trname: str = "Получен кредитен превод",
    trn_type: str = "TRI",
) -> Op:
    """An incoming credit transfer from another bank's customer."""
    r1, r2, r3 = split_remittance(text)
    return (
        (secs if secs is not None else office_time(rng)),
        True,
        cents(rng, low, high, d.currency),
        trname,
        trn_type,
        "1201",
        name,
        name,
        iban,
        "N",
        "Y",
        r1,
        r2,
        r3,
        0,
        "FT",
    )


def monthly_fee(rng: random.Random, d: Day, eur: float, text: str) -> Op:
    """The account fee, taken by the nightly run in the first minute of the month."""
    return (
        between(rng, 1, 60),
        False,
        round_cents(eur, d.currency),
        "Такса обслужване на сметка",
        "FEE",
        "8001",
        None,
        None,
        "",
        "N",
        "N",
        text,
        None,
        None,
        0,
        "FE",
    )


def interest(rng: random.Random, d: Day, low: float, high: float) -> Op:
    """Credit interest, booked in the last minute of the day."""
    return (
        d.length - 60 + between(rng, 0, 60),
        True,
        cents(rng, low, high, d.currency),
        "Олихвяване на сметка",
        "INT",
        "8201",
        None,
        None,
        "",
        "N",
        "N",
        "Начислена лихва по сметка",
        None,
        None,
        0,
        "IN",
    )


def opening_deposit(rng: random.Random, d: Day, eur: float, text: str) -> Op:
    """The cash paid in when the account was opened, so it does not start by going negative."""
    return (
        10 * 3600 + between(rng, 0, 3600),
        True,
        round_cents(eur, d.currency),
        "Внасяне на каса",
        "CSH",
        "1001",
        None,
        None,
        "",
        "N",
        "N",
        text,
        None,
        None,
        0,
        "CS",
    )


def person_current(rng: random.Random, d: Day) -> list[Op]:
    """A busy personal account: salary, card payments, ATM, bills, friends, fees, interest."""
    ops: list[Op] = []
    if d.is_open_day:
        ops.append(opening_deposit(rng, d, 1500, "Първоначална вноска"))
    s = d.scale
    ops.extend(card_payment(rng, d) for _ in range(poisson(rng, 1.5 * s)))
    ops.extend(atm(rng, d) for _ in range(poisson(rng, 0.12 * s)))
    if d.day.day == 1 and not d.is_open_day:
        ops.append(monthly_fee(rng, d, 2.0, "Месечна такса за обслужване"))
    if d.last_of_month:
        ops.append(interest(rng, d, 0.01, 0.9))
    if not d.workday:
        return ops
    if d.day.day in (24, 25, 26) and (d.day.day == 25 or rng.random() < 0.15):
        ops.append(
            transfer_in(
                rng,
                d,
                "Софтуер Солюшънс АД",
                d.directory.employer,
                f"ЗАПЛАТА ЗА {d.day:%m.%Y}",
                2600 * s,
                3400 * s,
                trname="Получена заплата",
                trn_type="SAL",
            )
        )
    for _ in range(poisson(rng, 0.15 * s)):
        name, text, low, high = pick(rng, UTILITIES)
        ops.extend(
            transfer_out(
                rng,
                d,
                name,
                d.directory.utilities[name],
                f"{text} ЗА {d.day:%m.%Y} КЛИЕНТСКИ НОМЕР {between(rng, 0, 10**9):09d}",
                low,
                high,
            )
        )
    for _ in range(poisson(rng, 0.08 * s)):
        name = pick(rng, PEOPLE)
        ops.append(
            transfer_in(
                rng,
                d,
                name,
                d.directory.people[name],
                pick(rng, ("Връщане на заем", "За вечерята", "Подарък", "Дял за наем вилата")),
                20,
                400,
            )
        )
    if d.day.day == 5:
        ops.extend(
            transfer_out(
                rng,
                d,
                "Мария Иванова Петрова",
                d.directory.landlord,
                f"НАЕМ АПАРТАМЕНТ ЗА МЕСЕЦ {d.day:%m.%Y}",
                450 * s,
                451 * s,
            )
        )
    return ops


def person_savings(rng: random.Random, d: Day) -> list[Op]:
    """The formerly-BGN personal account: fewer bills, many card payments, transfers in."""
    ops: list[Op] = []
    if d.is_open_day:
        ops.append(opening_deposit(rng, d, 1000, "Първоначална вноска"))
    s = d.scale
    ops.extend(card_payment(rng, d) for _ in range(poisson(rng, 1.6 * s)))
    ops.extend(atm(rng, d) for _ in range(poisson(rng, 0.1 * s)))
    if d.day.day == 1 and not d.is_open_day:
        ops.append(monthly_fee(rng, d, 1.5, "Месечна такса за обслужване"))
    if d.workday and d.day.day in (3, 4, 5) and (d.day.day == 4 or rng.random() < 0.2):
        ops.append(
            transfer_in(
                rng,
                d,
                "Петър Василев Костов",
                d.directory.people[PEOPLE[3]],
                f"НАЕМ ЗА {d.day:%m.%Y}",
                1080 * s,
                1100 * s,
            )
        )
    if d.workday:
        for _ in range(poisson(rng, 0.22 * s)):
            name = pick(rng, PEOPLE)
            ops.append(
                transfer_in(
                    rng,
                    d,
                    name,
                    d.directory.people[name],
                    pick(rng, ("Наем", "Връщане на заем", "Сметки", "Хонорар по договор")),
                    60,
                    700,
                )
            )
        for _ in range(poisson(rng, 0.06 * s)):
            name = pick(rng, PEOPLE)
            ops.extend(
                transfer_out(
                    rng,
                    d,
                    name,
                    d.directory.people[name],
                    pick(rng, ("Подарък", "Дълг", "Екскурзия")),
                    20,
                    300,
                )
            )
    return ops


def person_usd(rng: random.Random, d: Day) -> list[Op]:
    """A quiet USD account: freelance income from abroad, transfers out, fees; a long lull."""
    if QUIET_GAP[0] <= d.day <= QUIET_GAP[1]:
        return []
    ops: list[Op] = []
    if d.is_open_day:
        ops.append(opening_deposit(rng, d, 1000, "Първоначална вноска"))
    if d.day.day == 1 and not d.is_open_day:
        ops.append(monthly_fee(rng, d, 1.0, "Месечна такса валутна сметка"))
    if d.workday:
        for _ in range(poisson(rng, 0.03 * d.scale)):
            payer = pick(rng, FOREIGN_PAYERS)
            ops.append(
                transfer_in(
                    rng,
                    d,
                    payer,
                    "",
                    f"PAYMENT {between(rng, 0, 10**7):07d}",
                    200,
                    1500,
                    trname="Получен международен превод",
                    trn_type="SWI",
                )
            )
        for _ in range(poisson(rng, 0.03 * d.scale)):
            ops.extend(
                transfer_out(
                    rng,
                    d,
                    "Иван Петров Георгиев",
                    fibank_iban("10", 17006644),
                    "Прехвърляне между сметки",
                    150,
                    800,
                )
            )
    return ops


def business_current(rng: random.Random, d: Day) -> list[Op]:
    """The ЕООД's busy account: invoices in, suppliers, НАП, salaries, commissions, interest."""
    ops: list[Op] = []
    directory = d.directory
    s = d.scale
    if d.is_open_day:
        ops.append(opening_deposit(rng, d, 2556.46, "Внасяне на капитал"))
    if d.day.day == 1 and not d.is_open_day:
        ops.append(monthly_fee(rng, d, 8.0, "Месечна такса бизнес пакет"))
    if d.last_of_month:
        ops.append(interest(rng, d, 0.05, 3.0))
    ops.extend(card_payment(rng, d) for _ in range(poisson(rng, 0.6 * s)))
    if not d.workday:
        return ops
    for _ in range(poisson(rng, 0.55 * s)):
        client = pick(rng, CLIENTS)
        ops.append(
            transfer_in(
                rng,
                d,
                client,
                directory.clients[client],
                f"ПЛАЩАНЕ ПО ФАКТУРА № {between(rng, 0, 10**10):010d} "
                f"ОТ {d.day - timedelta(days=between(rng, 5, 40)):%d.%m.%Y}",
                300,
                2600,
            )
        )
    for _ in range(poisson(rng, 0.5 * s)):
        name, text, low, high = pick(rng, SUPPLIERS)
        ops.extend(
            transfer_out(
                rng,
                d,
                name,
                directory.suppliers[name],
                f"{text} ФАКТУРА {between(rng, 0, 10**10):010d}",
                low,
                high,
                business=True,
            )
        )
    if d.day.day == 14:
        ops.extend(
            transfer_out(
                rng,
                d,
                "ТД на НАП София",
                directory.nra,
                f"ДДС ЗА ПЕРИОД {(d.day.replace(day=1) - timedelta(days=1)):%m.%Y} ЕИК 204587312",
                400 * s,
                2500 * s,
                business=True,
                trn_type="BDG",
            )
        )
    if d.day.day == 10:
        for name in EMPLOYEES:
            ops.extend(
                transfer_out(
                    rng,
                    d,
                    name,
                    directory.employees[name],
                    f"ЗАПЛАТА ЗА {(d.day.replace(day=1) - timedelta(days=1)):%m.%Y}",
                    1100 * s,
                    1900 * s,
                    business=True,
                )
            )
    if d.day.day == 25:
        ops.extend(
            transfer_out(
                rng,
                d,
                "НАП - осигурителни вноски",
                directory.nra,
                f"ДОО ДЗПО ЗО ЗА {d.day:%m.%Y} ЕИК 204587312",
                900 * s,
                1500 * s,
                business=True,
                trn_type="BDG",
            )
        )
    return ops


def business_eur(rng: random.Random, d: Day) -> list[Op]:
    """The ЕООД's euro account (its statement is the one that always fails)."""
    ops: list[Op] = []
    if d.is_open_day:
        ops.append(opening_deposit(rng, d, 1000, "Внасяне на каса"))
    if d.day.day == 1 and not d.is_open_day:
        ops.append(monthly_fee(rng, d, 3.0, "Месечна такса валутна сметка"))
    if d.workday:
        for _ in range(poisson(rng, 0.06 * d.scale)):
            client = pick(rng, CLIENTS)
            ops.append(
                transfer_in(
                    rng,
                    d,
                    client,
                    d.directory.clients[client],
                    f"INVOICE {between(rng, 0, 10**6):06d}",
                    200,
                    2000,
                )
            )
        for _ in range(poisson(rng, 0.08 * d.scale)):
            name, text, low, high = pick(rng, SUPPLIERS)
            ops.extend(
                transfer_out(rng, d, name, d.directory.suppliers[name], text, low, high, business=True)
            )
    return ops


def no_activity(rng: random.Random, d: Day) -> list[Op]:
    """A term deposit booked outside the web bank: no statement entries at all."""
    return []


Profile = Callable[[random.Random, Day], list[Op]]


@dataclass(frozen=True)
class AccountSpec:
    """A fixed account of the demo bank and the profile that fills its days."""

    index: int
    iban: str
    customer_id: str
    name: str
    kind: str
    currency: str
    opened: date
    tags: tuple[str, ...]
    profile: Profile
    card: str


ACCOUNT_SPECS: tuple[AccountSpec, ...] = (
    AccountSpec(
        1,
        fibank_iban("10", 17006644),
        PERSON_ID,
        "Разплащателна сметка",
        "current",
        "EUR",
        date(2016, 3, 14),
        ("busy", "dst_edges"),
        person_current,
        "5169 **** **** 4821",
    ),
    AccountSpec(
        2,
        fibank_iban("10", 17006651),
        PERSON_ID,
        "Спестовна сметка Смарт",
        "current",
        "BGN",
        date(2016, 3, 14),
        ("busy", "converted"),
        person_savings,
        "4176 **** **** 0937",
    ),
    AccountSpec(
        3,
        fibank_iban("10", 17103288),
        PERSON_ID,
        "Разплащателна сметка USD",
        "current",
        "USD",
        date(2017, 5, 2),
        ("quiet_gap",),
        person_usd,
        "",
    ),
    AccountSpec(
        4,
        fibank_iban("10", 17205517),
        PERSON_ID,
        "Срочен депозит Класик",
        "deposit",
        "EUR",
        date(2019, 6, 3),
        ("no_entries",),
        no_activity,
        "",
    ),
    AccountSpec(
        5,
        fibank_iban("10", 11884290),
        BUSINESS_ID,
        "Разплащателна сметка",
        "current",
        "BGN",
        date(2016, 9, 1),
        ("busy", "converted"),
        business_current,
        "5169 **** **** 7710",
    ),
    AccountSpec(
        6,
        fibank_iban("10", 11884306),
        BUSINESS_ID,
        "Разплащателна сметка EUR",
        "current",
        "EUR",
        date(2020, 2, 3),
        ("statement_500",),
        business_eur,
        "",
    ),
)


@dataclass(frozen=True)
class BankData:
    """A generated bank: customer profiles, accounts and each account's entries in booking order."""

    seed: int
    today: date
    scale: float
    customers: tuple[CustomerProfile, ...]
    accounts: tuple[AccountInfo, ...]
    entries: dict[str, tuple[Entry, ...]]
    next_entry_id: int


def _account_info(spec: AccountSpec, today: date) -> AccountInfo:
    """The public description of an account as of ``today`` (its currency may have changed)."""
    currency = "EUR" if "converted" in spec.tags and today >= EURO_DAY else spec.currency
    return AccountInfo(
        spec.iban, spec.customer_id, currency, spec.tags, spec.name, spec.kind, spec.opened, spec.currency
    )


def _day_rng(seed: int, account: int, day: date) -> random.Random:
    """The generator for one account's day, independent of every other day and of ``today``."""
    seed_value = (seed * 1_000_003 + account) * 1_000_003 + day.toordinal()
    return random.Random(seed_value)  # noqa: S311 - reproducible, not secret


def _dst_specials(spec: AccountSpec, d: Day, midnight: float) -> list[Op]:
    """Card payments at the awkward instants of the clock changes, for the DST tests."""
    ops: list[Op] = []
    if "dst_edges" not in spec.tags:
        return ops
    for moment, merchant, value in DST_SPECIALS:
        if moment.date() == d.day:
            secs = int(moment.timestamp() - midnight)
            ops.append(
                (
                    secs,
                    False,
                    value,
                    "Плащане с карта ПОС",
                    "POS",
                    "2104",
                    merchant,
                    None,
                    "",
                    "N",
                    "N",
                    f"{merchant} ONLINE",
                    d.card,
                    "Авт. код 000000",
                    0,
                    "CP",
                )
            )
    return ops


def _d(cents_value: int) -> Decimal:
    """Integer cents as a two-place Decimal (``1230`` -> ``12.30``)."""
    return Decimal(cents_value).scaleb(-2)


def generate(seed: int, today: date, scale: float = 1.0, user: int = 1, accounts: int = 0) -> BankData:
    """Book every account's history from its opening day through ``today`` (inclusive).

    ``user`` 1 is the demo login's bank; login ``k`` > 1 gets profiles and accounts of its own
    (see ``user_specs``), so many logins can be tested against one bank. ``accounts`` > 0 gives
    each login that many healthy accounts of one year each instead (see ``many_accounts``).
    """
    return _generate_cached(seed, today, scale, user, accounts)


def user_login(user: int) -> tuple[str, str]:
    """Username and password of sandbox login ``user``: ``demo``/``demo``, then ``demoK``/``demoK``."""
    name = "demo" if user == 1 else f"demo{user}"
    return name, name


def user_specs(user: int) -> tuple[tuple[CustomerProfile, ...], tuple[AccountSpec, ...]]:
    """The profiles and accounts of login ``user``: the demo's, with ids and IBANs of its own.

    Logins after the first hold no account whose statement always fails, so a test of many
    logins is not slowed down by one account's retries.
    """
    if user == 1:
        return CUSTOMERS, ACCOUNT_SPECS
    shift = (user - 1) * USER_ID_STEP
    ids = {p.customer_id: str(int(p.customer_id) + shift) for p in CUSTOMERS}
    customers = tuple(dataclasses.replace(p, customer_id=ids[p.customer_id]) for p in CUSTOMERS)
    specs = tuple(
        dataclasses.replace(
            spec,
            iban=fibank_iban("10", int(spec.iban[-8:]) + shift),
            customer_id=ids[spec.customer_id],
        )
        for spec in ACCOUNT_SPECS
        if "statement_500" not in spec.tags
    )
    return customers, specs


def many_accounts(specs: tuple[AccountSpec, ...], count: int, today: date) -> tuple[AccountSpec, ...]:
    """``count`` healthy accounts opened a year before ``today``, for the many-small-accounts case.

    They take turns at the healthy demo accounts' owners and kinds of activity, with IBANs of their own,
    so a walk over them costs the same per account and the truth stays deterministic.
    """
    healthy = [spec for spec in specs if "statement_500" not in spec.tags]
    opened = today - timedelta(days=365)
    clones = []
    for k in range(count):
        base = healthy[k % len(healthy)]
        clones.append(
            dataclasses.replace(
                base,
                index=MANY_ACCOUNTS_INDEX + k,
                iban=fibank_iban("30", int(base.iban[-8:]) + k * MANY_ACCOUNTS_STEP),
                opened=max(base.opened, opened),
                tags=tuple(t for t in base.tags if t != "dst_edges"),
            )
        )
    return tuple(clones)


def merge(banks: Sequence[BankData]) -> BankData:
    """One bank holding every login's profiles, accounts and entries."""
    first = banks[0]
    if len(banks) == 1:
        return first
    return BankData(
        seed=first.seed,
        today=first.today,
        scale=first.scale,
        customers=tuple(p for bank in banks for p in bank.customers),
        accounts=tuple(a for bank in banks for a in bank.accounts),
        entries={iban: entries for bank in banks for iban, entries in bank.entries.items()},
        next_entry_id=max(bank.next_entry_id for bank in banks),
    )


@functools.lru_cache(maxsize=8)
def _generate_cached(seed: int, today: date, scale: float, user: int = 1, accounts: int = 0) -> BankData:
    # Hundreds of thousands of long-lived, acyclic objects: the cycle collector would rescan them
    # over and over (40% of the time at scale 40) and can never free any of them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        data = _book_everything(seed, today, scale, user, accounts)
    finally:
        if collecting:
            gc.enable()
    if data.next_entry_id - FIRST_ENTRY_ID - (user - 1) * USER_ENTRY_ID_STEP > LARGE_DATA_SET:
        # Later full collections would still walk every entry (a second-long pause in the middle
        # of a benchmark); moving what exists now out of the collector's sight avoids that.
        gc.freeze()
    return data


def _book_everything(seed: int, today: date, scale: float, user: int = 1, accounts: int = 0) -> BankData:
    customers, specs = user_specs(user)
    if accounts:
        specs = many_accounts(specs, accounts, today)
    by_index = {spec.index: spec for spec in specs}
    if user > 1:  # another login's history: its own draws, its own range of entry ids
        seed = seed * 1_000 + user
    directory = Directory.build(seed)
    cards = {spec.index: f"Карта {spec.card}" for spec in specs}
    balances = {spec.iban: 0 for spec in specs}
    books: dict[str, list[Entry]] = {spec.iban: [] for spec in specs}
    next_id = FIRST_ENTRY_ID + (user - 1) * USER_ENTRY_ID_STEP
    day = min(spec.opened for spec in specs)
    one_day = timedelta(days=1)
    midnight = datetime.combine(day, datetime.min.time(), SOFIA).timestamp()
    while day <= today:
        following = day + one_day
        next_midnight = datetime.combine(following, datetime.min.time(), SOFIA).timestamp()
        length = int(next_midnight - midnight)
        pending: list[tuple[float, int, int, Op, str, int, int]] = []
        for spec in specs:
            if day < spec.opened:
                continue
            currency = "EUR" if "converted" in spec.tags and day >= EURO_DAY else spec.currency
            if day == EURO_DAY and "converted" in spec.tags:
                balances[spec.iban] = int(bgn_to_eur(_d(balances[spec.iban])).scaleb(2))
            rng = _day_rng(seed, spec.index, day)
            context = Day(day, length, currency, scale, directory, cards[spec.index], day == spec.opened)
            ops = spec.profile(rng, context) + _dst_specials(spec, context, midnight)
            ops.sort(key=lambda op: op[0])
            balance = balances[spec.iban]
            for seq, op in enumerate(ops):
                value = op[2]
                if op[1]:
                    balance += value
                else:
                    if value > balance:
                        # Keep balances plausible: nobody pays more than they have.
                        value = balance * between(rng, 5, 50) // 100
                        if value <= 0:
                            continue
                    balance -= value
                pending.append((midnight + op[0], spec.index, seq, op, currency, value, balance))
            balances[spec.iban] = balance
        pending.sort(key=lambda item: (item[0], item[1], item[2]))
        stamp = f"{day:%y%m%d}"
        value_days = (day, day - one_day, day - one_day - one_day)
        for instant, index, _seq, op, currency, value, balance in pending:
            spec = by_index[index]
            amount = Decimal(value).scaleb(-2)
            credit = op[1]
            value_date = value_days[op[14]]
            # Positional for speed (a million entries at scale 40); order as in Entry.
            books[spec.iban].append(
                Entry(
                    next_id,
                    spec.iban,
                    datetime.fromtimestamp(instant, SOFIA),
                    day,
                    value_date if value_date >= spec.opened else spec.opened,
                    "credit" if credit else "debit",
                    amount,
                    amount if credit else -amount,
                    Decimal(balance).scaleb(-2),
                    currency,
                    instant,
                    f"{op[15]}{stamp}{next_id % 1_000_000:06d}",
                    op[3],
                    op[4],
                    op[5],
                    op[6],
                    op[7],
                    op[8],
                    op[9],
                    op[10],
                    "N",
                    op[11],
                    op[12],
                    op[13],
                )
            )
            next_id += 1
        day, midnight = following, next_midnight
    return BankData(
        seed=seed,
        today=today,
        scale=scale,
        customers=customers,
        accounts=tuple(_account_info(spec, today) for spec in specs),
        entries={iban: tuple(entries) for iban, entries in books.items()},
        next_entry_id=next_id,
    )
