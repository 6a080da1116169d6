"""Settings: bad input gets one clear line and its own exit code, before anything is sent."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.tapruns import TAP, run_tap, sandbox_config

from fibank_sandbox import Sandbox
from tap.test_bank_faults import PERSON, RECENT, assert_equals_truth, truth
from tap_fibank.tap import TapFibank


def about() -> dict[str, Any]:
    """What `tap-fibank --about --format=json` prints, from the real CLI."""
    result = subprocess.run([*TAP, "--about", "--format=json"], capture_output=True, text=True, check=True)
    about: dict[str, Any] = json.loads(result.stdout)
    return about


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
    ("setting", "value", "rule"),
    [
        ("window_days", 31, "the maximum of 30"),
        ("window_days", 0, "the minimum of 1"),
        ("lookback_days", -1, "the minimum of 0"),
        ("start_date", "yesterday", "a date like 2024-01-31"),
    ],
)
def test_out_of_range_settings_are_refused_with_the_setting_value_and_rule_named(
    tmp_path, setting, value, rule
):
    run = run_tap(tmp_path, {"sandbox": True, setting: value})
    assert run.returncode == 2
    line = one_error_line(run.stderr)
    assert re.search(rf"\b{setting}\b", line), line
    # The value refused, as a token of its own ("0" must not be found inside "30").
    assert re.search(rf"(?<![\w.-]){re.escape(str(value))}(?![\w.])", line), line
    assert rule in line


def test_about_lists_every_setting_with_its_type():
    properties = about()["settings"]["properties"]
    expected = {
        "username": "string",
        "password": "string",
        "password_command": "array",
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
        "history_reprobe_days": "integer",
        "login": "string",
    }
    for name, kind in expected.items():
        assert kind in json.dumps(properties[name]["type"]), name
        assert properties[name].get("title"), name
        assert properties[name].get("description"), name
    assert {name for name, p in properties.items() if p.get("secret")} == {"username", "password"}
    assert properties["start_date"]["default"] == "1993-02-27"
    assert properties["start_date"]["format"] == "date"
    assert properties["window_days"]["maximum"] == 30
    assert properties["base_url"]["default"] == "https://my.fibank.bg"


def test_a_setting_about_marks_secret_is_named_in_an_error_without_its_value(tmp_path):
    secrets = [name for name, p in about()["settings"]["properties"].items() if p.get("secret")]
    assert secrets
    for name in secrets:
        (tmp_path / name).mkdir()
        run = run_tap(tmp_path / name, {"sandbox": True, name: 48151623})
        assert run.returncode == 2
        line = one_error_line(run.stderr)
        assert name in line
        assert "48151623" not in run.stderr


NULLABLE = (
    "end_date", "ibans", "customer_ids", "login", "lookback_days", "window_days", "max_concurrency",
    "history_reprobe_days", "request_timeout", "fail_on_skipped_accounts", "strict_statements",
    "password_command", "sandbox",
)  # fmt: skip


def without_run_time(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "run_started_at"} for r in records]


def test_a_setting_given_as_null_counts_as_not_given(tmp_path: Path) -> None:
    with Sandbox(seed=1) as bank:
        config = sandbox_config(bank, RECENT.isoformat())
        (tmp_path / "absent").mkdir()
        (tmp_path / "null").mkdir()
        absent = run_tap(tmp_path / "absent", config)
        nulls = run_tap(tmp_path / "null", {**config, **dict.fromkeys(NULLABLE)})
    assert absent.returncode == 0, absent.stderr[-3000:]
    assert nulls.returncode == 0, nulls.stderr[-3000:]
    # Every account of every profile (ibans, customer_ids), through today (end_date).
    assert_equals_truth(nulls.records["transactions"], truth(bank, RECENT))
    for stream in ("customers", "accounts", "transactions", "statements"):
        assert without_run_time(nulls.records[stream]) == without_run_time(absent.records[stream]), stream
    # The default's 30-day windows (window_days): 46 days are read as 30 + 16.
    days = {(dt.date.fromisoformat(r["date_to"]) - dt.date.fromisoformat(r["date_from"])).days + 1
            for r in nulls.records["statements"]}  # fmt: skip
    assert max(days) == 30
    assert nulls.state == absent.state


def test_a_customer_ids_entry_that_matches_nothing_fails_the_run_when_asked_and_is_named(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=1) as bank:
        config = sandbox_config(
            bank, RECENT.isoformat(), customer_ids=[PERSON, "1234567"], fail_on_skipped_accounts=True
        )
        run = run_tap(tmp_path, config)
    assert run.returncode == 6, run.stderr[-3000:]
    line = one_error_line(run.stderr)
    assert "customer_ids entry 1234567, which matches nothing" in line
    assert "(fail_on_skipped_accounts is on)" in line
    # Everything else was read: the person's accounts, in full.
    person = {a.iban for a in bank.accounts if a.customer_id == PERSON}
    assert_equals_truth(run.records["transactions"], truth(bank, RECENT, person))


def test_discovery_offers_the_four_streams_with_their_keys():
    catalog = json.loads(json.dumps(TapFibank(config={"sandbox": True}).catalog_dict))
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(streams) == {"customers", "accounts", "transactions", "statements"}
    assert streams["transactions"]["key_properties"] == ["iban", "entry_id"]
    assert streams["accounts"]["key_properties"] == ["iban"]
    assert streams["statements"]["key_properties"] == ["iban", "date_from", "date_to"]
    assert streams["transactions"]["replication_key"] == "booking_date"


def test_the_readme_settings_table_says_what_about_prints():
    """The README's table is written for people; its names, secrecy, defaults and descriptions
    are the tap's own, so a changed setting fails here until the table follows."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip(" |").split(" | ") for line in section.splitlines() if line.startswith("| `")]
    table = {row[0].strip("`"): [cell.strip() for cell in row] for row in rows}
    builtin: dict[str, Any] = {"properties": {}}
    TapFibank.append_builtin_config(builtin)  # the SDK's own (stream_maps...): the README points to them
    properties = {
        n: p for n, p in about()["settings"]["properties"].items() if n not in builtin["properties"]
    }
    assert set(table) == set(properties)
    for name, (_, _, _, secret, default, description) in table.items():
        prop = properties[name]
        assert secret == ("yes" if prop.get("secret") else "no"), name
        assert default == (json.dumps(prop["default"]).strip('"') if "default" in prop else ""), name
        assert description == prop["description"], name
