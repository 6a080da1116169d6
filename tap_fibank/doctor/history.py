"""The shape of an account's history: bare answers, unnamed currencies, the changeover, how far back.

An emulator of the bank built apart from this project answered in five ways the tap had not met
(issue 22), each a plausible reading of the live bank; each check here names one in one line. The
currency before 2026 is decided as the tap decides it: from the balance across the changeover
(`tap_fibank.proof.changeover`), never from today's currency in the account list.

Contract: `history_checks` returns the five findings in the report's order, from the
observations alone (no read of the bank); it imports no other check module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from tap_fibank.doctor.collect import Observations
from tap_fibank.doctor.findings import DIFFERS, OK, UNKNOWN, Finding
from tap_fibank.doctor.probe import Exchange
from tap_fibank.doctor.statements import (
    Element,
    day_of,
    elements_of,
    number,
    opening,
    ordered,
    signed,
    summary_value,
)
from tap_fibank.privacy import mask_iban
from tap_fibank.proof.changeover import EURO_DAY, currency_before

HISTORY = ("newest", "year_back", "changeover")


def history_checks(seen: Observations) -> list[Finding]:
    """The five lines, in the report's order."""
    crossings = [_crossing(a) for a in seen.of("changeover")]
    read = [c for c in crossings if c is not None]
    return [
        _bare(seen),
        _ccy(seen, read),
        _changeover_element(seen, read),
        _currency_before(read),
        _served(seen),
    ]


def own_elements(answer: Exchange) -> list[Element] | None:
    """The elements of an answer that belong to the account asked about (None: no acc list)."""
    elements = elements_of(answer)
    if elements is None:
        return None
    return [e for e in elements if not e.iban or e.iban.replace(" ", "").upper() == answer.iban]


def is_bare(answer: Exchange) -> bool:
    """A 200 answer with nothing of the account in it: no element, or elements with no row at all."""
    elements = own_elements(answer)
    return elements is not None and all(not e.layout for e in elements)


def in_history(seen: Observations, answer: Exchange) -> bool:
    """Whether the window asked lies (at least partly) after the account's opening day, if known."""
    opened = {a.iban: a.opened for a in seen.accounts}.get(answer.iban or "")
    return answer.window is None or opened is None or dt.date.fromisoformat(answer.window[1]) >= opened


def _bare(seen: Observations) -> Finding:
    check = "statement.bare_element"
    asked = [a for p in HISTORY for a in seen.of(p) if a.status == HTTPStatus.OK and in_history(seen, a)]
    bare = [a for a in asked if is_bare(a)]
    if not bare:
        return Finding(check, OK, f"every answer in the accounts' history ({len(asked)}) holds rows")
    again = {(a.iban, a.window): a for a in seen.of("bare_again")}
    healed = {id(a) for a in bare if (a.iban, a.window) in again and not is_bare(again[(a.iban, a.window)])}
    stuck = [a for a in bare if id(a) not in healed]
    accounts = [mask_iban(a.iban or "") for a in bare]
    text = f"{len(bare)} of {len(asked)} answers hold an element with no rows and no summary rows"
    summaries = any(e.summaries for a in asked if not is_bare(a) for e in own_elements(a) or [])
    if stuck and summaries:
        text += f", {len(stuck)} of them again when asked again: the tap cannot read those windows"
        return Finding(
            check,
            DIFFERS,
            text + " and holds the bookmark before them",
            "unverifiable",
            sorted(set(accounts)),
        )
    if stuck and not healed:
        return Finding(
            check, UNKNOWN, f"{text}, and the bank sends no summary rows: an empty window looks the same"
        )
    text += ", the full statement when asked again: the tap asks again, never takes it as no entries"
    return Finding(check, DIFFERS, text, "tolerated", sorted(set(accounts)))


@dataclass
class Crossing:
    """An answer to the window across 2026-01-01, read for its currencies."""

    masked: str
    elements: list[Element]
    before: str | None  # the currency of the entries before 2026 by the balances, if they tell
    lev_entries: bool  # whether the window shows entries of 2025

    @property
    def named(self) -> bool:
        """Whether every element names its currency."""
        return all(e.currency for e in self.elements)

    @property
    def mixed(self) -> bool:
        """One element holding lev and euro: the balance jumps by the conversion inside it."""
        return len(self.elements) == 1 and self.before == "BGN"


def _crossing(answer: Exchange) -> Crossing | None:
    elements = own_elements(answer)
    if not elements or all(not e.layout for e in elements):
        return None  # failed, or bare: named by the lines above
    entries = [row for e in elements for row in e.entries]
    lev_entries = any(_before_euro(row) for row in entries)
    last, first = _balances_across(elements)
    before = currency_before(last, first) if last is not None and first is not None else None
    return Crossing(mask_iban(answer.iban or ""), elements, before, lev_entries)


def _balances_across(elements: list[Element]) -> tuple[Decimal | None, Decimal | None]:
    """The balance at the end of 2025 and the one 2026 opens at, as the window shows them."""
    if len(elements) > 1:  # split: the lev part first, its closing; then the euro part's opening
        return _closing(elements[0]), opening(elements[-1])
    element = elements[0]
    rows = ordered(element.entries)
    lev = [r for r in rows if _before_euro(r)]
    euro = [r for r in rows if not _before_euro(r)]
    last = number(lev[-1].get("acBal")) if lev else opening(element)
    if not euro:
        return last, summary_value(element.summaries.get("CL"), "CL")
    balance, change = number(euro[0].get("acBal")), signed(euro[0])
    return last, balance - change if balance is not None and change is not None else None


