"""Where a run connects: the bank named by the settings, or the built-in sandbox bank.

Contract: `open_client` returns the run's one `BankClient` (not yet logged in) and the sandbox it
started, if any, which the caller stops; the password is read (a `password_command` run) only
here, after the settings that would stop the run anyway were checked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tap_fibank.bank.client import BankClient
from tap_fibank.config.checks import check_credentials, checked_base_url
from tap_fibank.config.password import read_password
from tap_fibank.config.settings import DEFAULT_BASE_URL, DEFAULTS

if TYPE_CHECKING:
    from fibank_sandbox import Sandbox

LOGGER = logging.getLogger("tap_fibank")


def open_client(config: dict[str, Any], pool_size: int) -> tuple[BankClient, Sandbox | None]:
    """The run's one client (logged in on first use), and the sandbox it reads if `sandbox` is on.

    The caller stops the sandbox at the end of the run.
    """
    sandbox = None
    if config.get("sandbox"):
        sandbox = _start_sandbox()
        base_url, username, password = sandbox.base_url, sandbox.username, sandbox.password
    else:
        base_url, username, password = bank_login(config)
    client = BankClient(
        base_url=base_url,
        username=username,
        password=password,
        timeout=float(config.get("request_timeout", DEFAULTS["request_timeout"])),
        max_retries=int(config.get("max_retries", DEFAULTS["max_retries"])),
        pool_size=pool_size,
    )
    return client, sandbox


def bank_login(config: Mapping[str, Any]) -> tuple[str, str, str]:
    """The bank's address, the username and the password, read only now that the bank is next.

    A `password_command` runs here, once per run; the checks come first, so a run that cannot
    log in anyway never asks the password manager.
    """
    base_url = checked_base_url(str(config.get("base_url") or DEFAULT_BASE_URL))
    check_credentials(config)
    return base_url, str(config["username"]), read_password(config)


def _start_sandbox() -> Sandbox:
    from fibank_sandbox import Sandbox

    sandbox = Sandbox(seed=1)
    sandbox.start()
    LOGGER.info("Reading the built-in sandbox bank at %s (demo data).", sandbox.base_url)
    return sandbox
