"""`tap-fibank-state reread --iban IBAN --from DAY [--customer-id ID] [STATE_FILE]`.

A bookmark only moves forward, so a stretch the state already claims is never read again on its
own: a state written by an earlier version past a lost window, or a warehouse restored from a
backup older than the state. This rewrites the state that `meltano state get` prints (or a bare
Singer state) so that the next run reads one account again from a given day, and prints it for
`meltano state set`. Every other account is left exactly as it was: re-reading them costs calls
and the bank counts each run as a login.

Contract: a command of its own, run between runs on a state text; it never talks to the bank
and changes only the partitions of the account named.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import simplejson

from tap_fibank.bank.clock import sofia_today
from tap_fibank.config.checks import STATE_SCHEMA, shape_problem
from tap_fibank.errors import ConfigError
from tap_fibank.privacy import mask_iban
from tap_fibank.walk.bookmarks import BOOKMARK, walked_through
from tap_fibank.walk.registry import compact_iban
from tap_fibank.walk.windows import ONE_DAY

PROG = "tap-fibank-state"
WRAPPER = "singer_state"  # what `meltano state get` puts around the tap's state
_FIX = "give what `meltano state get <state-id>` prints"


@dataclass(frozen=True)
class Reread:
    """One account to read again, and the first day to read."""

    iban: str  # compact, upper case
    first_day: dt.date
    customer_id: str | None = None

    @property
    def held_at(self) -> dt.date:
        """The last day the rewritten bookmark may claim: the day before the first one to read."""
        return self.first_day - ONE_DAY


def load_state(text: str, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole document and the Singer state in it (inside `singer_state`, or bare).

    Numbers are read as Decimal so that they are written back exactly as they came.
    """
    if not text.strip():
        msg = f"{where} is empty: {_FIX}"
        raise ConfigError(msg)
    try:
        document = simplejson.loads(text, parse_float=Decimal)
    except simplejson.JSONDecodeError as exc:
        msg = f"{where} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; {_FIX}"
        raise ConfigError(msg) from None
    except RecursionError:
        msg = f"{where} is nested too deeply to be a Singer state; {_FIX}"
        raise ConfigError(msg) from None
    wrapped = isinstance(document, dict) and WRAPPER in document
    state = document[WRAPPER] if wrapped else document
    problem = shape_problem(state, STATE_SCHEMA)
    if problem is not None:
        msg = f"{where} is not a Singer state: {problem}; {_FIX}"
        raise ConfigError(msg)
    if not state.get("bookmarks"):
        msg = f"{where} holds no bookmarks, so there is nothing to read again; {_FIX}"
        raise ConfigError(msg)
    return document, state


def account_partitions(state: dict[str, Any], reread: Reread) -> list[tuple[str, dict[str, Any]]]:
    """The account's partition in each stream that has one, with the stream's name.

    The same IBAN listed under two profiles is refused unless `--customer-id` names one: a
    bookmark of the wrong profile would be read again for nothing, the right one not at all.
    """
    found = [
        (stream, partition)
        for stream, partition in _iban_partitions(state)
        if compact_iban(str(partition["context"]["iban"])) == reread.iban
        and reread.customer_id in (None, str(partition["context"].get("customer_id")))
    ]
    if not found:
        raise ConfigError(_no_such_account(state, reread))
    customers = sorted({str(partition["context"].get("customer_id")) for _, partition in found})
    if len(customers) > 1:
        msg = (
            f"account {mask_iban(reread.iban)} is in the state under customers {', '.join(customers)}: "
            "name one with --customer-id"
        )
        raise ConfigError(msg)
    return found


