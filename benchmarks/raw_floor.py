"""The raw floor: the least work that moves the bank's entries to stdout as RECORD lines at all.

The second floor of `throughput.py`, below `floor.py`: the same login, the same accounts and the
same 30-day `GetCustBal` windows (floor.py's own functions), then each entry passed through as it
came: orjson decodes the answer (amounts become floats), the summary rows are left out, and every
other entry's fields are copied, next to the IBAN and customer, into a RECORD line written by
orjson. No typing, no exact amounts, no Sofia dates, no renaming, no sorting: these lines are not
the tap's (the benchmark checks only that there are as many), they show what reading and writing
the same data costs with nothing done to it.

    python benchmarks/raw_floor.py --base-url http://127.0.0.1:8000 --start-date 2016-01-01 > out.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from typing import Any

import orjson
import requests
from floor import API, SOFIA, SUMMARY, UTC, log_in, stamp, windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
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
        return orjson.loads(response.content)

    out = open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)  # noqa: SIM115
    plan = windows(args.start_date, end)
    for customer in get("sywsquery/sywsquery/getCustQuery")["customer"]:
        customer_id = str(customer["ibCustomerId"])
        for account in get("sywspicklist/sywspicklist/getFilteredAccounts", customer_id):
            iban = account["ibanAcNo"]
            if wanted and iban not in wanted:
                continue
            for first, last in plan:
                answer = get(
                    "sywsquery/sywsquery/GetCustBal",
                    customer_id,
                    FromDate=stamp(first, dt.time(0, 0, 0)),
                    ToDate=stamp(last, dt.time(23, 59, 59)),
                    Iban=iban,
                    StmtType="T",
                    isAccountFromPSD2="false",
                )
                extracted = dt.datetime.now(UTC).isoformat()
                for acc in answer["acc"]:
                    for row in acc["stmt"]:
                        if row["trnType"] in SUMMARY:
                            continue
                        record = {"iban": iban, "customer_id": customer_id, **row}
                        out.write(
                            orjson.dumps(
                                {
                                    "type": "RECORD",
                                    "stream": "transactions",
                                    "record": record,
                                    "time_extracted": extracted,
                                },
                                option=orjson.OPT_APPEND_NEWLINE,
                            )
                        )
    out.flush()


if __name__ == "__main__":
    main()
