"""The bank: the only code that speaks HTTP to the web bank.

The login (an OAuth2 implicit grant wrapped around a server session), the JSON API client with the
connector's headers and re-login on expiry, the one retry policy for every call, and where a run
connects: the bank named by the settings, or the built-in sandbox bank.
"""
