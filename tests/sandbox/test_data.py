"""The sandbox's data: statements that add up everywhere, the euro, DST, determinism, truth."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import simplejson
from conftest import Login, sandbox_login

from fibank_sandbox import Sandbox
from fibank_sandbox.iban import check_digits, fibank_iban, is_valid, make_iban
from fibank_sandbox.model import BGN_PER_EUR, SOFIA, bgn_to_eur

EURO_DAY = date(2026, 1, 1)
TODAY = date(2026, 3, 15)


def get_statement(login: Login, customer: str, iban: str, first: date, last: date) -> list[dict[str, Any]]:
    response = login.api(
        "GetCustBal",
        customer,
        FromDate=f"{first}T00:00:00+0200",
        ToDate=f"{last}T00:00:00+0200",
        Iban=iban,
        StmtType="T",
        isAccountFromPSD2="false",
    )
    assert response.status_code == 200, response.text
    accs: list[dict[str, Any]] = simplejson.loads(response.text, use_decimal=True)["acc"]
    return accs


def check_acc(acc: dict[str, Any]) -> list[dict[str, Any]]:
    """Assert one acc element adds up; return its entry rows oldest first."""
    stmt = acc["stmt"]
    assert [r["trnType"] for r in stmt[:1] + stmt[-3:]] == ["OP", "DT", "CT", "CL"]
    op, dt, ct, cl = stmt[0], stmt[-3], stmt[-2], stmt[-1]
    assert op["amount"] == op["acBal"] and cl["amount"] == cl["acBal"]
    assert op["amount"] + ct["amount"] - dt["amount"] == cl["amount"]
    entries = list(reversed(stmt[1:-3]))
    assert all(r["trnType"] not in ("OP", "CL", "DT", "CT") for r in entries)
    assert sum((r["amount"] for r in entries if r["dtkt"] == "DT"), Decimal(0)) == dt["amount"]
    assert sum((r["amount"] for r in entries if r["dtkt"] == "KT"), Decimal(0)) == ct["amount"]
    balance = op["amount"]
    for row in entries:
        assert row["amount"] > 0 and row["amount"] == row["amount"].quantize(Decimal("0.01"))
        balance += row["amount"] if row["dtkt"] == "KT" else -row["amount"]
        assert row["acBal"] == balance, row
    assert balance == cl["amount"]
    return entries


def walk(login: Login, bank: Sandbox, iban: str) -> list[tuple[str, dict[str, Any]]]:
    """Read an account's whole history in 30-day windows; (currency, row) oldest first."""
    info = next(a for a in bank.accounts if a.iban == iban)
    first = info.opened - timedelta(days=3)
    rows: list[tuple[str, dict[str, Any]]] = []
    previous_close: tuple[str, Decimal] | None = None
    while first <= bank.today:
        last = first + timedelta(days=29)
        accs = get_statement(login, info.customer_id, iban, first, last)
        spans = first < EURO_DAY <= last and info.converted
        assert len(accs) == (2 if spans else 1)
        for acc in accs:
            currency = acc["ccy"]
            opening = acc["stmt"][0]["amount"]
            if previous_close is not None:
                closed_in, closed = previous_close
                expected = bgn_to_eur(closed) if (closed_in, currency) == ("BGN", "EUR") else closed
                assert opening == expected
            rows.extend((currency, r) for r in check_acc(acc))
            previous_close = (currency, acc["stmt"][-1]["amount"])
        first = last + timedelta(days=1)
    return rows


@pytest.fixture(scope="module")
def fixed_bank() -> Any:
    with Sandbox(seed=1, today=TODAY) as bank:
        yield bank


def readable(bank: Sandbox) -> list[str]:
    return [a.iban for a in bank.accounts if "statement_500" not in a.tags]


def test_every_window_of_every_account_adds_up_and_equals_the_truth(fixed_bank: Sandbox) -> None:
    login = sandbox_login(fixed_bank.base_url)
    truth = fixed_bank.truth()
    for iban in readable(fixed_bank):
        rows = walk(login, fixed_bank, iban)
        expected = truth[iban]
        assert [r["acEntrySrNo"] for _, r in rows] == [e.entry_id for e in expected]
        assert [r for _, r in rows] == [
            simplejson.loads(simplejson.dumps(e.row, use_decimal=True), use_decimal=True) for e in expected
        ]
        assert [c for c, _ in rows] == [e.currency for e in expected]


