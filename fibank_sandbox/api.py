"""The JSON API under ``/EBank/api/v1/``: profiles, accounts, statements, statement lists.

The statement answer is where the tap's correctness lives: the 30-day refusal, the summary rows
mixed in with the entries, entries newest first, and the two-currency answer across the euro
changeover. Each is produced here as fibank-api.md describes or, where it only infers, as
``docs/sandbox.md`` records.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from . import variants
from .auth import Token
from .ledger import ZERO, Segment
from .model import (
    SOFIA,
    AccountInfo,
    CustomerProfile,
    Entry,
    format_day,
    format_instant,
    parse_instant,
    sofia_date,
)
from .state import BankState
from .wire import Request, Response, error_json, json_response

MAX_RANGE_DAYS = 30
LATE_POSTING_AMOUNT = Decimal("12.34")


def _customer(app: BankState, request: Request, token: Token) -> CustomerProfile | Response:
    """The profile named by ``EBank-Cust-Id``, if this login may act for it."""
    raw = request.headers.get("ebank-cust-id", "").strip()
    if not raw:
        return error_json(HTTPStatus.BAD_REQUEST, "Bad Request", "Липсва заглавие EBank-Cust-Id.")
    allowed = app.auth.customer_ids(token.user)
    for profile in app.customers:
        if profile.customer_id == raw and raw in allowed:
            return profile
    return error_json(HTTPStatus.FORBIDDEN, "Forbidden", "Нямате достъп до този клиент.")


def _account(app: BankState, profile: CustomerProfile, iban: str) -> AccountInfo | Response:
    """The account with this IBAN, if it belongs to the profile."""
    info = app.ledger.account(iban.strip().upper())
    if info is None or info.customer_id != profile.customer_id:
        return error_json(HTTPStatus.FORBIDDEN, "Forbidden", "Нямате достъп до тази сметка.")
    return info


def _day(text: str | None) -> date | None:
    """The Sofia calendar date of a FromDate/ToDate parameter.

    Tolerates a value encoded twice (``%2B0200`` after decoding), as the 2022 connector sent
    ``FromDate`` and the bank answered it.
    """
    if text and "%" in text:
        text = unquote(text)
    moment = parse_instant(text) if text else None
    return sofia_date(moment) if moment is not None else None


def cust_query(app: BankState, request: Request, token: Token) -> Response:
    """``getCustQuery``: the profiles this login may act for, the person's first."""
    allowed = app.auth.customer_ids(token.user)
    profiles = [p.as_json() for p in app.customers if p.customer_id in allowed]
    if app.faults.profile_without_id:
        profiles.append({"customerName": "Профил без номер", "custType": "P"})
    return json_response({"customer": profiles})


def filtered_accounts(app: BankState, request: Request, token: Token) -> Response:
    """``getFilteredAccounts``: the profile's accounts with today's currency and balance."""
    profile = _customer(app, request, token)
    if isinstance(profile, Response):
        return profile
    status = app.faults.business_accounts_status
    if profile.kind == "business" and status != HTTPStatus.OK:
        return error_json(status, "Refused", "Нямате достъп до сметките на този клиент.")
    answer: list[dict[str, Any]] = []
    for info in app.ledger.accounts:
        if info.customer_id != profile.customer_id:
            continue
        balance, currency = app.ledger.balance_on(info.iban, app.today)
        blocked = ZERO if info.kind == "deposit" or "busy" not in info.tags else Decimal("23.40")
        blocked = min(blocked, max(balance, ZERO))
        answer.append(
            {
                "ibanAcNo": info.iban,
                "acNo": info.iban[-10:],
                "ccy": currency,
                "acName": info.name,
                "acType": "DEPOSIT" if info.kind == "deposit" else "CURRENT",
                "custId": int(info.customer_id),
                "curBal": balance,
                "avlBal": balance - blocked,
                "blockedAmt": blocked,
                "openDate": format_day(info.opened),
                "status": "A",
                "isPSD2": False,
            }
        )
    return json_response(answer)


def _summary(
    kind: str, name: str, when: str, amount: Decimal, balance: Decimal | None, dtkt: str | None
) -> dict[str, Any]:
    """A summary row (OP, DT, CT, CL): the entry row's shape with the totals in it."""
    return {
        "acEntrySrNo": None,
        "reference": "",
        "acBal": balance,
        "amount": amount,
        "dtkt": dtkt,
        "dateTime": when,
        "valueDt": when,
        "contragent": None,
        "benOrderParty": None,
        "trname": name,
        "trnAccount": "",
        "trnType": kind,
        "trnCode": None,
        "isEbankOper": "N",
        "isPayment": "N",
        "loadAsNew": "N",
        "remI": None,
        "remIi": None,
        "remIii": None,
    }


