"""tap-fibank-doctor over real HTTP: against the sandbox, against variants of it, and round trip.

Each variant is the sandbox answering in a `Shape` that differs from ours in one way the live bank
plausibly might (issue: the real bank). The doctor must name that difference and give the right
verdict; its capture, replayed by the sandbox (`--replay`), must show the same differences again,
and the real tap must read a replayed bank it survives completely.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
import simplejson
from support.bank import RECENT, assert_equals_truth, truth
from support.env import clean_env
from support.tapruns import run_tap, sandbox_config

from fibank_sandbox import Faults, Sandbox
from fibank_sandbox.replay import ReplaySandbox
from fibank_sandbox.shape import Answer, Shape, shape_from_capture
from tap_fibank.bank.clock import sofia_today
from tap_fibank.doctor.__main__ import parse_args, run

# The variant matrix has its own make target (make ci SUITE=matrix), which .ci/run runs too.
pytestmark = pytest.mark.matrix

DOCTOR = [sys.executable, "-m", "tap_fibank.doctor"]
NO_SUMMARY = Shape(layout=["*"])


def _counts() -> dict[str, dict[str, str | None]]:
    fields = Shape().summary_fields
    fields["DT"] = {"acBal": None, "amount": "debit_count"}
    fields["CT"] = {"acBal": None, "amount": "credit_count"}
    return fields


def _null_balances() -> dict[str, dict[str, str | None]]:
    fields = Shape().summary_fields
    fields["OP"] = {"acBal": None, "amount": "opening"}
    fields["CL"] = {"acBal": None, "amount": "closing"}
    return fields


ENTRY_KEYS_WITHOUT_DTKT = [
    "acEntrySrNo", "reference", "acBal", "amount", "dateTime", "valueDt", "contragent", "benOrderParty",
    "trname", "trnAccount", "trnType", "trnCode", "isEbankOper", "isPayment", "loadAsNew", "remI", "remIi",
    "remIii",
]  # fmt: skip
SERVER_ERROR = {"status": 500, "error": "Internal Server Error", "message": "ORA-01403: no data found"}

# name: (shape, the checks that must say DIFFERS, the verdict's kind)
VARIANTS: dict[str, tuple[Shape, set[str], str]] = {
    "before_history_answers_500": (
        Shape(before_history=Answer(500, SERVER_ERROR)),
        {"statement.before_history"},
        "works",
    ),
    "before_history_answers_400": (
        Shape(before_history=Answer(400, {"status": 400, "error": "Bad Request"})),
        {"statement.before_history"},
        "works",
    ),
    "before_history_answers_no_rows": (
        Shape(before_history_rows="no_rows"),
        {"statement.before_history"},
        "works",
    ),
    "no_summary_rows": (NO_SUMMARY, {"statement.summary_rows", "statement.before_history"}, "unverifiable"),
    "dt_ct_hold_counts": (
        Shape(summary_fields=_counts()),
        {"statement.balance", "statement.turnovers"},
        "unverifiable",
    ),
    # The tap reads OP/CL from `amount` when `acBal` is null: nothing differs that matters.
    "op_cl_acbal_null": (Shape(summary_fields=_null_balances()), set(), "works"),
    "sends_60_days_more_than_asked": (Shape(more_days=60), {"statement.window"}, "unverifiable"),
    "expired_token_403": (
        Shape(refused_token=Answer(403, {"status": 403, "error": "Forbidden"})),
        {"api.refused_token"},
        "works",
    ),
    "expired_token_redirects_to_login": (
        Shape(refused_token=Answer(302, None, "/oauth2-server/login")),
        {"api.refused_token"},
        "works",
    ),
    "dtkt_missing_signed_amounts": (
        Shape(entry_keys=ENTRY_KEYS_WITHOUT_DTKT, signed=True),
        {"statement.dtkt", "statement.amount_sign", "statement.fields"},
        "works",
    ),
    "dtkt_unknown_spelling": (
        Shape(dtkt={"debit": "DB-1", "credit": "CR-1"}),
        # Unreadable directions also leave the entries' totals and balance chain unexplained.
        {"statement.dtkt", "statement.turnovers", "statement.balance_chain"},
        "unverifiable",
    ),
    "acc_second_element_other_iban": (Shape(other_iban_element=True), {"statement.acc"}, "works"),
    "timestamps_in_utc_amounts_as_text": (
        Shape(timestamp="Z", amount_text=","),
        {"statement.offsets", "statement.numbers"},
        "works",
    ),
    "long_range_accepted": (Shape(long_range=None), set(), "works"),
}
# Always there: the sandbox's account whose statement always answers 500 (skipped by the tap).
ALWAYS = {"statement.answers"}


def doctor(bank: Sandbox, tmp_path: Path, name: str = "capture") -> tuple[int, dict[str, Any]]:
    """Run the doctor in-process (real HTTP to `bank`); its exit code, its capture, its report."""
    config = tmp_path / f"{name}-config.json"
    config.write_text(json.dumps(sandbox_config(bank, "1993-02-27")))
    config.chmod(0o600)
    capture = tmp_path / f"{name}.json"
    code = run(parse_args(["--config", str(config), "--capture", str(capture)]))
    return code, simplejson.loads(capture.read_text(encoding="utf-8"), use_decimal=True)


def differs(capture: dict[str, Any]) -> set[str]:
    return {f["check"] for f in capture["findings"] if f["status"] == "DIFFERS"}


REPORTS: dict[str, str] = {}


@pytest.fixture
def plain_capture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[Sandbox, dict[str, Any]]]:
    with Sandbox(seed=1) as bank:
        code, capture = doctor(bank, tmp_path)
        REPORTS["plain"] = capsys.readouterr().out
        assert code == 0
        yield bank, capture


def test_the_doctor_finds_the_sandbox_as_the_tap_assumes_and_exits_0(
    plain_capture: tuple[Sandbox, dict[str, Any]],
) -> None:
    _, capture = plain_capture
    report = REPORTS["plain"]
    assert differs(capture) == ALWAYS
    assert {f["status"] for f in capture["findings"] if f["check"] in HISTORY_CHECKS} == {"OK"}
    assert capture["verdict"] == {"kind": "works", "exit_code": 0}
    assert "verdict: the tap will work as is" in report
    for line in report.splitlines()[:-2]:
        assert re.match(r"^\S+\s+(OK|DIFFERS|UNKNOWN)\s+\S", line), line
    assert '"type"' not in report  # no RECORD, no STATE


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_variant_is_named_by_the_doctor_and_again_after_replaying_its_capture(
    variant: str, tmp_path: Path
) -> None:
    shape, expected, kind = VARIANTS[variant]
    with ReplaySandbox(shape) as bank:
        code, capture = doctor(bank, tmp_path, "variant")
    assert differs(capture) == expected | ALWAYS
    assert capture["verdict"]["kind"] == kind
    assert code == 0  # every variant is one the tap survives; exit 5 has its own tests below

    with ReplaySandbox(shape_from_capture(capture)) as replayed:
        code_again, again = doctor(replayed, tmp_path, "replayed")
        # And the tap reads the replayed bank completely: every entry once, to the cent.
        (tmp_path / "tap").mkdir()
        result = run_tap(tmp_path / "tap", sandbox_config(replayed, RECENT.isoformat()))
        assert result.returncode == 0, result.stderr[-2000:]
        assert_equals_truth(result.records["transactions"], truth(replayed))
    assert {f["check"]: f["status"] for f in again["findings"]} == {
        f["check"]: f["status"] for f in capture["findings"]
    }
    assert (code_again, again["verdict"]) == (code, capture["verdict"])


# The real-bank issue's sandbox knobs (docs/sandbox.md, "Variant knobs"): what the doctor names for
# each, and its verdict, on the plain sandbox with that one knob switched on.
NEWEST_START = (sofia_today() - dt.timedelta(days=29)).isoformat()
KNOBS: dict[str, tuple[dict[str, Any], set[str], str]] = {
    "before_opening_500": ({"before_opening": "500"}, {"statement.before_history"}, "works"),
    "before_opening_400": ({"before_opening": "400"}, {"statement.before_history"}, "works"),
    "before_opening_empty": ({"before_opening": "empty"}, {"statement.before_history"}, "works"),
    "summary_rows_none": (
        {"summary_rows": "none"},
        {"statement.summary_rows", "statement.before_history"},
        "unverifiable",
    ),
    "summary_rows_counts": (
        {"summary_rows": "counts"},
        {"statement.balance", "statement.turnovers"},
        "unverifiable",
    ),
    # OP/CL in `amount` only, or with `acBal: null`: read as the tap reads them, nothing to flag.
    "summary_rows_amount_only": ({"summary_rows": "amount_only"}, set(), "works"),
    "summary_rows_null_acbal": ({"summary_rows": "null_acbal"}, set(), "works"),
    "ignore_range": ({"ignore_range": True}, {"statement.window"}, "unverifiable"),
    "range_slack_days": ({"range_slack_days": 10}, {"statement.window"}, "unverifiable"),
    "expiry_answer_403": ({"expiry_answer": "403"}, {"api.refused_token"}, "works"),
    "expiry_answer_login_page": ({"expiry_answer": "login_page"}, {"api.refused_token"}, "works"),
    "dtkt_missing_signed": (
        {"dtkt": "missing_signed"},
        {"statement.amount_sign", "statement.dtkt", "statement.fields"},
        "works",
    ),
    "dtkt_unknown": (
        {"dtkt": "unknown"},
        {"statement.balance_chain", "statement.dtkt", "statement.turnovers"},
        "unverifiable",
    ),
    "other_iban_acc": ({"other_iban_acc": True}, {"statement.acc"}, "works"),
    "cert_status_404": ({"cert_status": 404}, {"login.certificates"}, "works"),
    "cert_status_204": ({"cert_status": 204}, {"login.certificates"}, "works"),
    # The doctor sends the tap's own header set, so a front end that demands it lets it through.
    "require_browser_headers": ({"require_browser_headers": True}, set(), "works"),
    "refuse_long_ranges": ({"refuse_long_ranges": True}, set(), "works"),
    # Issue 22's statement shapes. The doctor's newest window starts 29 days before today.
    "bare_window_once": ({"bare_window_start": NEWEST_START}, {"statement.bare_element"}, "works"),
    "bare_window_always": (
        {"bare_window_start": NEWEST_START, "bare_window_mode": "always"},
        {"statement.bare_element"},
        "unverifiable",
    ),
    # Without ccy the account that was always in euro reads as a history in EUR too: it continues
    # across 2026-01-01 just as a re-denominated one does, and the tap labels both EUR.
    "ccy_absent": ({"ccy": "absent"}, {"statement.ccy", "statement.currency_before_2026"}, "works"),
    "changeover_element_mixed": ({"changeover_element": "mixed"}, {"statement.changeover_element"}, "works"),
    "history_redenominated": (
        {"history": "redenominated"},
        {"statement.ccy", "statement.currency_before_2026"},
        "works",
    ),
    # The windows before the served history fail as windows before an account's opening do.
    "served_days_100": (
        {"served_days": 100},
        {"statement.history_served", "statement.before_history"},
        "works",
    ),
    "served_days_600": (
        {"served_days": 600},
        {"statement.history_served", "statement.before_history"},
        "works",
    ),
}
HISTORY_CHECKS = (
    "statement.bare_element",
    "statement.ccy",
    "statement.changeover_element",
    "statement.currency_before_2026",
    "statement.history_served",
)
# What the five history lines say where it is not plain OK (a shape the doctor cannot see, or the
# window across 2026-01-01 failing), per knob above.
HISTORY_LINES: dict[str, dict[str, str]] = {
    "summary_rows_none": {"statement.bare_element": "UNKNOWN"},
    "history_redenominated": {"statement.changeover_element": "UNKNOWN"},
    "served_days_100": {
        "statement.changeover_element": "UNKNOWN",
        "statement.currency_before_2026": "UNKNOWN",
    },
}


@pytest.mark.parametrize("knob", sorted(KNOBS))
def test_each_real_bank_knob_is_named_by_the_doctor_with_its_verdict(
    knob: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faults, expected, kind = KNOBS[knob]
    with Sandbox(seed=1, faults=Faults(**faults)) as bank:
        code, capture = doctor(bank, tmp_path)
    capsys.readouterr()
    assert differs(capture) == expected | ALWAYS
    assert capture["verdict"]["kind"] == kind
    assert code == 0
    lines = {f["check"]: f["status"] for f in capture["findings"] if f["check"] in HISTORY_CHECKS}
    plain = {check: "DIFFERS" if check in expected else "OK" for check in HISTORY_CHECKS}
    assert lines == plain | HISTORY_LINES.get(knob, {})


def finding(capture: dict[str, Any], check: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in capture["findings"] if f["check"] == check)
    return found


def test_the_doctor_names_the_day_a_bank_serves_history_from(tmp_path: Path) -> None:
    with Sandbox(seed=1, faults=Faults(served_days=600)) as bank:
        served_from = bank.today - dt.timedelta(days=600)
        _, capture = doctor(bank, tmp_path)
        calls = bank.counters()["calls"]["GetCustBal"]
    line = finding(capture, "statement.history_served")
    assert f"serves history from {served_from}" in line["seen"]
    assert line["effect"] == "tolerated"
    assert calls <= 60  # the halving reads one account, not all of them


def test_a_bank_that_fails_only_before_the_opening_day_has_its_whole_history_served(tmp_path: Path) -> None:
    with Sandbox(seed=1, faults=Faults(before_opening="500")) as bank:
        opened = min(a.opened for a in bank.accounts)
        _, capture = doctor(bank, tmp_path)
    line = finding(capture, "statement.history_served")
    assert line["status"] == "OK" and f"from {opened}, at zero" in line["seen"]


def test_a_bare_answer_once_and_a_bare_answer_always_are_told_apart(tmp_path: Path) -> None:
    seen = {}
    for mode in ("once", "always"):
        with Sandbox(seed=1, faults=Faults(bare_window_start=NEWEST_START, bare_window_mode=mode)) as bank:
            _, capture = doctor(bank, tmp_path, mode)
            seen[mode] = (
                finding(capture, "statement.bare_element"),
                bank.counters()["faults"]["bare_window"],
            )
    (once, served_once), (always, served_always) = seen["once"], seen["always"]
    assert (
        served_once == 1 and "1 of" in once["seen"] and "the full statement when asked again" in once["seen"]
    )
    assert once["effect"] == "tolerated"
    assert served_always == 10  # five accounts' newest windows, each asked twice
    assert "5 of them again when asked again" in always["seen"] and always["effect"] == "unverifiable"


def test_a_mixed_changeover_element_is_named_for_each_converted_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox(seed=1, faults=Faults(changeover_element="mixed")) as bank:
        converted = sorted(f"****{a.iban[-4:]}" for a in bank.accounts if "converted" in a.tags)
        _, capture = doctor(bank, tmp_path)
    (line,) = [
        x for x in capsys.readouterr().out.splitlines() if x.startswith("statement.changeover_element")
    ]
    assert f"{len(converted)} of {len(converted)} converted account(s)" in line
    assert line.endswith(f"(tolerated) [{', '.join(converted)}]")
    assert finding(capture, "statement.currency_before_2026")["seen"].endswith(
        f"{len(converted)} converted at 1.95583 (BGN before 2026)"
    )


def _texts(value: Any) -> Iterator[str]:
    forms = {value, quote_plus(value), json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    yield from forms


def _numbers(value: Any) -> Iterator[Decimal]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, Decimal):  # integers are ids, statuses and counts: amounts have decimals
        yield abs(value).normalize()
    elif isinstance(value, str) and re.fullmatch(r"-?\d+[.,]\d+", value):
        yield abs(Decimal(value.replace(",", "."))).normalize()


def _scalars(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    else:
        yield value


def test_the_capture_holds_no_secret_and_no_personal_value(
    plain_capture: tuple[Sandbox, dict[str, Any]], tmp_path: Path
) -> None:
    bank, capture = plain_capture
    text = json.dumps(capture, default=str, ensure_ascii=False) + json.dumps(capture, default=str)
    secrets = {bank.password, bank.username, *bank.issued_secrets()}
    personal: set[str] = set()
    for profile in bank.customers:
        personal |= {profile.customer_id, profile.name, profile.name_latin, profile.id_number}
    personal |= {account.iban for account in bank.accounts}
    read = [(e["window"], e["iban"]) for e in capture["exchanges"] if e["purpose"] in ("newest", "year_back")]
    assert read
    amounts: set[Decimal] = set()
    seen = 0
    broken = {a.iban for a in bank.accounts if "statement_500" in a.tags}  # never answered: not captured
    for iban, entries in bank.truth().items():
        for entry in entries if iban not in broken else []:
            if not any(w[0] <= entry.booking_date.isoformat() <= w[1] for w, _ in read):
                continue
            seen += 1
            personal |= {entry.reference, entry.contragent or "", entry.ben_order_party or ""}
            personal |= {entry.trn_account, entry.rem_i or "", entry.rem_ii or "", entry.rem_iii or ""}
            amounts |= {entry.amount.normalize(), abs(entry.balance_after).normalize()}
    assert seen > 100
    scalars = {str(v) for v in _scalars(capture)}
    for value in secrets | {p for p in personal if len(p) >= 4}:
        if value.isdigit():
            # A run of digits turns up inside fakes and timestamps by chance: compare whole values.
            assert value not in scalars, f"{value!r} is in the capture"
            continue
        for form in _texts(value):
            assert form not in text, f"{value!r} is in the capture"
    found = set(_numbers([exchange["body"] for exchange in capture["exchanges"]]))
    assert not (amounts - {Decimal(0)}) & found, sorted((amounts - {Decimal(0)}) & found)
    assert capture["tap_version"]
    for exchange in capture["exchanges"]:
        assert exchange["iban"] is None or exchange["iban"].startswith("BG")


def test_replaying_the_sandbox_capture_gives_the_tap_every_entry_exactly_once(
    plain_capture: tuple[Sandbox, dict[str, Any]], tmp_path: Path
) -> None:
    _, capture = plain_capture
    path = tmp_path / "capture.json"
    path.write_text(simplejson.dumps(capture, use_decimal=True, ensure_ascii=False), encoding="utf-8")
    started = subprocess.Popen(
        [sys.executable, "-m", "fibank_sandbox", "--replay", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert started.stdout is not None
        base_url = started.stdout.readline().strip()
        with ReplaySandbox(shape_from_capture(capture)) as twin:  # the same data, for the truth
            config = sandbox_config(twin, RECENT.isoformat())
            config["base_url"] = base_url
            result = run_tap(tmp_path, config)
            assert result.returncode == 0, result.stderr[-2000:]
            assert_equals_truth(result.records["transactions"], truth(twin))
    finally:
        started.terminate()
        started.wait(timeout=10)


def test_a_tolerated_variant_replayed_is_read_completely_by_the_tap(tmp_path: Path) -> None:
    shape, _, _ = VARIANTS["timestamps_in_utc_amounts_as_text"]
    with ReplaySandbox(shape) as bank:
        _, capture = doctor(bank, tmp_path)
    with ReplaySandbox(shape_from_capture(capture)) as replayed:
        result = run_tap(tmp_path, sandbox_config(replayed, RECENT.isoformat()))
        assert result.returncode == 0, result.stderr[-2000:]
        assert_equals_truth(result.records["transactions"], truth(replayed))


def test_an_unknown_dtkt_replayed_is_read_in_full_with_directions_from_the_balances(tmp_path: Path) -> None:
    shape, _, _ = VARIANTS["dtkt_unknown_spelling"]
    with ReplaySandbox(shape) as bank:
        _, capture = doctor(bank, tmp_path)
    with ReplaySandbox(shape_from_capture(capture)) as replayed:
        result = run_tap(tmp_path, sandbox_config(replayed, RECENT.isoformat()))
        assert result.returncode == 0, result.stderr[-3000:]
        assert_equals_truth(result.records["transactions"], truth(replayed))
    assert "is not a known spelling" in result.stderr


def _cli(tmp_path: Path, config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "cli-config.json"
    path.write_text(json.dumps(config))
    path.chmod(0o600)  # a config with a password open to others would add a warning line
    return subprocess.run(
        [*DOCTOR, "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env("TAP_FIBANK_"),
        check=False,
    )


def test_the_command_reads_the_built_in_sandbox_and_writes_no_record_or_state(tmp_path: Path) -> None:
    result = _cli(tmp_path, {"sandbox": True})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "verdict: the tap will work as is"
    assert '"RECORD"' not in result.stdout and '"STATE"' not in result.stdout


def test_a_wrong_password_is_posted_once_and_exits_3(tmp_path: Path) -> None:
    with Sandbox(seed=1) as bank:
        config = sandbox_config(bank, "2026-01-01", password="not-the-password")
        result = _cli(tmp_path, config)
        posts = bank.counters()["calls"].get("login_post", 0)
    assert result.returncode == 3
    assert posts == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tap-fibank-doctor: error:")
    assert "not-the-password" not in result.stdout + result.stderr


def test_bad_settings_exit_2_before_anything_is_sent(tmp_path: Path) -> None:
    with Sandbox(seed=1) as bank:
        result = _cli(tmp_path, sandbox_config(bank, "not-a-date"))
        calls = bank.counters()["calls"]
    assert result.returncode == 2
    assert result.stderr.startswith("tap-fibank-doctor: error:") and "start_date" in result.stderr
    assert calls and sum(calls.values()) == 0  # not even the login page


def test_a_bank_address_over_plain_http_exits_2(tmp_path: Path) -> None:
    result = _cli(tmp_path, {"base_url": "http://bank.example.com", "username": "u", "password": "p"})
    assert result.returncode == 2
    assert result.stderr.startswith("tap-fibank-doctor: error:") and "https" in result.stderr


def test_a_bank_that_cannot_be_reached_exits_4_with_one_line(tmp_path: Path) -> None:
    with Sandbox(seed=1) as bank:
        config = sandbox_config(bank, "2026-01-01")
    result = _cli(tmp_path, config)  # the sandbox has stopped: nothing listens at its address
    assert result.returncode == 4
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tap-fibank-doctor: error:")
    assert "cannot be reached" in result.stderr
    assert "verdict:" not in result.stdout


def test_the_command_exits_5_where_the_tap_will_fail(tmp_path: Path) -> None:
    with Sandbox(seed=1, faults=Faults(history="shifted")) as bank:
        result = _cli(tmp_path, sandbox_config(bank, "1993-02-27"))
    assert result.returncode == 5, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("verdict: the tap will fail here: statement.currency_before_2026:"), last


def test_a_currency_the_balances_cannot_decide_is_a_run_that_will_fail(tmp_path: Path) -> None:
    with Sandbox(seed=1, faults=Faults(history="shifted")) as bank:
        code, capture = doctor(bank, tmp_path)
    line = finding(capture, "statement.currency_before_2026")
    assert line["status"] == "DIFFERS"
    assert "undecided by the balances: the tap names them, does not guess, exits 5" in line["seen"]
    assert capture["verdict"]["kind"] == "fails"
    assert code == 5