def test_truth_is_ordered_and_consistent(fixed_bank: Sandbox) -> None:
    ids = set()
    for iban, entries in fixed_bank.truth().items():
        keys = [(e.booked_at.timestamp(), e.entry_id) for e in entries]
        assert keys == sorted(keys)
        for entry in entries:
            assert entry.iban == iban
            assert entry.booked_at.tzinfo is not None
            assert entry.booking_date == entry.booked_at.astimezone(SOFIA).date()
            assert entry.signed_amount == (entry.amount if entry.direction == "credit" else -entry.amount)
            assert entry.row["acEntrySrNo"] == entry.entry_id
            ids.add(entry.entry_id)
    assert len(ids) == sum(len(e) for e in fixed_bank.truth().values())


def test_the_data_set_has_the_promised_accounts(fixed_bank: Sandbox) -> None:
    truth = fixed_bank.truth()
    tags = {a.iban: a.tags for a in fixed_bank.accounts}
    by_tag = {
        tag: [i for i, t in tags.items() if tag in t]
        for tag in ("busy", "converted", "quiet_gap", "no_entries", "statement_500")
    }
    assert len(by_tag["converted"]) == 2 and len(by_tag["statement_500"]) == 1
    assert all(len(truth[i]) > 3000 for i in by_tag["busy"])
    assert truth[by_tag["no_entries"][0]] == []
    (usd,) = by_tag["quiet_gap"]
    gap = [e for e in truth[usd] if date(2023, 3, 1) <= e.booking_date <= date(2023, 8, 31)]
    assert gap == [] and len(truth[usd]) > 100
    assert {c.customer_id for c in fixed_bank.customers} == {a.customer_id for a in fixed_bank.accounts}


def test_the_euro_changeover_splits_the_statement_in_two(fixed_bank: Sandbox) -> None:
    login = sandbox_login(fixed_bank.base_url)
    for info in fixed_bank.accounts:
        if not info.converted:
            continue
        assert info.currency == "EUR" and info.original_currency == "BGN"
        bgn, eur = get_statement(login, info.customer_id, info.iban, date(2025, 12, 20), date(2026, 1, 10))
        assert (bgn["ccy"], eur["ccy"]) == ("BGN", "EUR")
        check_acc(bgn)
        check_acc(eur)
        assert bgn["stmt"][-1]["dateTime"].startswith("2025-12-31")
        assert eur["stmt"][0]["dateTime"] == "2026-01-01T00:00:00+0200"
        closing_bgn = bgn["stmt"][-1]["amount"]
        assert eur["stmt"][0]["amount"] == bgn_to_eur(closing_bgn)
        assert abs(eur["stmt"][0]["amount"] * BGN_PER_EUR - closing_bgn) < Decimal("0.01")
        # no conversion entries on the day
        assert all(r["trnType"] not in ("FX", "CNV") for r in bgn["stmt"] + eur["stmt"])
        before = get_statement(login, info.customer_id, info.iban, date(2025, 12, 2), date(2025, 12, 31))
        after = get_statement(login, info.customer_id, info.iban, EURO_DAY, date(2026, 1, 30))
        assert [a["ccy"] for a in before + after] == ["BGN", "EUR"]
    accounts = login.api("getFilteredAccounts", "7310528").json()
    assert {a["ccy"] for a in accounts} == {"EUR"}


def test_before_the_euro_the_converted_account_shows_bgn() -> None:
    with Sandbox(seed=1, today=date(2025, 6, 1)) as bank:
        login = sandbox_login(bank.base_url)
        accounts = login.api("getFilteredAccounts", "5896443").json()
        assert {a["ibanAcNo"]: a["ccy"] for a in accounts}["BG52FINV91501017006651"] == "BGN"


