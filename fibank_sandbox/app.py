"""The bank as a function from requests to responses: routing, latency and injected faults.

Kept free of sockets so that the fault order is visible in one place: half the latency first
(the way in; the other half, less the sandbox's own work, follows the answer), then a
queued or dice-rolled gateway fault (drop, 5xx, 429: these come from the bank's front proxy,
before the application looks at the token), then the token, then the handler, whose answer a
``malformed`` fault finally cuts short.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable
from http import HTTPStatus

from . import api, control, login, pages
from .auth import Token
from .counters import API_ENDPOINTS
from .faults import Faults
from .state import BankState
from .wire import Request, Response, html_response, json_response, redirect

API_PREFIX = "/EBank/api/v1/"
HOLD_LIMIT_SECONDS = 600  # a gate nobody opens lets its calls go at last: no thread waits forever
LoginHandler = Callable[[BankState, Request], Response]
ApiHandler = Callable[[BankState, Request, Token], Response]

PAGE_ROUTES: dict[tuple[str, str], tuple[str, LoginHandler]] = {
    ("GET", "/oauth2-server/login"): ("login_page", login.login_page),
    ("POST", "/oauth2-server/login"): ("login_post", login.login_post),
    ("GET", "/oauth2-server/oauth/authorize"): ("authorize", login.authorize),
    ("GET", "/oauth2-server/api/v1/sywscertificate/fnGetCertsForLogin"): ("certs", login.certificates),
    ("GET", "/oauth2-server/login/otp"): ("otp", login.otp),
    ("POST", "/oauth2-server/login/otp"): ("otp", login.otp),
    ("GET", "/oauth2-server/"): ("signed_in", login.signed_in_page),
    ("GET", "/EBank/"): ("ebank_page", login.ebank_page),
    ("GET", "/EBank"): ("ebank_page", login.ebank_page),
}
API_ROUTES: dict[str, tuple[str, ApiHandler]] = {
    "sywsquery/sywsquery/getCustQuery": ("getCustQuery", api.cust_query),
    "sywspicklist/sywspicklist/getFilteredAccounts": ("getFilteredAccounts", api.filtered_accounts),
    "sywsquery/sywsquery/GetCustBal": ("GetCustBal", api.cust_bal),
    "sywsquery/sywsquery/getAccStmtList": ("getAccStmtList", api.stmt_list),
}


class BankApp(BankState):
    """One sandboxed bank's state (``BankState``) and the dispatch of requests to it."""

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        if request.path.startswith("/_sandbox/"):
            return control.handle(self, request)
        if request.path.startswith(API_PREFIX):
            route = API_ROUTES.get(request.path[len(API_PREFIX) :])
            if route is None or request.method != "GET":
                return json_response(
                    {"status": HTTPStatus.NOT_FOUND, "error": "Not Found", "path": request.path},
                    HTTPStatus.NOT_FOUND,
                )
            endpoint, handler = route
            return self._serve(endpoint, request, lambda: self._api(request, handler))
        page = PAGE_ROUTES.get((request.method, request.path))
        if page is None:
            return html_response("<html><body><h1>404 Not Found</h1></body></html>", HTTPStatus.NOT_FOUND)
        endpoint, page_handler = page
        return self._serve(endpoint, request, lambda: page_handler(self, request))

    def _serve(self, endpoint: str, request: Request, answer: Callable[[], Response]) -> Response:
        """Count the call, and take `latency` over it in all: half on the way in, the rest after."""
        number = self.counters.call(endpoint)
        if endpoint == "GetCustBal":
            self._hold(number)
        latency = self.faults.latency
        if latency <= 0:
            return self._answer(endpoint, request, answer)
        arrived = time.monotonic()
        time.sleep(latency / 2)
        response = self._answer(endpoint, request, answer)
        # The sandbox's own work is part of the call's time, as a bank's is of its latency.
        left = latency - (time.monotonic() - arrived)
        if left > 0:
            time.sleep(left)
        return response

    def _hold(self, number: int) -> None:
        """Keep the `number`th statement call waiting while the gate (`hold_statements_after`) is shut.

        A test that must stop a client mid-run shuts the gate at a known call, so the client
        cannot finish first however fast the machine is; opening it (None) lets every call go.
        """
        after = self.faults.hold_statements_after
        if after is None or number <= after:
            return
        self.counters.fault("held")
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while time.monotonic() < deadline:
            after = self.faults.hold_statements_after
            if after is None or number <= after:
                return
            time.sleep(0.01)

    def _answer(self, endpoint: str, request: Request, answer: Callable[[], Response]) -> Response:
        """The faults around the real answer, in the bank's order (see the module's docstring)."""
        is_api = endpoint in API_ENDPOINTS
        kind = self.plan.take(endpoint, is_api)
        if kind is None and is_api:
            kind = self.plan.roll(self.faults)
        if kind == "drop":
            self.counters.fault("drop")
            return Response(drop=True)
        if kind == "5xx":
            self.counters.fault("5xx")
            return self._server_error(request)
        if kind == "429":
            self.counters.fault("429")
            return _rate_limited(self.faults)
        if kind == "expire_token" and is_api:
            self.auth.revoke(_bearer(request) or "")
        response = answer()
        if kind == "malformed" and response.status == HTTPStatus.OK:
            self.counters.fault("malformed")
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response

    def _server_error(self, request: Request) -> Response:
        status = self.plan.next_status()
        if status == HTTPStatus.INTERNAL_SERVER_ERROR:
            return json_response(
                {
                    "status": HTTPStatus.INTERNAL_SERVER_ERROR,
                    "error": "Internal Server Error",
                    "message": "Възникна техническа грешка.",
                    "path": request.path,
                },
                HTTPStatus.INTERNAL_SERVER_ERROR,
            )
        reason = "Bad Gateway" if status == HTTPStatus.BAD_GATEWAY else "Service Temporarily Unavailable"
        return html_response(pages.gateway_page(status, reason), status)

    def _api(self, request: Request, handler: ApiHandler) -> Response:
        """Check the browser headers (if asked to) and the bearer token, then run the handler."""
        self.counters.device(request.headers.get("ebank-device-id"))
        if self.faults.require_browser_headers and not _looks_like_the_browser(request):
            self.counters.add("refusals")
            return html_response(pages.gateway_page(HTTPStatus.FORBIDDEN, "Forbidden"), HTTPStatus.FORBIDDEN)
        value = _bearer(request)
        token, why = (None, "missing") if value is None else self.auth.use(value, self.faults)
        if token is None:
            self.counters.add("unauthorized")
            if why == "expired":
                self.counters.fault("expired_token")
            if self.faults.expiry_answer == "403":
                return html_response(
                    pages.gateway_page(HTTPStatus.FORBIDDEN, "Forbidden"), HTTPStatus.FORBIDDEN
                )
            if self.faults.expiry_answer == "login_page":
                return redirect(f"{request.origin}/oauth2-server/login")
            description = {
                "missing": "Full authentication is required to access this resource",
                "invalid": f"Invalid access token: {value}",
                "expired": f"Access token expired: {value}",
            }[why]
            return json_response(
                {"error": "invalid_token" if value else "unauthorized", "error_description": description},
                HTTPStatus.UNAUTHORIZED,
                [
                    (
                        "WWW-Authenticate",
                        f'Bearer realm="oauth2-resource", error="invalid_token", '
                        f'error_description="{description}"',
                    )
                ],
            )
        return handler(self, request, token)


# What the web app's browser sends and the 2022 connector copied (fibank-api.md, section 4).
BROWSER_HEADERS = ("referer", "ebank-referer", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest")


def _rate_limited(faults: Faults) -> Response:
    """The proxy's 429: `Retry-After` in seconds, or as the HTTP date a server may send instead."""
    retry = str(faults.retry_after)
    if faults.retry_after_date:
        when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=faults.retry_after)
        retry = email.utils.format_datetime(when, usegmt=True)
    return json_response(
        {
            "status": HTTPStatus.TOO_MANY_REQUESTS,
            "error": "Too Many Requests",
            "message": "Твърде много заявки. Опитайте отново по-късно.",
        },
        HTTPStatus.TOO_MANY_REQUESTS,
        [("Retry-After", retry)],
    )


def _looks_like_the_browser(request: Request) -> bool:
    """Whether an API call carries the browser's headers, as a stricter front end might demand."""
    agent = request.headers.get("user-agent", "")
    return agent.startswith("Mozilla/5.0") and all(request.headers.get(h) for h in BROWSER_HEADERS)


def _bearer(request: Request) -> str | None:
    """The access token of an ``Authorization: Bearer`` header."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
