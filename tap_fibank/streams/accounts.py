"""The accounts of each profile, keyed by IBAN alone (a BGN account became EUR, same IBAN).

Contract: fills the run's account registry (every IBAN listed, each claimed by the first profile
that lists it, its currency today) and tells the read-ahead which accounts come next; what
cannot be listed goes to the run report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from singer_sdk import typing as th
from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_fibank.bank.client import RequestRefused, ServerError
from tap_fibank.errors import BankProtocolError
from tap_fibank.privacy import mask_iban
from tap_fibank.streams.base import FibankStream, extra_property, login_property
from tap_fibank.streams.customers import CustomersStream
from tap_fibank.walk.registry import compact_iban


class AccountsStream(FibankStream):
    """Every account of `getFilteredAccounts`, with every field the bank sends kept."""

    name = "accounts"
    primary_keys = ("iban",)
    replication_key = None
    parent_stream_type = CustomersStream
    schema = th.PropertiesList(
        th.Property("iban", th.StringType, required=True, description="The IBAN (ibanAcNo)."),
        th.Property(
            "customer_id",
            th.StringType,
            required=True,
            description="The profile the account was listed under.",
        ),
        th.Property(
            "currency",
            th.StringType,
            description="The account's currency now (ccy); BGN accounts became EUR on 2026-01-01.",
        ),
        extra_property("account"),
        login_property(),
    ).to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        assert context is not None
        customer_id = str(context["customer_id"])
        try:
            payload = self.run.client.accounts(customer_id)
        except (ServerError, RequestRefused) as exc:
            self.run.report.skip(f"the accounts of profile {customer_id} ({exc.detail})")
            return
        records = list(self._records(customer_id, _account_list(payload)))
        self.run.ahead.expect(
            [(r["customer_id"], r["iban"]) for r in records if not is_psd2_account(r["extra"] or {})]
        )
        yield from records

    def _records(self, customer_id: str, accounts: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The profile's accounts to sync: those wanted, each once in a run."""
        wanted = {compact_iban(i) for i in self.config.get("ibans") or []}
        registry = self.run.accounts
        for account in accounts:
            iban = compact_iban(str(account.get("ibanAcNo") or ""))
            if not iban:
                msg = "an account in getFilteredAccounts has no ibanAcNo; the API may have changed"
                raise BankProtocolError(msg)
            registry.seen_ibans.add(iban)
            if wanted and iban not in wanted:
                self.logger.info("Account %s is not in ibans; skipped.", mask_iban(iban))
                continue
            if not registry.claim_account(iban, customer_id):
                self.logger.info(
                    "Account %s is also listed under profile %s; read once.", mask_iban(iban), customer_id
                )
                continue
            currency = str(account["ccy"]) if account.get("ccy") else None
            registry.currencies[iban] = currency
            yield {
                "iban": iban,
                "customer_id": customer_id,
                "currency": currency,
                "extra": {k: v for k, v in account.items() if k not in ("ibanAcNo", "ccy")} or None,
            }

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict[str, Any] | None:
        if is_psd2_account(record.get("extra") or {}):
            # Another bank's account shown over PSD2: listed, but Fibank keeps no statement of it.
            self.logger.warning(
                "Account %s is another bank's account shown over PSD2; it is listed, but its "
                "transactions are not read (they are not Fibank's statements).",
                mask_iban(record["iban"]),
            )
            return None
        return {"customer_id": record["customer_id"], "iban": record["iban"]}


def is_psd2_account(fields: dict[str, Any]) -> bool:
    """Whether the bank flags an account as aggregated from another bank over PSD2."""
    for key in ("isPSD2", "isAccountFromPSD2", "psd2"):
        value = fields.get(key)
        if value is True or (isinstance(value, str) and value.strip().upper() in {"Y", "TRUE", "1"}):
            return True
    return False


def _account_list(payload: Any) -> list[dict[str, Any]]:
    """The documented answer is a list; tolerate one wrapped in an object."""
    if isinstance(payload, dict):
        lists = [v for v in payload.values() if isinstance(v, list)]
        if len(lists) == 1:
            payload = lists[0]
    if not isinstance(payload, list) or not all(isinstance(a, dict) for a in payload):
        msg = "the account list (getFilteredAccounts) is not a list of accounts; the API may have changed"
        raise BankProtocolError(msg)
    return payload
