"""The redaction itself: masked IBANs, the log filter, and config errors that do not quote a secret.

The fault matrix (test_bank_faults.py) runs at DEBUG log level and checks each of its runs for
leaks (support/leaks.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from support.tapruns import run_tap

from tap_fibank.privacy import SECRETS, RedactingFilter, mask_iban, mask_ibans


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
