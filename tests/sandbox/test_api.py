"""The sandbox's JSON API: each endpoint, its checks and the statement's shape."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests
import simplejson
from conftest import Login, api_get, sandbox_login

from fibank_sandbox import Sandbox
from fibank_sandbox.data import _generate_cached
from fibank_sandbox.iban import is_valid

PERSON, BUSINESS = "5896443", "7310528"
EUR_CURRENT = "BG47FINV91501017006644"
CONVERTED = "BG52FINV91501017006651"
FAILING = "BG88FINV91501011884306"


def iso(day: date) -> str:
    return f"{day.isoformat()}T00:00:00+0200"


def statement(login: Login, iban: str, first: date, last: date, cust: str = PERSON) -> requests.Response:
    return login.api(
        "GetCustBal",
        cust,
        FromDate=iso(first),
        ToDate=iso(last),
        Iban=iban,
        StmtType="T",
        isAccountFromPSD2="false",
    )


def test_get_cust_query_lists_the_person_and_the_business(bank_login: Login) -> None:
    response = bank_login.api("getCustQuery")
    assert response.status_code == 200
    customers = response.json()["customer"]
    assert [c["ibCustomerId"] for c in customers] == [5896443, 7310528]
    assert customers[1]["customerName"].endswith("ЕООД")


def test_json_carries_unescaped_cyrillic_in_utf8(bank_login: Login) -> None:
    response = bank_login.api("getCustQuery")
    assert "application/json" in response.headers["Content-Type"]
    assert "Иван".encode() in response.content
    assert b"\\u" not in response.content


def test_filtered_accounts_of_each_profile(sandbox: Sandbox, bank_login: Login) -> None:
    person = bank_login.api("getFilteredAccounts", PERSON).json()
    business = bank_login.api("getFilteredAccounts", BUSINESS).json()
    assert len(person) == 4 and len(business) == 2
    for account in person + business:
        assert is_valid(account["ibanAcNo"])
        assert account["ccy"] in ("EUR", "USD")
        assert account["acName"]
    owned = {a.iban for a in sandbox.accounts}
    assert {a["ibanAcNo"] for a in person + business} == owned


def test_amounts_are_json_numbers_with_two_decimals(bank_login: Login) -> None:
    raw = bank_login.api("getFilteredAccounts", PERSON).text
    assert re.search(r'"curBal":\d+\.\d\d[,}]', raw)
    assert '"blockedAmt":0.00' in raw


def test_calls_about_accounts_need_the_customer_header(bank_login: Login) -> None:
    assert bank_login.api("getFilteredAccounts").status_code == 400
    assert bank_login.api("getFilteredAccounts", "1234567").status_code == 403


def test_an_iban_of_the_other_profile_is_forbidden(bank_login: Login) -> None:
    today = date(2024, 5, 1)
    assert statement(bank_login, FAILING, today, today, PERSON).status_code == 403
    assert statement(bank_login, EUR_CURRENT, today, today, BUSINESS).status_code == 403


def test_api_calls_without_a_valid_token_get_401(sandbox: Sandbox) -> None:
    http = requests.Session()
    missing = api_get(http, sandbox.base_url, None, "getCustQuery")
    bad = api_get(http, sandbox.base_url, "nonsense", "getCustQuery")
    assert missing.status_code == 401 and bad.status_code == 401
    assert bad.json()["error"] == "invalid_token"
    assert "Bearer" in bad.headers["WWW-Authenticate"]
    assert sandbox.counters()["unauthorized"] == 2


def test_a_range_over_30_days_is_answered_and_counted(sandbox: Sandbox, bank_login: Login) -> None:
    # The 2022 connector asked for decades at once and the bank answered: only the web page
    # limits a range to 30 days. The sandbox counts such ranges so tests can prove the tap never
    # sends one.
    first = date(2024, 1, 1)
    ok = statement(bank_login, EUR_CURRENT, first, first + timedelta(days=29))
    long = statement(bank_login, EUR_CURRENT, first, first + timedelta(days=30))
    backwards = statement(bank_login, EUR_CURRENT, first, first - timedelta(days=1))
    assert ok.status_code == 200 and long.status_code == 200
    assert backwards.status_code == 400
    counters = sandbox.counters()
    assert counters["refusals"] == 1 and counters["long_ranges"] == 1
    assert counters["longest_range_days"] == 31
    assert counters["statement_calls"][EUR_CURRENT] == 3
    assert counters["statement_ranges"][1] == [EUR_CURRENT, "2024-01-01", "2024-01-31"]


def test_refuse_long_ranges_refuses_a_range_over_30_days(sandbox: Sandbox, bank_login: Login) -> None:
    sandbox.faults.refuse_long_ranges = True
    first = date(2024, 1, 1)
    too_long = statement(bank_login, EUR_CURRENT, first, first + timedelta(days=30))
    assert too_long.status_code == 400 and "30" in too_long.json()["message"]
    assert sandbox.counters()["refusals"] == 1


def test_dates_are_read_as_sofia_calendar_days(bank_login: Login) -> None:
    # 2024-01-31T23:30Z is already 1 February in Sofia; +02:00 style offsets are accepted too.
    response = bank_login.api(
        "GetCustBal",
        PERSON,
        FromDate="2024-01-31T23:30:00Z",
        ToDate="2024-02-10T00:00:00+02:00",
        Iban=EUR_CURRENT,
        StmtType="T",
        isAccountFromPSD2="false",
    )
    rows = response.json()["acc"][0]["stmt"]
    assert rows[0]["dateTime"] == "2024-02-01T00:00:00+0200"
    assert (
        bank_login.api(
            "GetCustBal", PERSON, FromDate="2024-02-01", ToDate="2024-02-02", Iban=EUR_CURRENT
        ).status_code
        == 400
    )


def test_statement_rows_have_the_documented_fields_and_order(bank_login: Login) -> None:
    rows = statement(bank_login, EUR_CURRENT, date(2024, 3, 1), date(2024, 3, 30)).json()
    (acc,) = rows["acc"]
    assert acc["iban"] == EUR_CURRENT and acc["ccy"] == "EUR"
    stmt = acc["stmt"]
    fields = {
        "acEntrySrNo",
        "reference",
        "acBal",
        "amount",
        "dtkt",
        "dateTime",
        "valueDt",
        "contragent",
        "benOrderParty",
        "trname",
        "trnAccount",
        "trnType",
        "trnCode",
        "isEbankOper",
        "isPayment",
        "loadAsNew",
        "remI",
        "remIi",
        "remIii",
    }
    assert all(set(row) == fields for row in stmt)
    assert [r["trnType"] for r in stmt[:1] + stmt[-3:]] == ["OP", "DT", "CT", "CL"]
    entries = stmt[1:-3]
    assert len(entries) > 20
    times = [r["dateTime"] for r in entries]
    assert times == sorted(times, reverse=True)  # newest first
    assert {r["dtkt"] for r in entries} == {"DT", "KT"}
    assert all(r["isEbankOper"] in "YN" and r["isPayment"] in "YN" for r in entries)
    assert len({r["acEntrySrNo"] for r in entries}) == len(entries)
    assert any(r["trnAccount"] and is_valid(r["trnAccount"]) for r in entries)


def test_a_statement_decodes_to_decimals_that_add_up(bank_login: Login) -> None:
    body = statement(bank_login, EUR_CURRENT, date(2024, 3, 1), date(2024, 3, 30)).text
    (acc,) = simplejson.loads(body, use_decimal=True)["acc"]
    rows = {r["trnType"]: r for r in acc["stmt"] if r["trnType"] in ("OP", "DT", "CT", "CL")}
    assert rows["OP"]["amount"] + rows["CT"]["amount"] - rows["DT"]["amount"] == rows["CL"]["amount"]
    assert all(isinstance(r["amount"], Decimal) for r in acc["stmt"])


def test_an_empty_window_still_has_summary_rows(bank_login: Login) -> None:
    usd = "BG56FINV91501017103288"
    stmt = statement(bank_login, usd, date(2023, 4, 1), date(2023, 4, 30)).json()["acc"][0]
    assert [r["trnType"] for r in stmt["stmt"]] == ["OP", "DT", "CT", "CL"]
    op, dt, ct, cl = (r["amount"] for r in stmt["stmt"])
    assert op == cl and dt == 0 and ct == 0 and op > 0


def test_before_the_account_opened_balances_are_zero(bank_login: Login) -> None:
    stmt = statement(bank_login, EUR_CURRENT, date(2015, 1, 1), date(2015, 1, 30)).json()
    rows = stmt["acc"][0]["stmt"]
    assert [r["amount"] for r in rows] == [0, 0, 0, 0]


def test_one_account_always_answers_500(bank_login: Login) -> None:
    for _ in range(3):
        response = statement(bank_login, FAILING, date(2024, 1, 1), date(2024, 1, 10), BUSINESS)
        assert response.status_code == 500


def test_statement_list_has_one_closed_month_each(sandbox: Sandbox, bank_login: Login) -> None:
    response = bank_login.api(
        "getAccStmtList",
        PERSON,
        AccountNo=CONVERTED,
        Iban=CONVERTED,
        FromDate=iso(date(2025, 10, 1)),
        ToDate=iso(date(2026, 2, 28)),
    )
    months = simplejson.loads(response.text, use_decimal=True)
    assert [m["periodFrom"][:7] for m in months] == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
    assert [m["ccy"] for m in months] == ["BGN", "BGN", "BGN", "EUR", "EUR"]
    for month in months:
        assert month["openBal"] + month["ktTurnover"] - month["dtTurnover"] == month["closeBal"]
    assert months[2]["closeBal"] != months[3]["openBal"]  # leva, then euro


def test_unknown_api_paths_are_404(bank_login: Login) -> None:
    assert bank_login.api("sywsquery/sywsquery/nothing").status_code == 404


def test_stop_closes_the_port_and_open_keepalive_connections() -> None:
    bank = Sandbox(seed=1).start()
    login = sandbox_login(bank.base_url)
    assert login.api("getCustQuery").status_code == 200
    base_url = bank.base_url
    bank.stop()
    with pytest.raises(requests.ConnectionError):
        login.api("getCustQuery")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/oauth2-server/login", timeout=2)
    with pytest.raises(RuntimeError):
        bank.base_url  # noqa: B018


def test_a_second_sandbox_with_the_same_arguments_reuses_the_generated_data() -> None:
    today = date(2021, 6, 30)
    Sandbox(seed=7, today=today)  # data cached for (seed, today, scale)
    before = _generate_cached.cache_info()
    with Sandbox(seed=7, today=today) as bank:
        assert bank.base_url.startswith("http://127.0.0.1:")
    after = _generate_cached.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)


def test_accounts_n_gives_n_healthy_accounts_of_one_year_each() -> None:
    today = date(2026, 3, 15)
    with Sandbox(seed=1, today=today, accounts=7) as bank:
        demo = Sandbox(seed=1, today=today)
        assert len(bank.accounts) == 7
        assert len({a.iban for a in bank.accounts}) == 7
        assert not {a.iban for a in bank.accounts} & {a.iban for a in demo.accounts}
        assert all(a.opened == today - timedelta(days=365) for a in bank.accounts)
        assert not any("statement_500" in a.tags for a in bank.accounts)
        assert all(is_valid(a.iban) for a in bank.accounts)
        assert [c.customer_id for c in bank.customers] == [c.customer_id for c in demo.customers]
        truth = bank.truth()
        assert all(truth[a.iban] for a in bank.accounts if "no_entries" not in a.tags)
        assert all(e.booking_date >= today - timedelta(days=365) for es in truth.values() for e in es)
        login = sandbox_login(bank.base_url)
        listed = [
            item["ibanAcNo"]
            for profile in bank.customers
            for item in login.api("getFilteredAccounts", profile.customer_id).json()
        ]
        assert sorted(listed) == sorted(a.iban for a in bank.accounts)


def test_unlock_over_http_lifts_the_lockout(sandbox: Sandbox) -> None:
    for _ in range(5):
        sandbox_login(sandbox.base_url, password="wrong")
    assert sandbox_login(sandbox.base_url).token is None  # locked: the right password is refused
    answer = requests.post(f"{sandbox.base_url}/_sandbox/unlock", timeout=5)
    assert answer.status_code == 200 and answer.json() == {"unlocked": True}
    assert sandbox_login(sandbox.base_url).token


def test_reset_counters_over_http_starts_counting_from_zero(sandbox: Sandbox, bank_login: Login) -> None:
    bank_login.api("getCustQuery")
    assert sandbox.counters()["calls"]["getCustQuery"] == 1 and sandbox.counters()["logins"] == 1
    answer = requests.post(f"{sandbox.base_url}/_sandbox/reset_counters", timeout=5)
    assert answer.status_code == 200
    assert answer.json()["calls"]["getCustQuery"] == 0 and answer.json()["logins"] == 0
    assert sandbox.counters() == answer.json()
    bank_login.api("getCustQuery")
    assert sandbox.counters()["calls"]["getCustQuery"] == 1


def test_scale_multiplies_the_entries() -> None:
    today = date(2020, 12, 31)
    single = sum(len(v) for v in Sandbox(seed=5, today=today).truth().values())
    double = sum(len(v) for v in Sandbox(seed=5, today=today, scale=2).truth().values())
    assert 1.6 < double / single < 2.2
