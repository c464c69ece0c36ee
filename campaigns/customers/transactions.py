"""Transactions in: store a batch of purchases (from a CSV import or the API), matched to the org's customers and
attributed to campaigns (campaigns.customers.attribution).

Idempotent by transaction id: a transaction sent again changes nothing, unless its amount (or currency) is another,
which updates it and records the change (TransactionChange). Nothing else of a stored transaction changes. A
transaction whose customer is not known yet is kept with what it named (external id, mobile, email) and matched when
a customer import brings that customer (`transactions_match_customers`).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.customers.attribution import attribution, transactions_attribute
from campaigns.customers.customer_matching import customer_match, stored_customers
from campaigns.customers.transaction_rows import TransactionRow, window_start
from campaigns.models import Customer, IncomingTransaction, Org, Transaction, TransactionChange
from delivery.bulk import among, copy_rows

SOURCE_IMPORT, SOURCE_API = "import", "api"


@dataclass
class TransactionsStored:
    """What storing a batch did; `campaigns` are those whose sales counters must be counted again."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: int = 0  # stored, waiting for their customer
    campaigns: set[int] = field(default_factory=set)
    outcomes: dict[int, str] = field(default_factory=dict)  # line -> created, updated, unchanged


@transaction.atomic
def transactions_store(*, org: Org, rows: list[TransactionRow], source: str) -> TransactionsStored:
    """Create, update or leave each row's transaction, in a handful of queries; attribute the new and changed ones.

    The caller counts the campaigns of the result again (campaign_sales_recount), once per import or API call: those
    of every row, unchanged ones included, so that running again an import that was cut off before its end (which
    counts them) leaves the counters right."""
    result = TransactionsStored()
    if not rows:
        return result
    by_external_id, by_mobile, by_email = stored_customers(org, rows, keys_only=True)
    stored = {
        row.transaction_id: row
        for row in among(Transaction.objects.filter(org=org), "transaction_id", {row.transaction_id for row in rows})
    }
    now = timezone.now()
    new: dict[str, _New] = {}
    changed: dict[str, Transaction] = {}
    changes: list[TransactionChange] = []
    for row in rows:
        twice = new.get(row.transaction_id)
        if twice is not None:
            # The same transaction twice in one batch: stored once, with the last amount.
            same = (twice.row.amount, twice.row.currency) == (row.amount, row.currency)
            result.outcomes[row.line] = "unchanged" if same else "updated"
            twice.row = row
            continue
        known = stored.get(row.transaction_id)
        if known is None:
            customer = customer_match(row, by_external_id, by_mobile, by_email)
            new[row.transaction_id] = _New(row=row, customer_id=customer.pk if customer else None)
            result.outcomes[row.line] = "created"
        elif (known.amount, known.currency) == (row.amount, row.currency):
            result.outcomes[row.line] = "unchanged"
            # Counted again too: an import cut off before its end stored this row without counting its campaign.
            result.campaigns.update(pk for pk in (known.message_campaign_id, known.click_campaign_id) if pk)
        else:
            changes.append(
                TransactionChange(
                    transaction=known,
                    old_amount=known.amount,
                    new_amount=row.amount,
                    old_currency=known.currency,
                    new_currency=row.currency,
                    source=source,
                )
            )
            changed[row.transaction_id] = known
            known.updated_at = now
            known.amount, known.currency = row.amount, row.currency
            result.outcomes[row.line] = "updated"
    result.campaigns |= _create(org, list(new.values()), now)
    if changed:
        Transaction.objects.bulk_update(changed.values(), ["amount", "currency", "updated_at"])
        TransactionChange.objects.bulk_create(changes)
        result.campaigns |= transactions_attribute(
            Transaction.objects.filter(pk__in=[row.pk for row in changed.values()])
        )
        # A changed amount of an erased customer's purchase still changes its campaign's revenue.
        for row in changed.values():
            result.campaigns.update(pk for pk in (row.message_campaign_id, row.click_campaign_id) if pk)
    result.created = len(new)
    result.updated = len(changed)
    result.unchanged = sum(1 for outcome in result.outcomes.values() if outcome == "unchanged")
    result.unmatched = sum(1 for item in new.values() if item.customer_id is None)
    return result


@dataclass
class _New:
    """A transaction to create: its row (the last of the batch that named it) and the customer it matched."""

    row: TransactionRow
    customer_id: int | None


_INCOMING_COLUMNS = (
    "line",
    "transaction_id",
    "customer_id",
    "customer_external_id",
    "mobile",
    "email",
    "time",
    "window_start",
    "amount",
    "currency",
    "store",
    "sales_channel",
)


