"""The client's façade against the in-process sandbox: each call its path, and the tries it names.

`profiles`, `accounts` and `statement` are what the streams and the walk ask the bank. The paths
and the statement's parameters are compared with fibank-api.md (sections 2 and 4), spelled here,
not imported from the tap; the tries are counted on the sandbox's side of the wire.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from fibank_sandbox import Sandbox
from tap_fibank.bank.client import BankClient, ServerError
from tap_fibank.bank.retry import Tries
from tap_fibank.walk.windows import Window

MAX_RETRIES = 2
WINDOW = Window(dt.date(2026, 1, 1), dt.date(2026, 1, 30))


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[BankClient]:
    bank = BankClient(
        base_url=sandbox.base_url,
        username=sandbox.username,
        password=sandbox.password,
        timeout=10.0,
        max_retries=MAX_RETRIES,
        backoff_base=0.001,  # the schedule is test_retry.py's; here only the count matters
    )
    yield bank
    bank.close()


def calls(bank: Sandbox, endpoint: str) -> int:
    return int(bank.counters()["calls"].get(endpoint, 0))


def first_account(client: BankClient) -> tuple[str, str]:
    customer_id = str(client.profiles()["customer"][0]["ibCustomerId"])
    return customer_id, str(client.accounts(customer_id)[0]["ibanAcNo"])


def test_profiles_and_accounts_are_one_call_each_to_their_paths(sandbox: Sandbox, client: BankClient) -> None:
    profiles = client.profiles()
    customer_id = str(profiles["customer"][0]["ibCustomerId"])
    accounts = client.accounts(customer_id)
    assert isinstance(accounts, list) and accounts[0]["ibanAcNo"]
    assert calls(sandbox, "getCustQuery") == 1
    assert calls(sandbox, "getFilteredAccounts") == 1


def test_the_statement_is_asked_as_the_connector_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    bank = BankClient(base_url="http://bank.invalid", username="u", password="p", timeout=1.0, max_retries=5)
    asked: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def get_json(*args: Any, **kwargs: Any) -> dict[str, Any]:
        asked.append((args, kwargs))
        return {"acc": []}

    monkeypatch.setattr(bank, "get_json", get_json)
    assert bank.statement("BG47FINV91501017006644", WINDOW, "42", tries=Tries.ONCE) == {"acc": []}
    (args, kwargs) = asked[0]
    assert args == (
        "sywsquery/sywsquery/GetCustBal",
        {
            "FromDate": "2026-01-01T00:00:00+0200",
            "ToDate": "2026-01-30T23:59:59+0200",
            "Iban": "BG47FINV91501017006644",
            "StmtType": "T",
            "isAccountFromPSD2": "false",
        },
        "42",
    )
    assert kwargs["tries"] == Tries.ONCE


def test_once_sends_exactly_one_request(sandbox: Sandbox, client: BankClient) -> None:
    customer_id, iban = first_account(client)
    sandbox.fail_next("5xx", count=5, endpoint="GetCustBal")
    with pytest.raises(ServerError, match=r"1 attempts"):
        client.statement(iban, WINDOW, customer_id, tries=Tries.ONCE)
    assert calls(sandbox, "GetCustBal") == 1


def test_full_sends_one_plus_max_retries_requests(sandbox: Sandbox, client: BankClient) -> None:
    customer_id, iban = first_account(client)
    sandbox.fail_next("5xx", count=10, endpoint="GetCustBal")
    with pytest.raises(ServerError, match=rf"{1 + MAX_RETRIES} attempts"):
        client.statement(iban, WINDOW, customer_id)  # FULL is the default
    assert calls(sandbox, "GetCustBal") == 1 + MAX_RETRIES


def test_full_answers_when_the_last_allowed_try_does(sandbox: Sandbox, client: BankClient) -> None:
    customer_id, iban = first_account(client)
    sandbox.fail_next("5xx", count=MAX_RETRIES, endpoint="GetCustBal")
    answer = client.statement(iban, WINDOW, customer_id, tries=Tries.FULL)
    assert isinstance(answer["acc"], list)
    assert calls(sandbox, "GetCustBal") == 1 + MAX_RETRIES


def test_an_expired_token_is_renewed_without_spending_a_try(sandbox: Sandbox, client: BankClient) -> None:
    customer_id, iban = first_account(client)
    sandbox.fail_next("expire_token", count=1, endpoint="GetCustBal")
    answer = client.statement(iban, WINDOW, customer_id, tries=Tries.ONCE)
    assert isinstance(answer["acc"], list)
    assert calls(sandbox, "GetCustBal") == 2  # the refused request, then the one with a new token
