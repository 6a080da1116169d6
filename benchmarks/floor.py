"""The floor: the least work that produces the tap's transaction RECORD lines.

A plain script, no framework: one `requests` session logs in (the four steps of
fibank-api.md), lists the profiles and accounts, fetches every account's `GetCustBal` windows
(the tap's windows: 30 days from `start_date` through `end_date`), decodes them with exact
amounts and writes one RECORD line per entry, byte for byte what the tap writes except
`time_extracted`. It skips everything the tap adds on top: statement checks, bookmarks and
STATE messages, the other streams, retries, logging.

JSON: amounts must stay exact, so answers are decoded with msgspec (`float_hook=Decimal`) and
lines written with msgspec (Decimal as a JSON number). orjson, the historical floor, reads
numbers as floats and cannot write a Decimal as a number, so it cannot produce these lines.

    python benchmarks/floor.py --base-url http://127.0.0.1:8000 --start-date 2016-01-01 > out.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import requests

from tap_fibank.proof.columns import COLUMNS, copied, mapped_fields

SOFIA = ZoneInfo("Europe/Sofia")
UTC = dt.timezone.utc
API = "/EBank/api/v1/"
SUMMARY = {"OP", "CL", "DT", "CT"}
# The tap's column table (the one import of the tap): the bank fields it maps, the ones it copies.
MAPPED = mapped_fields(COLUMNS)
DIRECTION = {"DT": "debit", "D": "debit", "KT": "credit", "CT": "credit", "C": "credit", "K": "credit"}
FLAG = {"Y": True, "N": False}

decoder = msgspec.json.Decoder(float_hook=Decimal)
encoder = msgspec.json.Encoder(decimal_format="number")


def text(value: object) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def flag(value: object) -> bool | None:
    return None if value in (None, "") else FLAG[str(value).strip().upper()]


READ: dict[str, Callable[[object], Any]] = {"text": text, "clean": text, "flag": flag}
# (column, how it is read, the bank's field) for the columns copied from one field, in order.
COPIED = [(column.name, READ[column.read], column.source[0]) for column in copied(COLUMNS) if column.read]


def log_in(http: requests.Session, base: str, username: str, password: str) -> str:
    http.get(f"{base}/oauth2-server/login", params={"client_id": "E_BANK"})
    page = http.get(
        f"{base}/oauth2-server/oauth/authorize",
        params={
            "response_type": "token",
            "client_id": "E_BANK",
            "redirect_uri": "/EBank/",
            "scope": "E_BANK",
            "state": str(uuid.uuid4()),
        },
    )
    csrf = re.search(r'<meta name="_csrf" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    http.get(
        f"{base}/oauth2-server/api/v1/sywscertificate/fnGetCertsForLogin",
        params={"client_id": "E_BANK", "userName": username},
    )
    final = http.post(
        f"{base}/oauth2-server/login",
        data={
            "username": username,
            "password": password,
            "system": "",
            "client_id": "E_BANK",
            "lang": "bg",
            "time": dt.datetime.now(SOFIA).strftime("%Y-%m-%dT%H:%M:%S%z"),
            "_csrf": csrf,
            "sig": "",
        },
    )
    fragment = final.history[1].headers["Location"].split("#", 1)[1]
    return dict(p.split("=", 1) for p in fragment.split("&"))["access_token"]


def windows(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    out = []
    while start <= end:
        last = min(start + dt.timedelta(days=29), end)
        out.append((start, last))
        start = last + dt.timedelta(days=1)
    return out


def stamp(day: dt.date, time: dt.time) -> str:
    return dt.datetime.combine(day, time, SOFIA).strftime("%Y-%m-%dT%H:%M:%S%z")


def record(row: dict, iban: str, customer_id: str, currency: str | None) -> tuple[tuple, dict]:
    booked_at = dt.datetime.fromisoformat(row["dateTime"])
    value_dt = row.get("valueDt")
    direction = DIRECTION[row["dtkt"].strip().upper()]
    amount = row["amount"]
    extra = {k: v for k, v in row.items() if k not in MAPPED}
    entry_id = int(row["acEntrySrNo"])
    rec = {
        "iban": iban,
        "customer_id": customer_id,
        "entry_id": entry_id,
        "booking_date": booked_at.astimezone(SOFIA).date().isoformat(),
        "booked_at": booked_at.isoformat(),
        "value_date": dt.datetime.fromisoformat(value_dt).astimezone(SOFIA).date().isoformat()
        if value_dt
        else None,
        "direction": direction,
        "amount": amount,
        "signed_amount": amount if direction == "credit" else -amount,
        "balance_after": row.get("acBal"),
        "currency": currency,
    }
    for name, read, field in COPIED:
        rec[name] = read(row.get(field))
    rem = (rec["remittance_1"], rec["remittance_2"], rec["remittance_3"])
    rec["remittance_information"] = " ".join(r for r in rem if r) or None
    rec["extra"] = extra or None
    return (booked_at.astimezone(UTC), entry_id), rec


def statement_answers(
    description: str, decode: Callable[[bytes], Any]
) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Log in as the command line says, and yield (profile, account, answer) for every window.

    Shared by both floors, so they ask the bank exactly the same things as the tap does.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--start-date", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--ibans", default="", help="comma-separated; default every account")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    end = args.end_date or dt.datetime.now(SOFIA).date()
    wanted = {i for i in args.ibans.split(",") if i}

    http = requests.Session()
    token = log_in(http, base, args.username, args.password)
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/plain, */*",
        "Accept-Language": "bg",
        "EBank-App-Version": "1",
        "EBank-Device-Id": str(uuid.uuid4()),
        "X-Requested-With": "XMLHttpRequest",
    }

    def get(endpoint: str, customer_id: str | None = None, **params: str) -> Any:
        extra = {"EBank-Client-Time": dt.datetime.now(SOFIA).strftime("%Y-%m-%dT%H:%M:%S%z")}
        if customer_id:
            extra["EBank-Cust-Id"] = customer_id
        response = http.get(base + API + endpoint, params=params, headers={**headers, **extra})
        response.raise_for_status()
        return decode(response.content)

    plan = windows(args.start_date, end)
    for customer in get("sywsquery/sywsquery/getCustQuery")["customer"]:
        customer_id = str(customer["ibCustomerId"])
        for account in get("sywspicklist/sywspicklist/getFilteredAccounts", customer_id):
            if wanted and account["ibanAcNo"] not in wanted:
                continue
            for first, last in plan:
                yield (
                    customer_id,
                    account,
                    get(
                        "sywsquery/sywsquery/GetCustBal",
                        customer_id,
                        FromDate=stamp(first, dt.time(0, 0, 0)),
                        ToDate=stamp(last, dt.time(23, 59, 59)),
                        Iban=account["ibanAcNo"],
                        StmtType="T",
                        isAccountFromPSD2="false",
                    ),
                )


def login_column() -> str:
    """The tap's default `login` column for the command line's user (tap_fibank.bank.client.login_key)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--username", default="demo")
    username = parser.parse_known_args()[0].username
    return "login-" + hashlib.sha256(f"tap-fibank login {username}".encode()).hexdigest()[:12]


def main() -> None:
    login = login_column()
    # Its own 64 KiB buffer: the same whether or not PYTHONUNBUFFERED is set (it is, here).
    out = open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)  # noqa: SIM115
    for customer_id, account, answer in statement_answers(__doc__.split("\n", 1)[0], decoder.decode):
        iban = account["ibanAcNo"]
        extracted = dt.datetime.now(UTC)
        rows = [
            record(row, iban, customer_id, acc.get("ccy") or account.get("ccy"))
            for acc in answer["acc"]
            for row in acc["stmt"]
            if row["trnType"] not in SUMMARY
        ]
        rows.sort(key=lambda pair: pair[0])
        for _, rec in rows:
            rec["login"] = login
            out.write(
                encoder.encode(
                    {"type": "RECORD", "stream": "transactions", "record": rec, "time_extracted": extracted}
                )
            )
            out.write(b"\n")
    out.flush()


if __name__ == "__main__":
    main()
