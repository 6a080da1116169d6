"""Every fault knob of the sandbox does what it says, and counters and control paths report it."""

from __future__ import annotations

import datetime as dt
import email.utils
import socket
import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import simplejson
from conftest import Login, sandbox_login

from fibank_sandbox import Faults, Sandbox

IBAN = "BG47FINV91501017006644"
PERSON = "5896443"


def window(login: Login, first: Any, last: Any) -> requests.Response:
    return login.api(
        "GetCustBal",
        PERSON,
        FromDate=f"{first}T00:00:00+0200",
        ToDate=f"{last}T00:00:00+0200",
        Iban=IBAN,
        StmtType="T",
        isAccountFromPSD2="false",
    )


def test_login_steps_and_api_calls_take_at_least_the_latency(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.faults.latency = 0.15
    started = time.perf_counter()
    assert bank_login.api("getCustQuery").status_code == 200
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    requests.get(f"{sandbox.base_url}/oauth2-server/login", timeout=5)
    assert time.perf_counter() - started >= 0.15


def test_connections_are_served_without_nagles_delay(sandbox: Sandbox, bank_login: Login) -> None:
    """A response written in two pieces must not wait for the client's delayed ACK (server.py)."""
    assert bank_login.api("getCustQuery").status_code == 200  # the keep-alive connection stays open
    server = sandbox._server
    assert server is not None
    with server.server.sockets_lock:
        open_sockets = list(server.server.open_sockets)
    assert open_sockets
    assert all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in open_sockets)