def statement_rows(segment: Segment) -> list[dict[str, Any]]:
    """OP, the entries newest first, DT, CT, CL: the order the sandbox serves (see docs)."""
    totals = (segment.opening, segment.debit_turnover, segment.credit_turnover, segment.closing)
    return _rows(segment.first_day, segment.last_day, segment.entries, totals)


def _rows(
    first: date, last: date, entries: tuple[Entry, ...], totals: tuple[Decimal, Decimal, Decimal, Decimal]
) -> list[dict[str, Any]]:
    """The rows of one element, given its summary totals (OP, DT, CT, CL), which need not add up."""
    opening, debit, credit, closing = totals
    end = format_instant(datetime.combine(last, time(23, 59, 59), SOFIA))
    rows = [_summary("OP", "Начално салдо", format_day(first), opening, opening, None)]
    rows.extend(entry.row for entry in reversed(entries))
    rows.append(_summary("DT", "Дебитен оборот", end, debit, None, "DT"))
    rows.append(_summary("CT", "Кредитен оборот", end, credit, None, "KT"))
    rows.append(_summary("CL", "Крайно салдо", end, closing, closing, None))
    return rows


def mixed_rows(before: Segment, after: Segment) -> list[dict[str, Any]]:
    """The ``changeover_element=mixed`` rows: both currencies' entries, summed as plain numbers.

    OP is the lev opening and CL the euro closing, so the summary cannot add up; each entry keeps
    its own balance, lev before 2026 and euro from it.
    """
    debit = before.debit_turnover + after.debit_turnover
    credit = before.credit_turnover + after.credit_turnover
    entries = before.entries + after.entries
    return _rows(before.first_day, after.last_day, entries, (before.opening, debit, credit, after.closing))


