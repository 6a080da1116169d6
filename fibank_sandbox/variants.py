"""The variant knobs: answers the live bank may plausibly give that the 2022 connector never saw.

Each knob is off by default (the sandbox then answers as it always did); switched on, it changes
one thing the tap might wrongly assume: how a window before an account existed is answered,
what the summary rows hold, how the debit/credit flag is spelled, whether the range asked for is
honoured, and whether ``acc`` holds another account's statement too.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from .model import SOFIA, AccountInfo, format_instant
from .wire import Request, Response, json_response

if TYPE_CHECKING:
    from .faults import Faults

SUMMARY_TYPES = frozenset({"OP", "CL", "DT", "CT"})
UNKNOWN_DTKT = {"DT": "Дт.", "KT": "Кт."}  # a spelling no parser of the tap knows


def before_opening(faults: Faults, request: Request, info: AccountInfo) -> Response | None:
    """The answer to a window wholly before the account's first day, or None for the usual one."""
    mode = faults.before_opening
    if mode == "500":
        return no_data_found(request)
    if mode == "400":
        return json_response(
            {
                "status": HTTPStatus.BAD_REQUEST,
                "error": "Bad Request",
                "message": "Сметката не съществува за този период.",
            },
            HTTPStatus.BAD_REQUEST,
        )
    if mode == "empty":
        element: dict[str, Any] = {"iban": info.iban}
        if names_currency(faults, info):
            element["ccy"] = info.currency
        element["stmt"] = []
        return json_response({"acc": [element]})
    return None


def names_currency(faults: Faults, info: AccountInfo) -> bool:
    """Whether this account's statement elements carry ``ccy``.

    Not with ``ccy=absent``; nor for a converted account with ``history=redenominated``, a bank
    that shows the whole history in euro and names no currency for it.
    """
    if faults.ccy == "absent":
        return False
    return not (faults.history != "as_booked" and info.converted and info.currency == "EUR")


def no_data_found(request: Request) -> Response:
    """The 500 the bank gave the connector for some accounts (an Oracle "no data found")."""
    return json_response(
        {
            "timestamp": format_instant(datetime.now(SOFIA)),
            "status": HTTPStatus.INTERNAL_SERVER_ERROR,
            "error": "Internal Server Error",
            "message": "ORA-01403: no data found (SYWS_QUERY.GET_CUST_BAL)",
            "path": request.path,
        },
        HTTPStatus.INTERNAL_SERVER_ERROR,
    )


def served_range(faults: Faults, info: AccountInfo, first: date, last: date) -> tuple[date, date]:
    """The days the bank answers for: those asked, or more where it ignores the range."""
    if faults.ignore_range:
        return info.opened, max(last, info.opened)
    if faults.range_slack_days > 0:
        return first.fromordinal(first.toordinal() - faults.range_slack_days), last
    return first, last


def rewrite_rows(faults: Faults, rows: list[dict[str, Any]]) -> None:
    """Apply the summary-row and dtkt variants to one ``stmt`` list, in place."""
    summary, dtkt = faults.summary_rows, faults.dtkt
    if summary == "none":
        rows[:] = [row for row in rows if row.get("trnType") not in SUMMARY_TYPES]
    counts = {"DT": 0, "CT": 0}
    for row in rows:
        kind = row.get("trnType")
        if kind in SUMMARY_TYPES:
            continue
        counts["DT" if row["dtkt"] == "DT" else "CT"] += 1
        if dtkt == "missing_signed":
            flag = row.pop("dtkt")
            row["amount"] = -row["amount"] if flag == "DT" else row["amount"]
        elif dtkt == "unknown":
            row["dtkt"] = UNKNOWN_DTKT[row["dtkt"]]
    for row in rows:
        kind = row.get("trnType")
        if kind in ("DT", "CT") and summary == "counts":
            row["amount"] = Decimal(counts[kind])
        elif kind in ("OP", "CL") and summary == "amount_only":
            row.pop("acBal", None)
        elif kind in ("OP", "CL") and summary == "null_acbal":
            row["acBal"] = None


def renumber_entries(faults: Faults, rows: list[dict[str, Any]], first: date) -> None:
    """Give every entry row the ``entry_number`` knob's JSON text as its amount (or balance), if set.

    ``NaN`` and ``Infinity`` are no JSON (the sandbox's encoder writes them as bare words, as a
    lenient encoder on the bank's side would); ``"NaN"`` is a string no amount can be.
    """
    start = faults.entry_number_window_start
    if not faults.entry_number or (start and start != first.isoformat()):
        return
    text = faults.entry_number
    value: object = json.loads(text) if text.startswith('"') else Decimal(text)
    for row in rows:
        if row.get("trnType") not in SUMMARY_TYPES:
            row[faults.entry_number_field] = value


def restamp_entries(faults: Faults, rows: list[dict[str, Any]]) -> None:
    """Give every entry row the ``entry_timestamp`` knob's text as its ``dateTime``, if set.

    A timestamp such as ``9999-12-31T23:59:59-1400`` parses but has no instant a calendar can
    hold: a bank answer the tap's code does not expect, and not one it reports as a bank error.
    """
    if not faults.entry_timestamp:
        return
    for row in rows:
        if row.get("trnType") not in SUMMARY_TYPES:
            row["dateTime"] = faults.entry_timestamp
