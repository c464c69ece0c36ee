"""Import customers from a CSV file: streamed in batches, re-importing updates, bad rows reported one by one.

Columns: mobile, email, name, external_id; coupon_code + coupon_expiry (a Coupon per customer); every other
column becomes a custom attribute. A row is matched to an existing customer by external_id, else mobile, else
email. An empty cell never clears what is stored; a non-empty one replaces it.

An erased customer (campaigns.customers.erasure) has no external id, number or address left, so a row never matches
one: it creates a new customer. When the erased customer had unsubscribed with that number or address, the new one
is unsubscribed too (their unsubscribe record kept its hash).
"""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from campaigns.base.csv_imports import (
    BadRow,
    ImportReport,
    RowError,
    import_in_batches,
)
from campaigns.customers.attribution import campaign_sales_recount
from campaigns.customers.customer_matching import customer_match, remember, stored_customers
from campaigns.customers.customer_rows import HEADER_ALIASES, CustomerRow, customer_columns_check, customer_row_parse
from campaigns.customers.transactions import org_has_unmatched_transactions, transactions_match_customers
from campaigns.models import Channel, Coupon, Customer, CustomerList, Org, Unsubscribe

BATCH_SIZE = 1000
ERASED_UNSUBSCRIBE_NOTE = "unsubscribed with this contact before the personal data of a customer was erased"


def import_customers(
    *,
    path: Path,
    org_id: int,
    list_name: str = "",
    batch_size: int = BATCH_SIZE,
    total_rows: int | None = None,
    on_progress: Callable[[ImportReport], None] | None = None,
    on_row_error: Callable[[RowError], None] | None = None,
) -> ImportReport:
    """Import (create or update) the customers of a CSV file into an org, batch by batch.

    Each batch commits on its own, so an interrupted import keeps what it did and running it again finishes it.
    Raises ImportFileError when the file itself is unusable (nothing imported).
    """
    org = Org.objects.get(pk=org_id)
    # Campaigns whose sales change because a transaction waiting for its customer found them (counted at the end).
    campaigns: set[int] = set()

    def start(report: ImportReport, bad_row: BadRow) -> Callable[[list[CustomerRow]], None]:
        customer_list = None
        if list_name.strip():
            customer_list, _ = CustomerList.objects.get_or_create(org=org, name=list_name.strip()[:200])
        started_at = timezone.now()
        # Only an org with an erased, unsubscribed customer has hashes to look new customers up in.
        erased_unsubscribes = Unsubscribe.objects.filter(customer__org=org).exclude(contact_hash="").exists()
        waiting_transactions = org_has_unmatched_transactions(org)
        return lambda batch: _import_batch(
            org,
            batch,
            customer_list,
            started_at,
            report,
            bad_row,
            erased_unsubscribes=erased_unsubscribes,
            waiting_transactions=campaigns if waiting_transactions else None,
        )

    report = import_in_batches(
        path=path,
        aliases=HEADER_ALIASES,
        check_columns=customer_columns_check,
        parse_row=customer_row_parse,
        start=start,
        batch_size=batch_size,
        total_rows=total_rows,
        on_progress=on_progress,
        on_row_error=on_row_error,
    )
    campaign_sales_recount(campaigns)
    return report


@dataclass
class _Batch:
    """What one batch's rows come to: customers to create, stored ones they matched (with their values before), and
    coupons to save."""

    to_create: dict[int, Customer] = field(default_factory=dict)  # id(customer) -> customer
    matched: dict[int, Customer] = field(default_factory=dict)  # existing customers this batch's rows matched
    before: dict[int, tuple] = field(default_factory=dict)
    coupons: dict[tuple[int, str], tuple[Customer, datetime.date]] = field(default_factory=dict)


