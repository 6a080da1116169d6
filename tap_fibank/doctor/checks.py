"""Every assumption the tap makes about the bank, checked against what the bank answered.

Each check gives one line: OK, DIFFERS or UNKNOWN, what was seen (names, types, spellings, counts,
never values), and what the difference means for this version of the tap: `tolerated` (it copes),
`unverifiable` (it reads the account but cannot prove a window complete) or `fatal` (a run fails
or reads wrong data). The verdict is the worst of them.

Contract: `run_checks` is a pure function of the observations, one finding per check in the
report's order. The entry fields it knows are the column table's (`tap_fibank.proof.columns`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from tap_fibank.bank.endpoints import LOGIN_SERVER
from tap_fibank.doctor.collect import Observations
from tap_fibank.doctor.findings import DIFFERS, OK, UNKNOWN, Finding
from tap_fibank.doctor.history import history_checks
from tap_fibank.doctor.probe import Exchange
from tap_fibank.doctor.statements import Element, chain_holds, elements_of, spelling, summary_value, totals
from tap_fibank.errors import BankProtocolError
from tap_fibank.privacy import mask_iban
from tap_fibank.proof.columns import COLUMNS, known_fields
from tap_fibank.proof.parsing import parse_flag

PROFILE_KNOWN = ("ibCustomerId", "customerName")
ACCOUNT_KNOWN = ("ibanAcNo", "ccy")
ENTRY_REQUIRED = ("acEntrySrNo", "dateTime", "amount")
#: The entry fields the tap reads: the bank fields of the column table.
ENTRY_KNOWN = known_fields(COLUMNS)
FLAGS = ("isEbankOper", "isPayment", "loadAsNew")


def run_checks(seen: Observations) -> list[Finding]:
    """All findings, in the order of the report."""
    found = [*_login(seen), _invalid_token(seen), _profiles(seen), _accounts(seen)]
    found.extend(_statements(seen))
    found.extend(history_checks(seen))
    found.append(_before_history(seen))
    found.append(_range_31(seen))
    return found


def _ok(check: str, seen: str) -> Finding:
    return Finding(check, OK, seen)


def _differs(check: str, seen: str, effect: str, accounts: Iterable[str] = ()) -> Finding:
    return Finding(check, DIFFERS, seen, effect, sorted(set(accounts)))


def _login(seen: Observations) -> list[Finding]:
    login = seen.login
    hop = login.token_hop
    if hop is None:
        token = Finding("login.token_hop", UNKNOWN, "the token's redirect was not seen (a resumed session)")
    elif hop == 1:
        token = _ok("login.token_hop", f"the token came in redirect 2 of {login.post_redirects}, as known")
    else:
        token = _differs(
            "login.token_hop",
            f"the token came in redirect {hop + 1} of {login.post_redirects} (known: 2); "
            "the tap looks in every one",
            "tolerated",
        )
    if login.expires_in is None:
        life = Finding(
            "login.expires_in", UNKNOWN, "no expires_in beside the token; the tap waits for a refusal"
        )
    elif login.expires_in.isdigit():
        life = _ok("login.expires_in", f"expires_in is whole seconds ({int(login.expires_in) // 60} min)")
    else:
        life = _differs("login.expires_in", "expires_in is not a whole number of seconds", "tolerated")
    names = ", ".join(login.cookie_names) or "none"
    cookies = _ok("login.cookies", f"cookie names: {names}")
    if not login.cookie_names:
        cookies = _differs(
            "login.cookies", "no cookie: a token renewal will need the password again", "tolerated"
        )
    return [token, life, cookies, _certificates(login.certificate_status)]


def _certificates(status: int | None) -> Finding:
    if status is None:
        return Finding("login.certificates", UNKNOWN, "the certificate question was not seen")
    if status == HTTPStatus.OK:
        return _ok("login.certificates", "the certificate question answered HTTP 200")
    return _differs(
        "login.certificates",
        f"the certificate question answered HTTP {status}: the login goes on (the connector never looked)",
        "tolerated",
    )


def _invalid_token(seen: Observations) -> Finding:
    answers = seen.of("invalid_token")
    if not answers:
        return Finding("api.refused_token", UNKNOWN, "not asked")
    answer = answers[0]
    what = f"HTTP {answer.status} {answer.body_kind}"
    if answer.location_path:
        what += f" redirecting to {answer.location_path}"
    if answer.status == HTTPStatus.UNAUTHORIZED:
        return _ok("api.refused_token", f"a token the bank never issued gets {what}; the tap renews on 401")
    if answer.status == HTTPStatus.FORBIDDEN or (answer.location_path or "").startswith(LOGIN_SERVER):
        return _differs(
            "api.refused_token",
            f"a token the bank never issued gets {what}, not 401: the tap renews on that too",
            "tolerated",
        )
    return _differs(
        "api.refused_token",
        f"a token the bank never issued gets {what}, not 401, 403 or the login page: the tap would stop "
        "when its token expires",
        "fatal",
    )


def _fields(objects: list[Any], known: tuple[str, ...], required: tuple[str, ...]) -> tuple[str, str]:
    names: list[str] = []
    for item in objects:
        for key in item if isinstance(item, dict) else []:
            if key not in names:
                names.append(key)
    missing = [k for k in known if k not in names]
    new = [k for k in names if k not in known]
    text = f"fields {len(names)}: known {len(known) - len(missing)}/{len(known)}"
    text += f", missing {', '.join(missing)}" if missing else ""
    text += f", new (kept in extra) {', '.join(new)}" if new else ""
    lost = [k for k in required if k in missing]
    return text, ("fatal" if lost else "tolerated" if missing else "ok")


def _profiles(seen: Observations) -> Finding:
    answers = seen.of("profiles")
    body = answers[0].body if answers else None
    profiles = body.get("customer") if isinstance(body, dict) else None
    if not answers or answers[0].status != HTTPStatus.OK or not isinstance(profiles, list):
        status = answers[0].status if answers else "none"
        return _differs("profiles.fields", f"getCustQuery: HTTP {status}, no customer list", "fatal")
    text, effect = _fields(profiles, PROFILE_KNOWN, ("ibCustomerId",))
    text = f"{len(profiles)} profile(s); {text}"
    return _ok("profiles.fields", text) if effect == "ok" else _differs("profiles.fields", text, effect)


def _accounts(seen: Observations) -> Finding:
    answers = seen.of("accounts")
    if not answers:
        return Finding("accounts.fields", UNKNOWN, "no profile to list accounts of")
    failed = [a for a in answers if a.status != HTTPStatus.OK or not isinstance(a.body, list)]
    items = [item for a in answers if isinstance(a.body, list) for item in a.body]
    text, effect = _fields(items, ACCOUNT_KNOWN, ("ibanAcNo",))
    text = f"{len(items)} account(s); {text}"
    if failed:
        text += f"; {len(failed)} profile list(s) not a JSON list (HTTP {failed[0].status})"
        effect = "tolerated" if effect == "ok" else effect
    return _ok("accounts.fields", text) if effect == "ok" else _differs("accounts.fields", text, effect)


def _statements(seen: Observations) -> list[Finding]:
    answers = seen.of("newest") + seen.of("year_back")
    read: list[tuple[str, Exchange, list[Element]]] = []
    failing, broken = [], []
    for answer in answers:
        masked = mask_iban(answer.iban or "")
        elements = elements_of(answer)
        if elements is not None:
            read.append((masked, answer, elements))
        elif answer.status >= HTTPStatus.INTERNAL_SERVER_ERROR and answer.purpose == "newest":
            failing.append(masked)
        elif answer.purpose == "newest" or answer.status < HTTPStatus.INTERNAL_SERVER_ERROR:
            broken.append((masked, answer))
    found = [_answers(answers, failing, broken), _acc(read)]
    found.extend(check(read) for check in STATEMENT_CHECKS)
    return found


def _answers(answers: list[Exchange], failing: list[str], broken: list[tuple[str, Exchange]]) -> Finding:
    if broken:
        masked, answer = broken[0]
        return _differs(
            "statement.answers",
            f"{len(broken)} window(s) answered HTTP {answer.status} {answer.body_kind} without an acc list "
            f"(first {masked} {answer.purpose})",
            "fatal",
            [m for m, _ in broken],
        )
    if failing:
        return _differs(
            "statement.answers",
            f"the newest window fails (5xx) for {len(failing)} account(s): the tap skips them, as for "
            f"the 2022 connector; {len(answers) - len(failing)} windows answered",
            "tolerated",
            failing,
        )
    return _ok("statement.answers", f"{len(answers)} windows answered 200 with an acc list")


def _acc(read: list[tuple[str, Exchange, list[Element]]]) -> Finding:
    counts = sorted({len(elements) for _, _, elements in read})
    foreign = [m for m, a, elements in read for e in elements if e.iban and e.iban.replace(" ", "") != a.iban]
    keys = sorted({k for _, _, elements in read for e in elements for k in e.keys})
    text = f"acc holds {'/'.join(map(str, counts)) or 'no'} element(s), keys {', '.join(keys)}"
    if foreign:
        return _differs(
            "statement.acc",
            f"{text}; elements for another IBAN: the tap ignores them (never attributed)",
            "tolerated",
            foreign,
        )
    return _ok("statement.acc", text)


Read = list[tuple[str, Exchange, list[Element]]]


def _all(read: Read) -> list[tuple[str, Element]]:
    return [(masked, e) for masked, _, elements in read for e in elements]


def _fields_check(read: Read) -> Finding:
    rows = [row for _, e in _all(read) for row in e.entries]
    if not rows:
        return Finding("statement.fields", UNKNOWN, "no entries in the windows read")
    text, effect = _fields(rows, ENTRY_KNOWN, ENTRY_REQUIRED)
    text = f"{len(rows)} entries; {text}"
    return _ok("statement.fields", text) if effect == "ok" else _differs("statement.fields", text, effect)


def _summary_rows(read: Read) -> Finding:
    layouts = sorted({" ".join(e.layout) for _, e in _all(read)})
    full = {id(e) for _, e in _all(read) if all(k in e.summaries for k in ("OP", "CL", "DT", "CT"))}
    # Where the bank sends summary rows, an element with no row at all is a lost read, named by
    # statement.bare_element; where it sends none, an empty window looks just the same.
    lacking = [m for m, e in _all(read) if id(e) not in full and (e.layout or not full)]
    text = f"rows in order: {' | '.join(layouts) or 'none'} (* = entries)"
    if lacking:
        return _differs(
            "statement.summary_rows",
            f"{text}; OP/CL/DT/CT missing: windows cannot be proven complete",
            "unverifiable",
            lacking,
        )
    return _ok("statement.summary_rows", text)


def _summary_values(read: Read) -> Finding:
    carriers: set[str] = set()
    fatal: list[str] = []
    for masked, e in _all(read):
        for kind, row in e.summaries.items():
            holders = [k for k in ("acBal", "amount") if row.get(k) not in (None, "")]
            carriers.add(f"{kind} in {'+'.join(holders) or 'nothing'}")
            # OP/CL are read from acBal when the key is there, even when it is null.
            if summary_value(row, kind) is None:
                fatal.append(masked)
    text = "; ".join(sorted(carriers)) or "no summary rows"
    if fatal:
        text += ": the tap cannot read them, so those windows are unverifiable"
        return _differs("statement.summary_values", text, "unverifiable", fatal)
    return _ok("statement.summary_values", text)


def _arithmetic(check: str, test: Callable[[Element], bool | None], what: str) -> Callable[[Read], Finding]:
    def run(read: Read) -> Finding:
        results = [(m, test(e)) for m, e in _all(read)]
        known = [(m, r) for m, r in results if r is not None]
        failed = [m for m, r in known if not r]
        if not known:
            return Finding(check, UNKNOWN, f"{what}: nothing to check (no summary rows)")
        if failed:
            return _differs(
                check, f"{what} fails in {len(failed)} of {len(known)} windows", "unverifiable", failed
            )
        return _ok(check, f"{what} holds in all {len(known)} windows")

    return run


def _balance(e: Element) -> bool | None:
    values = [summary_value(e.summaries.get(k), k) for k in ("OP", "CT", "DT", "CL")]
    if any(v is None for v in values):
        return None
    opening, credit, debit, closing = values
    assert opening is not None and credit is not None and debit is not None
    return opening + credit - debit == closing


def _turnovers(e: Element) -> bool | None:
    debit, credit = summary_value(e.summaries.get("DT"), "DT"), summary_value(e.summaries.get("CT"), "CT")
    if debit is None or credit is None:
        return None
    own_debit, own_credit, _, _ = totals(e.entries)
    return (debit, credit) == (own_debit, own_credit)


def _chain(e: Element) -> bool | None:
    if not e.entries:
        return None
    return chain_holds(summary_value(e.summaries.get("OP"), "OP"), e.entries)


def _problems(check: str, key: str, effect: str, ok_text: Callable[[Read], str]) -> Callable[[Read], Finding]:
    def run(read: Read) -> Finding:
        hits = [(m, p) for m, e in _all(read) for p in e.problems.get(key, [])]
        if hits:
            kinds = sorted({p for _, p in hits})[:5]
            return _differs(check, f"{len(hits)} entries: {', '.join(kinds)}", effect, [m for m, _ in hits])
        return _ok(check, ok_text(read))

    return run


def _values(read: Read, name: str) -> list[Any]:
    return [row.get(name) for _, e in _all(read) for row in e.entries]


def _dtkt_seen(read: Read) -> str:
    return "spellings " + (", ".join(sorted({str(v) for v in _values(read, "dtkt")})) or "none (no entries)")


def _sign_seen(read: Read) -> str:
    return "every amount is unsigned, the direction is in dtkt"


def _timestamps_seen(read: Read) -> str:
    return "spellings " + (", ".join(sorted({spelling(v) for v in _values(read, "dateTime")})) or "none")


def _numbers_seen(read: Read) -> str:
    kinds = sorted({f"{n} as {_json_type(v)}" for n in ("amount", "acBal") for v in _values(read, n)})
    return ", ".join(kinds) or "no entries"


def _numbers(read: Read) -> Finding:
    unreadable = _problems("statement.numbers", "numbers", "fatal", _numbers_seen)(read)
    if unreadable.status != OK:
        return unreadable
    seen = _numbers_seen(read)
    if "as text" in seen:
        return _differs("statement.numbers", f"{seen}: the tap reads text amounts too", "tolerated")
    return unreadable


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "text"
    return "number"


def _window_seen(read: Read) -> str:
    return "every entry is inside the window asked for"


def _flags(read: Read) -> Finding:
    spellings: set[str] = set()
    bad: list[str] = []
    for masked, e in _all(read):
        for row in e.entries:
            for name in FLAGS:
                value = row.get(name)
                spellings.add(repr(value) if not isinstance(value, str) else value)
                try:
                    parse_flag(value, name)
                except BankProtocolError:
                    bad.append(masked)
    text = f"flag spellings {', '.join(sorted(spellings)) or 'none'}"
    return _differs("statement.flags", text, "fatal", bad) if bad else _ok("statement.flags", text)


STATEMENT_CHECKS: tuple[Callable[[Read], Finding], ...] = (
    _fields_check,
    _summary_rows,
    _summary_values,
    _arithmetic("statement.balance", _balance, "opening + credits - debits = closing"),
    _arithmetic("statement.turnovers", _turnovers, "DT/CT equal the entries' debits/credits"),
    _arithmetic("statement.balance_chain", _chain, "each entry's acBal follows from the one before"),
    _problems("statement.dtkt", "dtkt", "tolerated", _dtkt_seen),
    _problems("statement.amount_sign", "amount_sign", "tolerated", _sign_seen),
    _problems("statement.timestamps", "timestamps", "fatal", _timestamps_seen),
    _problems("statement.offsets", "offsets", "tolerated", lambda r: "every offset is Sofia's on its day"),
    _numbers,
    _flags,
    _problems("statement.window", "window", "unverifiable", _window_seen),
)


def _before_history(seen: Observations) -> Finding:
    broken = {
        a.iban for a in seen.of("newest") if a.status >= HTTPStatus.INTERNAL_SERVER_ERROR
    }  # skipped by the tap anyway
    answers = [a for a in seen.of("before_history") if a.iban not in broken]
    if not answers:
        return Finding("statement.before_history", UNKNOWN, "no account to ask")
    statuses = sorted({f"HTTP {a.status} {a.body_kind}" for a in answers})
    opened = {acc.iban for acc in seen.accounts if acc.opened is not None}
    told = sum(1 for a in answers if a.iban in opened)
    basis = f"{told} of {len(answers)} by the account's opening date, the rest the tap's first window"
    failing = [a for a in answers if a.status != HTTPStatus.OK or elements_of(a) is None]
    if failing:
        return _differs(
            "statement.before_history",
            f"a window before the account's history answers {', '.join(statuses)} ({basis}): the tap "
            "finds where the history starts by bisection and walks the failing windows as empty",
            "tolerated",
            [mask_iban(a.iban or "") for a in failing],
        )
    elements = [(a, e) for a in answers for e in elements_of(a) or []]
    shapes = sorted(
        {" ".join(e.layout) or "empty" for _, e in elements} | ({"no acc element"} if not elements else set())
    )
    text = f"answers {', '.join(statuses)}, rows {' | '.join(shapes)} ({basis})"
    bare = {a.iban for a in answers if not elements_of(a)}
    bare |= {a.iban for a, e in elements if not all(k in e.summaries for k in ("OP", "CL", "DT", "CT"))}
    if bare:
        return _differs(
            "statement.before_history",
            f"{text}: an answer with no rows at all is walked as empty",
            "tolerated",
            [mask_iban(iban or "") for iban in bare],
        )
    return _ok("statement.before_history", text)


def _range_31(seen: Observations) -> Finding:
    answers = seen.of("range_31")
    if not answers:
        return Finding("statement.range_31", UNKNOWN, "no account to ask")
    answer = answers[0]
    if answer.status == HTTPStatus.OK:
        return _ok("statement.range_31", "a 31-day range is accepted (the tap never asks for more than 30)")
    if HTTPStatus.BAD_REQUEST <= answer.status < HTTPStatus.INTERNAL_SERVER_ERROR:
        return _ok(
            "statement.range_31", f"a 31-day range is refused with HTTP {answer.status}, as the web page does"
        )
    return Finding("statement.range_31", UNKNOWN, f"a 31-day range answered HTTP {answer.status}")
