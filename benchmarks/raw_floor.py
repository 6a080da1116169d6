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

import datetime as dt
import sys

import orjson
from floor import SUMMARY, UTC, statement_answers


def main() -> None:
    out = open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)  # noqa: SIM115
    for customer_id, account, answer in statement_answers(__doc__.split("\n", 1)[0], orjson.loads):
        iban = account["ibanAcNo"]
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
