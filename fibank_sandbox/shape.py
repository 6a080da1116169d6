"""How a bank writes its answers, apart from what they say: the replay's knobs.

A `Shape` holds every way the live bank may differ from this sandbox in form (field names and
order, flag spellings, number and timestamp formats, where the summary rows are and what they
hold, the `acc` layout, the status codes of odd requests). `Shape()` is the sandbox's own form;
`shape_from_capture` reads one from a `tap-fibank-doctor` capture; tests vary one field at a
time to play a bank that differs in one way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .model import parse_instant, sofia_date

SUMMARY = ("OP", "CL", "DT", "CT")
DEFAULT_SUMMARY_FIELDS: dict[str, dict[str, str | None]] = {
    "OP": {"acBal": "opening", "amount": "opening"},
    "DT": {"acBal": None, "amount": "debit"},
    "CT": {"acBal": None, "amount": "credit"},
    "CL": {"acBal": "closing", "amount": "closing"},
}
DEFAULT_SUMMARY_DTKT: dict[str, Any] = {"OP": None, "DT": "DT", "CT": "KT", "CL": None}
PERIOD_REFUSAL: dict[str, Any] = {
    "status": 400,
    "error": "Bad Request",
    "code": "ERR_PERIOD",
    "message": "Периодът не може да бъде повече от 30 дни.",
}


@dataclass(frozen=True)
class Answer:
    """A fixed answer: status, JSON body (or None), and a redirect target for a 3xx."""

    status: int
    body: Any = None
    location: str | None = None


@dataclass
class Shape:
    """The form of a bank's answers; every default is the sandbox's own."""

    profile_template: dict[str, Any] | None = None
    account_template: dict[str, Any] | None = None
    element_keys: list[str] | None = None
    element_fill: dict[str, Any] = field(default_factory=dict)
    entry_keys: list[str] | None = None
    entry_fill: dict[str, Any] = field(default_factory=dict)
    dtkt: dict[str, Any] = field(default_factory=lambda: {"debit": "DT", "credit": "KT"})
    signed: bool = False
    amount_text: str | None = None  # None: JSON numbers; "." or ",": text with that separator
    timestamp: str = "+HHMM"  # "+HHMM", "+HH:MM", "Z" (UTC) or "naive" (Sofia wall time)
    newest_first: bool = True
    layout: list[str] = field(default_factory=lambda: ["OP", "*", "DT", "CT", "CL"])
    summary_keys: dict[str, list[str]] = field(default_factory=dict)
    summary_fields: dict[str, dict[str, str | None]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_SUMMARY_FIELDS.items()}
    )
    summary_dtkt: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SUMMARY_DTKT))
    other_iban_element: bool = False
    more_days: int = 0  # days before FromDate sent too (a bank that ignores it: the whole history)
    before_history: Answer | None = None
    before_history_rows: str | None = None  # "no_rows" (stmt []) or "no_acc" (acc [])
    long_range: Answer | None = field(default_factory=lambda: Answer(400, PERIOD_REFUSAL))
    refused_token: Answer | None = None


def shape_from_capture(capture: dict[str, Any]) -> Shape:
    """The shape of the bank a capture was taken from."""
    shape = Shape()
    exchanges = [e for e in capture.get("exchanges", []) if isinstance(e, dict)]
    by = {p: [e for e in exchanges if e.get("purpose") == p] for p in _PURPOSES}
    shape.profile_template = _first_object(_body(by["profiles"]), "customer")
    shape.account_template = _first_object(_body(by["accounts"]), None)
    windows = [e for e in by["newest"] + by["year_back"] if _elements(e)]
    if windows:
        _statement_form(shape, windows)
    _odd_answers(shape, by)
    return shape


_PURPOSES = ("profiles", "accounts", "newest", "year_back", "before_history", "range_31", "invalid_token")


def _body(exchanges: list[dict[str, Any]]) -> Any:
    return exchanges[0].get("body") if exchanges and exchanges[0].get("status") == 200 else None


def _first_object(body: Any, key: str | None) -> dict[str, Any] | None:
    items = body.get(key) if key and isinstance(body, dict) else body
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                return item
    return None


def _elements(exchange: dict[str, Any]) -> list[dict[str, Any]]:
    body = exchange.get("body")
    acc = body.get("acc") if exchange.get("status") == 200 and isinstance(body, dict) else None
    return [e for e in acc if isinstance(e, dict)] if isinstance(acc, list) else []


def _kind(row: dict[str, Any]) -> str | None:
    kind = str(row.get("trnType") or "").strip().upper()
    return kind if kind in SUMMARY else None


def _statement_form(shape: Shape, windows: list[dict[str, Any]]) -> None:
    elements = [(w, e) for w in windows for e in _elements(w)]
    richest = max(elements, key=lambda pair: len(pair[1].get("stmt") or []))[1]
    shape.element_keys = list(richest)
    shape.element_fill = {k: v for k, v in richest.items() if k not in ("stmt", "iban", "ccy")}
    rows = [r for r in richest.get("stmt") or [] if isinstance(r, dict)]
    entries = [r for r in rows if _kind(r) is None]
    shape.layout = _layout(rows)
    for row in rows:
        kind = _kind(row)
        if kind is not None:
            shape.summary_keys.setdefault(kind, list(row))
            shape.summary_dtkt[kind] = row.get("dtkt")
    if entries:
        shape.entry_keys = list(entries[0])
        shape.entry_fill = dict(entries[0])
        _entry_form(shape, entries)
    _summary_meanings(shape, [e for _, e in elements])
    for window, element in elements:
        iban = element.get("iban") or element.get("ibanAcNo")
        if iban and iban != window.get("iban"):
            shape.other_iban_element = True
        shape.more_days = max(shape.more_days, _outside(window, element))


def _layout(rows: list[dict[str, Any]]) -> list[str]:
    layout: list[str] = []
    for row in rows:
        part = _kind(row) or "*"
        if part != "*" or not layout or layout[-1] != "*":
            layout.append(part)
    return layout


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+([.,]\d+)?", value.strip()):
        return Decimal(value.strip().replace(",", "."))
    return None


def _when(row: dict[str, Any]) -> datetime | None:
    value = row.get("dateTime")
    return parse_instant(value) if isinstance(value, str) else None


def _entry_form(shape: Shape, entries: list[dict[str, Any]]) -> None:
    first, last = _when(entries[0]), _when(entries[-1])
    shape.newest_first = not (first is not None and last is not None and first < last)
    raw = entries[0].get("amount")
    shape.amount_text = ("," if "," in raw else ".") if isinstance(raw, str) else None
    shape.signed = any((_amount(r.get("amount")) or 0) < 0 for r in entries)
    stamp = entries[0].get("dateTime")
    if isinstance(stamp, str):
        shape.timestamp = (
            "Z"
            if stamp.endswith("Z")
            else "+HH:MM"
            if re.search(r"[+-]\d\d:\d\d$", stamp)
            else "+HHMM"
            if re.search(r"[+-]\d{4}$", stamp)
            else "naive"
        )
    if "dtkt" in entries[0]:
        shape.dtkt = _spellings(entries)


def _spellings(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Which `dtkt` spelling means a debit: by the sign of the balance's change, else by its letter."""
    found: dict[str, Any] = {}
    ordered = sorted(entries, key=lambda r: (_when(r) or datetime.min, str(r.get("acEntrySrNo"))))
    previous: Decimal | None = None
    for row in ordered:
        balance, amount = _amount(row.get("acBal")), _amount(row.get("amount"))
        if previous is not None and balance is not None and amount is not None and amount != 0:
            way = "credit" if balance - previous == abs(amount) else "debit"
            found.setdefault(way, row.get("dtkt"))
        previous = balance
    for row in entries:
        text = str(row.get("dtkt") or "").upper()
        way = "debit" if text[:1] in ("D", "Д") else "credit"
        found.setdefault(way, row.get("dtkt"))
    return found


