"""Finding an org's customer by what a row names: external id first, else mobile, else email. Shared by the
customer import (which updates the customer it finds) and the transactions (whose buyer it is)."""

from collections.abc import Iterable
from typing import Protocol

from django.db.models import Q, QuerySet

from campaigns.models import Customer, Org


class CustomerKeys(Protocol):
    """What a row says of its customer (empty strings where it says nothing; mobile in E.164, email lower case)."""

    external_id: str
    mobile: str
    email: str


def stored_customers(org: Org, rows: Iterable[CustomerKeys], *, keys_only: bool = False) -> tuple[dict, dict, dict]:
    """The org's customers the rows may name, by external id, mobile and email: Customers, or with `keys_only` just
    their pk, external_id, mobile and email (a tenth of the cost of building a Customer, for a caller that only
    needs to know who it is)."""
    by_external_id: dict[str, Customer] = {}
    by_mobile: dict[str, Customer] = {}
    by_email: dict[str, Customer] = {}
    # The "<> ''" lets PostgreSQL use the partial unique indexes on (org, external_id) and (org, mobile).
    external_ids = {row.external_id for row in rows if row.external_id}
    mobiles = {row.mobile for row in rows if row.mobile}
    keys = (Q(external_id__in=external_ids) & ~Q(external_id="")) | (Q(mobile__in=mobiles) & ~Q(mobile=""))
    found = set()
    for customer in _read(Customer.objects.filter(org=org).filter(keys).order_by("pk"), keys_only):
        remember(customer, by_external_id, by_mobile, by_email)
        found.add(customer.pk)
    # Email is the last resort, looked up only for rows the keys above did not match.
    emails = {
        row.email for row in rows if row.email and row.external_id not in by_external_id and row.mobile not in by_mobile
    }
    if emails:
        others = Customer.objects.filter(org=org, email__in=emails).exclude(pk__in=found).order_by("pk")
        for customer in _read(others, keys_only):
            remember(customer, by_external_id, by_mobile, by_email)
    return by_external_id, by_mobile, by_email


def _read(customers: QuerySet[Customer], keys_only: bool) -> Iterable:
    return customers.values_list("pk", "external_id", "mobile", "email", named=True) if keys_only else customers


def remember(customer: Customer, by_external_id: dict, by_mobile: dict, by_email: dict) -> None:
    if customer.external_id:
        by_external_id[customer.external_id] = customer
    if customer.mobile:
        by_mobile[customer.mobile] = customer
    if customer.email:
        by_email.setdefault(customer.email, customer)


def customer_match(row: CustomerKeys, by_external_id: dict, by_mobile: dict, by_email: dict):
    """The customer (as stored_customers gave it) that the row names, or None. External id first; else the mobile;
    else the email — never a customer with a different external id."""
    if row.external_id and row.external_id in by_external_id:
        return by_external_id[row.external_id]
    candidate = by_mobile.get(row.mobile) if row.mobile else None
    if candidate is not None:
        return candidate if not (row.external_id and candidate.external_id) else None
    candidate = by_email.get(row.email) if row.email else None
    if (
        candidate is not None
        and not (row.external_id and candidate.external_id)
        and not (row.mobile and candidate.mobile)
    ):
        return candidate
    return None
