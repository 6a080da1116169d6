"""No secret leaks: the whole fault matrix again at DEBUG log level, and the redaction itself.

At DEBUG, urllib3 logs every request line (the IBAN is in the GetCustBal query string) and the
SDK logs its internals; the password, tokens, CSRF values and cookie values must still appear
nowhere in stdout, stderr or the state, IBANs in log lines only as their last four characters,
and no error quotes a response body (it may hold account data, or the token in a 401's text).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from support.bank import Runner, SecretBank
from support.tapruns import run_tap

from tap.test_bank_faults import MATRIX
from tap_fibank.privacy import SECRETS, RedactingFilter, mask_iban, mask_ibans

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


@pytest.mark.parametrize("scenario", MATRIX, ids=lambda s: s.__name__)
def test_the_fault_matrix_at_debug_level_leaks_no_secret(
    scenario: Callable[[Runner], None], tmp_path: Path
) -> None:
    with SecretBank(seed=1) as bank:
        runner = Runner(bank, tmp_path, env=DEBUG)
        scenario(runner)  # the same exact outcome as at INFO
        assert_nothing_secret(runner)


@pytest.mark.parametrize("secret", ["username", "password"])
def test_a_secret_setting_of_the_wrong_type_is_not_quoted_in_the_config_error(
    secret: str, tmp_path: Path
) -> None:
    config: dict[str, object] = {"username": "demo", "password": "pw", "base_url": "http://127.0.0.1:9"}
    config[secret] = 48151623
    run = run_tap(tmp_path, config)
    assert run.returncode == 2
    assert "48151623" not in run.stderr + run.stdout
    assert f"{secret} must be a text value" in run.stderr


def test_ibans_are_masked_to_their_last_four_characters() -> None:
    assert mask_iban("BG47FINV91501017006644") == "****6644"
    assert mask_iban("BG47 FINV 9150 1017 0066 44") == "****6644"
    line = '"GET /EBank/api/v1/sywsquery/sywsquery/GetCustBal?FromDate=x&Iban=BG47FINV91501017006644&S=T"'
    assert mask_ibans(line) == line.replace("BG47FINV91501017006644", "****6644")
    assert mask_ibans("to DE89370400440532013000 and BG80 BNBG 9661 1020 3456 78.") == (
        "to ****3000 and ****5678."
    )


def test_the_log_filter_redacts_secrets_ibans_and_exception_text() -> None:
    SECRETS.add("tok-3b1f9c0e-secret")
    try:
        raise RuntimeError("401 for token tok-3b1f9c0e-secret on BG47FINV91501017006644")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "urllib3.connectionpool",
            logging.DEBUG,
            __file__,
            1,
            "%s %s",
            ("Bearer tok-3b1f9c0e-secret", "Iban=BG47FINV91501017006644"),
            sys.exc_info(),
        )
    assert RedactingFilter().filter(record)
    text = record.getMessage()
    assert "tok-3b1f9c0e-secret" not in text and "BG47FINV91501017006644" not in text
    assert "Bearer [redacted]" in text and "Iban=****6644" in text
    assert record.exc_info is None and "RuntimeError: 401 for token [redacted] on ****6644" in text
