"""Every path of the web bank the tap sends a request to, declared once.

The source is the 2022 connector, the only client known to have worked against the live bank:
../shared/fibank-api.md, section 4 (what it sent, byte for byte), with the paths themselves in
the tables of sections 1 and 2. A path the bank moves is changed here and nowhere else: no other
module of tap_fibank spells one. Paths are relative to `base_url`; the API's are relative to
`API_PREFIX`, as the client joins them.
"""

from __future__ import annotations

from urllib.parse import quote

# The login server (section 1): a redirect under it means the bank wants a login.
LOGIN_SERVER = "/oauth2-server"
LOGIN_PAGE = LOGIN_SERVER + "/login"
AUTHORIZE = LOGIN_SERVER + "/oauth/authorize"
CERTIFICATES = LOGIN_SERVER + "/api/v1/sywscertificate/fnGetCertsForLogin"

# The web application (the authorize request's `redirect_uri`) and its JSON API (section 2).
WEB_APP = "/EBank/"
API_PREFIX = WEB_APP + "api/v1/"
PROFILES = "sywsquery/sywsquery/getCustQuery"
ACCOUNTS = "sywspicklist/sywspicklist/getFilteredAccounts"
STATEMENT = "sywsquery/sywsquery/GetCustBal"

# The web page the connector's API calls named as their origin (`Referer`, `EBank-Referer`).
STATEMENT_PAGE = "izvlechenia/acc-stmt-offline"
#: `EBank-Referer`: the page's path inside the web app, percent-encoded as the connector sent it.
EBANK_REFERER = quote("/" + STATEMENT_PAGE, safe="")


def short(path: str) -> str:
    """The name a path goes by in messages and captures: its last segment (`GetCustBal`)."""
    return path.rsplit("/", 1)[-1]