def _summary_meanings(shape: Shape, elements: list[dict[str, Any]]) -> None:
    """What the acBal and amount of each summary row hold, from a window with entries."""
    for element in sorted(elements, key=lambda e: -len(e.get("stmt") or [])):
        rows = [r for r in element.get("stmt") or [] if isinstance(r, dict)]
        entries = [r for r in rows if _kind(r) is None]
        summaries = {_kind(r): r for r in rows if _kind(r) is not None}
        if not entries or not summaries:
            continue
        facts = _facts(shape, entries, summaries)
        for kind, row in summaries.items():
            assert kind is not None
            shape.summary_fields[kind] = {
                name: _meaning(row.get(name), facts) for name in ("acBal", "amount") if name in row
            }
        return


def _facts(shape: Shape, entries: list[dict[str, Any]], summaries: dict[Any, Any]) -> dict[str, Decimal]:
    debit = credit = Decimal(0)
    debits = credits = 0
    for row in entries:
        amount = _amount(row.get("amount")) or Decimal(0)
        is_debit = amount < 0 if "dtkt" not in row else row.get("dtkt") == shape.dtkt.get("debit")
        if is_debit:
            debit, debits = debit + abs(amount), debits + 1
        else:
            credit, credits = credit + abs(amount), credits + 1
    facts = {
        "debit": debit,
        "credit": credit,
        "debit_count": Decimal(debits),
        "credit_count": Decimal(credits),
    }
    op, cl = summaries.get("OP") or {}, summaries.get("CL") or {}
    for name, row in (("opening", op), ("closing", cl)):
        value = _amount(row.get("acBal")) if row.get("acBal") is not None else _amount(row.get("amount"))
        if value is not None:
            facts[name] = value
    return facts


