"""`tap-fibank-state reread`: one account read again from a day, every other account untouched.

The rewrite is checked on states shaped as the tap writes them (with the keys of issue 22's
design: chain, served_from, served_probed, currency_before_2026), the command as a subprocess
(its output, its one error line and exit 2), and once end to end: a real run, the state
rewritten by the command, and a second real run against the same sandbox that asks the bank for
that account again from that day while the other accounts cost what a daily run costs.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from support.bank import BUSY, PERSON, broken_iban, key, truth
from support.tapruns import run_tap, sandbox_config

from fibank_sandbox import Sandbox
from tap_fibank.bank.clock import sofia_today
from tap_fibank.walk import state_edit
from tap_fibank.walk.state_edit import Reread, reread_state

COMMAND = [sys.executable, "-m", "tap_fibank.walk.state_edit", "reread"]
OTHER = "BG52FINV91501017006651"
BUSINESS = "7310528"


def partition(iban: str, customer_id: str = PERSON, **bookmarks: Any) -> dict[str, Any]:
    return {"context": {"customer_id": customer_id, "iban": iban}, **bookmarks}


def full_bookmarks(**overrides: Any) -> dict[str, Any]:
    """Every key the tap keeps for an account, read through 2025-06-30."""
    bookmarks: dict[str, Any] = {
        "replication_key": "booking_date",
        "replication_key_value": "2025-06-27",
        "walked_through": "2025-06-30",
        "chain": {"day": "2025-06-27", "balance": "1234.56", "currency": "EUR"},
        "served_from": "2024-06-15",
        "served_probed": "2025-06-28",
        "currency_before_2026": "BGN",
    }
    bookmarks.update(overrides)
    return bookmarks


def tap_state(*accounts: dict[str, Any]) -> dict[str, Any]:
    """The tap's state: the accounts in transactions and statements, a profile partition in accounts."""
    statements = [
        {**copy.deepcopy(a), "replication_key": "date_to"} if "replication_key" in a else copy.deepcopy(a)
        for a in accounts
    ]
    return {
        "bookmarks": {
            "transactions": {"partitions": [copy.deepcopy(a) for a in accounts]},
            "statements": {"partitions": statements},
            "accounts": {"partitions": [{"context": {"customer_id": PERSON}}]},
            "customers": {},
        }
    }


def rewrite(state: dict[str, Any], reread: Reread, *, wrap: bool = True) -> tuple[dict[str, Any], list[str]]:
    text = json.dumps({"singer_state": state} if wrap else state)
    out, report = reread_state(text, "the state on stdin", reread)
    document = json.loads(out)
    return (document["singer_state"] if wrap else document), report


def account(state: dict[str, Any], iban: str, stream: str = "transactions") -> dict[str, Any]:
    (found,) = [p for p in state["bookmarks"][stream]["partitions"] if p["context"].get("iban") == iban]
    return found


def bookmarks_of(state: dict[str, Any], iban: str, stream: str = "transactions") -> dict[str, Any]:
    return {k: v for k, v in account(state, iban, stream).items() if k != "context"}


# --- the rewrite of one account ---------------------------------------------------------------


def test_the_account_is_read_again_from_the_day_and_its_later_claims_are_dropped() -> None:
    state = tap_state(partition(BUSY, **full_bookmarks()))
    new, _ = rewrite(state, Reread(BUSY, dt.date(2024, 3, 1)))
    for stream, key_name in (("transactions", "booking_date"), ("statements", "date_to")):
        assert bookmarks_of(new, BUSY, stream) == {
            "replication_key": key_name,
            "walked_through": "2024-02-29",
            "currency_before_2026": "BGN",
        }


def test_a_chain_and_a_history_start_before_the_day_are_kept() -> None:
    bookmarks = full_bookmarks(chain={"day": "2025-02-28", "balance": "10.00", "currency": None})
    new, _ = rewrite(tap_state(partition(BUSY, **bookmarks)), Reread(BUSY, dt.date(2025, 3, 1)))
    assert bookmarks_of(new, BUSY) == {
        "replication_key": "booking_date",
        "walked_through": "2025-02-28",
        "chain": {"day": "2025-02-28", "balance": "10.00", "currency": None},
        "served_from": "2024-06-15",
        "served_probed": "2025-06-28",
        "currency_before_2026": "BGN",
    }


def test_a_chain_on_the_day_itself_is_dropped() -> None:
    bookmarks = full_bookmarks(chain={"day": "2025-03-01", "balance": "10.00", "currency": "EUR"})
    new, report = rewrite(tap_state(partition(BUSY, **bookmarks)), Reread(BUSY, dt.date(2025, 3, 1)))
    assert "chain" not in account(new, BUSY)
    assert "chain (2025-03-01) dropped" in report[0]


