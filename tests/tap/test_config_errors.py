"""Settings: bad input gets one clear line and its own exit code, before anything is sent."""

from __future__ import annotations

import json
import subprocess

import pytest
from support.tapruns import TAP, run_tap

from tap_fibank.config import settings
from tap_fibank.tap import TapFibank


def one_error_line(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.startswith("tap-fibank: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("url", ["http://my.fibank.bg", "http://10.0.0.5:8080", "ftp://my.fibank.bg"])
def test_a_password_is_never_sent_without_tls_except_to_loopback(tmp_path, url):
    run = run_tap(tmp_path, {"base_url": url, "username": "u", "password": "secret-pw"})
    assert run.returncode == 2
    line = one_error_line(run.stderr)
    assert "base_url" in line
    assert "secret-pw" not in run.stderr


def test_missing_credentials_do_not_fall_back_to_the_sandbox(tmp_path):
    run = run_tap(tmp_path, {})
    assert run.returncode == 2
    line = one_error_line(run.stderr)
    assert "username and password are required" in line
    assert "sandbox" in line
    assert not run.records


@pytest.mark.parametrize(
    ("setting", "value"),
    [("window_days", 31), ("window_days", 0), ("lookback_days", -1), ("start_date", "yesterday")],
)
def test_out_of_range_settings_are_refused_with_the_setting_named(tmp_path, setting, value):
    run = run_tap(tmp_path, {"sandbox": True, setting: value})
    assert run.returncode == 2
    assert setting in one_error_line(run.stderr) or str(value) in one_error_line(run.stderr)


def test_about_lists_every_setting_with_its_type():
    result = subprocess.run([*TAP, "--about", "--format=json"], capture_output=True, text=True, check=True)
    about = json.loads(result.stdout)
    properties = about["settings"]["properties"]
    expected = {
        "username": "string",
        "password": "string",
        "start_date": "string",
        "end_date": "string",
        "lookback_days": "integer",
        "window_days": "integer",
        "ibans": "array",
        "customer_ids": "array",
        "base_url": "string",
        "sandbox": "boolean",
        "request_timeout": "number",
        "max_retries": "integer",
        "max_concurrency": "integer",
        "strict_statements": "boolean",
        "fail_on_skipped_accounts": "boolean",
    }
    for name, kind in expected.items():
        assert kind in json.dumps(properties[name]["type"]), name
        assert properties[name].get("description"), name
    assert properties["password"].get("secret") is True
    assert properties["username"].get("secret") is True
    assert properties["start_date"]["default"] == "1993-02-27"
    assert properties["start_date"]["format"] == "date"
    assert properties["window_days"]["maximum"] == 30


def test_every_description_belongs_to_a_setting():
    # The settings are built from a table of types and a table of descriptions: a description
    # left behind by a rename would be unused without a word (a missing one fails on import).
    assert set(settings._DESCRIPTIONS) == set(settings.SETTINGS.to_dict()["properties"])


def test_discovery_offers_the_four_streams_with_their_keys():
    catalog = json.loads(json.dumps(TapFibank(config={"sandbox": True}).catalog_dict))
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(streams) == {"customers", "accounts", "transactions", "statements"}
    assert streams["transactions"]["key_properties"] == ["iban", "entry_id"]
    assert streams["accounts"]["key_properties"] == ["iban"]
    assert streams["statements"]["key_properties"] == ["iban", "date_from", "date_to"]
    assert streams["transactions"]["replication_key"] == "booking_date"