def _meaning(value: Any, facts: dict[str, Decimal]) -> str | None:
    number = _amount(value)
    if number is None:
        return None
    for name in ("opening", "closing", "debit", "credit", "debit_count", "credit_count"):
        if name in facts and facts[name] == number:
            return name
    return "zero"


def _outside(window: dict[str, Any], element: dict[str, Any]) -> int:
    """How many days before the window asked for the element's entries reach."""
    span = window.get("window")
    if not span:
        return 0
    start = datetime.fromisoformat(span[0]).date()
    days = 0
    for row in element.get("stmt") or []:
        when = _when(row) if isinstance(row, dict) and _kind(row) is None else None
        if when is not None:
            days = max(days, (start - sofia_date(when)).days)
    return days


def _odd_answers(shape: Shape, by: dict[str, list[dict[str, Any]]]) -> None:
    # An account whose newest window fails too is broken, not young: its answers say nothing.
    broken = {e.get("iban") for e in by["newest"] if int(e.get("status", 200)) >= 500}
    before = [e for e in by["before_history"] if e.get("iban") not in broken]
    failing = [e for e in before if e.get("status") != 200]
    if failing:
        shape.before_history = Answer(int(failing[0]["status"]), failing[0].get("body"))
    else:
        for exchange in before:
            body = exchange.get("body")
            if isinstance(body, dict) and body.get("acc") == []:
                shape.before_history_rows = "no_acc"
            elif any(not e.get("stmt") for e in _elements(exchange)):
                shape.before_history_rows = "no_rows"
    for exchange in by["range_31"]:
        status = int(exchange.get("status", 200))
        shape.long_range = None if status == 200 else Answer(status, exchange.get("body"))
    for exchange in by["invalid_token"]:
        status = int(exchange.get("status", 401))
        if status != 401:
            shape.refused_token = Answer(status, exchange.get("body"), exchange.get("location_path"))