def test_a_day_on_the_history_start_keeps_it() -> None:
    bookmarks = full_bookmarks(served_from="2025-03-01")
    new, _ = rewrite(tap_state(partition(BUSY, **bookmarks)), Reread(BUSY, dt.date(2025, 3, 1)))
    assert account(new, BUSY)["served_from"] == "2025-03-01"
    assert account(new, BUSY)["served_probed"] == "2025-06-28"


def test_a_day_before_the_history_start_asks_for_it_again() -> None:
    bookmarks = full_bookmarks(served_from="2025-03-02")
    new, report = rewrite(tap_state(partition(BUSY, **bookmarks)), Reread(BUSY, dt.date(2025, 3, 1)))
    assert "served_from" not in account(new, BUSY)
    assert "served_probed" not in account(new, BUSY)
    assert "served_from 2025-03-02 dropped" in report[0]


def test_a_replication_key_value_on_the_day_before_is_kept() -> None:
    bookmarks = full_bookmarks(replication_key_value="2025-02-28")
    new, _ = rewrite(tap_state(partition(BUSY, **bookmarks)), Reread(BUSY, dt.date(2025, 3, 1)))
    assert account(new, BUSY)["replication_key_value"] == "2025-02-28"


def test_a_bookmark_already_before_the_day_is_left_as_it_is() -> None:
    bookmarks = {"walked_through": "2025-01-10", "replication_key_value": "2025-01-09"}
    new, report = rewrite(tap_state(partition(BUSY, **bookmarks)), Reread(BUSY, dt.date(2025, 3, 1)))
    assert bookmarks_of(new, BUSY) == bookmarks
    assert report == [
        "transactions ****6644 (customer 5896443): already reads from there; unchanged",
        "statements ****6644 (customer 5896443): already reads from there; unchanged",
    ]


def test_an_account_without_a_bookmark_still_reads_from_start_date() -> None:
    """A bookmark set there would skip every day before it."""
    new, _ = rewrite(tap_state(partition(BUSY)), Reread(BUSY, dt.date(2025, 3, 1)))
    assert bookmarks_of(new, BUSY) == {}


def test_a_state_with_only_the_sdks_bookmark_gets_the_taps() -> None:
    """The tap resumes from `replication_key_value` where `walked_through` is missing."""
    bookmarks = {"replication_key": "booking_date", "replication_key_value": "2025-06-27"}
    new, report = rewrite(tap_state(partition(BUSY, **bookmarks)), Reread(BUSY, dt.date(2025, 3, 1)))
    assert bookmarks_of(new, BUSY) == {"replication_key": "booking_date", "walked_through": "2025-02-28"}
    assert report[0].endswith("walked_through unset -> 2025-02-28; replication_key_value 2025-06-27 dropped")


def test_progress_markers_past_the_day_are_dropped() -> None:
    markers = {"Note": "Progress is not resumable if interrupted.", "replication_key_value": "2025-06-27"}
    bookmarks = full_bookmarks(progress_markers=markers)
    new, _ = rewrite(tap_state(partition(BUSY, **bookmarks)), Reread(BUSY, dt.date(2025, 3, 1)))
    assert "progress_markers" not in account(new, BUSY)


def test_the_report_names_each_stream_and_what_changed_with_the_iban_masked() -> None:
    _, report = rewrite(tap_state(partition(BUSY, **full_bookmarks())), Reread(BUSY, dt.date(2024, 3, 1)))
    assert report == [
        f"{stream} ****6644 (customer 5896443): walked_through 2025-06-30 -> 2024-02-29; "
        "replication_key_value 2025-06-27 dropped; chain (2025-06-27) dropped; served_from 2024-06-15 dropped"
        for stream in ("transactions", "statements")
    ]
    assert not any(BUSY in line for line in report)


# --- every other account, and the document around them ----------------------------------------


def test_every_other_account_is_written_byte_for_byte_as_meltano_printed_it() -> None:
    others = [
        partition(OTHER, **full_bookmarks(chain={"day": "2025-06-30", "balance": "1.10", "currency": "BGN"})),
        partition("BG35FINV91501011884290", BUSINESS, **full_bookmarks()),
        partition("BG88FINV91501011884306", BUSINESS),
    ]
    state = tap_state(others[0], partition(BUSY, **full_bookmarks()), *others[1:])
    printed = json.dumps({"singer_state": state})  # as `meltano state get` prints it
    out, _ = reread_state(printed, "the state on stdin", Reread(BUSY, dt.date(2024, 3, 1)))
    assert out.endswith("\n")
    for stream in ("transactions", "statements", "accounts"):
        for kept in state["bookmarks"][stream]["partitions"]:
            if kept["context"].get("iban") != BUSY:
                assert json.dumps(kept) in printed
                assert json.dumps(kept) in out
    assert json.loads(out)["singer_state"]["bookmarks"]["customers"] == {}