def test_dst_offsets_and_both_passes_of_the_repeated_hour(fixed_bank: Sandbox) -> None:
    login = sandbox_login(fixed_bank.base_url)
    iban = "BG47FINV91501017006644"
    spring = get_statement(login, "5896443", iban, date(2025, 3, 30), date(2025, 3, 30))
    autumn = get_statement(login, "5896443", iban, date(2025, 10, 26), date(2025, 10, 26))
    spring_times = [r["dateTime"] for r in check_acc(spring[0])]
    autumn_times = [r["dateTime"] for r in check_acc(autumn[0])]
    assert "2025-03-30T04:10:00+0300" in spring_times
    assert "2025-10-26T03:15:00+0300" in autumn_times
    assert "2025-10-26T03:40:00+0200" in autumn_times
    assert autumn_times.index("2025-10-26T03:15:00+0300") < autumn_times.index("2025-10-26T03:40:00+0200")
    winter = get_statement(login, "5896443", iban, date(2024, 1, 10), date(2024, 1, 20))
    summer = get_statement(login, "5896443", iban, date(2024, 7, 10), date(2024, 7, 20))
    assert all(r["dateTime"].endswith("+0200") for r in winter[0]["stmt"])
    assert all(r["dateTime"].endswith("+0300") for r in summer[0]["stmt"])


def test_entries_in_the_first_and_last_minute_of_a_day(fixed_bank: Sandbox) -> None:
    times = [e.booked_at for entries in fixed_bank.truth().values() for e in entries]
    assert any(t.hour == 0 and t.minute == 0 for t in times)
    assert any(t.hour == 23 and t.minute == 59 for t in times)
    for t in times:
        assert t.strftime("%z") == ("+0300" if t.dst() else "+0200")


def test_one_seed_gives_identical_bytes_and_another_seed_other_data() -> None:
    def fetch(seed: int) -> bytes:
        with Sandbox(seed=seed, today=TODAY) as bank:
            login = sandbox_login(bank.base_url)
            response = login.api(
                "GetCustBal",
                "7310528",
                FromDate="2024-05-01T00:00:00+0300",
                ToDate="2024-05-30T00:00:00+0300",
                Iban="BG35FINV91501011884290",
                StmtType="T",
                isAccountFromPSD2="false",
            )
            return response.content

    assert fetch(1) == fetch(1)
    assert fetch(1) != fetch(2)


def test_history_does_not_depend_on_today() -> None:
    early = Sandbox(seed=3, today=date(2024, 1, 31)).truth()
    late = Sandbox(seed=3, today=date(2024, 6, 30)).truth()
    for iban, entries in early.items():
        assert late[iban][: len(entries)] == entries


def test_a_late_posting_rewrites_later_balances(fixed_bank: Sandbox) -> None:
    with Sandbox(seed=1, today=TODAY) as bank:
        iban = "BG52FINV91501017006651"
        before = bank.truth()[iban]
        entry = bank.post_late_entry(iban, date(2025, 12, 10), Decimal("100.00"), "debit")
        assert entry.currency == "BGN" and entry.booking_date == date(2025, 12, 10)
        assert entry.booked_at == datetime(2025, 12, 10, 12, 0, tzinfo=SOFIA)
        after = bank.truth()[iban]
        assert len(after) == len(before) + 1
        shift = after[-1].balance_after - before[-1].balance_after
        assert abs(shift + Decimal("51.13")) <= Decimal("0.01")  # 100 BGN, after the euro
        login = sandbox_login(bank.base_url)
        walk(login, bank, iban)
    assert fixed_bank.truth()[iban] == before  # the other sandbox is untouched


def test_iban_check_digits() -> None:
    assert is_valid("BG47FINV91501017006644")
    assert fibank_iban("10", 17006644) == "BG47FINV91501017006644"
    assert not is_valid("BG48FINV91501017006644")
    assert check_digits("GB", "WEST12345698765432") == "82"
    assert make_iban("DE", "370400440532013000") == "DE89370400440532013000"
    for info in Sandbox(seed=1, today=TODAY).accounts:
        assert is_valid(info.iban) and info.iban.startswith("BG")
        assert info.iban[4:14] == "FINV915010"
    counterparties = {
        e.trn_account
        for entries in Sandbox(seed=1, today=TODAY).truth().values()
        for e in entries
        if e.trn_account
    }
    assert len(counterparties) > 10 and all(is_valid(i) for i in counterparties)
