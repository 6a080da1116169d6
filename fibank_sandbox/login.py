"""The login flow: Spring-Security-like pages, CSRF, lockout, second factor, token redirects.

Every step checks what the real server is believed to check, so a tap that skips a step or
scrapes the wrong thing fails here and not first at the bank.
"""

from __future__ import annotations

import secrets
from http import HTTPStatus
from urllib.parse import urlencode

from . import pages
from .auth import OTP_CODE, Session, expires_in
from .model import parse_instant
from .state import BankState
from .wire import Request, Response, html_response, json_response, redirect

CLIENT_ID = "E_BANK"
COOKIE = "JSESSIONID"
WRONG_PASSWORD = "Грешно потребителско име или парола. Оставащи опити: {left}."  # noqa: S105
UNKNOWN_USER = "Грешно потребителско име или парола."
LOCKED = "Потребителят е блокиран след 5 неуспешни опита за вход. Моля, свържете се с банката на 0700 12 777."
BAD_REQUEST = "Невалидна заявка за вход. Моля, опитайте отново."
NO_CERT_CHECK = "Сесията е невалидна. Моля, заредете страницата и опитайте отново."
GENERIC = "Неуспешен вход."
WRONG_OTP = "Невалиден код за потвърждение."
EXPECTED_AUTHORIZE = {
    "response_type": "token",
    "client_id": CLIENT_ID,
    "redirect_uri": "/EBank/",
    "scope": "E_BANK",
}


def _cookie(session: Session) -> tuple[str, str]:
    return ("Set-Cookie", f"{COOKIE}={session.sid}; Path=/; HttpOnly")


def _session(app: BankState, request: Request) -> tuple[Session, list[tuple[str, str]]]:
    """The client's session, or a new one with the header that hands out its cookie."""
    session = app.auth.session(request.cookies.get(COOKIE))
    if session is not None:
        return session, []
    session = app.auth.new_session()
    return session, [_cookie(session)]


def _page(app: BankState, session: Session, error: str | None, headers: list[tuple[str, str]]) -> Response:
    csrf: str | None = session.csrf
    if app.faults.no_csrf:
        app.counters.fault("no_csrf")
        csrf = None
    plain = app.faults.failure_page in ("plain_error", "unmarked")
    return html_response(pages.login_page(csrf, error, plain_error=plain), headers=headers)


def login_page(app: BankState, request: Request) -> Response:
    """``GET /oauth2-server/login``: the login page (with the last error after ``?error``)."""
    session, headers = _session(app, request)
    error = None
    if "error" in request.query:
        error = session.last_error or GENERIC
    return _page(app, session, error, headers)


def authorize(app: BankState, request: Request) -> Response:
    """``GET /oauth2-server/oauth/authorize``: the login page, or the token once logged in."""
    query = request.query
    for name, expected in EXPECTED_AUTHORIZE.items():
        if query.get(name) != expected:
            return html_response(
                f'<html><body><h1>OAuth Error</h1><p>error="invalid_request", '
                f'error_description="Invalid or missing {name}"</p></body></html>',
                HTTPStatus.BAD_REQUEST,
            )
    session, headers = _session(app, request)
    if session.user is None:
        session.saved_query = request.query_string
        return _page(app, session, None, headers)
    token = app.auth.issue(session.user)
    app.counters.add("logins")
    fragment = {"access_token": token.value, "token_type": "bearer"}
    if not app.faults.bare_token_redirect:
        if query.get("state"):
            fragment["state"] = query["state"]
        fragment["expires_in"] = str(expires_in(app.faults))
    return redirect(f"{request.origin}/EBank/#{urlencode(fragment)}", headers)


def certificates(app: BankState, request: Request) -> Response:
    """``GET .../fnGetCertsForLogin``: no certificates (password login); the session notes it."""
    if request.query.get("client_id") != CLIENT_ID or not request.query.get("userName"):
        return json_response(
            {
                "status": HTTPStatus.BAD_REQUEST,
                "error": "Bad Request",
                "message": "client_id and userName are required",
            },
            HTTPStatus.BAD_REQUEST,
        )
    session = app.auth.session(request.cookies.get(COOKIE))
    if session is not None:
        session.certs_asked = True
    if app.faults.cert_status == HTTPStatus.NO_CONTENT:
        return Response(HTTPStatus.NO_CONTENT)
    if app.faults.cert_status != HTTPStatus.OK:
        return html_response("<html><body><h1>Not Found</h1></body></html>", app.faults.cert_status)
    return json_response([])


