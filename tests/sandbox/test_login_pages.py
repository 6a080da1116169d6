"""The sandbox's login flow: each step, each check, lockout, second factor, changed page."""

from __future__ import annotations

import re
import uuid

import requests
from conftest import AUTHORIZE, sandbox_login

from fibank_sandbox import Sandbox


def test_the_login_page_sets_an_httponly_session_cookie(sandbox: Sandbox) -> None:
    response = requests.get(
        f"{sandbox.base_url}/oauth2-server/login", params={"client_id": "E_BANK"}, timeout=5
    )
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("JSESSIONID=") and "HttpOnly" in cookie and "Path=/" in cookie
    assert "text/html" in response.headers["Content-Type"]
    assert 'id="demo-link"' in response.text and "Демо" in response.text


def test_authorize_answers_the_login_page_with_csrf_meta(sandbox: Sandbox) -> None:
    http = requests.Session()
    http.get(f"{sandbox.base_url}/oauth2-server/login", params={"client_id": "E_BANK"})
    page = http.get(
        f"{sandbox.base_url}/oauth2-server/oauth/authorize", params={**AUTHORIZE, "state": str(uuid.uuid4())}
    )
    assert page.status_code == 200
    assert re.search(r'<meta name="_csrf" content="[^"]+" />', page.text)
    assert '<meta name="_csrf_header"' in page.text
    assert 'name="username"' in page.text and 'name="password"' in page.text


def test_authorize_refuses_wrong_parameters(sandbox: Sandbox) -> None:
    response = requests.get(
        f"{sandbox.base_url}/oauth2-server/oauth/authorize",
        params={**AUTHORIZE, "client_id": "OTHER"},
        timeout=5,
    )
    assert response.status_code == 400


