"""The one retry loop and its schedule: backoff that doubles with jitter, Retry-After in both of
its forms, and the named tries every call to the bank is given."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest

from tap_fibank.bank.retry import Retry, Tries, backoff, retry_after, retrying

NOW = dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(("failures", "nominal"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)])
def test_backoff_doubles_with_a_quarter_of_jitter_either_way(failures: int, nominal: float) -> None:
    waits = [backoff(failures, 0.5) for _ in range(200)]
    assert all(nominal * 0.75 <= w <= nominal * 1.25 for w in waits)
    assert max(waits) > nominal * 1.15 and min(waits) < nominal * 0.85  # the whole quarter, both ways


def test_backoff_is_capped_at_thirty_seconds_with_its_jitter() -> None:
    waits = [backoff(40, 0.5) for _ in range(50)]
    assert all(22.5 <= w <= 37.5 for w in waits)  # a 30 s cap ±25 %: neither 0 nor 2**39 halves


def test_retry_after_in_seconds_is_capped_at_two_minutes() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("100000") == 120.0  # docs/reliability.md: capped at 120 s


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    when = NOW + dt.timedelta(seconds=30)
    assert retry_after(email.utils.format_datetime(when, usegmt=True), now=NOW) == 30.0


def test_retry_after_as_a_date_beyond_two_minutes_is_capped() -> None:
    when = NOW + dt.timedelta(hours=1)
    assert retry_after(email.utils.format_datetime(when, usegmt=True), now=NOW) == 120.0


def test_retry_after_in_the_past_or_unreadable() -> None:
    past = email.utils.format_datetime(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), usegmt=True)
    assert retry_after(past, now=NOW) == 0.0
    assert retry_after("soon") == 1.0
    assert retry_after(None) == 1.0


def test_retry_after_as_a_date_with_an_offset_counts_from_that_instant() -> None:
    sofia = dt.timezone(dt.timedelta(hours=2))
    when = (NOW + dt.timedelta(seconds=30)).astimezone(sofia)
    assert retry_after(email.utils.format_datetime(when), now=NOW) == 30.0


def test_retry_after_as_a_date_without_a_zone_is_read_as_utc() -> None:
    when = (NOW + dt.timedelta(seconds=30)).replace(tzinfo=None)
    text = email.utils.format_datetime(when)
    assert text.endswith("-0000")
    assert retry_after(text, now=NOW) == 30.0


def test_retry_after_reads_the_clock_when_not_given_one() -> None:
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=60)
    assert 30.0 <= retry_after(email.utils.format_datetime(when, usegmt=True)) <= 60.0


def test_the_backoff_module_comes_from_the_one_distribution_the_sdk_depends_on() -> None:
    # `backoff` and `python-backoff` both install the module `backoff`; with both, the last one
    # installed would win and the SDK could run on a backoff it did not ask for.
    import importlib.metadata

    assert importlib.metadata.packages_distributions()["backoff"] == ["python-backoff"]
    requires = importlib.metadata.requires("tap-fibank") or []
    assert any(r.startswith("python-backoff") for r in requires)
    assert not any(r.split(">")[0].split("=")[0].strip() == "backoff" for r in requires)


# Named tries ----------------------------------------------------------------------------------


def test_once_is_one_try_and_full_is_one_plus_the_runs_retries() -> None:
    assert Tries.ONCE.total(5) == 1
    assert Tries.FULL.total(5) == 6
    assert Tries.FULL.total(0) == 1
    assert Tries(3).total(5) == 3


def test_a_call_without_a_try_is_refused_and_one_try_is_enough() -> None:
    with pytest.raises(ValueError, match="at least one try, not 0"):
        Tries(0)
    assert Tries(1) == Tries.ONCE  # built when the test runs, not at import


# The loop -------------------------------------------------------------------------------------


class Script:
    """Answers a loop's attempts from a list (a `Retry` is a failure), recording what it saw."""

    def __init__(self, *answers: str | Retry) -> None:
        self.answers = list(answers)
        self.lasts: list[bool] = []
        self.slept: list[tuple[str, int, float]] = []

    def attempt(self, last: bool) -> str | Retry:
        self.lasts.append(last)
        return self.answers.pop(0)

    def sleep(self, failure: Retry, failures: int, seconds: float) -> None:
        self.slept.append((failure.problem, failures, seconds))


class GaveUp(Exception):
    pass


def run(script: Script, tries: int) -> str:
    return retrying(
        script.attempt,
        tries,
        schedule=lambda failures: 10.0 * failures,
        sleep=script.sleep,
        give_up=lambda failure, failures: GaveUp(f"{failure.problem} x{failures}"),
    )


def test_a_first_answer_is_returned_without_a_wait() -> None:
    script = Script("answer")
    assert run(script, 3) == "answer"
    assert script.lasts == [False]
    assert script.slept == []


def test_failures_are_retried_on_the_schedule_until_an_answer() -> None:
    script = Script(Retry("HTTP 500"), Retry("HTTP 502"), "answer")
    assert run(script, 3) == "answer"
    assert script.lasts == [False, False, True]
    assert script.slept == [("HTTP 500", 1, 10.0), ("HTTP 502", 2, 20.0)]


def test_the_last_failure_gives_up_with_no_wait_after_it() -> None:
    script = Script(Retry("a"), Retry("b"), Retry("c"), "never asked")
    with pytest.raises(GaveUp, match=r"^c x3$"):
        run(script, 3)
    assert len(script.lasts) == 3
    assert [seconds for _, _, seconds in script.slept] == [10.0, 20.0]


def test_one_try_is_one_attempt_and_no_wait() -> None:
    script = Script(Retry("a"), "never asked")
    with pytest.raises(GaveUp, match=r"^a x1$"):
        run(script, Tries.ONCE.total(5))
    assert script.lasts == [True]
    assert script.slept == []


def test_retry_after_replaces_the_schedule_for_that_wait_only() -> None:
    script = Script(Retry("HTTP 429", retry_after=7.0), Retry("HTTP 500"), "answer")
    assert run(script, 3) == "answer"
    assert script.slept == [("HTTP 429", 1, 7.0), ("HTTP 500", 2, 20.0)]


def test_a_wait_that_raises_ends_the_loop() -> None:
    script = Script(Retry("a"), "never asked")

    def cancelled(_failure: Retry, _failures: int, _seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        retrying(script.attempt, 3, schedule=float, sleep=cancelled, give_up=lambda f, n: GaveUp())
    assert len(script.lasts) == 1