def test_numbers_are_written_back_as_they_came_never_through_a_float() -> None:
    def other(iban: str, number: str) -> str:
        context = f'"context": {{"customer_id": "{PERSON}", "iban": "{iban}"}}'
        return f'{{{context}, "walked_through": "2025-06-30", "n": {number}}}'

    partitions = f"{other(OTHER, '1.10')}, {other(BUSY, '1234567890.123456789012')}"
    printed = f'{{"singer_state": {{"bookmarks": {{"transactions": {{"partitions": [{partitions}]}}}}}}}}'
    out, _ = reread_state(printed, "the state on stdin", Reread(BUSY, dt.date(2024, 3, 1)))
    assert '"n": 1.10}' in out
    assert '"n": 1234567890.123456789012}' in out


def test_a_bare_state_comes_back_bare_and_a_wrapped_one_wrapped() -> None:
    state = tap_state(partition(BUSY, **full_bookmarks()))
    bare, _ = reread_state(json.dumps(state), "x", Reread(BUSY, dt.date(2024, 3, 1)))
    assert set(json.loads(bare)) == {"bookmarks"}
    wrapped, _ = reread_state(json.dumps({"singer_state": state}), "x", Reread(BUSY, dt.date(2024, 3, 1)))
    assert set(json.loads(wrapped)) == {"singer_state"}
    assert json.loads(wrapped)["singer_state"] == json.loads(bare)


def test_the_iban_may_be_typed_with_spaces_and_in_lower_case() -> None:
    state = tap_state(partition(BUSY, **full_bookmarks()))
    result = run_command(["--iban", "bg47 finv 9150 1017 0066 44", "--from", "2024-03-01"], state)
    assert result.returncode == 0, result.stderr
    new = json.loads(result.stdout)["singer_state"]
    assert account(new, BUSY)["walked_through"] == "2024-02-29"


def test_an_iban_under_two_profiles_is_rewritten_only_for_the_named_one() -> None:
    state = tap_state(partition(BUSY, **full_bookmarks()), partition(BUSY, BUSINESS, **full_bookmarks()))
    new, report = rewrite(state, Reread(BUSY, dt.date(2024, 3, 1), BUSINESS))
    business, person = (
        [p for p in new["bookmarks"]["transactions"]["partitions"] if p["context"]["customer_id"] == c]
        for c in (BUSINESS, PERSON)
    )
    assert business[0]["walked_through"] == "2024-02-29"
    assert person[0] == partition(BUSY, **full_bookmarks())
    assert len(report) == 2 and all("(customer 7310528)" in line for line in report)


# --- the command: its output and its one error line --------------------------------------------


