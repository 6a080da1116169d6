"""The HTML the login flow serves, in Bulgarian as at the bank.

The tap scrapes these pages (the CSRF meta tag, the error box, the second-factor form), so they
carry exactly the markers fibank-api.md describes and nothing the tap could lean on by accident.
"""

from __future__ import annotations

from html import escape

LOGIN_FORM = """<!DOCTYPE html>
<html lang="bg">
<head>
<meta charset="UTF-8" />
<title>Fibank - Електронно банкиране</title>
{csrf_meta}<meta name="viewport" content="width=device-width, initial-scale=1" />
</head>
<body class="login-page">
<div class="container">
<h1>Вход в Моята Фибанк</h1>
{error}<form id="login-form" method="post" action="/oauth2-server/login" autocomplete="off">
<label for="username">Потребителско име</label>
<input type="text" id="username" name="username" />
<label for="password">Парола</label>
<input type="password" id="password" name="password" />
<input type="hidden" name="system" value="" />
<input type="hidden" name="client_id" value="E_BANK" />
<input type="hidden" name="lang" value="bg" />
<input type="hidden" name="time" value="" />
<input type="hidden" name="sig" value="" />
{csrf_input}<button type="submit" class="btn btn-primary">Вход</button>
</form>
<p><a id="demo-link" href="https://demo.fibank.bg/">Демо</a></p>
<p class="footer">Първа инвестиционна банка АД</p>
</div>
</body>
</html>
"""

OTP_FORM = """<!DOCTYPE html>
<html lang="bg">
<head>
<meta charset="UTF-8" />
<title>Fibank - Потвърждение с код</title>
<meta name="_csrf" content="{csrf}" />
<meta name="_csrf_header" content="X-CSRF-TOKEN" />
</head>
<body class="otp-page">
<h1>Потвърждение на входа</h1>
<p id="otp-info">Въведете кода, изпратен с SMS на телефон +359 88* *** *21.</p>
{error}<form id="otp-form" method="post" action="/oauth2-server/login/otp">
{code_input}
<input type="hidden" name="_csrf" value="{csrf}" />
<button type="submit">Потвърди</button>
</form>
</body>
</html>
"""

EBANK_PAGE = """<!DOCTYPE html>
<html lang="bg">
<head>
<meta charset="UTF-8" />
<title>Моята Фибанк</title>
{token_meta}<base href="/EBank/" />
</head>
<body><div id="app">Зареждане...</div><script src="main.js"></script></body>
</html>
"""

SIGNED_IN_PAGE = """<!DOCTYPE html>
<html lang="bg"><head><meta charset="UTF-8" /><title>Fibank</title></head>
<body><p>Вие влязохте успешно.</p></body></html>
"""

GATEWAY_PAGE = """<html>
<head><title>{status} {reason}</title></head>
<body>
<center><h1>{status} {reason}</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""

SERVER_ERROR_PAGE = """<!DOCTYPE html>
<html lang="bg"><head><meta charset="UTF-8" /><title>Грешка</title></head>
<body><h1>Възникна техническа грешка</h1><p>Моля, опитайте по-късно.</p></body></html>
"""


def login_page(csrf: str | None, error: str | None = None, *, plain_error: bool = False) -> str:
    """The login page; ``csrf`` None is the changed site without the CSRF meta tag.

    ``plain_error`` shows the error in a paragraph without the ``login-error`` id.
    """
    csrf_meta = ""
    csrf_input = ""
    if csrf is not None:
        csrf_meta = (
            f'<meta name="_csrf" content="{escape(csrf)}" />\n'
            '<meta name="_csrf_header" content="X-CSRF-TOKEN" />\n'
        )
        csrf_input = f'<input type="hidden" name="_csrf" value="{escape(csrf)}" />\n'
    box = f'<div id="login-error" class="alert alert-danger">{escape(error)}</div>\n' if error else ""
    if error and plain_error:
        box = f'<p class="error">{escape(error)}</p>\n'
    return LOGIN_FORM.format(csrf_meta=csrf_meta, csrf_input=csrf_input, error=box)


def otp_page(csrf: str, error: str | None = None, *, id_only: bool = False) -> str:
    """The second-factor page asking for the SMS code.

    ``id_only``: the code field has an id and no name, as in a page whose script posts it.
    """
    box = f'<div id="otp-error" class="alert alert-danger">{escape(error)}</div>\n' if error else ""
    code = '<input type="text" name="otp" inputmode="numeric" maxlength="6" />'
    if id_only:
        code = '<input type="text" id="smsCode" inputmode="numeric" maxlength="6" />'
    return OTP_FORM.format(csrf=escape(csrf), error=box, code_input=code)


def ebank_page(public_token: str | None) -> str:
    """The single-page app's shell that ends the login redirects (None: without its public token)."""
    token_meta = ""
    if public_token is not None:
        token_meta = f'<meta name="EBank_publicToken" content="{escape(public_token)}" />\n'
    return EBANK_PAGE.format(token_meta=token_meta)


def gateway_page(status: int, reason: str) -> str:
    """What the bank's front proxy answers when the application behind it is down."""
    return GATEWAY_PAGE.format(status=status, reason=reason)