def _before_euro(row: dict[str, Any]) -> bool:
    return (day_of(row) or EURO_DAY) < EURO_DAY


def _closing(element: Element) -> Decimal | None:
    found = summary_value(element.summaries.get("CL"), "CL")
    if found is not None:
        return found
    rows = ordered(element.entries)
    return number(rows[-1].get("acBal")) if rows else opening(element)


def _ccy(seen: Observations, crossings: list[Crossing]) -> Finding:
    check = "statement.ccy"
    mixed = {id(e) for c in crossings if c.mixed for e in c.elements}  # named by the changeover line
    found = [
        (mask_iban(a.iban or ""), e)
        for p in ("newest", "year_back")
        for a in seen.of(p)
        for e in own_elements(a) or []
        if e.layout
    ]
    found += [(c.masked, e) for c in crossings for e in c.elements if id(e) not in mixed]
    if not found:
        return Finding(check, UNKNOWN, "no statement element to look at")
    lacking = [m for m, e in found if e.currency is None]
    if not lacking:
        names = ", ".join(sorted({str(e.currency) for _, e in found}))
        return Finding(check, OK, f"every element names its currency (ccy {names})")
    text = (
        f"{len(lacking)} of {len(found)} elements name no currency (no ccy): the tap takes it from the "
        "account list, and for an account listed in EUR with entries before 2026 from the balance "
        "across 2026-01-01"
    )
    return Finding(check, DIFFERS, text, "tolerated", sorted(set(lacking)))


def _changeover_element(seen: Observations, crossings: list[Crossing]) -> Finding:
    check = "statement.changeover_element"
    if not crossings:
        asked = len(seen.of("changeover"))
        return Finding(
            check, UNKNOWN, f"the window across 2026-01-01 was read for none of {asked} account(s)"
        )
    converted = [c for c in crossings if c.before == "BGN"]
    mixed = [c.masked for c in converted if c.mixed]
    if mixed:
        text = (
            f"{len(mixed)} of {len(converted)} converted account(s) answer the window across 2026-01-01 as "
            "one element of BGN and EUR (lev opening, euro closing): the tap splits it at the changeover "
            "and proves each part by the balance chain"
        )
        return Finding(check, DIFFERS, text, "tolerated", sorted(mixed))
    if not converted:
        return Finding(
            check,
            UNKNOWN,
            f"none of {len(crossings)} account(s) listed in EUR shows a conversion at 2026-01-01",
        )
    return Finding(
        check, OK, f"{len(converted)} converted account(s): two elements across 2026-01-01, lev then euro"
    )


def _currency_before(crossings: list[Crossing]) -> Finding:
    check = "statement.currency_before_2026"
    if not crossings:
        return Finding(check, UNKNOWN, "no account listed in EUR answered the window across 2026-01-01")
    unnamed = [c for c in crossings if not c.named]
    if not unnamed:
        return Finding(
            check, OK, f"{len(crossings)} account(s) listed in EUR: each element names its currency"
        )
    lev = [c.masked for c in unnamed if c.before == "BGN"]
    euro = [c.masked for c in unnamed if c.before == "EUR"]
    unknown = [c.masked for c in unnamed if c.before is None and c.lev_entries]
    parts = [f"{len(lev)} converted at 1.95583 (BGN before 2026)"] if lev else []
    if euro:
        parts.append(
            f"{len(euro)} continue across 2026-01-01 unconverted: a history in EUR (re-denominated, or "
            "always euro), labelled EUR"
        )
    if unknown:
        parts.append(f"{len(unknown)} undecided by the balances: the tap names them, does not guess, exits 5")
    text = "without ccy, by the balance across 2026-01-01: " + "; ".join(parts or ["nothing to decide"])
    if unknown:
        return Finding(check, DIFFERS, text, "fatal", sorted(unknown))
    if euro:
        return Finding(check, DIFFERS, text, "tolerated", sorted(euro))
    return Finding(check, OK, text)


def _served(seen: Observations) -> Finding:
    check = "statement.history_served"
    served = seen.served
    answering = {a.iban for a in seen.of("newest") if a.status == HTTPStatus.OK}
    older = [
        a.iban or ""
        for a in seen.of("year_back")
        if a.status >= HTTPStatus.INTERNAL_SERVER_ERROR and a.iban in answering
    ]
    if served is None:
        if older:
            return Finding(
                check, UNKNOWN, f"windows a year back fail for {len(older)} account(s); not probed"
            )
        return Finding(check, OK, "windows a year back answer: nothing suggests a shorter history")
    masked = mask_iban(served.iban)
    elements = own_elements(served.answer) or []
    balance = opening(elements[0]) if elements else None
    if balance is None or not served.exact:
        return Finding(
            check, UNKNOWN, f"{masked} answers from {served.first_day}; where it starts is unclear"
        )
    if balance == 0:
        return Finding(
            check, OK, f"history starts with the account ({masked}: from {served.first_day}, at zero)"
        )
    others = f"; windows a year back fail for {len(older)} account(s)" if older else ""
    text = (
        f"the bank serves history from {served.first_day} ({masked}{others}): older windows answer HTTP "
        "5xx and the first that answers opens at a non-zero balance: the tap reads from that day, "
        "remembers it and re-probes the day before it weekly"
    )
    return Finding(check, DIFFERS, text, "tolerated", sorted({masked, *map(mask_iban, older)}))