@transaction.atomic
def _import_batch(
    org: Org,
    rows: list[CustomerRow],
    customer_list: CustomerList | None,
    started_at: datetime.datetime,
    report: ImportReport,
    bad_row: BadRow,
    *,
    erased_unsubscribes: bool = False,
    waiting_transactions: set[int] | None = None,
) -> None:
    """Match, create and update one batch in a handful of queries; with `waiting_transactions` (the org has
    transactions waiting for their customer), match those to the batch's customers and add the campaigns whose
    sales changed to it."""
    by_external_id, by_mobile, by_email = stored_customers(org, rows)
    batch = _Batch()
    first_line: dict[int, int] = {}  # id(customer) -> line that brought it into this batch
    now = timezone.now()
    for row in rows:
        customer = customer_match(row, by_external_id, by_mobile, by_email)
        owner = by_mobile.get(row.mobile) if row.mobile else None
        if owner is not None and owner is not customer:
            who = owner.external_id or owner.name or owner.email or "another customer"
            bad_row(row.line, row.mobile, f"mobile number already belongs to another customer ({who})")
            continue
        customer = _row_customer(org, row, customer, batch, first_line, started_at, report)
        if row.mobile and customer.mobile and row.mobile != customer.mobile:
            by_mobile.pop(customer.mobile, None)
        _apply(customer, row)
        remember(customer, by_external_id, by_mobile, by_email)
        if row.coupon:
            batch.coupons[(id(customer), row.coupon[0])] = (customer, row.coupon[1])
        report.processed += 1
    _batch_store(org, batch, customer_list, report, now, erased_unsubscribes=erased_unsubscribes)
    if waiting_transactions is not None:
        customers = [*batch.to_create.values(), *batch.matched.values()]
        waiting_transactions |= transactions_match_customers(org=org, customers=customers)


def _row_customer(
    org: Org,
    row: CustomerRow,
    customer: Customer | None,
    batch: _Batch,
    first_line: dict[int, int],
    started_at: datetime.datetime,
    report: ImportReport,
) -> Customer:
    """The customer a row updates (a new one when it matched none), noting a row merged with an earlier one."""
    if customer is None:
        customer = Customer(org=org, attributes={})
        batch.to_create[id(customer)] = customer
    elif id(customer) in first_line:
        report.add_note(
            row.line,
            row.external_id or row.mobile or row.email,
            f"same customer as line {first_line[id(customer)]}; the rows were merged",
        )
    elif customer.pk and customer.updated_at >= started_at:
        report.add_note(
            row.line, row.external_id or row.mobile or row.email, "same customer as an earlier line; merged"
        )
    if customer.pk and id(customer) not in batch.matched:
        batch.matched[id(customer)] = customer
        batch.before[id(customer)] = _stored_values(customer)
    first_line.setdefault(id(customer), row.line)
    return customer


def _batch_store(
    org: Org,
    batch: _Batch,
    customer_list: CustomerList | None,
    report: ImportReport,
    now: datetime.datetime,
    *,
    erased_unsubscribes: bool,
) -> None:
    changed = [customer for key, customer in batch.matched.items() if _stored_values(customer) != batch.before[key]]
    # Updates first: a number an existing customer gave up in this batch is free for a new customer.
    if changed:
        _update_customers(changed, now)
    new_customers = list(batch.to_create.values())
    unsubscribed = _unsubscribed_before_erasure(org, new_customers) if erased_unsubscribes else []
    Customer.objects.bulk_create(new_customers)
    Unsubscribe.objects.bulk_create(
        [
            Unsubscribe(
                customer=customer, channel=channel, source=Unsubscribe.Source.IMPORT, note=ERASED_UNSUBSCRIBE_NOTE
            )
            for customer, channel in unsubscribed
        ]
    )
    report.created += len(batch.to_create)
    report.updated += len(changed)
    report.unchanged += len(batch.matched) - len(changed)
    if batch.coupons:
        report.coupons += _save_coupons(batch.coupons, set(batch.to_create))
    if customer_list is not None:
        through = CustomerList.customers.through
        through.objects.bulk_create(
            [
                through(customerlist_id=customer_list.pk, customer_id=customer.pk)
                for customer in [*batch.to_create.values(), *batch.matched.values()]
            ],
            ignore_conflicts=True,
        )


