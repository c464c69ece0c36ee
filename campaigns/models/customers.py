"""An org's customers, the lists and segments they fall into, the NDNC register, coupons and unsubscribes."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models.accounts import Org
from campaigns.models.common import Channel, TimeStamped


class Customer(TimeStamped):
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="customers")
    external_id = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200, blank=True)
    mobile = models.CharField(max_length=20, blank=True, help_text="E.164, for example +919812345678.")
    email = models.EmailField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    sms_subscribed = models.BooleanField(default=True)
    email_subscribed = models.BooleanField(default=True)
    # Personal data erased on request (campaigns.customers.erasure): name, contacts and attributes are empty, and the
    # row stays so that campaign reports keep counting the messages sent to it.
    erased_at = models.DateTimeField(null=True, blank=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # The unique (org, mobile) and (org, external_id) constraints leave out empty values, so any number of
        # erased customers (whose mobile and external id are empty) live side by side in one org.
        constraints = [
            models.UniqueConstraint(
                fields=["org", "mobile"], condition=~Q(mobile=""), name="customer_unique_org_mobile"
            ),
            models.UniqueConstraint(
                fields=["org", "external_id"],
                condition=~Q(external_id=""),
                name="customer_unique_org_external_id",
            ),
        ]

    def __str__(self) -> str:
        if self.is_erased:
            return "Erased customer"
        return self.name or self.mobile or self.email

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class CustomerList(TimeStamped):
    """A named list of customers a campaign can target (an import, a hand-picked group)."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="customer_lists")
    name = models.CharField(max_length=200)
    customers = models.ManyToManyField(Customer, related_name="lists", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="customerlist_unique_org_name")]

    def __str__(self) -> str:
        return self.name


class Segment(TimeStamped):
    """A saved filter on customer attributes and behaviour, evaluated when a campaign is dispatched.

    `conditions` is a list, all of which must hold, of {"attribute": "city", "op": "eq" | "ne" | "in" | "contains",
    "value": ...} and {"behaviour": "clicked" | "sent" | "undelivered", "days" or "messages": N, "channel": ...,
    "negate": bool} (campaigns.customers.audience.segment_conditions_clean).
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=200)
    conditions = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="segment_unique_org_name")]

    def __str__(self) -> str:
        return self.name


class NdncEntry(TimeStamped):
    """A number on the national Do-Not-Disturb register (NCPR), as imported by the org.

    `blocked_categories` holds NCPR categories 1-8 the number refuses; 0 means fully blocked.
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="ndnc_entries")
    mobile = models.CharField(max_length=20)
    blocked_categories = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "mobile"], name="ndncentry_unique_org_mobile")]

    def __str__(self) -> str:
        return self.mobile


class Coupon(TimeStamped):
    """A customer's coupon; coupon-expiry reminder campaigns message customers whose coupon expires soon."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="coupons")
    code = models.CharField(max_length=40)
    expires_on = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "code"], name="coupon_unique_customer_code")]
        # Reminder runs look coupons up by expiry date.
        indexes = [models.Index(fields=["expires_on"], name="coupon_expires_on")]

    def __str__(self) -> str:
        return self.code


class Unsubscribe(TimeStamped):
    """Who unsubscribed from which channel, how and when (the flags on Customer are the current state)."""

    class Source(models.TextChoices):
        STOP_REPLY = "stop_reply", "STOP reply"
        MANUAL = "manual", "Manual"
        IMPORT = "import", "Import"
        EMAIL_LINK = "email_link", "Unsubscribe link"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="unsubscribes")
    channel = models.CharField(max_length=8)
    source = models.CharField(max_length=16, choices=Source.choices)
    note = models.CharField(max_length=200, blank=True)
    # Once the customer's personal data is erased while they are unsubscribed: the hash of the number (SMS) or
    # address (email) they unsubscribed, so a customer imported again with it stays unsubscribed (never the value).
    contact_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            # The customer import looks up the hashes of the numbers and addresses it creates customers with.
            models.Index(fields=["contact_hash"], condition=~Q(contact_hash=""), name="unsubscribe_contact_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} from {self.channel}"

    @staticmethod
    def hash_contact(*, org_id: int, channel: str, contact: str) -> str:
        """SHA-256 hex of an org's normalised number (E.164) or address (lower case) on a channel."""
        value = contact.strip().lower() if channel == Channel.EMAIL else contact.strip()
        return hashlib.sha256(f"{org_id}:{channel}:{value}".encode()).hexdigest()