def _forbidden() -> Response:
    return html_response(
        "<html><body><h1>403 Forbidden</h1><p>Invalid CSRF Token was found on the request.</p></body></html>",
        HTTPStatus.FORBIDDEN,
    )


def _fail(app: BankState, request: Request, session: Session, message: str) -> Response:
    """Spring's failure handler: remember the reason in the session, back to ``?error``.

    The ``in_place`` and ``unmarked`` variants answer the POST itself with the login page.
    """
    session.last_error = message
    app.counters.add("failed_logins")
    if app.faults.failure_page in ("in_place", "unmarked"):
        return _page(app, session, message, [])
    return redirect(f"{request.origin}/oauth2-server/login?error")


def _signed_in(app: BankState, request: Request, session: Session, user: str) -> Response:
    """Spring's success handler: new session id, back to the saved authorize request."""
    session.user = user
    session.otp_user = None
    session.last_error = None
    app.auth.rotate(session)
    headers = [_cookie(session)]
    if session.saved_query is None:
        return redirect(f"{request.origin}/oauth2-server/", headers)
    return redirect(f"{request.origin}/oauth2-server/oauth/authorize?{session.saved_query}", headers)


def login_post(app: BankState, request: Request) -> Response:
    """``POST /oauth2-server/login``: CSRF, the flow's earlier steps, then the password."""
    session = app.auth.session(request.cookies.get(COOKIE))
    form = request.form
    if session is None or not secrets.compare_digest(form.get("_csrf", "").encode(), session.csrf.encode()):
        return _forbidden()
    if form.get("client_id") != CLIENT_ID or parse_instant(form.get("time", "")) is None:
        return _fail(app, request, session, BAD_REQUEST)
    if not session.certs_asked:
        return _fail(app, request, session, NO_CERT_CHECK)
    username = form.get("username", "")
    outcome = app.auth.check_password(username, form.get("password", ""))
    if outcome == "locked":
        return _fail(app, request, session, LOCKED)
    if outcome == "unknown":
        return _fail(app, request, session, UNKNOWN_USER)
    if outcome == "wrong":
        left = app.auth.remaining_attempts(username)
        return _fail(app, request, session, WRONG_PASSWORD.format(left=left))
    if app.faults.second_factor:
        app.counters.fault("second_factor")
        session.otp_user = username
        return redirect(f"{request.origin}/oauth2-server/login/otp")
    return _signed_in(app, request, session, username)


def otp(app: BankState, request: Request) -> Response:
    """``/oauth2-server/login/otp``: the SMS-code page (GET) and its form (POST)."""
    session = app.auth.session(request.cookies.get(COOKIE))
    if session is None or session.otp_user is None:
        return redirect(f"{request.origin}/oauth2-server/login")
    if request.method == "GET":
        id_only = app.faults.second_factor_input == "id_only"
        return html_response(pages.otp_page(session.csrf, id_only=id_only))
    form = request.form
    if not secrets.compare_digest(form.get("_csrf", "").encode(), session.csrf.encode()):
        return _forbidden()
    if form.get("otp", "").strip() != OTP_CODE:
        return html_response(pages.otp_page(session.csrf, WRONG_OTP))
    return _signed_in(app, request, session, session.otp_user)


def ebank_page(app: BankState, request: Request) -> Response:
    """``GET /EBank/``: the web app's shell with its public token."""
    public_token = None if app.faults.bare_token_redirect else secrets.token_hex(20)
    return html_response(pages.ebank_page(public_token))


def signed_in_page(app: BankState, request: Request) -> Response:
    """``GET /oauth2-server/``: where a login without a saved request ends."""
    return html_response(pages.SIGNED_IN_PAGE)
