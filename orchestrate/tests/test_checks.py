"""A failing dbt check's rows, named per login: the rows' login key, else the tap that skipped it."""

from __future__ import annotations

from fibank_orchestrate.checks import UNKNOWN, attribute

SUMMARIES = {
    "household": "Run finished with 1 skipped: account ****4306 from 2026-10-06 (GetCustBal: HTTP 500)",
    "office": "Run finished: every listed account was read.",
}


def test_rows_that_carry_a_login_of_the_tick_go_to_that_login() -> None:
    assert attribute({"office": ["****1111"], "household": ["****4306"]}, SUMMARIES) == {
        "office": ["****1111"],
        "household": ["****4306"],
    }


def test_rows_without_a_known_login_go_to_the_login_whose_tap_skipped_the_account() -> None:
    found = {"default": ["****4306", "****9999"], UNKNOWN: ["****4306"]}
    assert attribute(found, SUMMARIES) == {"household": ["****4306"], UNKNOWN: ["****9999"]}


def test_a_failing_check_whose_rows_name_no_account_is_still_reported() -> None:
    assert attribute({UNKNOWN: []}, SUMMARIES) == {UNKNOWN: []}