def _create(org: Org, new: list[_New], now: datetime) -> set[int]:
    """Write the new transactions with their attribution, each row once; returns the campaigns they count for.

    The rows go first to a temporary table of this database session (on PostgreSQL by COPY, a fraction of the cost
    of an INSERT of many values), then one INSERT … SELECT writes them, attribution's campaigns found by the same
    expressions that attribute stored transactions again (campaigns.customers.attribution)."""
    if not new:
        return set()
    rows = [
        (
            item.row.line,
            item.row.transaction_id,
            item.customer_id,
            item.row.external_id,
            item.row.mobile,
            item.row.email,
            item.row.time,
            window_start(item.row.time, org_timezone=org.timezone, days=org.attribution_window_days),
            item.row.amount,
            item.row.currency,
            item.row.store,
            item.row.sales_channel,
        )
        for item in new
    ]
    _incoming_fill(rows)
    attributed = (
        IncomingTransaction.objects.annotate(**attribution())
        .values(*_INCOMING_COLUMNS[1:], "message_campaign", "click_campaign")
        .order_by()
    )
    select, params = attributed.query.sql_with_params()
    copied = ", ".join(f"incoming.{_quote(name)}" for name in _INCOMING_COLUMNS[1:])
    written_at = Transaction._meta.get_field("created_at").get_db_prep_value(now, connection)
    sql = (
        f"INSERT INTO {_quote(Transaction._meta.db_table)} (org_id, created_at, updated_at, buyer_key, "
        f"{', '.join(_quote(name) for name in _INCOMING_COLUMNS[1:])}, message_campaign_id, click_campaign_id) "
        f"SELECT %s, %s, %s, incoming.customer_id, {copied}, incoming.message_campaign, incoming.click_campaign "
        f"FROM ({select}) incoming RETURNING message_campaign_id, click_campaign_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [org.pk, written_at, written_at, *params])
        campaigns = {pk for pair in cursor.fetchall() for pk in pair if pk}
        cursor.execute(f"DELETE FROM {_quote(IncomingTransaction._meta.db_table)}")  # no personal data left there
    return campaigns


def _incoming_fill(rows: list[tuple]) -> None:
    """This session's temporary table of incoming transactions (made if need be; empty between uses), filled."""
    table = _quote(IncomingTransaction._meta.db_table)
    columns = ", ".join(
        f"{_quote(field.column)} {field.db_type(connection)}" for field in IncomingTransaction._meta.concrete_fields
    )
    # On PostgreSQL also truncated at every commit: autovacuum never reads temporary tables, so the rows deleted
    # after each use would pile up.
    emptied = " ON COMMIT DELETE ROWS" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({columns}){emptied}")
    if connection.vendor == "postgresql":
        copy_rows(IncomingTransaction, _INCOMING_COLUMNS, [(*row[:8], str(row[8]), *row[9:]) for row in rows])
    else:
        IncomingTransaction.objects.bulk_create(
            IncomingTransaction(**dict(zip(_INCOMING_COLUMNS, row, strict=True))) for row in rows
        )


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def org_has_unmatched_transactions(org: Org) -> bool:
    return _unmatched(org).exists()


def _unmatched(org: Org):
    # An erased customer's transactions have no customer either, and nothing left to match them by.
    return Transaction.objects.filter(org=org, customer__isnull=True).filter(
        ~Q(customer_external_id="") | ~Q(mobile="") | ~Q(email="")
    )


def transactions_match_customers(*, org: Org, customers: list[Customer]) -> set[int]:
    """Give the transactions waiting for these customers (just imported) their customer, as the customer import
    matches (external id, else mobile, else email) and attribute them; returns the campaigns to count again."""
    external_ids = {customer.external_id for customer in customers if customer.external_id}
    mobiles = {customer.mobile for customer in customers if customer.mobile}
    emails = {customer.email for customer in customers if customer.email}
    keys = Q(customer_external_id__in=external_ids) | Q(mobile__in=mobiles) | Q(email__in=emails)
    waiting = list(_unmatched(org).filter(keys))
    if not waiting:
        return set()
    by_external_id, by_mobile, by_email = stored_customers(org, [_Keys.of(row) for row in waiting], keys_only=True)
    matched = []
    for row in waiting:
        customer = customer_match(_Keys.of(row), by_external_id, by_mobile, by_email)
        if customer is not None:
            row.customer_id = customer.pk
            matched.append(row)
    Transaction.objects.bulk_update(matched, ["customer"])
    return transactions_attribute(Transaction.objects.filter(pk__in=[row.pk for row in matched]))


@dataclass(frozen=True)
class _Keys:
    external_id: str
    mobile: str
    email: str

    @classmethod
    def of(cls, row: Transaction) -> "_Keys":
        return cls(external_id=row.customer_external_id, mobile=row.mobile, email=row.email)