def _unsubscribed_before_erasure(org: Org, customers: list[Customer]) -> list[tuple[Customer, str]]:
    """Unsubscribe (in memory) the new customers whose number or address unsubscribed before the personal data of the
    customer who had it was erased; returns (customer, channel) for each, to record once the customers exist."""
    wanted: dict[str, list[tuple[Customer, str]]] = {}
    for customer in customers:
        for channel, contact in ((Channel.SMS, customer.mobile), (Channel.EMAIL, customer.email)):
            if contact:
                contact_hash = Unsubscribe.hash_contact(org_id=org.pk, channel=channel, contact=contact)
                wanted.setdefault(contact_hash, []).append((customer, channel))
    if not wanted:
        return []
    found = Unsubscribe.objects.filter(customer__org=org, contact_hash__in=list(wanted)).values_list(
        "contact_hash", flat=True
    )
    unsubscribed = [pair for contact_hash in set(found) for pair in wanted[contact_hash]]
    for customer, channel in unsubscribed:
        setattr(customer, f"{channel}_subscribed", False)
    return unsubscribed


def _apply(customer: Customer, row: CustomerRow) -> None:
    for name in ("external_id", "name", "mobile", "email"):
        value = getattr(row, name)
        if value:
            setattr(customer, name, value)
    if row.attributes:
        customer.attributes = {**(customer.attributes or {}), **row.attributes}


def _stored_values(customer: Customer) -> tuple:
    return (customer.external_id, customer.name, customer.mobile, customer.email, dict(customer.attributes or {}))


_UPDATE_SQL = """
UPDATE {table} AS customer
SET external_id = v.external_id, name = v.name, mobile = v.mobile, email = v.email,
    attributes = v.attributes::jsonb, updated_at = %s
FROM (VALUES {values}) AS v(id, external_id, name, mobile, email, attributes)
WHERE customer.id = v.id
"""


def _update_customers(customers: list[Customer], now: datetime.datetime) -> None:
    """Write the changed customers of a batch in one statement.

    On PostgreSQL an UPDATE ... FROM (VALUES ...) join: Django's bulk_update builds a CASE per field and row,
    which made re-importing 100,000 customers several times slower than importing them.
    """
    for customer in customers:
        customer.updated_at = now
    if connection.vendor != "postgresql":
        Customer.objects.bulk_update(customers, ["external_id", "name", "mobile", "email", "attributes", "updated_at"])
        return
    values = ", ".join(["(%s::bigint, %s, %s, %s, %s, %s)"] * len(customers))
    params: list = [now]
    for customer in customers:
        params += [
            customer.pk,
            customer.external_id,
            customer.name,
            customer.mobile,
            customer.email,
            json.dumps(customer.attributes or {}),
        ]
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_SQL.format(table=Customer._meta.db_table, values=values), params)


def _save_coupons(coupons: dict[tuple[int, str], tuple[Customer, datetime.date]], new_customers: set[int]) -> int:
    """Create or update (by customer and code) the coupons of a batch; returns how many rows were written.

    Customers created in this batch have no coupons yet, so only the others' coupons are looked up.
    """
    customer_ids = {customer.pk for key, (customer, _) in coupons.items() if key[0] not in new_customers}
    codes = {code for owner, code in coupons if owner not in new_customers}
    existing = (
        {
            (coupon.customer_id, coupon.code): coupon
            for coupon in Coupon.objects.filter(customer_id__in=customer_ids, code__in=codes)
        }
        if customer_ids
        else {}
    )
    new, changed = [], []
    for (_, code), (customer, expires_on) in coupons.items():
        coupon = existing.get((customer.pk, code))
        if coupon is None:
            new.append(Coupon(customer=customer, code=code, expires_on=expires_on))
        elif coupon.expires_on != expires_on:
            coupon.expires_on = expires_on
            changed.append(coupon)
    Coupon.objects.bulk_create(new)
    if changed:
        Coupon.objects.bulk_update(changed, ["expires_on"])
    return len(new) + len(changed)
