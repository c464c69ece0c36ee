"""What customers bought (transactions an org sends in), the history of their amounts, and the sales counters that
attribution keeps per campaign (campaigns.customers.attribution)."""

from django.db import models
from django.db.models import Q

from campaigns.models.accounts import Org
from campaigns.models.campaign import Campaign
from campaigns.models.common import TimeStamped
from campaigns.models.customers import Customer


class Transaction(TimeStamped):
    """One purchase, known by the org's own transaction id (sending it again changes nothing but a new amount).

    The customer is matched like an import's row (external id, else mobile, else email); a transaction whose customer
    is not known yet keeps those identifiers and is matched when the customer is imported. `message_campaign` and
    `click_campaign` are what attribution found (each: the campaign of the latest message before the purchase, in
    the org's window; for the click rule, of the latest such message the customer clicked before buying).
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="transactions")
    transaction_id = models.CharField(max_length=100)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions", db_index=False
    )
    # The identifiers it came with (normalised as an import normalises them), to match a customer imported later.
    customer_external_id = models.CharField(max_length=100, blank=True)
    mobile = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    time = models.DateTimeField()
    # The first moment a message may have reached the customer for this purchase to count for it: midnight of the
    # org's clock, `attribution_window_days` days before the purchase's day.
    window_start = models.DateTimeField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="INR")
    store = models.CharField(max_length=100, blank=True)
    sales_channel = models.CharField(max_length=50, blank=True, help_text="Where it was bought: online, app, store …")
    # What attribution found, written with each row (an import writes a million): no constraint in the database,
    # whose check would cost a lookup per row and key; deleting a campaign still sets them to null (Django's
    # on_delete), and a campaign is found from a message that references it.
    message_campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    click_campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    # Who bought, as the sales counters count buyers: the customer's id, or once their personal data is erased a
    # number that names no one (so the counters stay as they were).
    buyer_key = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "transaction_id"], name="transaction_unique_org_transaction_id")
        ]
        indexes = [
            # Attribution's counters read a campaign's transactions by rule.
            models.Index(
                fields=["message_campaign"], condition=Q(message_campaign__isnull=False), name="tx_message_campaign"
            ),
            models.Index(
                fields=["click_campaign"], condition=Q(click_campaign__isnull=False), name="tx_click_campaign"
            ),
            # A customer's purchases (erasure, re-attribution of a customer).
            models.Index(fields=["customer", "time"], name="tx_customer_time"),
            # The Transactions page lists the latest; the periodic re-attribution reads the recent ones.
            models.Index(fields=["org", "time"], name="tx_org_time"),
            # Transactions waiting for their customer, matched when a customer import brings them.
            models.Index(
                fields=["org", "customer_external_id"],
                condition=Q(customer__isnull=True) & ~Q(customer_external_id=""),
                name="tx_unmatched_external_id",
            ),
            models.Index(
                fields=["org", "mobile"], condition=Q(customer__isnull=True) & ~Q(mobile=""), name="tx_unmatched_mobile"
            ),
            models.Index(
                fields=["org", "email"], condition=Q(customer__isnull=True) & ~Q(email=""), name="tx_unmatched_email"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_id}: {self.currency} {self.amount}"


class IncomingTransaction(models.Model):
    """A batch's new transactions on their way in: a temporary table of the database session (campaigns.customers.
    transactions creates it), from which one INSERT … SELECT writes them with their attribution, so each row is
    written once. Not managed by migrations: it lives only in the session that fills it."""

    line = models.IntegerField(primary_key=True)  # the CSV line, or the item's position in an API batch
    transaction_id = models.CharField(max_length=100)
    customer_id = models.BigIntegerField(null=True)
    customer_external_id = models.CharField(max_length=100)
    mobile = models.CharField(max_length=20)
    email = models.CharField(max_length=254)
    time = models.DateTimeField()
    window_start = models.DateTimeField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    store = models.CharField(max_length=100)
    sales_channel = models.CharField(max_length=50)

    class Meta:
        managed = False
        db_table = "incoming_transaction"

    def __str__(self) -> str:
        return f"incoming {self.transaction_id}"


class TransactionChange(models.Model):
    """A transaction sent again with another amount (a refund, a correction): what it was and what it became."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(auto_now_add=True)
    old_amount = models.DecimalField(max_digits=14, decimal_places=2)
    new_amount = models.DecimalField(max_digits=14, decimal_places=2)
    old_currency = models.CharField(max_length=3)
    new_currency = models.CharField(max_length=3)
    source = models.CharField(max_length=10)  # "import" or "api"

    def __str__(self) -> str:
        return f"{self.old_currency} {self.old_amount} → {self.new_currency} {self.new_amount}"


class CampaignSales(models.Model):
    """A campaign's attributed purchases in one currency, by group: those who clicked one of its links before buying
    (the click rule) and those who got its message and did not click it before buying (the message rule's others).
    Attribution rewrites a campaign's rows whenever its purchases change; pages only read them."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    clicked_buyers = models.IntegerField(default=0)
    clicked_purchases = models.IntegerField(default=0)
    clicked_revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    other_buyers = models.IntegerField(default=0)
    other_purchases = models.IntegerField(default=0)
    other_revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "currency"], name="campaignsales_campaign_currency")]

    def __str__(self) -> str:
        return f"sales of campaign {self.campaign_id} in {self.currency}"