def test_the_certificate_call_answers_an_empty_json_list(sandbox: Sandbox) -> None:
    response = requests.get(
        f"{sandbox.base_url}/oauth2-server/api/v1/sywscertificate/fnGetCertsForLogin",
        params={"client_id": "E_BANK", "userName": "demo"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json() == []


def test_a_full_login_puts_the_token_in_the_second_redirect(sandbox: Sandbox) -> None:
    login = sandbox_login(sandbox.base_url)
    assert login.final is not None
    assert login.final.status_code == 200
    first, second = (r.headers["Location"] for r in login.final.history)
    assert first.startswith(f"{sandbox.base_url}/oauth2-server/oauth/authorize?")
    assert second.startswith(f"{sandbox.base_url}/EBank/#access_token=")
    assert login.fragment["token_type"] == "bearer"
    assert login.fragment["expires_in"] == "600"
    assert login.fragment["state"]
    assert '<meta name="EBank_publicToken" content="' in login.final.text
    counters = sandbox.counters()
    assert counters["logins"] == 1 and counters["failed_logins"] == 0
    assert counters["calls"]["ebank_page"] == 1 and counters["calls"]["login_post"] == 1


def test_the_state_comes_back_unchanged(sandbox: Sandbox) -> None:
    http = requests.Session()
    state = str(uuid.uuid4())
    http.get(f"{sandbox.base_url}/oauth2-server/login", params={"client_id": "E_BANK"})
    page = http.get(f"{sandbox.base_url}/oauth2-server/oauth/authorize", params={**AUTHORIZE, "state": state})
    csrf = re.search(r'name="_csrf" content="([^"]+)"', page.text)
    assert csrf
    http.get(
        f"{sandbox.base_url}/oauth2-server/api/v1/sywscertificate/fnGetCertsForLogin",
        params={"client_id": "E_BANK", "userName": "demo"},
    )
    final = http.post(
        f"{sandbox.base_url}/oauth2-server/login",
        data={
            "username": "demo",
            "password": "demo",
            "system": "",
            "client_id": "E_BANK",
            "lang": "bg",
            "time": "2022-03-12T17:35:00+02:00",
            "_csrf": csrf.group(1),
            "sig": "",
        },
    )
    assert f"state={state}" in final.history[1].headers["Location"]


def test_a_post_without_session_cookie_is_forbidden(sandbox: Sandbox) -> None:
    response = requests.post(
        f"{sandbox.base_url}/oauth2-server/login",
        timeout=5,
        data={"username": "demo", "password": "demo", "_csrf": "x"},
        allow_redirects=False,
    )
    assert response.status_code == 403


def test_a_wrong_csrf_token_is_forbidden(sandbox: Sandbox) -> None:
    login = sandbox_login(sandbox.base_url, csrf="not-the-token")
    assert login.final is not None and login.final.status_code == 403
    assert login.token is None
    assert sandbox.counters()["logins"] == 0


def test_a_post_without_the_certificate_call_is_a_failed_login(sandbox: Sandbox) -> None:
    login = sandbox_login(sandbox.base_url, ask_certs=False)
    assert login.token is None
    assert login.final is not None
    assert login.final.history[0].headers["Location"].endswith("/oauth2-server/login?error")
    assert 'id="login-error"' in login.final.text
    assert sandbox.counters()["failed_logins"] == 1


def test_a_bad_time_field_is_a_failed_login(sandbox: Sandbox) -> None:
    http = requests.Session()
    login = sandbox_login(sandbox.base_url, session=http)
    assert login.token  # the session works; now a fresh one with a bad time
    fresh = requests.Session()
    fresh.get(f"{sandbox.base_url}/oauth2-server/login", params={"client_id": "E_BANK"})
    page = fresh.get(f"{sandbox.base_url}/oauth2-server/oauth/authorize", params=AUTHORIZE)
    csrf = re.search(r'name="_csrf" content="([^"]+)"', page.text)
    assert csrf
    fresh.get(
        f"{sandbox.base_url}/oauth2-server/api/v1/sywscertificate/fnGetCertsForLogin",
        params={"client_id": "E_BANK", "userName": "demo"},
    )
    final = fresh.post(
        f"{sandbox.base_url}/oauth2-server/login",
        data={
            "username": "demo",
            "password": "demo",
            "client_id": "E_BANK",
            "time": "yesterday",
            "_csrf": csrf.group(1),
        },
    )
    assert final.url.endswith("/oauth2-server/login?error")


def test_a_wrong_password_redirects_to_the_error_page(sandbox: Sandbox) -> None:
    login = sandbox_login(sandbox.base_url, password="wrong")
    assert login.token is None
    assert login.final is not None and login.final.status_code == 200
    assert login.final.url == f"{sandbox.base_url}/oauth2-server/login?error"
    box = re.search(r'<div id="login-error" class="alert alert-danger">([^<]+)</div>', login.final.text)
    assert box and "Грешно потребителско име или парола" in box.group(1)
    assert "блокиран" not in box.group(1)
    assert sandbox.counters()["failed_logins"] == 1


def test_a_cyrillic_password_is_compared_not_crashed_on(sandbox: Sandbox) -> None:
    login = sandbox_login(sandbox.base_url, password="парола-Ж")
    assert login.token is None
    assert login.final is not None and login.final.url.endswith("/oauth2-server/login?error")
    assert sandbox.counters()["failed_logins"] == 1


def test_five_wrong_passwords_lock_the_user_until_unlocked(sandbox: Sandbox) -> None:
    for _ in range(5):
        assert "блокиран" not in sandbox_login(sandbox.base_url, password="bad").final.text
    locked = sandbox_login(sandbox.base_url)
    assert locked.token is None
    assert "блокиран" in locked.final.text
    assert sandbox.counters()["failed_logins"] == 6
    sandbox.unlock()
    assert sandbox_login(sandbox.base_url).token


def test_a_good_password_resets_the_failed_tally(sandbox: Sandbox) -> None:
    for _ in range(4):
        sandbox_login(sandbox.base_url, password="bad")
    assert sandbox_login(sandbox.base_url).token
    for _ in range(4):
        sandbox_login(sandbox.base_url, password="bad")
    assert sandbox_login(sandbox.base_url).token


def test_second_factor_redirects_to_an_sms_code_form(sandbox: Sandbox) -> None:
    sandbox.faults.second_factor = True
    login = sandbox_login(sandbox.base_url)
    assert login.token is None
    assert login.final is not None
    assert login.final.url == f"{sandbox.base_url}/oauth2-server/login/otp"
    assert '<input type="text" name="otp"' in login.final.text
    assert sandbox.counters()["faults"]["second_factor"] == 1
    csrf = re.search(r'name="_csrf" content="([^"]+)"', login.final.text)
    assert csrf
    wrong = login.session.post(
        f"{sandbox.base_url}/oauth2-server/login/otp", data={"otp": "000000", "_csrf": csrf.group(1)}
    )
    assert "Невалиден код" in wrong.text
    right = login.session.post(
        f"{sandbox.base_url}/oauth2-server/login/otp", data={"otp": "123456", "_csrf": csrf.group(1)}
    )
    assert "access_token=" in right.history[1].headers["Location"]


def test_a_changed_login_page_has_no_csrf_meta(sandbox: Sandbox) -> None:
    sandbox.faults.no_csrf = True
    page = requests.get(f"{sandbox.base_url}/oauth2-server/oauth/authorize", params=AUTHORIZE, timeout=5)
    assert page.status_code == 200
    assert "_csrf" not in page.text
    assert sandbox.counters()["faults"]["no_csrf"] == 1


def test_redirects_are_absolute_urls_built_from_the_host_header(sandbox: Sandbox) -> None:
    login = sandbox_login(sandbox.base_url.replace("127.0.0.1", "localhost"))
    assert login.final is not None
    for step in login.final.history:
        assert step.headers["Location"].startswith("http://localhost:")


def test_the_session_id_changes_at_login(sandbox: Sandbox) -> None:
    http = requests.Session()
    http.get(f"{sandbox.base_url}/oauth2-server/login", params={"client_id": "E_BANK"})
    before = http.cookies["JSESSIONID"]
    login = sandbox_login(sandbox.base_url, session=http)
    assert login.token
    assert http.cookies["JSESSIONID"] != before


def test_a_failed_login_can_be_answered_in_place_or_with_a_plain_error(sandbox: Sandbox) -> None:
    sandbox.faults.failure_page = "in_place"
    in_place = sandbox_login(sandbox.base_url, password="wrong").final
    assert in_place is not None and in_place.status_code == 200 and not in_place.history
    assert '<div id="login-error"' in in_place.text and "Оставащи опити: 4." in in_place.text
    sandbox.faults.failure_page = "plain_error"
    plain = sandbox_login(sandbox.base_url, password="wrong").final
    assert plain is not None and plain.url.endswith("/oauth2-server/login?error")
    assert 'id="login-error"' not in plain.text
    assert '<p class="error">Грешно потребителско име или парола. Оставащи опити: 3.</p>' in plain.text
    sandbox.faults.failure_page = "unmarked"
    unmarked = sandbox_login(sandbox.base_url, password="wrong").final
    assert unmarked is not None and unmarked.status_code == 200 and not unmarked.history
    assert 'id="login-error"' not in unmarked.text and '<p class="error">' in unmarked.text


def test_a_bare_token_redirect_has_neither_state_nor_lifetime_nor_public_token(sandbox: Sandbox) -> None:
    sandbox.faults.bare_token_redirect = True
    result = sandbox_login(sandbox.base_url)
    assert result.token and set(result.fragment) == {"access_token", "token_type"}
    assert result.final is not None and "EBank_publicToken" not in result.final.text


def test_the_sms_code_field_can_have_an_id_and_no_name(sandbox: Sandbox) -> None:
    sandbox.faults.second_factor = True
    sandbox.faults.second_factor_input = "id_only"
    result = sandbox_login(sandbox.base_url)
    assert result.final is not None and result.final.url.endswith("/oauth2-server/login/otp")
    assert '<input type="text" id="smsCode"' in result.final.text and 'name="otp"' not in result.final.text
