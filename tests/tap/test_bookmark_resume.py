"""Bookmarks that never pass an entry not emitted: each STATE judged by the records before it.

The real tap runs against the sandbox as a subprocess. A STATE is what a target stores; a kill
right after it loses every record that was not yet written, so each test compares a STATE only
with the records emitted before it, never with the whole run.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from support.bank import BUSY, RECENT, TODAY, Runner, assert_equals_truth, key, truth, upsert
from support.tapruns import run_tap, sandbox_config

from fibank_sandbox import Sandbox
from tap_fibank.walk.bookmarks import BOOKMARK
from tap_fibank.walk.windows import MAX_WINDOW_DAYS


def test_a_truncated_window_followed_by_a_sound_one_keeps_the_bookmark_before_it_and_the_next_run_recovers_it(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=1) as bank:
        r = Runner(bank, tmp_path)
        bank.faults.truncate_window_start = RECENT.isoformat()  # the first of two windows
        first = r.run(ibans=[BUSY])
        assert first.returncode == 0, first.stderr[-3000:]
        ranges = {
            (dt.date.fromisoformat(a), dt.date.fromisoformat(b))
            for _, a, b in bank.counters()["statement_ranges"]
        }
        later = [a for a, _ in ranges if a > RECENT]
        assert later, "the truncated window must be followed by another one"
        assert bank.counters()["faults"]["truncated"] >= 1
        emitted = {key(rec) for rec in first.records["transactions"]}
        want = truth(bank, RECENT, {BUSY})
        assert emitted < set(want), "the truncated window must have lost an entry"
        # The sound window after it does not let the bookmark pass the truncated one.
        assert first.partitions()[BUSY][BOOKMARK] == (RECENT - dt.timedelta(days=1)).isoformat()

        bank.faults.truncate_window_start = ""
        second = r.run(state=first.state, ibans=[BUSY])
        assert second.returncode == 0, second.stderr[-3000:]
        assert_equals_truth(list(upsert(first, second).values()), want)
        assert second.partitions()[BUSY][BOOKMARK] == TODAY.isoformat()


def _start_putting_a_checkpoint_after_a_days_first_entry(bank: Sandbox, checkpoint: int) -> dt.date:
    """A start date whose `checkpoint`-th entry of BUSY opens a day with more entries, mid-window.

    The SDK writes a STATE every `checkpoint` records of an account; a bookmark that claimed a
    day as soon as its first entry went out would then claim entries not yet written.
    """
    entries = sorted(bank.truth()[BUSY], key=lambda e: (e.booked_at, e.entry_id))
    for back in range(checkpoint // 2, 4 * checkpoint):
        start = TODAY - dt.timedelta(days=back)
        shown = [e for e in entries if e.booking_date >= start]
        if len(shown) <= checkpoint:
            continue
        at, before, after = shown[checkpoint - 1], shown[checkpoint - 2], shown[checkpoint]
        mid_window = (at.booking_date - start).days % MAX_WINDOW_DAYS != 0
        if before.booking_date < at.booking_date == after.booking_date and mid_window:
            return start
    raise AssertionError("no start date puts a checkpoint after the first entry of a busy day")


def _checkpoints(stdout: str) -> list[tuple[set[tuple[str, int]], dict[str, Any]]]:
    """Each STATE with the transactions records written before it."""
    emitted: set[tuple[str, int]] = set()
    found = []
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD" and message["stream"] == "transactions":
            emitted.add(key(message["record"]))
        elif message["type"] == "STATE":
            found.append((set(emitted), message["value"]))
    return found


def test_with_lookback_0_no_state_claims_a_day_whose_entries_were_not_all_written_before_it(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=1) as bank:
        start = _start_putting_a_checkpoint_after_a_days_first_entry(bank, checkpoint=1000)
        config = sandbox_config(bank, start.isoformat(), ibans=[BUSY], lookback_days=0)
        run = run_tap(tmp_path, config)
        assert run.returncode == 0, run.stderr[-3000:]
        want = truth(bank, start, {BUSY})
        mid_day = None
        for emitted, state in _checkpoints(run.stdout):
            partitions = state.get("bookmarks", {}).get("transactions", {}).get("partitions", [])
            marks = [p[BOOKMARK] for p in partitions if p["context"]["iban"] == BUSY and BOOKMARK in p]
            if not marks:
                continue
            claimed = dt.date.fromisoformat(marks[0])
            missing = [k for k, e in want.items() if e.booking_date <= claimed and k not in emitted]
            assert not missing, (claimed, missing[:3])
            following = {e.booking_date for k, e in want.items() if k in emitted and e.booking_date > claimed}
            if following and len(emitted) < len(want):
                mid_day = (emitted, state)
        assert mid_day is not None, "no STATE was written in the middle of a day's entries"

        # A kill right after that STATE: resuming from it (lookback 0) loses nothing.
        emitted, state = mid_day
        resumed = run_tap(tmp_path, config, state=state)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert emitted | {key(rec) for rec in resumed.records["transactions"]} == set(want)
