"""Sandbox-only paths under ``/_sandbox/``: ground truth, counters and fault knobs over HTTP.

They let a test (or a person with curl) that runs the sandbox as a separate process do what the
Python API offers in-process. No authentication: the sandbox only ever listens on loopback.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from .model import format_instant
from .state import BankState
from .wire import Request, Response, error_json, json_response


def truth_json(app: BankState) -> dict[str, Any]:
    """Every booked entry per account, amounts as exact strings."""
    truth = app.ledger.truth(app.faults.history == "redenominated")
    return {
        "today": app.today.isoformat(),
        "accounts": [
            {
                "iban": info.iban,
                "customer_id": info.customer_id,
                "currency": info.currency,
                "tags": list(info.tags),
                "entries": [
                    {
                        "entry_id": e.entry_id,
                        "booking_date": e.booking_date.isoformat(),
                        "value_date": e.value_date.isoformat(),
                        "booked_at": format_instant(e.booked_at),
                        "direction": e.direction,
                        "amount": str(e.amount),
                        "signed_amount": str(e.signed_amount),
                        "balance_after": str(e.balance_after),
                        "currency": e.currency,
                    }
                    for e in truth[info.iban]
                ],
            }
            for info in app.ledger.accounts
        ],
    }


def _body(request: Request) -> dict[str, Any]:
    data = json.loads(request.body.decode("utf-8") or "{}")
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def handle(app: BankState, request: Request) -> Response:
    """Serve one ``/_sandbox/`` request."""
    path, method = request.path, request.method
    try:
        if path == "/_sandbox/truth" and method == "GET":
            return json_response(truth_json(app))
        if path == "/_sandbox/counters" and method == "GET":
            return json_response(app.counters.snapshot())
        if path == "/_sandbox/faults":
            if method == "POST":
                app.faults.update(_body(request))
            return json_response({**app.faults.as_json(), "pending": app.plan.pending()})
        if path == "/_sandbox/fail_next" and method == "POST":
            body = _body(request)
            app.plan.fail_next(str(body["kind"]), int(body.get("count", 1)), body.get("endpoint"))
            return json_response({"pending": app.plan.pending()})
        if path == "/_sandbox/unlock" and method == "POST":
            app.auth.unlock()
            return json_response({"unlocked": True})
        if path == "/_sandbox/reset_counters" and method == "POST":
            app.counters.reset()
            return json_response(app.counters.snapshot())
    except (ValueError, KeyError, TypeError) as error:
        return error_json(HTTPStatus.BAD_REQUEST, "Bad Request", str(error))
    return error_json(HTTPStatus.NOT_FOUND, "Not Found", path)
