"""The sandbox bank in another bank's shape: `python -m fibank_sandbox --replay CAPTURE`.

The data stay the sandbox's (the demo login, its accounts, every entry, the ground truth); each
answer is rewritten into a `Shape`, read from a `tap-fibank-doctor` capture or given by a test.
So a user's bank, or a variant of ours, can be tested against without anyone's data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import simplejson  # type: ignore[import-untyped,unused-ignore]

from . import Sandbox
from .api import statement_rows
from .app import BankApp
from .data import generate
from .faults import Faults
from .model import SOFIA, parse_instant, sofia_date
from .shape import SUMMARY, Answer, Shape
from .wire import Request, Response, html_response, json_response, redirect

API_PREFIX = "/EBank/api/v1/"
STATEMENT = "sywsquery/sywsquery/GetCustBal"
PROFILES = "sywsquery/sywsquery/getCustQuery"
ACCOUNTS = "sywspicklist/sywspicklist/getFilteredAccounts"
OTHER_IBAN = "BG18FINV91501099999999"
_MAX_DAYS = 30


class ReplayApp(BankApp):
    """The sandbox's bank, answering in `shape`."""

    def __init__(self, shape: Shape, *args: Any) -> None:
        super().__init__(*args)
        self.shape = shape

    def handle(self, request: Request) -> Response:
        """Answer as the sandbox does, then in the shape's form."""
        if not request.path.startswith(API_PREFIX) or request.method != "GET":
            return super().handle(request)
        endpoint = request.path[len(API_PREFIX) :]
        response = self._statement(request) if endpoint == STATEMENT else super().handle(request)
        if response.status == HTTPStatus.UNAUTHORIZED and self.shape.refused_token is not None:
            return _answer(self.shape.refused_token, request)
        if response.status != HTTPStatus.OK:
            return response
        body = simplejson.loads(response.body, use_decimal=True)
        if endpoint == PROFILES and self.shape.profile_template is not None:
            body = {**body, "customer": [_fill(p, self.shape.profile_template) for p in body["customer"]]}
        elif endpoint == ACCOUNTS and self.shape.account_template is not None:
            body = [_fill(a, self.shape.account_template) for a in body]
        elif endpoint == STATEMENT:
            body = style_statement(body, self.shape)
        return json_response(body)

    def _statement(self, request: Request) -> Response:
        query = request.query
        first, last = _day(query.get("FromDate")), _day(query.get("ToDate"))
        info = self.ledger.account(str(query.get("Iban") or "").strip().upper())
        if first is None or last is None or info is None:
            return super().handle(request)
        # The sandbox checks the token, the profile and the account on a one-day request.
        check = super().handle(_one_day(request, last))
        if check.status != HTTPStatus.OK:
            return check
        if (last - first).days + 1 > _MAX_DAYS and self.shape.long_range is not None:
            return _answer(self.shape.long_range, request)
        if last < info.opened and self.shape.before_history is not None:
            return _answer(self.shape.before_history, request)
        if last < info.opened and self.shape.before_history_rows == "no_acc":
            return json_response({"acc": []})
        if self.shape.more_days:
            first = min(first, max(first - dt.timedelta(days=self.shape.more_days), info.opened))
        if (first, last) == (last, last):
            return check
        segments = self.ledger.statement(info.iban, first, last)
        accs = [
            {"iban": info.iban, "acNo": info.iban[-10:], "ccy": s.currency, "stmt": statement_rows(s)}
            for s in segments
        ]
        if last < info.opened and self.shape.before_history_rows == "no_rows":
            for acc in accs:
                acc["stmt"] = []
        return json_response({"acc": accs})


def _day(text: str | None) -> dt.date | None:
    moment = parse_instant(text) if text else None
    return sofia_date(moment) if moment is not None else None


def _one_day(request: Request, day: dt.date) -> Request:
    query = dict(request.query)
    midnight = dt.datetime.combine(day, dt.time(0), SOFIA)
    query["FromDate"] = midnight.strftime("%Y-%m-%dT%H:%M:%S%z")
    query["ToDate"] = midnight.replace(hour=23, minute=59, second=59).strftime("%Y-%m-%dT%H:%M:%S%z")
    return replace(request, query_string=urlencode(query))


def _answer(answer: Answer, request: Request) -> Response:
    if HTTPStatus.MULTIPLE_CHOICES <= answer.status < HTTPStatus.BAD_REQUEST:
        return redirect(f"{request.origin}{answer.location or '/oauth2-server/login'}")
    if answer.body is None:
        return html_response("<html><body><h1>Error</h1></body></html>", answer.status)
    return json_response(answer.body, answer.status)