def run_command(args: list[str], state: Any, *, raw: str | None = None) -> subprocess.CompletedProcess[str]:
    text = raw if raw is not None else json.dumps({"singer_state": state})
    return subprocess.run(
        [*COMMAND, *args], input=text, capture_output=True, text=True, check=False, timeout=60
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("tap-fibank-state: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_the_command_writes_the_state_to_stdout_and_what_changed_to_stderr(tmp_path: Path) -> None:
    state = tap_state(partition(BUSY, **full_bookmarks()))
    result = run_command(["--iban", BUSY, "--from", "2024-03-01"], state)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"singer_state": rewrite(state, Reread(BUSY, dt.date(2024, 3, 1)))[0]}
    assert result.stderr.splitlines() == [
        f"tap-fibank-state: {stream} ****6644 (customer 5896443): walked_through 2025-06-30 -> 2024-02-29; "
        "replication_key_value 2025-06-27 dropped; chain (2025-06-27) dropped; served_from 2024-06-15 dropped"
        for stream in ("transactions", "statements")
    ]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"singer_state": state}))
    from_file = subprocess.run(
        [*COMMAND, "--iban", BUSY, "--from", "2024-03-01", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert from_file.stdout == result.stdout


def test_an_account_the_state_does_not_hold_is_named_with_those_it_holds() -> None:
    state = tap_state(partition(BUSY, **full_bookmarks()), partition(OTHER))
    result = run_command(["--iban", "BG80BNBG96611020345678", "--from", "2024-03-01"], state)
    assert_one_error_line(
        result,
        "the state has no account ****5678",
        "it holds ****6644 (customer 5896443), ****6651 (customer 5896443)",
        "check --iban and --customer-id",
    )


def test_an_account_of_another_customer_is_not_taken_for_the_one_named() -> None:
    state = tap_state(partition(BUSY, **full_bookmarks()))
    result = run_command(["--iban", BUSY, "--customer-id", BUSINESS, "--from", "2024-03-01"], state)
    assert_one_error_line(result, "no account ****6644 of customer 7310528")


def test_an_iban_under_two_profiles_needs_the_customer_id() -> None:
    state = tap_state(partition(BUSY, **full_bookmarks()), partition(BUSY, BUSINESS, **full_bookmarks()))
    result = run_command(["--iban", BUSY, "--from", "2024-03-01"], state)
    assert_one_error_line(result, "under customers 5896443, 7310528: name one with --customer-id")


@pytest.mark.parametrize(
    ("day", "fragment"),
    [
        ("2025-02-30", "--from '2025-02-30' is not a day: give one like 2025-03-01"),
        ("yesterday", "--from 'yesterday' is not a day"),
        ((sofia_today() + dt.timedelta(days=1)).isoformat(), "is after today in Sofia"),
    ],
)
def test_a_day_that_cannot_be_read_is_refused(day: str, fragment: str) -> None:
    state = tap_state(partition(BUSY, **full_bookmarks()))
    assert_one_error_line(run_command(["--iban", BUSY, "--from", day], state), fragment)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "the state on stdin is empty"),
        ("not json", "the state on stdin is not JSON: Expecting value at line 1, column 1"),
        ('{"singer_state": {"bookmarks": 5}}', "is not a Singer state: at bookmarks: expected an object"),
        ('{"bookmarks": {"transactions": {"partitions": [{}]}}}', "'context' is missing"),
        ('{"singer_state": {"bookmarks": {"transactions": {"partitions": [{"context": {}, '
         '"walked_through": "someday"}]}}}}', "expected a date like 2024-01-31"),
        ("[1, 2]", "is not a Singer state: expected an object"),
        ("{}", "holds no bookmarks"),
    ],
)  # fmt: skip
def test_input_that_is_not_a_state_is_refused(raw: str, fragment: str) -> None:
    result = run_command(["--iban", BUSY, "--from", "2024-03-01"], None, raw=raw)
    assert_one_error_line(result, fragment, "give what `meltano state get <state-id>` prints")


def test_a_missing_option_is_one_line_too() -> None:
    result = run_command(["--iban", BUSY], tap_state(partition(BUSY)))
    assert_one_error_line(result, "the following arguments are required: --from")


def test_the_command_is_installed_as_tap_fibank_state() -> None:
    (script,) = entry_points(group="console_scripts", name="tap-fibank-state")
    assert script.load() is state_edit.main


# --- end to end: the real tap, the state rewritten, the real tap again --------------------------


def test_a_rewritten_state_reads_one_account_again_from_the_day_and_the_others_as_usual(
    tmp_path: Path,
) -> None:
    today = sofia_today()
    start, first_day = today - dt.timedelta(days=120), today - dt.timedelta(days=90)
    with Sandbox(seed=1) as bank:
        config = sandbox_config(bank, start.isoformat())
        (tmp_path / "first").mkdir()
        first = run_tap(tmp_path / "first", config)
        assert first.returncode == 0, first.stderr[-3000:]
        assert all(p.get("walked_through") == today.isoformat() for p in first.partitions().values()
                   if p["context"]["iban"] != broken_iban(bank))  # fmt: skip
        edited = run_command(["--iban", BUSY.lower(), "--from", first_day.isoformat()], first.state)
        assert edited.returncode == 0, edited.stderr
        state = json.loads(edited.stdout)["singer_state"]
        bank.reset_counters()
        (tmp_path / "second").mkdir()
        second = run_tap(tmp_path / "second", config, state)
        assert second.returncode == 0, second.stderr[-3000:]
        counters = bank.counters()
    ranges = sorted((dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for i, a, b in
                    counters["statement_ranges"] if i == BUSY)  # fmt: skip
    assert ranges[0][0] <= first_day
    assert ranges[-1][1] == today
    assert all(later[0] == earlier[1] + dt.timedelta(days=1) for earlier, later in zip(ranges, ranges[1:]))
    assert counters["statement_calls"][BUSY] >= 4  # 90 days and the lookback: four windows at least
    others = {i: n for i, n in counters["statement_calls"].items() if i not in {BUSY, broken_iban(bank)}}
    assert len(others) == 4 and all(n <= 2 for n in others.values()), others
    again = {key(r) for r in second.records["transactions"] if r["iban"] == BUSY}
    assert again >= set(truth(bank, first_day, {BUSY}))
    lookback = today - dt.timedelta(days=7)
    assert all(r["booking_date"] >= lookback.isoformat() for r in second.records["transactions"]
               if r["iban"] != BUSY)  # fmt: skip
    assert second.partitions()[BUSY]["walked_through"] == today.isoformat()
