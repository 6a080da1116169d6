"""The customer profiles one login may act for (a person, their business...).

Contract: records every profile id the bank lists in the run's account registry (for the
allow-list check at the end); a profile that cannot be read goes to the run report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from singer_sdk import typing as th
from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_fibank.errors import BankProtocolError
from tap_fibank.streams.base import FibankStream, extra_property, login_property

_NAME_KEYS = ("customerName", "custName", "name", "fullName", "ibCustomerName", "customerNameBg")


def _name(customer: Any) -> str | None:
    """The profile's name, under whichever key the bank uses for it."""
    if not isinstance(customer, dict):
        return None
    name = next((customer[k] for k in _NAME_KEYS if customer.get(k)), None)
    return str(name) if name is not None else None


class CustomersStream(FibankStream):
    """Every profile of `getCustQuery`; the parent of accounts."""

    name = "customers"
    primary_keys = ("customer_id",)
    replication_key = None
    schema = th.PropertiesList(
        th.Property(
            "customer_id", th.StringType, required=True, description="The bank's profile id (ibCustomerId)."
        ),
        th.Property("customer_name", th.StringType, description="The profile's name, if sent."),
        extra_property("profile"),
        login_property(),
    ).to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        payload = self.run.client.profiles()
        customers = payload.get("customer") if isinstance(payload, dict) else None
        if not isinstance(customers, list) or not customers:
            msg = "the profile list (getCustQuery) has no 'customer' list; the API may have changed"
            raise BankProtocolError(msg)
        wanted = {str(c) for c in self.config.get("customer_ids") or []}
        readable = [c for c in customers if isinstance(c, dict) and c.get("ibCustomerId") not in (None, "")]
        if not readable:
            msg = "no profile in getCustQuery has an ibCustomerId; the API may have changed"
            raise BankProtocolError(msg)
        for number, customer in enumerate(customers, start=1):
            if customer not in readable:
                self.run.report.skip(
                    f"profile {_name(customer) or f'#{number}'} (getCustQuery lists it without an "
                    "ibCustomerId, so its accounts cannot be asked for)"
                )
                continue
            customer_id = str(customer["ibCustomerId"])
            self.run.accounts.seen_customers.add(customer_id)
            if wanted and customer_id not in wanted:
                self.logger.info("Profile %s is not in customer_ids; skipped.", customer_id)
                continue
            name = _name(customer)
            yield {
                "customer_id": customer_id,
                "customer_name": name,
                "extra": {k: v for k, v in customer.items() if k != "ibCustomerId"} or None,
            }

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict[str, Any]:
        return {"customer_id": record["customer_id"]}
