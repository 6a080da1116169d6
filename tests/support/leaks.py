"""What a leak is: a secret, a whole IBAN or a response body in anything a run of the tap wrote.

At DEBUG, urllib3 logs every request line (the IBAN is in the GetCustBal query string) and the
SDK logs its internals; the password, tokens, CSRF values and cookie values must still appear
nowhere in stdout, stderr or the state, IBANs in log lines only as their last four characters,
and no error may quote a response body (it may hold account data, or the token in a 401's text).
The fault matrix runs at DEBUG and checks every run with `assert_nothing_secret`.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

from support.bank import Runner

DEBUG = {"TAP_FIBANK_LOGLEVEL": "DEBUG"}
IBAN_LIKE = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]){11,30}\b")
# Text that only a response body holds: the failing account's Oracle error, the 500 and 429
# pages, a 401's description (which quotes the token), statement rows, HTML pages.
BODY_TEXT = (
    "ORA-01403",
    "Възникна техническа грешка",
    "Твърде много заявки",
    "error_description",
    "Invalid access token",
    "Access token expired",
    '"stmt"',
    "acEntrySrNo",
    "<html",
    "Грешно потребителско име",
)


def assert_nothing_secret(runner: Runner) -> None:
    """Every run of the runner: no secret in stdout, stderr or state; logs mask IBANs, quote no body."""
    bank = runner.bank
    secrets = set(bank.issued_secrets())  # every session id, CSRF value and token the bank issued
    for password in runner.passwords:
        secrets |= {password, quote_plus(password), quote(password, safe="")}
    assert runner.passwords
    for run in runner.runs:
        assert "| DEBUG" in run.stderr, "the run did not log at DEBUG"
        outputs = {"stdout": run.stdout, "stderr": run.stderr, "state": json.dumps(run.state)}
        for where, text in outputs.items():
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{where} holds {len(leaked)} secret(s)"
        assert not IBAN_LIKE.findall(run.stderr), IBAN_LIKE.findall(run.stderr)[:3]
        for text in BODY_TEXT:
            assert text not in run.stderr, text
    if bank.counters()["calls"]["GetCustBal"]:
        # The request lines urllib3 logs at DEBUG were there, and masked.
        assert any(re.search(r"GetCustBal\?\S*Iban=\*\*\*\*\d{4}", run.stderr) for run in runner.runs)