def _truncate(app: BankState, accs: list[dict[str, Any]]) -> None:
    """Drop at least one entry row, keeping the summary rows (the ``truncate_rate`` fault)."""
    spots = [
        (i, j)
        for i, acc in enumerate(accs)
        for j, row in enumerate(acc["stmt"])
        if row["acEntrySrNo"] is not None
    ]
    count = 1 + app.plan.randrange(max(1, len(spots) // 3))
    doomed: set[tuple[int, int]] = set()
    while len(doomed) < count:
        doomed.add(spots[app.plan.randrange(len(spots))])
    for i, acc in enumerate(accs):
        acc["stmt"] = [row for j, row in enumerate(acc["stmt"]) if (i, j) not in doomed]


def cust_bal(app: BankState, request: Request, token: Token) -> Response:
    """``GetCustBal``: one account's statement for a range of Sofia calendar days."""
    profile = _customer(app, request, token)
    if isinstance(profile, Response):
        return profile
    query = request.query
    missing = [n for n in ("FromDate", "ToDate", "Iban") if not query.get(n)]
    if missing:
        return error_json(HTTPStatus.BAD_REQUEST, "Bad Request", f"Липсващ параметър: {', '.join(missing)}")
    first, last = _day(query["FromDate"]), _day(query["ToDate"])
    if first is None or last is None:
        return error_json(HTTPStatus.BAD_REQUEST, "Bad Request", "Невалиден формат на дата.")
    info = _account(app, profile, query["Iban"])
    if isinstance(info, Response):
        return info
    options = {k: v for k, v in query.items() if k not in ("FromDate", "ToDate", "Iban")}
    app.counters.statement(info.iban, first, last, options)
    early = _refused_range(app, first, last) or _odd_window(app, request, info, first, last)
    if early is not None:
        return early
    first, last = variants.served_range(app.faults, info, first, last)
    accs = _accs(app, info, first, last)
    if app.faults.other_iban_acc:
        mine = info.customer_id
        other = next(a for a in app.ledger.accounts if a.iban != info.iban and a.customer_id == mine)
        accs.extend(_accs(app, other, first, last))
    if any(row["acEntrySrNo"] is not None for acc in accs for row in acc["stmt"]) and (
        app.plan.chance(app.faults.truncate_rate) or first.isoformat() == app.faults.truncate_window_start
    ):
        _truncate(app, accs)
        app.counters.fault("truncated")
    for acc in accs:
        variants.rewrite_rows(app.faults, acc["stmt"])
        variants.restamp_entries(app.faults, acc["stmt"])
        variants.renumber_entries(app.faults, acc["stmt"], first)
    _maybe_post_late(app, info, first, last)
    return json_response({"acc": accs})


def _odd_window(
    app: BankState, request: Request, info: AccountInfo, first: date, last: date
) -> Response | None:
    """The answer to a window that fails, comes back bare or lies before the account, if any."""
    faults = app.faults
    day = first.isoformat()
    if "statement_500" in info.tags or day == faults.failing_window_start:
        return variants.no_data_found(request)
    if faults.served_days and first < app.today - timedelta(days=faults.served_days):
        return variants.no_data_found(request)
    if day == faults.bare_window_start and (
        faults.bare_window_mode == "always" or app.plan.once(f"bare {day}")
    ):
        app.counters.fault("bare_window")
        return json_response({"acc": [_element(app, info, info.currency_on(first), [])]})
    if last < info.opened:
        return variants.before_opening(app.faults, request, info)
    return None


def _element(
    app: BankState, info: AccountInfo, currency: str | None, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """One ``acc`` element; ``ccy`` left out where the bank names no currency (see the knobs)."""
    element: dict[str, Any] = {"iban": info.iban, "acNo": info.iban[-10:]}
    if currency is not None and variants.names_currency(app.faults, info):
        element["ccy"] = currency
    element["stmt"] = rows
    return element


def _accs(app: BankState, info: AccountInfo, first: date, last: date) -> list[dict[str, Any]]:
    """The ``acc`` elements of one account's statement: one per currency part, unless a knob says one."""
    faults = app.faults
    shift = SHIFTED_HISTORY if faults.history == "shifted" else Decimal(0)
    segments = app.ledger.statement(info.iban, first, last, faults.history != "as_booked", shift)
    if len(segments) == 2 and faults.changeover_element == "mixed":
        return [_element(app, info, None, mixed_rows(*segments))]
    return [_element(app, info, s.currency, statement_rows(s)) for s in segments]


# ``history=shifted``: a re-denominated history whose balances miss the 2026 ones by a cent.
SHIFTED_HISTORY = Decimal("0.01")


def _refused_range(app: BankState, first: date, last: date) -> Response | None:
    """Ranges over 30 days are counted; refused only with ``refuse_long_ranges`` (the web page's rule).

    The 2022 connector asked for decades at once and got 200, so the API itself accepts them.
    """
    days = (last - first).days + 1
    if days > MAX_RANGE_DAYS:
        app.counters.add("long_ranges")
    if first > last or (days > MAX_RANGE_DAYS and app.faults.refuse_long_ranges):
        app.counters.add("refusals")
        return json_response(
            {
                "status": HTTPStatus.BAD_REQUEST,
                "error": "Bad Request",
                "code": "ERR_PERIOD",
                "message": "Периодът не може да бъде повече от 30 дни.",
            },
            HTTPStatus.BAD_REQUEST,
        )
    return None


def _maybe_post_late(app: BankState, info: AccountInfo, first: date, last: date) -> None:
    """The ``late_posting_days`` fault: once a window covering that day was served, book into it."""
    days = app.faults.late_posting_days
    if days is None:
        return
    target = app.today - timedelta(days=days)
    if first <= target <= last and target >= info.opened:
        app.faults.late_posting_days = None
        app.ledger.post(info.iban, target, LATE_POSTING_AMOUNT, "credit")
        app.counters.fault("late_posting")


def _months(first: date, last: date) -> list[tuple[date, date]]:
    """The calendar months that overlap [first, last], as (first day, last day)."""
    months = []
    cursor = first.replace(day=1)
    while cursor <= last:
        end = cursor.replace(day=calendar.monthrange(cursor.year, cursor.month)[1])
        months.append((cursor, end))
        cursor = end + timedelta(days=1)
    return months


def stmt_list(app: BankState, request: Request, token: Token) -> Response:
    """``getAccStmtList``: the monthly statements closed in the range (shape inferred)."""
    profile = _customer(app, request, token)
    if isinstance(profile, Response):
        return profile
    query = request.query
    iban = query.get("Iban") or query.get("AccountNo") or ""
    if not iban:
        return error_json(HTTPStatus.BAD_REQUEST, "Bad Request", "Липсващ параметър: Iban")
    first, last = _day(query.get("FromDate")), _day(query.get("ToDate"))
    if first is None or last is None:
        return error_json(HTTPStatus.BAD_REQUEST, "Bad Request", "Невалиден формат на дата.")
    info = _account(app, profile, iban)
    if isinstance(info, Response):
        return info
    answer: list[dict[str, Any]] = []
    for month_start, month_end in _months(max(first, info.opened), last):
        if month_end >= app.today:
            break  # the current month has no statement yet
        redenominated = app.faults.history == "redenominated"
        segment = app.ledger.statement(info.iban, month_start, month_end, redenominated)[0]
        answer.append(
            {
                "stmtId": int(f"{month_start:%Y%m}{info.iban[-4:]}"),
                "stmtNo": month_start.month,
                "year": month_start.year,
                "iban": info.iban,
                "ccy": segment.currency,
                "periodFrom": format_day(month_start),
                "periodTo": format_day(month_end),
                "stmtDate": format_day(month_end + timedelta(days=1)),
                "openBal": segment.opening,
                "closeBal": segment.closing,
                "dtTurnover": segment.debit_turnover,
                "ktTurnover": segment.credit_turnover,
                "entriesCount": len(segment.entries),
                "fileName": f"STMT_{info.iban}_{month_start:%Y%m}.pdf",
            }
        )
    return json_response(answer)