def test_fail_next_5xx_rotates_500_502_503(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.fail_next("5xx", count=3)
    statuses = [bank_login.api("getCustQuery").status_code for _ in range(4)]
    assert statuses == [500, 502, 503, 200]
    assert sandbox.counters()["faults"]["5xx"] == 3


def test_fail_next_429_sends_retry_after(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.fail_next("429")
    sandbox.faults.retry_after = 7
    response = bank_login.api("getCustQuery")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert bank_login.api("getCustQuery").status_code == 200
    assert sandbox.counters()["faults"]["429"] == 1


def test_a_429_can_send_retry_after_as_an_http_date(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.faults.retry_after = 7
    sandbox.faults.retry_after_date = True
    sandbox.fail_next("429")
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    response = bank_login.api("getCustQuery")
    when = email.utils.parsedate_to_datetime(response.headers["Retry-After"])
    assert response.status_code == 429
    assert response.headers["Retry-After"].endswith(" GMT")
    assert before + dt.timedelta(seconds=7) <= when <= before + dt.timedelta(seconds=8)


def test_fail_next_drop_closes_the_connection(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.fail_next("drop")
    with pytest.raises(requests.ConnectionError):
        bank_login.api("getCustQuery")
    assert bank_login.api("getCustQuery").status_code == 200
    assert sandbox.counters()["faults"]["drop"] == 1


def test_fail_next_malformed_truncates_the_json(sandbox: Sandbox, bank_login: Login) -> None:
    good = bank_login.api("getCustQuery")
    sandbox.fail_next("malformed")
    bad = bank_login.api("getCustQuery")
    assert bad.status_code == 200
    assert len(bad.content) < len(good.content) and good.content.startswith(bad.content)
    with pytest.raises(ValueError):
        bad.json()
    assert sandbox.counters()["faults"]["malformed"] == 1


def test_fail_next_can_target_one_endpoint(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.fail_next("5xx", endpoint="GetCustBal")
    assert bank_login.api("getCustQuery").status_code == 200
    assert window(bank_login, "2024-01-01", "2024-01-05").status_code == 500
    assert window(bank_login, "2024-01-01", "2024-01-05").status_code == 200


def test_fail_next_can_hit_a_login_step(sandbox: Sandbox) -> None:
    sandbox.fail_next("5xx", endpoint="login_post")
    first = sandbox_login(sandbox.base_url)
    assert first.token is None and first.final is not None
    assert first.final.status_code == 500
    assert sandbox_login(sandbox.base_url).token


def test_fail_next_refuses_unknown_kinds(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError):
        sandbox.fail_next("fire")


def test_expire_token_makes_this_and_later_calls_401(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.fail_next("expire_token")
    assert bank_login.api("getCustQuery").status_code == 401
    assert bank_login.api("getCustQuery").status_code == 401
    counters = sandbox.counters()
    assert counters["faults"]["expired_token"] == 2 and counters["unauthorized"] == 2
    assert sandbox_login(sandbox.base_url).api("getCustQuery").status_code == 200


def test_a_token_expires_after_n_calls(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.faults.token_calls = 3
    statuses = [bank_login.api("getCustQuery").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 401]


def test_a_token_expires_after_n_seconds() -> None:
    now = [1000.0]
    with Sandbox(seed=1, clock=lambda: now[0]) as sandbox:
        sandbox.faults.token_seconds = 0.3
        login = sandbox_login(sandbox.base_url)
        assert login.fragment["expires_in"] == "1"
        now[0] += 0.3  # the last moment of its life
        assert login.api("getCustQuery").status_code == 200
        now[0] += 0.01
        response = login.api("getCustQuery")
        assert response.status_code == 401 and "expired" in response.json()["error_description"]
        now[0] -= 1  # once expired, a token stays expired
        assert login.api("getCustQuery").status_code == 401


def test_a_token_lives_600_seconds_by_default() -> None:
    now = [0.0]
    with Sandbox(seed=1, clock=lambda: now[0]) as sandbox:
        login = sandbox_login(sandbox.base_url)
        assert login.fragment["expires_in"] == "600"
        now[0] = 600.0
        assert login.api("getCustQuery").status_code == 200
        now[0] = 600.5
        assert login.api("getCustQuery").status_code == 401


def test_the_gate_holds_statement_calls_after_the_nth_until_it_opens(
    sandbox: Sandbox, bank_login: Login
) -> None:
    sandbox.faults.hold_statements_after = 1
    assert window(bank_login, "2026-01-05", "2026-01-10").status_code == 200  # the first goes through
    held: list[int] = []
    worker = threading.Thread(
        target=lambda: held.append(window(bank_login, "2026-01-11", "2026-01-12").status_code)
    )
    worker.start()
    deadline = time.monotonic() + 30
    while sandbox.counters()["faults"]["held"] < 1:
        assert time.monotonic() < deadline, "the second statement call never reached the gate"
        time.sleep(0.01)
    worker.join(timeout=0.2)
    assert worker.is_alive() and held == []  # shut: no answer yet
    assert bank_login.api("getCustQuery").status_code == 200  # the gate holds statements only
    sandbox.faults.hold_statements_after = None
    worker.join(timeout=30)
    assert held == [200]
    counters = sandbox.counters()
    assert counters["calls"]["GetCustBal"] == 2 and counters["faults"]["held"] == 1


def test_the_gate_is_a_knob_of_the_control_path(sandbox: Sandbox) -> None:
    answer = requests.post(
        f"{sandbox.base_url}/_sandbox/faults", json={"hold_statements_after": 3}, timeout=5
    )
    assert answer.json()["hold_statements_after"] == 3 and sandbox.faults.hold_statements_after == 3
    answer = requests.post(
        f"{sandbox.base_url}/_sandbox/faults", json={"hold_statements_after": None}, timeout=5
    )
    assert answer.json()["hold_statements_after"] is None


def test_entry_timestamp_replaces_every_entry_rows_datetime_and_no_summary_rows(
    sandbox: Sandbox, bank_login: Login
) -> None:
    before = simplejson.loads(window(bank_login, "2026-01-05", "2026-01-10").text, use_decimal=True)
    sandbox.faults.entry_timestamp = "9999-12-31T23:59:59-1400"
    after = simplejson.loads(window(bank_login, "2026-01-05", "2026-01-10").text, use_decimal=True)
    rows_before, rows_after = before["acc"][0]["stmt"], after["acc"][0]["stmt"]
    assert [r["acEntrySrNo"] for r in rows_after] == [r["acEntrySrNo"] for r in rows_before]
    entries = [r for r in rows_after if r["acEntrySrNo"] is not None]
    assert entries and all(r["dateTime"] == "9999-12-31T23:59:59-1400" for r in entries)
    for old, new in zip(rows_before, rows_after):
        if new["acEntrySrNo"] is None:
            assert new == old


@pytest.mark.parametrize(
    ("knob", "check"),
    [
        ("error_rate", lambda r: r.status_code in (500, 502, 503)),
        ("rate_limit_rate", lambda r: r.status_code == 429 and r.headers["Retry-After"] == "1"),
        ("malformed_rate", lambda r: r.status_code == 200 and not r.text.endswith("}")),
    ],
)
def test_a_rate_of_one_fails_every_call(sandbox: Sandbox, bank_login: Login, knob: str, check: Any) -> None:
    setattr(sandbox.faults, knob, 1.0)
    assert all(check(bank_login.api("getCustQuery")) for _ in range(5))


def test_drop_rate_of_one_drops_every_call(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.faults.drop_rate = 1.0
    for _ in range(3):
        with pytest.raises(requests.ConnectionError):
            bank_login.api("getCustQuery")
    assert sandbox.counters()["faults"]["drop"] == 3


def test_rates_hit_about_their_share_reproducibly(bank_login: Login, sandbox: Sandbox) -> None:
    sandbox.faults.error_rate = 0.3
    statuses = [bank_login.api("getCustQuery").status_code for _ in range(200)]
    failures = sum(s != 200 for s in statuses)
    assert 35 <= failures <= 85
    with Sandbox(seed=1, faults=Faults(error_rate=0.3)) as again:
        login = sandbox_login(again.base_url)
        assert [login.api("getCustQuery").status_code != 200 for _ in range(200)] == [
            s != 200 for s in statuses
        ]


def test_faults_do_not_touch_login_steps_unless_targeted(sandbox: Sandbox) -> None:
    sandbox.faults.error_rate = 1.0
    assert sandbox_login(sandbox.base_url).token


def test_truncation_drops_entry_rows_but_keeps_the_totals(sandbox: Sandbox, bank_login: Login) -> None:
    full = simplejson.loads(window(bank_login, "2024-03-01", "2024-03-20").text, use_decimal=True)["acc"][0][
        "stmt"
    ]
    sandbox.faults.truncate_rate = 1.0
    cut = simplejson.loads(window(bank_login, "2024-03-01", "2024-03-20").text, use_decimal=True)["acc"][0][
        "stmt"
    ]
    assert len(cut) < len(full)
    assert cut[:1] + cut[-3:] == full[:1] + full[-3:]
    entries = cut[1:-3]
    debits = sum((r["amount"] for r in entries if r["dtkt"] == "DT"), Decimal(0))
    credits = sum((r["amount"] for r in entries if r["dtkt"] == "KT"), Decimal(0))
    assert (debits, credits) != (cut[-3]["amount"], cut[-2]["amount"])
    assert sandbox.counters()["faults"]["truncated"] == 1
    empty = window(bank_login, "2015-01-01", "2015-01-10").json()["acc"][0]["stmt"]
    assert len(empty) == 4 and sandbox.counters()["faults"]["truncated"] == 1


def test_late_posting_books_into_a_window_already_read(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.faults.late_posting_days = 5
    target = sandbox.today - timedelta(days=5)
    first, last = target - timedelta(days=10), target + timedelta(days=2)
    before = window(bank_login, first, last).json()["acc"][0]["stmt"]
    assert sandbox.counters()["faults"]["late_posting"] == 1
    assert sandbox.faults.late_posting_days is None
    posted = [e for e in sandbox.truth()[IBAN] if e.trn_type == "COR"]
    assert len(posted) == 1 and posted[0].booking_date == target
    after = window(bank_login, first, last).json()["acc"][0]["stmt"]
    assert len(after) == len(before) + 1
    assert posted[0].entry_id in {r["acEntrySrNo"] for r in after}
    window(bank_login, first, last)
    assert sandbox.counters()["faults"]["late_posting"] == 1  # one shot


def test_counters_are_snapshots_and_can_be_reset(sandbox: Sandbox, bank_login: Login) -> None:
    snapshot = sandbox.counters()
    snapshot["calls"]["getCustQuery"] = 99
    assert sandbox.counters()["calls"]["getCustQuery"] == 0
    bank_login.api("getCustQuery")
    assert sandbox.counters()["calls"]["getCustQuery"] == 1
    sandbox.reset_counters()
    assert sandbox.counters()["calls"]["getCustQuery"] == 0


def test_control_paths_serve_truth_counters_and_faults(sandbox: Sandbox, bank_login: Login) -> None:
    base = f"{sandbox.base_url}/_sandbox"
    bank_login.api("getCustQuery")
    assert requests.get(f"{base}/counters", timeout=5).json() == sandbox.counters()
    truth = requests.get(f"{base}/truth", timeout=10).json()
    expected = sandbox.truth()
    assert [a["iban"] for a in truth["accounts"]] == [a.iban for a in sandbox.accounts]
    assert set(expected) == {a.iban for a in sandbox.accounts}
    for account in truth["accounts"]:
        entries = expected[account["iban"]]
        assert [e["entry_id"] for e in account["entries"]] == [e.entry_id for e in entries]
        if entries:
            first = account["entries"][0]
            assert first["amount"] == str(entries[0].amount)
            assert first["booked_at"] == entries[0].row["dateTime"]
    changed = requests.post(f"{base}/faults", json={"latency": 0.01, "token_calls": 5}, timeout=5).json()
    assert changed["latency"] == 0.01 and sandbox.faults.token_calls == 5
    assert requests.post(f"{base}/faults", json={"nope": 1}, timeout=5).status_code == 400
    requests.post(f"{base}/fail_next", json={"kind": "429"}, timeout=5)
    assert bank_login.api("getCustQuery").status_code == 429


def test_assigning_a_new_faults_object_takes_effect(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.faults = Faults(error_rate=1.0)
    assert bank_login.api("getCustQuery").status_code in (500, 502, 503)
    sandbox.faults = Faults()
    assert bank_login.api("getCustQuery").status_code == 200


@pytest.mark.parametrize(
    ("number", "field", "spelled"),
    [
        ("NaN", "amount", ":NaN"),
        ("-Infinity", "acBal", ":-Infinity"),
        ('"Infinity"', "amount", ':"Infinity"'),
    ],
)
def test_entry_number_puts_a_non_finite_number_in_one_windows_entry_rows_only(
    sandbox: Sandbox, bank_login: Login, number: str, field: str, spelled: str
) -> None:
    before = simplejson.loads(window(bank_login, "2026-01-05", "2026-01-10").text, use_decimal=True)
    sandbox.faults.update(
        {"entry_number": number, "entry_number_field": field, "entry_number_window_start": "2026-01-05"}
    )
    answer = window(bank_login, "2026-01-05", "2026-01-10")
    assert answer.status_code == 200
    assert f'"{field}"{spelled}' in answer.text  # as the bank's encoder would write it, not a 500
    after = simplejson.loads(answer.text, use_decimal=True, parse_constant=Decimal)
    rows_before, rows_after = before["acc"][0]["stmt"], after["acc"][0]["stmt"]
    entries = [r for r in rows_after if r["acEntrySrNo"] is not None]
    assert entries and all(str(r[field]) == number.strip('"') for r in entries)
    for old, new in zip(rows_before, rows_after, strict=True):
        if new["acEntrySrNo"] is None:
            assert new == old
        else:
            assert {k: v for k, v in new.items() if k != field} == {
                k: v for k, v in old.items() if k != field
            }
    other = window(bank_login, "2026-01-06", "2026-01-10")  # another window is sound
    assert "NaN" not in other.text and "Infinity" not in other.text


def test_entry_number_refuses_what_is_no_number(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="entry_number must be"):
        sandbox.faults.update({"entry_number": "lots"})
    with pytest.raises(ValueError, match="entry_number_field must be one of"):
        sandbox.faults.update({"entry_number_field": "dtkt"})