def _iban_partitions(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every account partition (its context names an IBAN) of every stream, in state order."""
    return [
        (stream, partition)
        for stream, bookmarks in state["bookmarks"].items()
        for partition in (bookmarks.get("partitions") or [])
        if isinstance(partition.get("context", {}).get("iban"), str)
    ]


def _no_such_account(state: dict[str, Any], reread: Reread) -> str:
    held = sorted(
        {
            f"{mask_iban(str(p['context']['iban']))} (customer {p['context'].get('customer_id')})"
            for _, p in _iban_partitions(state)
        }
    )
    which = f" of customer {reread.customer_id}" if reread.customer_id else ""
    holds = f"it holds {', '.join(held)}" if held else "it holds no account"
    missing = f"the state has no account {mask_iban(reread.iban)}{which}"
    return f"{missing}: {holds}; check --iban and --customer-id"


def rewrite_partition(partition: dict[str, Any], reread: Reread) -> list[str]:
    """Make one partition's next run read from `reread.first_day`; what changed, in words.

    A partition with no bookmark at all is read from `start_date` anyway and keeps having none:
    a bookmark set there would skip the days before it.
    """
    held_at = reread.held_at
    changes: list[str] = []
    resumes_after = walked_through(partition)
    if resumes_after is not None and resumes_after > held_at:
        changes.append(f"{BOOKMARK} {partition.get(BOOKMARK) or 'unset'} -> {held_at.isoformat()}")
        partition[BOOKMARK] = held_at.isoformat()
    if _after(partition.get("replication_key_value"), held_at):
        changes.append(f"replication_key_value {partition.pop('replication_key_value')} dropped")
    markers = partition.get("progress_markers")
    if isinstance(markers, dict) and _after(markers.get("replication_key_value"), held_at):
        del partition["progress_markers"]
        changes.append("progress_markers dropped")
    changes += _forget_chain(partition, reread.first_day)
    changes += _forget_served_from(partition, reread.first_day)
    return changes


def _forget_chain(partition: dict[str, Any], first_day: dt.date) -> list[str]:
    """The balance the next run chains to must be that of a day before the first one it reads."""
    if "chain" not in partition:
        return []
    chain = partition["chain"]
    day = _day(chain.get("day")) if isinstance(chain, dict) else None
    if day is not None and day < first_day:
        return []
    del partition["chain"]
    return [f"chain ({day.isoformat() if day else 'unreadable'}) dropped"]


def _forget_served_from(partition: dict[str, Any], first_day: dt.date) -> list[str]:
    """A day before the bank's remembered history start asks for it to be found again."""
    if "served_from" not in partition:
        return []
    served_from = _day(partition["served_from"])
    if served_from is not None and first_day >= served_from:
        return []
    partition.pop("served_probed", None)
    return [f"served_from {partition.pop('served_from')} dropped"]


def _day(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _after(value: Any, day: dt.date) -> bool:
    found = _day(value)
    return found is not None and found > day


def reread_state(text: str, where: str, reread: Reread) -> tuple[str, list[str]]:
    """The rewritten document as JSON text (as `meltano state get` spells it), and what changed."""
    document, state = load_state(text, where)
    report: list[str] = []
    for stream, partition in account_partitions(state, reread):
        changes = rewrite_partition(partition, reread) or ["already reads from there; unchanged"]
        customer = partition["context"].get("customer_id")
        report.append(f"{stream} {mask_iban(reread.iban)} (customer {customer}): {'; '.join(changes)}")
    return simplejson.dumps(document, use_decimal=True) + "\n", report


class _Parser(argparse.ArgumentParser):
    """Usage mistakes end in one line too, as every other error of the tap's commands does."""

    def error(self, message: str) -> NoReturn:
        print(f"{PROG}: error: {message}; see {PROG} reread --help", file=sys.stderr)
        sys.exit(ConfigError.exit_code)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """One command for now: `reread`."""
    parser = _Parser(prog=PROG, description="Rewrite a tap-fibank state (as meltano state get prints it).")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    reread = commands.add_parser(
        "reread",
        help="make the next run read one account again from a day; the others are left as they are",
        description="Read STATE_FILE (or stdin); write the new state to stdout and what changed to stderr.",
    )
    reread.add_argument("--iban", required=True, help="the account (spaces and case do not matter)")
    reread.add_argument(
        "--from", dest="first_day", metavar="DAY", required=True, help="the first Sofia day to read again"
    )
    reread.add_argument("--customer-id", help="the profile, where the state lists the IBAN under two")
    reread.add_argument(
        "state_file", metavar="STATE_FILE", nargs="?", default="-", help="the state file; - or nothing: stdin"
    )
    return parser.parse_args(argv)


def first_day(text: str, today: dt.date) -> dt.date:
    """`--from`: a real day, not after today in Sofia (nothing after today can be read)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        msg = f"--from {text!r} is not a day: give one like 2025-03-01"
        raise ConfigError(msg) from None
    if day > today:
        msg = f"--from {day.isoformat()} is after today in Sofia ({today.isoformat()}): give a past day"
        raise ConfigError(msg)
    return day


def read_input(name: str) -> tuple[str, str]:
    """The state's text and how to name it in a message."""
    where = "the state on stdin" if name == "-" else f"state file {name}"
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        msg = f"{where} cannot be read ({exc.strerror or type(exc).__name__}): check the path"
        raise ConfigError(msg) from None
    try:
        return data.decode("utf-8"), where
    except UnicodeDecodeError as exc:
        msg = f"{where} is not UTF-8 text (byte {exc.start}): {_FIX}"
        raise ConfigError(msg) from None


def main(argv: list[str] | None = None) -> None:
    """Console entry point: the state on stdout, one line per changed partition on stderr."""
    args = parse_args(argv)
    try:
        request = Reread(compact_iban(args.iban), first_day(args.first_day, sofia_today()), args.customer_id)
        text, where = read_input(args.state_file)
        rewritten, report = reread_state(text, where, request)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    sys.stdout.write(rewritten)
    for line in report:
        print(f"{PROG}: {line}", file=sys.stderr)


if __name__ == "__main__":
    main()
