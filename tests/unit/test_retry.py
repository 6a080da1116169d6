"""The one retry policy: backoff that doubles with jitter, and Retry-After in both of its forms."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest

from tap_fibank.bank.retry import MAX_BACKOFF, MAX_RETRY_AFTER, backoff, retry_after


@pytest.mark.parametrize(("failures", "nominal"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)])
def test_backoff_doubles_with_a_quarter_of_jitter_either_way(failures: int, nominal: float) -> None:
    waits = [backoff(failures, 0.5) for _ in range(200)]
    assert all(nominal * 0.75 <= w <= nominal * 1.25 for w in waits)
    assert max(waits) > nominal * 1.15 and min(waits) < nominal * 0.85  # the whole quarter, both ways


def test_backoff_is_capped() -> None:
    assert backoff(40, 0.5) <= MAX_BACKOFF * 1.25


def test_retry_after_in_seconds() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("100000") == MAX_RETRY_AFTER


def test_retry_after_as_an_http_date() -> None:
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30)
    seconds = retry_after(email.utils.format_datetime(when, usegmt=True))
    assert 27 <= seconds <= 30


def test_retry_after_in_the_past_or_unreadable() -> None:
    past = email.utils.format_datetime(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), usegmt=True)
    assert retry_after(past) == 0.0
    assert retry_after("soon") == 1.0
    assert retry_after(None) == 1.0


def test_retry_after_as_a_date_with_an_offset_counts_from_that_instant() -> None:
    sofia = dt.timezone(dt.timedelta(hours=2))
    when = dt.datetime.now(sofia) + dt.timedelta(seconds=30)
    assert 27 <= retry_after(email.utils.format_datetime(when)) <= 30


def test_retry_after_as_a_date_without_a_zone_is_read_as_utc() -> None:
    when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(seconds=30)
    text = email.utils.format_datetime(when)
    assert text.endswith("-0000")
    assert 27 <= retry_after(text) <= 30


def test_the_backoff_module_comes_from_the_one_distribution_the_sdk_depends_on() -> None:
    # `backoff` and `python-backoff` both install the module `backoff`; with both, the last one
    # installed would win and the SDK could run on a backoff it did not ask for.
    import importlib.metadata

    assert importlib.metadata.packages_distributions()["backoff"] == ["python-backoff"]
    requires = importlib.metadata.requires("tap-fibank") or []
    assert any(r.startswith("python-backoff") for r in requires)
    assert not any(r.split(">")[0].split("=")[0].strip() == "backoff" for r in requires)
