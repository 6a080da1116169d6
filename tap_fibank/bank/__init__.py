"""The bank: the only code that speaks HTTP to the web bank.

Contract: nothing outside this package sends a request to the bank or spells one of its paths;
the rest of the tap asks through `BankClient`'s façade (`profiles`, `accounts`, `statement`) and
gets decoded JSON or one of the errors of `tap_fibank.errors`. The package imports nothing from
walk/, streams/ or proof/: they depend on it, never the other way.

- `endpoints`: every path of the bank, declared once (fibank-api.md, section 4).
- `login`: the login (an OAuth2 implicit grant around a server session); the password POST once.
- `client`: the JSON API client with the connector's headers, re-login on expiry, and the façade.
- `retry`: the one retry loop, its backoff and `Retry-After`, and the named `Tries`.
- `clock`: Sofia's time, the bank's calendar (frozen for tests by `TAP_FIBANK_FROZEN_TODAY`).
- `connection`: where a run connects: the bank named by the settings, or the sandbox bank.
"""
