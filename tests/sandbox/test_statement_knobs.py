"""The statement-shape knobs serve what they promise over HTTP, and the truth follows them.

A bare element, elements without `ccy`, the changeover in one element, a history re-denominated
in euro and a bank that serves only recent days: each is a shape a bank may plausibly send, and a
tap test can only trust what the sandbox serves if these hold.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import simplejson
from conftest import Login, sandbox_login

from fibank_sandbox import Entry, Faults, Sandbox
from tap_fibank.proof.changeover import to_euro

TODAY = date(2026, 3, 15)
PERSON = "5896443"
EUR_CURRENT = "BG47FINV91501017006644"  # EUR since 2016
CONVERTED = "BG52FINV91501017006651"  # BGN until 2025-12-31, EUR from 2026-01-01
SUMMARY = ("OP", "DT", "CT", "CL")
ACROSS = (date(2025, 12, 20), date(2026, 1, 10))


@pytest.fixture
def bank() -> Iterator[Sandbox]:
    with Sandbox(seed=1, today=TODAY) as sandbox:
        yield sandbox


@pytest.fixture
def login(bank: Sandbox) -> Login:
    result = sandbox_login(bank.base_url)
    assert result.token
    return result


def statement(login: Login, iban: str, first: date, last: date) -> requests.Response:
    return login.api(
        "GetCustBal",
        PERSON,
        FromDate=f"{first}T00:00:00+0200",
        ToDate=f"{last}T00:00:00+0200",
        Iban=iban,
        StmtType="T",
        isAccountFromPSD2="false",
    )


def elements(login: Login, iban: str, first: date, last: date) -> list[dict[str, Any]]:
    response = statement(login, iban, first, last)
    assert response.status_code == 200, response.text
    accs: list[dict[str, Any]] = simplejson.loads(response.text, use_decimal=True)["acc"]
    return accs


def summary(element: dict[str, Any]) -> dict[str, Decimal]:
    return {r["trnType"]: r["amount"] for r in element["stmt"] if r["trnType"] in SUMMARY}


def entries(element: dict[str, Any]) -> list[dict[str, Any]]:
    """The entry rows, oldest first (the bank sends them newest first)."""
    return sorted((r for r in element["stmt"] if r["acEntrySrNo"] is not None), key=lambda r: r["dateTime"])


def signed(row: dict[str, Any]) -> Decimal:
    amount: Decimal = row["amount"]
    return -amount if row["dtkt"] == "DT" else amount


def chain_breaks(opening: Decimal, rows: list[dict[str, Any]]) -> list[int]:
    """Entry ids whose balance is not the one before plus their amount."""
    breaks, balance = [], opening
    for row in rows:
        if balance + signed(row) != row["acBal"]:
            breaks.append(row["acEntrySrNo"])
        balance = row["acBal"]
    return breaks


def booked(bank: Sandbox, iban: str, first: date, last: date) -> list[Entry]:
    return [e for e in bank.truth()[iban] if first <= e.booking_date <= last]


# bare window ----------------------------------------------------------------------------------


def test_a_bare_window_answers_one_element_without_rows_once_then_the_statement(
    bank: Sandbox, login: Login
) -> None:
    first, last = date(2025, 11, 1), date(2025, 11, 30)
    normal = elements(login, CONVERTED, first, last)
    bank.faults.bare_window_start = first.isoformat()
    bare = elements(login, CONVERTED, first, last)
    assert bare == [{"iban": CONVERTED, "acNo": CONVERTED[-10:], "ccy": "BGN", "stmt": []}]
    assert elements(login, CONVERTED, first, last) == normal
    assert len(entries(normal[0])) > 10  # a window that has entries
    assert bank.counters()["faults"]["bare_window"] == 1


def test_once_is_once_per_sandbox_whichever_account_asks(bank: Sandbox, login: Login) -> None:
    first, last = date(2025, 11, 1), date(2025, 11, 30)
    bank.faults.bare_window_start = first.isoformat()
    assert elements(login, CONVERTED, first, last)[0]["stmt"] == []
    assert entries(elements(login, EUR_CURRENT, first, last)[0])
    assert entries(elements(login, EUR_CURRENT, first + timedelta(days=1), last)[0])


def test_a_bare_window_always_stays_bare_and_only_for_that_start_day(bank: Sandbox, login: Login) -> None:
    first, last = date(2026, 2, 1), date(2026, 2, 28)
    bank.faults = Faults(bare_window_start=first.isoformat(), bare_window_mode="always")
    for _ in range(3):
        assert elements(login, EUR_CURRENT, first, last) == [
            {"iban": EUR_CURRENT, "acNo": EUR_CURRENT[-10:], "ccy": "EUR", "stmt": []}
        ]
    later = elements(login, EUR_CURRENT, first + timedelta(days=1), last)[0]
    assert entries(later) and set(summary(later)) == set(SUMMARY)
    assert bank.counters()["faults"]["bare_window"] == 3


def test_the_bare_window_knobs_are_set_over_http_and_bad_values_are_named(
    bank: Sandbox, login: Login
) -> None:
    url = f"{bank.base_url}/_sandbox/faults"
    answer = requests.post(
        url, json={"bare_window_start": "2026-02-01", "bare_window_mode": "always"}, timeout=5
    )
    assert answer.status_code == 200 and answer.json()["bare_window_mode"] == "always"
    assert bank.faults.bare_window_start == "2026-02-01"
    bad_day = requests.post(url, json={"bare_window_start": "1.2.2026"}, timeout=5)
    bad_mode = requests.post(url, json={"bare_window_mode": "twice"}, timeout=5)
    assert bad_day.status_code == 400 and "bare_window_start" in bad_day.json()["message"]
    assert bad_mode.status_code == 400 and "bare_window_mode" in bad_mode.json()["message"]
    assert bank.faults.bare_window_mode == "always"


# ccy absent --------------------------------------------------------------------------------------


def test_with_ccy_absent_no_element_names_a_currency_and_nothing_else_changes(
    bank: Sandbox, login: Login
) -> None:
    sent = elements(login, CONVERTED, *ACROSS)
    bank.faults.ccy = "absent"
    absent = elements(login, CONVERTED, *ACROSS)
    assert [e["ccy"] for e in sent] == ["BGN", "EUR"]
    assert [{k: v for k, v in e.items() if k != "ccy"} for e in sent] == absent
    assert all("ccy" not in e for e in absent)
    bank.faults.before_opening = "empty"
    assert all("ccy" not in e for e in elements(login, EUR_CURRENT, date(2015, 1, 1), date(2015, 1, 30)))


def test_with_ccy_absent_the_truth_keeps_the_currency_each_entry_was_booked_in(bank: Sandbox) -> None:
    bank.faults.ccy = "absent"
    currencies = {e.currency for e in booked(bank, CONVERTED, *ACROSS) if e.booking_date.year == 2025}
    assert currencies == {"BGN"}


# the changeover in one element -------------------------------------------------------------------


def test_a_mixed_element_holds_both_currencies_from_the_lev_opening_to_the_euro_closing(
    bank: Sandbox, login: Login
) -> None:
    before, after = elements(login, CONVERTED, *ACROSS)
    bank.faults.changeover_element = "mixed"
    (mixed,) = elements(login, CONVERTED, *ACROSS)
    assert "ccy" not in mixed
    totals, lev, euro = summary(mixed), summary(before), summary(after)
    assert totals["OP"] == lev["OP"] and totals["CL"] == euro["CL"]
    assert totals["DT"] == lev["DT"] + euro["DT"] and totals["CT"] == lev["CT"] + euro["CT"]
    assert totals["OP"] + totals["CT"] - totals["DT"] != totals["CL"]  # the summary cannot add up
    assert entries(mixed) == entries(before) + entries(after)
    assert chain_breaks(totals["OP"], entries(mixed)) == [entries(after)[0]["acEntrySrNo"]]


def test_a_mixed_element_comes_only_across_the_changeover_and_only_for_a_converted_account(
    bank: Sandbox, login: Login
) -> None:
    december = (date(2025, 12, 1), date(2025, 12, 31))
    plain = elements(login, CONVERTED, *december), elements(login, EUR_CURRENT, *ACROSS)
    bank.faults.changeover_element = "mixed"
    assert (elements(login, CONVERTED, *december), elements(login, EUR_CURRENT, *ACROSS)) == plain
    assert plain[0][0]["ccy"] == "BGN" and plain[1][0]["ccy"] == "EUR"


def test_with_a_mixed_element_the_truth_labels_lev_as_lev(bank: Sandbox) -> None:
    bank.faults.changeover_element = "mixed"
    labels = {(e.booking_date < date(2026, 1, 1), e.currency) for e in booked(bank, CONVERTED, *ACROSS)}
    assert labels == {(True, "BGN"), (False, "EUR")}


# a history re-denominated in euro ---------------------------------------------------------------


def test_a_redenominated_history_chains_in_euro_across_the_changeover_without_ccy(
    bank: Sandbox, login: Login
) -> None:
    lev_truth = booked(bank, CONVERTED, *ACROSS)
    bank.faults.history = "redenominated"
    (element,) = elements(login, CONVERTED, *ACROSS)
    rows, totals = entries(element), summary(element)
    assert "ccy" not in element
    assert chain_breaks(totals["OP"], rows) == []
    assert totals["OP"] + totals["CT"] - totals["DT"] == totals["CL"] == rows[-1]["acBal"]
    lev = [e for e in lev_truth if e.currency == "BGN"]
    euro = [e for e in lev_truth if e.currency == "EUR"]
    assert lev and euro
    served = {r["acEntrySrNo"]: r for r in rows}
    assert all(served[e.entry_id]["acBal"] == to_euro(e.balance_after) for e in lev)
    assert all(served[e.entry_id]["acBal"] == e.balance_after for e in euro)  # 2026 continues as booked


def test_redenominated_windows_join_each_closing_to_the_next_opening(bank: Sandbox, login: Login) -> None:
    bank.faults = Faults(history="redenominated")
    windows = [(date(2025, 11, 2), date(2025, 12, 1)), (date(2025, 12, 2), date(2025, 12, 31))]
    windows.append((date(2026, 1, 1), date(2026, 1, 30)))
    answers = [elements(login, CONVERTED, *w) for w in windows]
    assert all(len(a) == 1 and "ccy" not in a[0] for a in answers)
    totals = [summary(a[0]) for a in answers]
    assert totals[0]["CL"] == totals[1]["OP"] and totals[1]["CL"] == totals[2]["OP"]
    assert all(chain_breaks(t["OP"], entries(a[0])) == [] for t, a in zip(totals, answers, strict=True))


def test_the_truth_of_a_redenominated_history_is_what_it_serves_in_euro(bank: Sandbox, login: Login) -> None:
    lev_truth = {e.entry_id: e for e in bank.truth()[CONVERTED]}
    bank.faults.history = "redenominated"
    truth = booked(bank, CONVERTED, *ACROSS)
    served = {r["acEntrySrNo"]: r for r in entries(elements(login, CONVERTED, *ACROSS)[0])}
    assert {e.currency for e in truth} == {"EUR"}
    assert set(served) == {e.entry_id for e in truth}
    for entry in truth:
        row = served[entry.entry_id]
        assert (row["amount"], row["acBal"], signed(row)) == (
            entry.amount,
            entry.balance_after,
            entry.signed_amount,
        )
        assert entry.direction == lev_truth[entry.entry_id].direction
    changed = [e for e in truth if e.amount != lev_truth[e.entry_id].amount]
    assert changed and all(e.booking_date.year == 2025 for e in changed)
    over_http = requests.get(f"{bank.base_url}/_sandbox/truth", timeout=10).json()
    (account,) = [a for a in over_http["accounts"] if a["iban"] == CONVERTED]
    assert {e["currency"] for e in account["entries"]} == {"EUR"}
    bank.faults.history = "as_booked"
    assert bank.truth()[CONVERTED] == list(lev_truth.values())


def test_redenominated_history_leaves_accounts_that_were_always_euro_alone(
    bank: Sandbox, login: Login
) -> None:
    plain = elements(login, EUR_CURRENT, *ACROSS)
    bank.faults.history = "redenominated"
    assert elements(login, EUR_CURRENT, *ACROSS) == plain


def test_a_late_posting_in_the_lev_history_shows_in_the_euro_history_too(bank: Sandbox, login: Login) -> None:
    bank.faults.history = "redenominated"
    before = summary(elements(login, CONVERTED, *ACROSS)[0])
    bank.post_late_entry(CONVERTED, date(2025, 12, 22), Decimal("1955.83"), "credit")  # 1000.00 euro
    after = summary(elements(login, CONVERTED, *ACROSS)[0])
    assert after["CL"] - before["CL"] == Decimal("1000.00")
    assert chain_breaks(after["OP"], entries(elements(login, CONVERTED, *ACROSS)[0])) == []


# only recent history served ------------------------------------------------------------------------


def test_a_bank_serving_the_last_days_fails_older_windows_and_opens_at_the_balance_then(
    bank: Sandbox, login: Login
) -> None:
    bank.faults.served_days = 100
    served_from = TODAY - timedelta(days=100)
    refused = statement(login, EUR_CURRENT, served_from - timedelta(days=1), served_from + timedelta(days=20))
    assert refused.status_code == 500 and "ORA-01403" in refused.json()["message"]
    assert statement(login, EUR_CURRENT, date(2016, 3, 14), date(2016, 4, 12)).status_code == 500
    (first,) = elements(login, EUR_CURRENT, served_from, served_from + timedelta(days=29))
    last_before = booked(bank, EUR_CURRENT, date(2016, 1, 1), served_from - timedelta(days=1))[-1]
    assert summary(first)["OP"] == last_before.balance_after != 0
    assert entries(first)


def test_served_days_is_set_from_python_over_http_and_zero_switches_it_off(
    bank: Sandbox, login: Login
) -> None:
    old = (date(2020, 1, 1), date(2020, 1, 30))
    bank.faults = Faults(served_days=30)
    assert statement(login, EUR_CURRENT, *old).status_code == 500
    url = f"{bank.base_url}/_sandbox/faults"
    assert requests.post(url, json={"served_days": 0}, timeout=5).status_code == 200
    assert statement(login, EUR_CURRENT, *old).status_code == 200
    assert requests.post(url, json={"served_days": -1}, timeout=5).status_code == 400


# the command line ------------------------------------------------------------------------------------


def test_the_cli_takes_every_statement_knob() -> None:
    flags = ["--bare-window-start", "2026-02-01", "--bare-window-mode", "always", "--ccy", "absent"]
    flags += ["--changeover-element", "mixed", "--history", "redenominated", "--served-days", "400"]
    command = [sys.executable, "-m", "fibank_sandbox", "--port", "0", "--today", TODAY.isoformat()]
    process = subprocess.Popen(command + flags, stdout=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        faults = requests.get(f"{base_url}/_sandbox/faults", timeout=5).json()
        assert faults["bare_window_start"] == "2026-02-01" and faults["bare_window_mode"] == "always"
        assert faults["ccy"] == "absent" and faults["changeover_element"] == "mixed"
        assert faults["history"] == "redenominated" and faults["served_days"] == 400
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_the_cli_names_a_bad_knob_value_in_one_line() -> None:
    command = [sys.executable, "-m", "fibank_sandbox", "--port", "0", "--history", "euro"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "tap-fibank-sandbox: error: --history: history must be one of ('as_booked', 'redenominated', "
        "'shifted'), not 'euro'"
    ]