def _fill(real: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """The template's fields in its order: the sandbox's value where it has one, typed alike."""
    out: dict[str, Any] = {}
    for key, example in template.items():
        value = real.get(key, example)
        if isinstance(example, int) and not isinstance(example, bool) and isinstance(value, str):
            value = int(value) if value.isdigit() else value
        elif isinstance(example, str) and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        out[key] = value
    return out


def style_statement(body: dict[str, Any], shape: Shape) -> dict[str, Any]:
    """A sandbox statement answer rewritten in the shape's form."""
    elements = [_element(acc, shape) for acc in body.get("acc", [])]
    if shape.other_iban_element and elements:
        elements.append({**elements[0], **({"iban": OTHER_IBAN} if "iban" in elements[0] else {})})
    return {"acc": elements}


def _element(acc: dict[str, Any], shape: Shape) -> dict[str, Any]:
    rows = acc["stmt"]
    entries = [r for r in rows if r.get("trnType") not in SUMMARY]
    summaries = {r["trnType"]: r for r in rows if r.get("trnType") in SUMMARY}
    entries.sort(key=lambda r: (parse_instant(r["dateTime"]) or dt.datetime.min, r["acEntrySrNo"]))
    if shape.newest_first:
        entries.reverse()
    facts = _facts(entries, summaries)
    styled: list[dict[str, Any]] = []
    for part in shape.layout:
        if part == "*":
            styled.extend(_entry(r, shape) for r in entries)
        elif part in summaries:
            styled.append(_summary(part, summaries[part], facts, shape))
    keys = shape.element_keys or list(acc)
    return {k: styled if k == "stmt" else acc.get(k, shape.element_fill.get(k)) for k in keys}


def _facts(entries: list[dict[str, Any]], summaries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    debits = sum(1 for r in entries if r["dtkt"] == "DT")
    return {
        "opening": summaries["OP"]["acBal"] if "OP" in summaries else None,
        "closing": summaries["CL"]["acBal"] if "CL" in summaries else None,
        "debit": summaries["DT"]["amount"] if "DT" in summaries else None,
        "credit": summaries["CT"]["amount"] if "CT" in summaries else None,
        "debit_count": debits,
        "credit_count": len(entries) - debits,
        "zero": Decimal("0.00"),
    }


def _number(value: Any, shape: Shape) -> Any:
    if not isinstance(value, Decimal) or shape.amount_text is None:
        return value
    return str(value).replace(".", shape.amount_text)


def _stamp(value: Any, shape: Shape) -> Any:
    moment = parse_instant(value) if isinstance(value, str) else None
    if moment is None or shape.timestamp == "+HHMM":
        return value
    if shape.timestamp == "+HH:MM":
        return f"{value[:-2]}:{value[-2:]}"
    if shape.timestamp == "Z":
        return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)[:19]


def _entry(row: dict[str, Any], shape: Shape) -> dict[str, Any]:
    way = "debit" if row["dtkt"] == "DT" else "credit"
    out: dict[str, Any] = {}
    for key in shape.entry_keys or list(row):
        if key == "dtkt":
            out[key] = shape.dtkt.get(way)
        elif key == "amount":
            out[key] = _number(-row["amount"] if shape.signed and way == "debit" else row["amount"], shape)
        elif key == "acBal":
            out[key] = _number(row["acBal"], shape)
        elif key in ("dateTime", "valueDt"):
            out[key] = _stamp(row[key], shape)
        else:
            out[key] = row.get(key, shape.entry_fill.get(key))
    return out


def _summary(kind: str, row: dict[str, Any], facts: dict[str, Any], shape: Shape) -> dict[str, Any]:
    out: dict[str, Any] = {}
    meanings = shape.summary_fields.get(kind, {})
    for key in shape.summary_keys.get(kind) or shape.entry_keys or list(row):
        if key in ("acBal", "amount"):
            meaning = meanings.get(key, "zero")
            out[key] = None if meaning is None else _number(facts.get(meaning), shape)
        elif key == "dtkt":
            out[key] = shape.summary_dtkt.get(kind)
        elif key in ("dateTime", "valueDt"):
            out[key] = _stamp(row[key], shape)
        else:
            out[key] = row.get(key, shape.entry_fill.get(key) if key != "acEntrySrNo" else None)
    return out


class ReplaySandbox(Sandbox):
    """A `Sandbox` whose answers take `shape`'s form."""

    def __init__(self, shape: Shape, seed: int = 1, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        faults = kwargs.get("faults") or Faults()
        self._app = ReplayApp(
            shape, generate(seed, self.today, self.scale), faults, seed, self.username, self.password
        )
        self.shape = shape


def replay_sandbox(path: str, **kwargs: Any) -> ReplaySandbox:
    """A sandbox in the shape of the capture at `path` (`--replay`)."""
    from pathlib import Path

    from .shape import shape_from_capture

    capture = simplejson.loads(Path(path).read_text(encoding="utf-8"), use_decimal=True)
    if not isinstance(capture, dict) or capture.get("format") != "tap-fibank-capture":
        msg = f"{path} is not a tap-fibank-doctor capture"
        raise ValueError(msg)
    return ReplaySandbox(shape_from_capture(capture), **kwargs)
