"""The capture: the bank's answers with their shape kept and every personal value replaced.

Redacted by construction: each value is rebuilt from its kind, never searched for. Kept: field
names and order, row order, flag and code spellings (`Y`, `DT`, `KT`, `OP`: up to 10 capitals or
digits in fields that hold codes, up to 2 letters anywhere), timestamps and dates (they say when,
not who), number formats (number or text, decimal places, sign), statuses and header names.
Replaced: IBANs (valid fake IBANs, the same fake for the same IBAN everywhere), numbers of 4 or
more digits (ids, customer numbers: order-keeping fakes), every other text (a placeholder per
field and value, Cyrillic stays Cyrillic), amounts and balances (fakes that keep the arithmetic:
see `fakes.py`). Tokens, cookies and CSRF values are never read into the observations at all.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from decimal import Decimal
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import simplejson  # type: ignore[import-untyped,unused-ignore]

from tap_fibank.bank.endpoints import STATEMENT, short
from tap_fibank.doctor.collect import Account, Observations
from tap_fibank.doctor.fakes import AMOUNT_FIELDS, Faker, Keep, fake_statement
from tap_fibank.doctor.findings import Finding
from tap_fibank.doctor.probe import Exchange
from tap_fibank.doctor.report import Verdict
from tap_fibank.privacy import write_private_text

FORMAT = "tap-fibank-capture"
FORMAT_VERSION = 1
IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
WHEN = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")
CODE = re.compile(r"^[A-ZА-Я0-9_]{1,10}$")
SHORT = re.compile(r"^[A-Za-zА-Яа-я]{1,2}$")
NUMERIC = re.compile(r"^-?\d+([.,]\d+)?$")
CODE_FIELDS = frozenset(
    {
        "dtkt", "trnType", "trnCode", "isEbankOper", "isPayment", "loadAsNew", "ccy", "status",
        "acType", "customerType", "isDefault", "isPSD2", "StmtType", "isAccountFromPSD2", "error",
        "code", "token_type",
    }
)  # fmt: skip
KEPT_PARAMS = frozenset({"FromDate", "ToDate", "StmtType", "isAccountFromPSD2"})


def tap_version() -> str:
    """The installed tap's version, written into every capture."""
    try:
        return version("tap-fibank")
    except PackageNotFoundError:
        return "unknown"


class Redactor:
    """Replaces values by kind; one per capture so equal values get equal fakes."""

    def __init__(self, faker: Faker) -> None:
        self.faker = faker
        self._texts: dict[tuple[str, str], str] = {}

    def value(self, value: Any, name: str) -> Any:
        """The redacted copy of any JSON value found under the field `name`."""
        if isinstance(value, Keep):
            return value.value
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self.faker.identifier(value)
        if isinstance(value, Decimal):
            return self.faker.amount(value)
        if isinstance(value, str):
            return self.text(value, name)
        if isinstance(value, list):
            return [self.value(item, name) for item in value]
        if isinstance(value, dict):
            return {self.key(k): self.value(v, k) for k, v in value.items()}
        return None

    def key(self, key: str) -> str:
        """Field names are structure, unless they look like data (an IBAN, a number)."""
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            return key
        return str(self.text(key, "key"))

    def text(self, value: str, name: str) -> Any:
        """A text value: kept if it is a code, a flag or a date; else a fake of its kind."""
        stripped = value.strip()
        if not stripped or WHEN.match(stripped) or SHORT.match(stripped):
            return value
        if name in CODE_FIELDS and CODE.match(stripped):
            return value
        compact = stripped.replace(" ", "")
        if IBAN.match(compact):
            return self.faker.iban(compact)
        if NUMERIC.match(stripped):
            if name in AMOUNT_FIELDS or "." in stripped or "," in stripped:
                return self.faker.amount_text(stripped)
            return self.faker.digits(stripped)
        key = (name, value)
        if key not in self._texts:
            cyrillic = re.search(r"[А-Яа-я]", value) is not None
            self._texts[key] = f"{'текст' if cyrillic else name}-{len(self._texts) + 1}"
        return self._texts[key]


def build_capture(seen: Observations, findings: list[Finding], result: Verdict) -> dict[str, Any]:
    """The capture as a JSON-ready object."""
    faker = Faker(seen)
    redactor = Redactor(faker)
    # The exchanges are faked before the accounts: the fakes are handed out in order of first
    # sight, so this order keeps a capture of the same observations the same, file for file.
    exchanges = [_exchange(exchange, faker, redactor) for exchange in seen.exchanges]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tap_version": tap_version(),
        "captured_on": seen.today.isoformat(),
        "start_date": seen.start_date.isoformat(),
        "note": "Redacted by tap-fibank-doctor: names, IBANs, ids, references, texts and amounts are "
        "fakes; dates, times, field names, spellings and number formats are the bank's. Check it "
        "before you share it.",
        "login": asdict(seen.login),
        "accounts": [_account(account, faker) for account in seen.accounts],
        "exchanges": exchanges,
        "findings": [_finding(f) for f in findings],
        "verdict": {"kind": result.kind, "exit_code": result.exit_code},
    }


def _exchange(exchange: Exchange, faker: Faker, redactor: Redactor) -> dict[str, Any]:
    """One request and answer, redacted; a good statement's amounts are faked as a whole first.

    A statement goes through `fake_statement` before the field-by-field redaction so its fake
    amounts still add up (opening + movements = closing); the window's dates and the kept
    query parameters stay the bank's, since they say when, not who.
    """
    body = exchange.body
    if exchange.endpoint == short(STATEMENT) and exchange.status == HTTPStatus.OK:
        body = fake_statement(body, faker)
    params = {k: (v if k in KEPT_PARAMS else redactor.value(v, k)) for k, v in exchange.params.items()}
    return {
        "purpose": exchange.purpose,
        "endpoint": exchange.endpoint,
        "params": params,
        "customer_id": redactor.value(_int_or_text(exchange.customer_id), "customer_id"),
        "iban": faker.iban(exchange.iban) if exchange.iban else None,
        "window": list(exchange.window) if exchange.window else None,
        "status": exchange.status,
        "content_type": exchange.content_type,
        "header_names": exchange.header_names,
        "location_path": exchange.location_path,
        "body_kind": exchange.body_kind,
        "body": redactor.value(body, "body"),
    }


def _account(account: Account, faker: Faker) -> dict[str, Any]:
    """An account as the capture lists it: the fake IBAN, with the currency and opening date kept."""
    return {
        "iban": faker.iban(account.iban),
        "currency": account.currency,
        "opened": account.opened.isoformat() if account.opened else None,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    # Findings name accounts by masked IBAN (last four characters): the capture names the fakes.
    return {
        "check": finding.check,
        "status": finding.status,
        "effect": finding.effect,
        "seen": finding.seen,
    }


def _int_or_text(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


def write_capture(path: Path, seen: Observations, findings: list[Finding], result: Verdict) -> None:
    """Write the capture as UTF-8 JSON, decimals exactly as built; 0600, as it describes a person's bank."""
    capture = build_capture(seen, findings, result)
    text = simplejson.dumps(capture, use_decimal=True, ensure_ascii=False, indent=1)
    write_private_text(path, text + "\n")


def read_capture(path: Path) -> dict[str, Any]:
    """Read a capture back with exact decimals."""
    data = simplejson.loads(path.read_text(encoding="utf-8"), use_decimal=True)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        msg = f"{path} is not a tap-fibank capture"
        raise ValueError(msg)
    return data
